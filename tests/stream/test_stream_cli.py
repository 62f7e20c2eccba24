"""``synth stream`` as a command: end to end through socat pty pairs, recordings, Ctrl-C, bad input."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from process_support import interruptible

from synth.data.csv_capture import load_captures, read_capture, write_capture
from synth.core.errors import DataError
from synth.core.npz import load_npz, save_npz
from synth.stream.sources import file_source

GENERATOR = Path(__file__).resolve().parents[2] / "synth" / "assets" / "generators" / "st_har_lsm6dsl_4g"
SENSITIVITY = 0.122  # lsm6dsl_4g


@pytest.fixture
def socat_pair(tmp_path):
    """Two linked pty paths (a, b) made by socat: what one end writes the other reads."""
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed")
    a, b = tmp_path / "pty_a", tmp_path / "pty_b"
    process = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not (a.exists() and b.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield str(a), str(b)
    process.terminate()
    process.wait(10)


def stream_process(tmp_path, *args):
    """Start ``synth stream ARGS`` in the background (stdout and stderr piped), interruptible by
    SIGINT as in a terminal, and dumping every thread's stack on SIGABRT (see ``interrupt``)."""
    command = [sys.executable, "-m", "synth.cli", "stream", *map(str, args)]
    return subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONFAULTHANDLER": "1"}, preexec_fn=interruptible)


def interrupt(process, timeout=30):
    """Send SIGINT (Ctrl-C) and return (stdout, stderr); a process still running after ``timeout``
    is aborted, and the test fails showing where each of its threads was."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER=1: the stacks go to stderr
        stdout, stderr = process.communicate(timeout=30)
        pytest.fail(f"synth stream did not stop within {timeout} s of SIGINT; stdout:\n{stdout}\nstderr:\n{stderr}")


def wait_for_line(process, text, timeout=60):
    """Read the process's stderr until a line holding ``text``; returns the lines read."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if text in line or not line:
            return lines
    return lines


def capture_file(tmp_path, count=260, rate=26.0):
    """A capture CSV of ``count`` samples whose mg values are exact output codes of lsm6dsl_4g."""
    lsb = np.random.default_rng(5).integers(-30000, 30000, (count, 3))
    path = write_capture(tmp_path / "in.csv", lsb * SENSITIVITY, rate)
    return path, lsb


def test_bad_input_is_one_line_exit_2(run_cli):
    for args, message in [
        (["--source", "synthetic"], "--source synthetic needs --generator DIR"),
        (["--source", "file", "--input", "x.csv", "--format", "xml"], "--format 'xml' is not one of: csv, binary"),
        (["--source", "file", "--input", "x.npz", "--record", "r.csv"], "--record is for --source live"),
    ]:
        result = run_cli("stream", "--port", "loop://", *args)
        assert result.returncode == 2 and result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1


def test_missing_port_lists_ports_and_strict_budget_refuses(run_cli, tmp_path):
    path, _ = capture_file(tmp_path)
    missing = run_cli("stream", "--port", "/dev/ttyNOSUCH7", "--source", "file", "--input", path)
    assert missing.returncode == 2 and "cannot open port /dev/ttyNOSUCH7: no such port (ports found:" in missing.stderr
    strict = run_cli("stream", "--port", "loop://", "--source", "file", "--input", path, "--speed", "100", "--baud", "9600", "--strict")
    assert strict.returncode == 2 and "exceeds 9600 baud / 10 = 960 B/s" in strict.stderr
    assert len(strict.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["binary", "csv"])
def test_file_to_live_through_ptys_records_a_loadable_capture(tmp_path, socat_pair, fmt):
    path, lsb = capture_file(tmp_path)
    out = tmp_path / "rec" / "capture.csv"
    receiver = stream_process(tmp_path, "--port", socat_pair[1], "--source", "live", "--format", fmt, "--samples", len(lsb),
                              "--record", out)
    wait_for_line(receiver, "receiving")
    sender = subprocess.run([sys.executable, "-m", "synth.cli", "stream", "--port", socat_pair[0], "--source", "file",
                             "--input", path, "--speed", "20", "--format", fmt], capture_output=True, text=True, timeout=60)
    stdout, stderr = receiver.communicate(timeout=60)
    assert sender.returncode == 0 and receiver.returncode == 0, sender.stderr + stderr
    assert f"sent {len(lsb)} samples" in sender.stdout and f"received {len(lsb)} samples" in stdout
    np.testing.assert_array_equal(load_npz(out.with_suffix(".npz"))["lsb"], lsb)
    np.testing.assert_allclose(read_capture(out).samples_mg, lsb * SENSITIVITY, atol=1e-3)
    windows = load_captures(out, rate_hz=26, window=26, unlabelled_class="live")
    assert windows.x.shape == (10, 26, 3)


