"""Generate self-contained C99 int8 inference for a .tflite model (``synth export-c --runtime standalone``).

Output: ``NAME.h`` / ``NAME.c`` (the model: weights as const arrays, a static arena, one
``NAME_invoke``) plus the shared kernels ``synth_kernels.h`` / ``synth_kernels.c``.
"""

from __future__ import annotations

import re

import jinja2
import numpy as np

from synth.core.errors import ConfigError, ModelError
from synth.core.shipped import shipped_folder
from synth.core.tflite_file import Graph, read_graph
from synth.export.float_boundary import Boundary, split_float_boundary
from synth.export.standalone_ops import Context, lower
from synth.export.standalone_plan import plan_memory

TEMPLATES = shipped_folder("firmware_export")
KERNEL_FILES = ("synth_kernels.h", "synth_kernels.c")
C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "main arena input output memcpy interpreter tensor_arena resolver model tflite".split()
)


def check_identifier(name: str) -> str:
    """A C identifier usable as a file and symbol prefix; ConfigError naming the clash otherwise."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
        raise ConfigError(f"--name {name!r} is not a C identifier (letters, digits, underscore; not starting with a digit)")
    if name in C_KEYWORDS or name in _kernel_symbols() or name.startswith("__"):
        raise ConfigError(f"--name {name!r} clashes with a C keyword or a name the generated code uses")
    return name


def _kernel_symbols() -> set[str]:
    """Every identifier synth_kernels.h declares: a model named like one would not link."""
    return set(re.findall(r"\bsynth_\w+", (TEMPLATES / "standalone" / "synth_kernels.h").read_text())) | {"synth_kernels"}


def environment() -> jinja2.Environment:
    """Jinja2 over firmware_export/: strict undefined (a typo fails loudly), no autoescape (C, not HTML)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)


def generate_standalone(tflite: bytes, name: str = "synth_model", source: str = "model.tflite") -> dict[str, str]:
    """File name -> C text of the standalone runtime for ``tflite``; UnsupportedOpError for a missing kernel."""
    check_identifier(name)
    graph = read_graph(tflite)
    if len(graph.outputs) != 1:
        raise ModelError(f"the standalone runtime needs exactly one output tensor, the model has {len(graph.outputs)}")
    graph, boundary = split_float_boundary(graph)
    plan = plan_memory(graph)
    ctx = Context(graph, plan)
    declarations, steps = [], []
    for op in graph.operators:
        lowered = lower(ctx, op)
        declarations += lowered.declarations
        out = graph.tensors[op.outputs[0]]
        steps.append({"index": op.index, "op": op.op, "tensor": _comment_safe(out.name), "shape": list(out.shape),
                      "statement": lowered.statement})
    values = _header_values(graph, name, source) | _boundary_values(boundary) | {
        "declarations": declarations, "steps": steps, "arena_bytes": plan.arena_bytes,
        "ops": graph.ops_used(), "output_pointer": ctx.pointer(graph.outputs[0], lowered)}
    env = environment()
    files = {f"{name}.h": env.get_template("standalone/model.h.j2").render(values),
             f"{name}.c": env.get_template("standalone/model.c.j2").render(values)}
    files.update({f: (TEMPLATES / "standalone" / f).read_text() for f in KERNEL_FILES})
    return files


def _header_values(graph: Graph, name: str, source: str) -> dict:
    """Template values describing the inputs (packed back to back) and the output."""
    inputs, offset = [], 0
    for index in graph.inputs:
        t = graph.tensors[index]
        inputs.append(_describe(t) | {"offset": offset})
        offset += t.size
    return {"name": name, "prefix": name.upper(), "guard": f"{name.upper()}_H", "source": _comment_safe(source),
            "inputs": inputs, "input_size": offset, "output": _describe(graph.tensors[graph.outputs[0]])}


def _boundary_values(boundary: Boundary) -> dict:
    """Template values of the interface: the C types at each end (the conversions use ``inputs`` and ``output``)."""
    return {"input_type": "float" if boundary.float_input else "int8_t",
            "output_type": "float" if boundary.float_output else "int8_t"}


def _describe(t) -> dict:
    return {"name": _comment_safe(t.name), "shape": list(t.shape), "size": t.size,
            "scale": repr(float(np.float32(t.scale))), "zero_point": t.zero_point}


def _comment_safe(text: str) -> str:
    """Text that cannot end a C comment or break a line."""
    return re.sub(r"[^\x20-\x7e]|\*/", "?", text)


def arena_bytes(tflite: bytes) -> int:
    """Bytes of activation memory the standalone runtime needs for this model (its int8 core)."""
    return plan_memory(split_float_boundary(read_graph(tflite))[0]).arena_bytes
