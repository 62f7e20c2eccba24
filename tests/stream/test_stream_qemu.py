"""End to end against firmware in QEMU: real ST recordings streamed as binary frames to the stream demo
(firmware_export/stream_demo/) on an emulated netduinoplus2; its per-window classes equal the same
int8 model's on the host (tflite-micro), with no frame lost or corrupted."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from synth.export import c_build
from synth.stream.qemu import (END_MARKER, TOOLS, build_stream_demo, parse_stats_line, parse_window_line, qemu_command,
                               send_file, serial_url, start_qemu)

ROOT = Path(__file__).resolve().parents[2]
ST_BSD3 = ROOT / "synth" / "assets" / "st_har_bsd3"
WINDOWS_PER_CLASS = 10
SPEED = 100  # 26 Hz x 100: 13-sample frames, the 30 windows in about 0.3 s
needs_arm = pytest.mark.skipif(bool(c_build.missing_tools(*TOOLS)),
                               reason=f"needs the Arm toolchain and QEMU ({', '.join(TOOLS)}); CI installs them")


def test_qemu_command_puts_the_uart_on_a_tcp_chardev():
    command = qemu_command("fw.elf", 4321)
    assert "tcp:127.0.0.1:4321,server=on,wait=on" in command and serial_url(4321) == "socket://127.0.0.1:4321"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """ST's BSD-3 classifier through synth export (stm32) and the stream demo build: (StreamDemo, tflite bytes)."""
    pytest.importorskip("tflite_micro")
    from synth.export.bundle import export_model
    from synth.export.sources import BSD3_INPUT_SCALE_G

    folder = tmp_path_factory.mktemp("stream_demo")
    export_model("classifier", ST_BSD3 / "model.h5", "stm32", folder / "export")
    built = build_stream_demo(folder / "export" / "model.tflite", folder / "build", 0.122, 1000.0 * BSD3_INPUT_SCALE_G,
                              folder / "export" / "manifest.json")
    return built, (folder / "export" / "model.tflite").read_bytes()


@pytest.fixture
def recording(tmp_path) -> tuple[Path, np.ndarray]:
    """The first windows of one shipped recording per class (mg -> +-4 g LSB) as a capture .npz; (path, lsb)."""
    from synth.core.npz import save_npz

    samples = WINDOWS_PER_CLASS * 26
    mg = [np.loadtxt(ST_BSD3 / "dataset" / c / f"{c}_01_26Hz_4g_mg.csv", delimiter=",")[:samples]
          for c in ("stationary", "walking", "running")]
    lsb = np.clip(np.round(np.concatenate(mg) / 0.122), -32768, 32767).astype(np.int16)
    path = tmp_path / "capture.npz"
    save_npz(path, {"lsb": lsb, "rate_hz": np.float64(26.0), "sensitivity_mg_per_lsb": np.float64(0.122)})
    return path, lsb


CONNECT_SETTLE_S = 0.5


class LineReader(threading.Thread):
    """Collects the firmware's lines from ``link`` until its stats line or the link closes.

    Reads one byte at a time: pyserial's socket:// read(n) drops the bytes it has gathered when the
    peer closes inside the call (QEMU exits right after the stats line).
    """

    def __init__(self, link) -> None:
        super().__init__(daemon=True)
        self.link, self.lines, self._partial = link, [], b""

    def run(self) -> None:
        while not self.lines or parse_stats_line(self.lines[-1]) is None:
            try:
                chunk = self.link.read(1)
            except Exception:  # QEMU exited and closed the socket
                return
            *done, self._partial = (self._partial + chunk).split(b"\n")
            self.lines += [line.decode() for line in done]


def _host_windows(demo, tflite: bytes, lsb: np.ndarray) -> np.ndarray:
    """int8 scores (windows, classes) of tflite-micro on the firmware's int8 inputs of ``lsb``."""
    windows = len(lsb) // demo.window
    x = demo.quantizer(lsb[: windows * demo.window]).reshape(windows, 1, demo.window, 3)
    return c_build.run_tflm(tflite, [x])


