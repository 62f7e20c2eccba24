"""synth: synthetic sensor data for embedded machine learning, from training to the microcontroller.

Each stage's commands live in its own ``commands.py``; this module lists them in the order
``synth --help`` shows them. A command imports the modules that do its work when it runs (they
load NumPy, pydantic, pandas and, once the inputs are checked, TensorFlow), so that ``synth
--help`` answers at once. User errors (SynthError) become one red line and exit 2.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import click
import typer

from synth.anomaly import commands as anomaly_commands
from synth.classify import commands as classify_commands
from synth.core.command_line import INTERRUPTED, command_group, debugging, interrupt_note, start_session
from synth.core.errors import SynthError
from synth.data import commands as data_commands
from synth.evaluate import commands as evaluate_commands
from synth.export import commands as export_commands
from synth.gan import commands as gan_commands
from synth.realism import commands as realism_commands
from synth.share import commands as share_commands
from synth.stream import commands as stream_commands
from synth.validate import commands as validate_commands

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter is not for users

app = command_group(__doc__.splitlines()[0], add_completion=False)
app.add_typer(data_commands.app, name="data")


@app.callback()
def _main(debug: Annotated[bool, typer.Option(help="Show full tracebacks for errors.")] = False) -> None:
    """synth: synthetic accelerometer data for a specific microcontroller sensor."""
    start_session(debug)


app.command()(gan_commands.train)
app.command()(gan_commands.generate)
app.command()(evaluate_commands.evaluate)
app.command("train-classifier")(classify_commands.train_classifier)
app.command("train-autoencoder")(realism_commands.train_autoencoder)
app.command()(gan_commands.finetune)
app.command()(stream_commands.stream)
app.command("export")(export_commands.export)
app.command("export-c")(export_commands.export_c_command)
app.command("validate")(validate_commands.validate_command)
app.add_typer(share_commands.app, name="share")
app.add_typer(anomaly_commands.app, name="anomaly")


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    try:
        code = app(standalone_mode=False)  # returns an exit code instead of exiting
    except SynthError as exc:
        if debugging():
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except click.ClickException as exc:  # click usage errors carry their own exit code
        exc.show()
        sys.exit(exc.exit_code)
    if code == INTERRUPTED:  # Typer turns Ctrl-C into this code
        note = interrupt_note()
        typer.secho(f"interrupted ({note})" if note else "interrupted; nothing was written", fg=typer.colors.YELLOW, err=True)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