def test_dataset_folder_replays_the_chosen_class(tmp_path):
    lsb = np.arange(4 * 5 * 3, dtype=np.int16).reshape(4, 5, 3)
    save_npz(tmp_path / "dataset.npz", {"lsb": lsb, "y": np.array([0, 1, 0, 1]), "classes": np.array(["still", "walk"]),
                                        "rate_hz": np.float64(26), "sensitivity_mg_per_lsb": np.float64(SENSITIVITY)})
    source = file_source(tmp_path, "lsm6dsl_4g", ["walk"])
    np.testing.assert_array_equal(np.concatenate(list(source.chunks())), lsb[[1, 3]].reshape(-1, 3))
    assert (source.total, source.rate_hz) == (10, 26.0)
    with pytest.raises(DataError, match="class 'run' is not in"):
        file_source(tmp_path, "lsm6dsl_4g", ["run"])
    with pytest.raises(DataError, match="not found"):
        file_source(tmp_path / "missing", "lsm6dsl_4g", [])


def test_a_killed_receiver_leaves_a_loadable_recording(tmp_path, socat_pair):
    path, lsb = capture_file(tmp_path, count=2600)
    out = tmp_path / "killed.csv"
    receiver = stream_process(tmp_path, "--port", socat_pair[1], "--source", "live", "--format", "csv", "--record", out)
    wait_for_line(receiver, "receiving")
    sender = stream_process(tmp_path, "--port", socat_pair[0], "--source", "file", "--input", path, "--speed", "20")
    wait_for_line(sender, "sending")
    deadline = time.monotonic() + 60  # a loaded machine starts the processes slowly: wait for recorded samples
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 2000):
        time.sleep(0.1)
    receiver.kill()  # SIGKILL: no clean-up runs
    receiver.communicate(timeout=30)
    sender.kill()
    sender.communicate(timeout=30)
    capture = read_capture(out)
    assert 0 < len(capture.samples_mg) < len(lsb)
    np.testing.assert_allclose(capture.samples_mg, lsb[: len(capture.samples_mg)] * SENSITIVITY, atol=1e-3)


def test_ctrl_c_ends_live_with_a_summary(tmp_path, socat_pair):
    receiver = stream_process(tmp_path, "--port", socat_pair[1], "--source", "live", "--format", "binary",
                              "--record", tmp_path / "r.csv")
    wait_for_line(receiver, "receiving")
    time.sleep(0.3)
    stdout, stderr = interrupt(receiver)
    assert receiver.returncode == 130 and "stopped by Ctrl-C" in stdout and "Traceback" not in stderr
    assert "frames 0 ok, lost 0" in stdout and (tmp_path / "r.npz").is_file()


def test_ctrl_c_ends_a_sender_with_a_summary(tmp_path, socat_pair):
    path, _ = capture_file(tmp_path, count=2600)
    sender = stream_process(tmp_path, "--port", socat_pair[0], "--source", "file", "--input", path)
    wait_for_line(sender, "sending")
    time.sleep(0.5)
    stdout, _ = interrupt(sender)
    assert sender.returncode == 130 and "stopped by Ctrl-C" in stdout and stdout.startswith("sent ")


def test_synthetic_source_sends_generated_lines(tmp_path):
    master, slave = os.openpty()
    try:
        result = subprocess.run([sys.executable, "-m", "synth.cli", "stream", "--port", os.ttyname(slave), "--source",
                                 "synthetic", "--generator", GENERATOR, "--class", "walking", "--samples", "30",
                                 "--format", "csv", "--units", "lsb", "--seed", "3"], capture_output=True, text=True, timeout=120)
        os.set_blocking(master, False)
        text = os.read(master, 65536).decode()
    finally:
        os.close(master)
        os.close(slave)
    assert result.returncode == 0, result.stderr
    rows = np.array([[int(v) for v in line.split(",")] for line in text.split()])
    assert rows.shape == (30, 3) and np.abs(rows).max() <= 32767 and "sent 30 samples" in result.stdout
    assert np.abs(np.linalg.norm(rows * SENSITIVITY, axis=1).mean() - 1000) < 600  # walking: about 1 g