def _wait_for_window(reader: LineReader, index: int, timeout_s: float = 30.0) -> None:
    """Block until the firmware has answered window ``index``: the emulated UART is slow under
    load, and the end marker must not overtake the last frames still queued in QEMU."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any((w := parse_window_line(line)) is not None and w[0] == index for line in list(reader.lines)):
            return
        time.sleep(0.05)


def _finish(link, process, reader: LineReader) -> int:
    """Send the end marker; the firmware's exit code once QEMU has terminated (after its stats line)."""
    link.write(END_MARKER)
    link.flush()
    reader.join(timeout=20)
    return process.wait(timeout=20)


@needs_arm
def test_stream_to_firmware_in_qemu(demo, recording, tmp_path):
    from synth.stream.link import open_link

    built, tflite = demo
    path, lsb = recording
    process, url = start_qemu(built.elf, tmp_path / "console.log")
    try:
        link = open_link(url, 115200)
        time.sleep(CONNECT_SETTLE_S)  # QEMU drops bytes that arrive while it is still accepting the client
        reader = LineReader(link)
        reader.start()
        assert send_file(link, path, SPEED) == len(lsb)
        _wait_for_window(reader, len(lsb) // built.window - 1)
        assert _finish(link, process, reader) == 0
    finally:
        process.kill()
    windows = [w for w in map(parse_window_line, reader.lines) if w is not None]
    stats = parse_stats_line(reader.lines[-1])
    expected = _host_windows(built, tflite, lsb)
    assert [w[0] for w in windows] == list(range(len(expected)))
    assert np.array_equal(np.array([w[2] for w in windows], np.int8), expected)  # scores bit for bit, so classes too
    assert [w[1] for w in windows] == expected.argmax(axis=1).tolist()
    assert stats["samples"] == len(lsb) and stats["leftover"] == 0
    assert stats["lost"] == stats["corrupted"] == stats["partial"] == stats["duplicated"] == 0
    assert set(expected.argmax(axis=1)) == {0, 1, 2}  # the three recordings read as three classes
    console = (tmp_path / "console.log").read_text().splitlines()  # QEMU's own notes, then the firmware's mirror
    assert reader.lines == [line for line in console if parse_window_line(line) or parse_stats_line(line)]



@needs_arm
def test_the_stream_command_feeds_the_firmware_and_shows_every_answer(demo, recording, tmp_path):
    """``synth stream`` itself (a separate process, as a user runs it) drains the firmware's answers before it
    closes the socket, so no frame is cut off; a second connection then ends the firmware with its counts."""
    from synth.stream.link import open_link

    built, tflite = demo
    path, lsb = recording
    process, url = start_qemu(built.elf, tmp_path / "console.log")
    try:
        command = [sys.executable, "-m", "synth.cli", "stream", "--port", url, "--source", "file", "--input", str(path),
                   "--format", "binary", "--speed", str(SPEED)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        answers = [line.removeprefix("board: ") for line in result.stdout.splitlines() if line.startswith("board: ")]
        link = open_link(url, 115200)
        time.sleep(CONNECT_SETTLE_S)
        reader = LineReader(link)
        reader.start()
        assert _finish(link, process, reader) == 0
    finally:
        process.kill()
    expected = _host_windows(built, tflite, lsb)
    windows = [w for w in map(parse_window_line, answers) if w is not None]
    assert [w[0] for w in windows] == list(range(len(expected)))
    assert np.array_equal(np.array([w[2] for w in windows], np.int8), expected)
    stats = parse_stats_line(reader.lines[-1])
    assert stats["samples"] == len(lsb) and stats["leftover"] == 0
    assert stats["lost"] == stats["corrupted"] == stats["partial"] == stats["duplicated"] == 0
