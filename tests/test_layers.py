"""synth's stages import only the stages below them (README, Layout), and no module imports
another one from inside a function unless that one loads TensorFlow, Keras, Flower, SciPy or
pandas when imported, or the importer is a ``commands.py`` (which ``synth --help`` loads)."""

from __future__ import annotations

import ast
from pathlib import Path

SYNTH = Path(__file__).resolve().parents[1] / "synth"
LAYERS = [["core"], ["data", "models", "federated"], ["classify"], ["realism"], ["gan", "anomaly"],
          ["evaluate", "export", "share"], ["stream"], ["validate"], ["cli"]]
RANK = {stage: rank for rank, stages in enumerate(LAYERS) for stage in stages}
HEAVY = ("tensorflow", "keras", "flwr", "scipy", "pandas")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(SYNTH.rglob("*.py")):
        parts = path.relative_to(SYNTH.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) of every import outside ``if TYPE_CHECKING``."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and not child.level:
                for alias in child.names:
                    name = f"{child.module}.{alias.name}"
                    found.append((name if name in MODULES else child.module, child.lineno, in_function))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(ast.parse(path.read_text()), False)
    return found


IMPORTS = {module: _imports(path) for module, path in MODULES.items()}


def _stage(module: str) -> str:
    return module.split(".")[1] if "." in module else "cli"


def _loads_heavy(module: str, seen: frozenset = frozenset()) -> bool:
    """Whether importing ``module`` imports TensorFlow, Keras, Flower, SciPy or pandas."""
    for name, _, in_function in IMPORTS.get(module, []):
        if in_function:
            continue
        if name.split(".")[0] in HEAVY:
            return True
        if name in MODULES and name not in seen and _loads_heavy(name, seen | {module}):
            return True
    return False


def test_every_stage_has_a_layer():
    stages = {_stage(module) for module in MODULES if module != "synth"}
    assert stages <= set(RANK), stages - set(RANK)


def test_stages_import_only_the_stages_below_them():
    upward = [f"{MODULES[module].relative_to(SYNTH.parent)}:{line} imports {name}"
              for module, imports in IMPORTS.items() if module != "synth"
              for name, line, _ in imports
              if name.startswith("synth.") and _stage(name) != _stage(module) and RANK[_stage(name)] >= RANK[_stage(module)]]
    assert not upward, "\n".join(upward)


def test_imports_inside_functions_only_where_an_import_is_heavy():
    needless = [f"{MODULES[module].relative_to(SYNTH.parent)}:{line} imports {name}"
                for module, imports in IMPORTS.items()
                if not MODULES[module].name == "commands.py" and module != "synth.core.command_line"
                for name, line, in_function in imports
                if in_function and name in MODULES and not _loads_heavy(name)]
    assert not needless, "\n".join(needless)
