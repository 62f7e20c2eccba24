"""``synth stream``: put the pieces together for one run (send a source, or receive from a board)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from synth.core.errors import ConfigError
from synth.core.profiles import load_profile
from synth.stream.link import check_budget, open_link
from synth.stream.live import receive
from synth.stream.pacing import Pacer
from synth.stream.recorder import CaptureRecorder
from synth.stream.sender import Replies, SampleFeed, echoes_back, send
from synth.stream.sources import file_source, synthetic_source
from synth.stream.summary import StreamSummary
from synth.stream.wire import Decoder, Encoder

SOURCES = ("synthetic", "file", "live")
SOCKET_SETTLE_S = 0.5  # a TCP server such as QEMU's UART drops bytes that arrive while it is still accepting us


@dataclass
class StreamOptions:
    """The command's options (see ``synth stream --help``); paths are already resolved."""

    port: str
    source: str
    baud: int = 115200
    fmt: str = "csv"
    units: str = "mg"
    generator: Optional[Path] = None
    profile: str = "lsm6dsl_4g"
    classes: list[str] = field(default_factory=list)
    seconds: Optional[float] = None
    samples: Optional[int] = None
    input: Optional[Path] = None
    speed: float = 1.0
    record: Optional[Path] = None
    classifier: Optional[Path] = None
    autoencoder: Optional[Path] = None
    strict: bool = False
    seed: int = 0


def check_options(o: StreamOptions) -> None:
    """ConfigError naming the first option that does not fit the chosen source."""
    needs = {"synthetic": ("generator", "--generator DIR"), "file": ("input", "--input PATH")}
    if o.source in needs and getattr(o, needs[o.source][0]) is None:
        raise ConfigError(f"--source {o.source} needs {needs[o.source][1]}")
    live_only = [name for name, value in (("--record", o.record), ("--classifier", o.classifier),
                                          ("--autoencoder", o.autoencoder)) if value is not None]
    if live_only and o.source != "live":
        raise ConfigError(f"{live_only[0]} is for --source live (it records or checks received samples)")
    if o.seconds is not None and o.samples is not None:
        raise ConfigError("give --seconds or --samples, not both")
    if o.seconds is not None and not (o.seconds > 0 and math.isfinite(o.seconds)):
        raise ConfigError(f"--seconds must be a positive number, got {o.seconds:g}")
    if o.samples is not None and o.samples < 1:
        raise ConfigError(f"--samples must be at least 1, got {o.samples}")
    if not o.speed > 0 or (o.speed != 1.0 and o.source != "file"):
        raise ConfigError("--speed must be > 0 and is for --source file")
    if o.baud <= 0:
        raise ConfigError(f"--baud must be positive, got {o.baud}")
    load_profile(o.profile)  # an unknown name is refused even where the source carries its own sensitivity


def run_stream(o: StreamOptions, summary_holder: list, echo: Callable[[str], None],
               load_tensorflow: Callable[[], None], show: Callable[[str], None] = print) -> StreamSummary:
    """Run the stream; the summary is placed in ``summary_holder`` as soon as it exists (for Ctrl-C).

    ``echo`` takes progress and warning lines, ``show`` the per-window results of --source live
    and what a board answers to a sender.
    """
    check_options(o)
    if o.source == "live":
        return _receive(o, summary_holder, echo, load_tensorflow, show)
    return _send(o, summary_holder, echo, load_tensorflow, show)


