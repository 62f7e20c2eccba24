"""End to end against firmware in QEMU: the stream demo (firmware_export/stream_demo/) on netduinoplus2.

The firmware receives ``synth stream --format binary`` frames on its UART, classifies every
non-overlapping window with the standalone-C int8 classifier and answers one line per window,
then frame statistics after the end marker, and exits through semihosting. This module builds
it (``synth export-c --runtime standalone`` + arm-none-eabi-gcc through synth.export.c_build),
boots it with the UART as a TCP server chardev and hands back the ``socket://`` URL.

Known limits (see ../shared/docs/facts.md): bookworm's QEMU 7.2 has netduinoplus2 and
mps2-an386, whose UARTs receive reliably (QEMU 10's b-l475e-iot01a stalls on receive); pyserial's
socket:// drops bytes that arrive right at connect, so the firmware sends nothing before it has
received a byte. QEMU is not cycle-accurate: this proves decoding and inference, not timing.

By hand (after ``synth export --model classifier --target stm32 --out EXPORT``)::

    python -m synth.stream.qemu EXPORT            # builds, boots, prints the URL and the firmware's lines
    synth stream --port socket://127.0.0.1:PORT --source file --input DATASET --format binary --speed 20
    printf 'END\\n' | socat -t5 - TCP:127.0.0.1:PORT   # the firmware's counts, then QEMU exits

``synth stream`` reads the firmware's answers while it sends and until the link has been quiet
for a second, and prints them (``board: ...``): a socket closed with unread bytes is reset, and
QEMU would drop the frames it had not yet handed to the firmware.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.tflite_file import load_tflite, read_graph
from synth.export import c_build
from synth.export.c_export import export_c
from synth.export.sources import BSD3_INPUT_SCALE_G
from synth.export.standalone import TEMPLATES, environment
from synth.stream.pacing import Pacer
from synth.stream.sender import SampleFeed, send
from synth.stream.sources import file_source
from synth.stream.summary import StreamSummary
from synth.stream.wire import Encoder

DEFAULT_MACHINE = "netduinoplus2"  # Cortex-M4 whose emulated UART receives reliably
DEMO_DIR = TEMPLATES / "stream_demo"
END_MARKER = b"END\n"  # sent between frames: the firmware reports its statistics and exits
TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")
MULTIPLIER_BITS = 31  # the input multiplier is a positive int32: 31 significant bits
_WINDOW_LINE = re.compile(r"^window (\d+) class (\d+)(?: \S+)? scores((?: -?\d+)+)$")


def qemu_command(firmware: Path, tcp_port: int, machine: str = DEFAULT_MACHINE) -> list[str]:
    """The qemu-system-arm command that boots ``firmware`` (an ELF) with its first UART on 127.0.0.1:tcp_port."""
    return [
        "qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none", "-kernel", str(firmware),
        "-serial", f"tcp:127.0.0.1:{tcp_port},server=on,wait=on",
        "-semihosting-config", "enable=on,target=native",
    ]


def serial_url(tcp_port: int) -> str:
    """The pyserial URL of the emulated UART."""
    return f"socket://127.0.0.1:{tcp_port}"


@dataclass(frozen=True)
class InputQuantizer:
    """int16 output codes (LSB) -> the model's int8 input: zero_point + round(lsb x multiplier / 2^shift).

    The same integer formula as quantize() in firmware_export/stream_demo/main.c (rounding half up),
    so the host reference gets the firmware's int8 inputs exactly.
    """

    multiplier: int
    shift: int
    zero_point: int
    factor: float  # the real factor the multiplier approximates (model input steps per LSB)

    @classmethod
    def for_model(cls, sensitivity_mg_per_lsb: float, mg_per_unit: float, scale: float, zero_point: int) -> "InputQuantizer":
        """``sensitivity_mg_per_lsb`` (mg/LSB), ``mg_per_unit`` (mg per unit of the model's real input), ``scale`` (units per step)."""
        factor = sensitivity_mg_per_lsb / mg_per_unit / scale
        _, exponent = math.frexp(factor)  # factor = m x 2^exponent, 0.5 <= m < 1
        shift = MULTIPLIER_BITS - exponent
        return cls(round(factor * 2.0**shift), shift, zero_point, factor)

    def __call__(self, lsb: np.ndarray) -> np.ndarray:
        """int8 inputs for ``lsb`` (any shape) int16."""
        scaled = (np.asarray(lsb, np.int64) * self.multiplier + (1 << (self.shift - 1))) >> self.shift
        return np.clip(scaled + self.zero_point, -128, 127).astype(np.int8)


@dataclass(frozen=True)
class StreamDemo:
    """A built stream-demo image and what the host needs to check its answers."""

    elf: Path
    quantizer: InputQuantizer
    window: int  # samples per window (the model's input size / 3)


def build_stream_demo(tflite: Path, folder: Path, sensitivity_mg_per_lsb: float, mg_per_unit: float,
                      manifest: Path | None = None, name: str = "synth_model") -> StreamDemo:
    """Export ``tflite`` as standalone C into folder/c and link the stream demo around it (folder/stream_demo.elf).

    ``mg_per_unit``: mg per unit of the model's real input (4000 for ST's BSD-3 classifier, whose
    input is g / 4). ``manifest`` adds the class labels to the firmware's lines.
    """
    code = folder / "c"
    export_c(tflite, code, runtime="standalone", name=name, manifest_path=manifest)
    graph = read_graph(load_tflite(tflite))
    model_input = graph.tensors[graph.inputs[0]]
    quantizer = InputQuantizer.for_model(sensitivity_mg_per_lsb, mg_per_unit, model_input.scale, model_input.zero_point)
    (code / "stream_demo_config.h").write_text(environment().get_template("stream_demo/stream_demo_config.h.j2").render(
        name=name, prefix=name.upper(), sensitivity=sensitivity_mg_per_lsb, mg_per_unit=mg_per_unit,
        scale=model_input.scale, factor=quantizer.factor, multiplier=quantizer.multiplier, shift=quantizer.shift))
    sources = [str(DEMO_DIR / "main.c"), str(TEMPLATES / "synth_stream_frame.c"),
               *c_build.model_sources(code, name)]
    elf = c_build.link_cortex_m4(folder / "stream_demo.elf", sources, [code, DEMO_DIR, TEMPLATES])
    return StreamDemo(elf, quantizer, model_input.size // 3)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_qemu(elf: Path, log: Path, port: int | None = None, timeout_s: float = 10.0) -> tuple[subprocess.Popen, str]:
    """Boot ``elf`` on netduinoplus2, its UART a TCP server on 127.0.0.1; (process, socket:// URL).

    QEMU waits for the first connection before it runs the firmware (wait=on). Returns once the
    port listens; the semihosting console (the firmware's lines too) goes to ``log``.
    """
    port = free_port() if port is None else port
    with open(log, "wb") as out:
        process = subprocess.Popen(qemu_command(elf, port), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"QEMU did not open port {port}: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.02)
    return process, serial_url(port)


def _listening(port: int) -> bool:
    """True when a socket listens on 127.0.0.1:port (Linux /proc/net/tcp; connecting would take QEMU's one client)."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in lines)  # 0A: LISTEN


def parse_window_line(line: str) -> tuple[int, int, list[int]] | None:
    """(window index, class index, int8 scores) of a firmware window line; None for any other line."""
    match = _WINDOW_LINE.match(line.strip())
    if match is None:
        return None
    return int(match[1]), int(match[2]), [int(v) for v in match[3].split()]


def parse_stats_line(line: str) -> dict[str, int] | None:
    """The firmware's final ``stats name value ...`` line as a dict; None for any other line."""
    words = line.split()
    if not words or words[0] != "stats" or len(words) % 2 == 0:
        return None
    return {name: int(value) for name, value in zip(words[1::2], words[2::2])}


def send_file(link, path: Path, speed: float) -> int:
    """Replay a dataset or capture over ``link`` as binary frames with synth stream's sender; returns samples sent."""
    source = file_source(path, "lsm6dsl_4g", [])
    summary = StreamSummary("sent", source.rate_hz * speed)
    encoder = Encoder("binary", "lsb", source.sensitivity_mg_per_lsb)
    send(link, SampleFeed(source.chunks()), encoder, Pacer(source.rate_hz * speed), summary, None)
    return summary.samples


def _main() -> None:
    """Build the demo from a ``synth export`` folder, boot it and show its console until QEMU exits (or Ctrl-C)."""
    parser = argparse.ArgumentParser(prog="python -m synth.stream.qemu", description=_main.__doc__)
    parser.add_argument("export", type=Path, help="a 'synth export --model classifier' folder (model.tflite, manifest.json)")
    parser.add_argument("--port", type=int, default=None, help="TCP port of the emulated UART (default: a free one)")
    args = parser.parse_args()
    manifest = args.export / "manifest.json"
    sensitivity = json.loads(manifest.read_text())["profile"]["sensitivity_mg_per_lsb"]
    folder = Path(tempfile.mkdtemp(prefix="stream_demo_"))
    demo = build_stream_demo(args.export / "model.tflite", folder, sensitivity, 1000.0 * BSD3_INPUT_SCALE_G, manifest)
    process, url = start_qemu(demo.elf, folder / "console.log", args.port)
    print(f"firmware {demo.elf} on QEMU {DEFAULT_MACHINE}: UART at {url} ({demo.window}-sample windows)", flush=True)
    try:
        with open(folder / "console.log") as console:
            while process.poll() is None:
                print(console.read(), end="", flush=True)
                time.sleep(0.2)
            print(console.read(), end="", flush=True)
    except KeyboardInterrupt:
        process.kill()


if __name__ == "__main__":
    _main()
