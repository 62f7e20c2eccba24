"""What the commands of every stage share: the ``--config`` option, the session that ``synth
--debug`` and Ctrl-C notes are kept in, the quiet TensorFlow import, and printing lines.

TensorFlow is imported only by ``load_tensorflow``, which a command calls once its inputs have
passed their checks, so that ``synth --help`` and bad input answer at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Callable, Iterable, Optional

import typer
import typer.core

from synth.core.quiet import library_output_muted, quiet_tensorflow_loggers, set_muting, show_synth_log

INTERRUPTED = 130  # exit code of a command ended by Ctrl-C (128 + SIGINT)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="JSON configuration file.")]

_session: dict = {"debug": False, "interrupt_note": None}


def command_group(help: str, **options) -> typer.Typer:
    """A ``synth`` command group: help when run bare, plain-text help pages.

    Plain (click) help instead of rich's keeps ``synth --help`` fast: rich's formatter alone
    takes about 0.1-0.15 s to import. Typer decides per option default whether rich is there
    (``typer.core.HAS_RICH``), so that flag is cleared too, or it imports rich to escape them.
    """
    typer.core.HAS_RICH = False
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False, **options)


def start_session(debug: bool) -> None:
    """Set up one ``synth`` run: library output muted and synth's own log at INFO, or everything shown (debug)."""
    _session["debug"] = debug
    set_muting(not debug)
    show_synth_log(debug)


def debugging() -> bool:
    """Whether this run was started with ``--debug`` (full tracebacks, library output shown)."""
    return _session["debug"]


def note_on_interrupt(note: str) -> None:
    """What to tell the user if this command is ended by Ctrl-C (e.g. how to resume)."""
    _session["interrupt_note"] = note


def interrupt_note() -> Optional[str]:
    """The note set with ``note_on_interrupt``, or None."""
    return _session["interrupt_note"]


def load_tensorflow() -> None:
    """Import TensorFlow with its native start-up log lines (oneDNN, XLA, absl) muted; ``--debug`` keeps them."""
    with library_output_muted():
        import tensorflow  # noqa: F401
    quiet_tensorflow_loggers()


def train_and_report(config: Path, run: Callable[..., Path], what: str) -> None:
    """Load ``config``, then ``run(settings, base_dir=, verbose=)`` -> output folder, and name the folder."""
    from synth.core.config import load_config  # pydantic: not for `synth --help`

    settings = load_config(config)
    load_tensorflow()
    folder = run(settings, base_dir=config.parent, verbose=2 if debugging() else 0)
    typer.echo(f"{what} written to {folder}")


def echo_lines(lines: Iterable[str]) -> None:
    """Print each line to standard output."""
    for line in lines:
        typer.echo(line)
