"""``synth stream``: synthetic, replayed and live sensor data over a serial link."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from synth.core.command_line import INTERRUPTED, echo_lines, load_tensorflow
from synth.core.errors import ConfigError
from synth.core.limits import SEED_MAX

DISCONNECTED = 1  # a sender whose receiver went away stops cleanly, but did not finish


def stream(
    port: Annotated[str, typer.Option(help="pyserial URL: /dev/ttyACM0, COM5, loop://, socket://HOST:PORT, spy://...")],
    source: Annotated[str, typer.Option(help="synthetic (a generator), file (--input) or live (receive from a board).")],
    baud: Annotated[int, typer.Option(help="Baud rate; the link budget is checked against baud / 10 bytes/s.")] = 115200,
    format: Annotated[str, typer.Option("--format", help="csv (Edge Impulse data forwarder lines) or binary (framed, CRC-16).")] = "csv",
    units: Annotated[str, typer.Option(help="CSV values in mg or lsb (raw int16 codes).")] = "mg",
    generator: Annotated[Optional[Path], typer.Option(help="Generator folder (--source synthetic).")] = None,
    profile: Annotated[str, typer.Option(help="Sensor profile: sets sensitivity, full scale and (live) the data rate.")] = "lsm6dsl_4g",
    class_: Annotated[Optional[list[str]], typer.Option("--class", help="Only these classes (repeatable).")] = None,
    seconds: Annotated[Optional[float], typer.Option(help="Stop after this many seconds.")] = None,
    samples: Annotated[Optional[int], typer.Option(help="Stop after this many samples.")] = None,
    input: Annotated[Optional[Path], typer.Option("--input", help="Dataset folder, capture .csv or capture .npz (--source file).")] = None,
    speed: Annotated[float, typer.Option(help="Replay this many times faster than the file's rate (--source file).")] = 1.0,
    record: Annotated[Optional[Path], typer.Option(help="Record received samples to this capture CSV (and .npz) (--source live).")] = None,
    classifier: Annotated[Optional[Path], typer.Option(help="A 'synth train-classifier' folder: print the class of each window (live).")] = None,
    autoencoder: Annotated[Optional[Path], typer.Option(help="A 'synth train-autoencoder' folder: flag anomalous windows (live).")] = None,
    strict: Annotated[bool, typer.Option(help="Refuse (instead of warn) when the data rate exceeds the link.")] = False,
    seed: Annotated[int, typer.Option(min=0, max=SEED_MAX, help="Seed of the synthetic source.")] = 0,
) -> None:
    """Stream synthetic or recorded samples to a serial port, or receive and record a board's."""
    from synth.stream.run import SOURCES, StreamOptions, run_stream
    from synth.stream.wire import FORMATS

    _choice("--source", source, SOURCES)
    _choice("--format", format, FORMATS)
    _choice("--units", units, ("mg", "lsb"))
    options = StreamOptions(port, source, baud, format, units, generator, profile, list(class_ or []), seconds,
                            samples, input, speed, record, classifier, autoencoder, strict, seed)
    holder: list = []
    try:
        summary = run_stream(options, holder, lambda line: typer.echo(line, err=True), load_tensorflow, typer.echo)
    except KeyboardInterrupt:
        if holder:
            holder[0].stopped_by = "Ctrl-C"
            echo_lines(holder[0].lines())
        else:
            typer.echo("interrupted before streaming started", err=True)
        # exit here: the CLI's generic Ctrl-C note is about resuming training, not streams
        raise SystemExit(INTERRUPTED) from None
    echo_lines(summary.lines())
    if summary.stopped_by.startswith("disconnect"):
        raise typer.Exit(DISCONNECTED)


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    """ConfigError unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ConfigError(f"{option} {value!r} is not one of: {', '.join(allowed)}")