def _send(o: StreamOptions, holder: list, echo, load_tensorflow, show) -> StreamSummary:
    """Send a synthetic or file source, paced, for the requested time or samples; ``show`` the board's answer lines."""
    link = open_link(o.port, o.baud)  # a wrong port fails before a model loads
    try:
        if o.port.startswith("socket://"):
            time.sleep(SOCKET_SETTLE_S)
        source = _source(o, load_tensorflow)
        rate = source.rate_hz * o.speed
        encoder = Encoder(o.fmt, o.units, source.sensitivity_mg_per_lsb)
        pacer = Pacer(rate)
        _budget(o, rate, encoder.bytes_per_sample(min(pacer.batch, encoder.max_batch), source.min_lsb), echo)
        echo(f"sending {source.description} at {rate:g} samples/s as {o.fmt} to {o.port}")
        summary = StreamSummary("sent", rate)
        holder.append(summary)
        replies = Replies()
        # the command's own loop:// link has no other reader: its echo is dropped as it comes
        send(link, SampleFeed(source.chunks()), encoder, pacer, summary, _limit(o, rate, source.total), echoes_back(link),
             replies)
    finally:
        link.close()
    for line in replies.lines():
        show(f"board: {line}")
    if summary.samples == source.total:
        summary.stopped_by = "end of input"
    return summary


def _source(o: StreamOptions, load_tensorflow):
    """The synthetic or file source the options name (TensorFlow only for a generator)."""
    if o.source == "synthetic":
        load_tensorflow()
        return synthetic_source(o.generator, o.profile, o.classes, o.seed)
    return file_source(o.input, o.profile, o.classes)


def _receive(o: StreamOptions, holder: list, echo, load_tensorflow, show) -> StreamSummary:
    """Receive from the board: decode, record, check windows, reconnect; for the requested time or samples."""
    from synth.stream.monitor import build_monitor  # the classifier's and filter's modules load SciPy and pandas

    profile = load_profile(o.profile)
    rate = profile.odr_hz
    # assume the board batches like our sender does (one frame per wake-up)
    bytes_per_sample = Encoder(o.fmt, o.units, profile.sensitivity_mg_per_lsb).bytes_per_sample(Pacer(rate).batch, profile.min_lsb)
    _budget(o, rate, bytes_per_sample, echo)
    if o.classifier is not None or o.autoencoder is not None:
        load_tensorflow()
    monitor = build_monitor(o.classifier, o.autoencoder, rate, profile.full_scale_g, profile.sensitivity_mg_per_lsb, show)
    decoder = Decoder(o.fmt, o.units, profile.sensitivity_mg_per_lsb)
    summary = StreamSummary("received", rate, frames=decoder.frames.stats if o.fmt == "binary" else None,
                            bad_lines=0 if o.fmt == "csv" else None)
    holder.append(summary)
    recorder = None if o.record is None else CaptureRecorder(o.record, rate, profile.sensitivity_mg_per_lsb,
                                                             {"sensor": profile.name, "port": o.port.replace(" ", "_")})

    def sink(lsb):
        if recorder is not None:
            recorder.append(lsb)
        monitor.feed(lsb)

    echo(f"receiving {o.fmt} from {o.port} ({profile.name}, {rate:g} Hz)")
    deadline = None if o.seconds is None else time.monotonic() + o.seconds
    try:
        receive(lambda: open_link(o.port, o.baud), decoder, summary, sink, o.samples, deadline, echo)
    finally:
        decoder.finish()
        if summary.bad_lines is not None:
            summary.bad_lines = decoder.lines.bad_lines
        if recorder is not None:
            echo(f"recorded {recorder.close():,} samples to {o.record} and {recorder.npz_path}")
    return summary


def _budget(o: StreamOptions, rate: float, bytes_per_sample: float, echo) -> None:
    """Warn (or refuse with --strict) when the data rate does not fit the baud rate."""
    warning = check_budget(rate, bytes_per_sample, o.baud, o.strict, o.fmt)
    if warning:
        echo(f"warning: {warning}")


def _limit(o: StreamOptions, rate: float, total: Optional[int]) -> Optional[int]:
    """Samples to send: --samples, or --seconds x rate, at most the input's ``total``; None: until Ctrl-C."""
    wanted = o.samples if o.samples is not None else (None if o.seconds is None else round(o.seconds * rate))
    return total if wanted is None else wanted if total is None else min(wanted, total)
