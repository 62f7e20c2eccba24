"""``synth validate``: tflite-micro, the host C and ST's B-L475E-IOT01A in QEMU on the same random and
real inputs; identical outputs pass, a target that differs, stops or times out is one line and exit 2."""

from __future__ import annotations

import hashlib
import re
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_cli import assert_one_line_error

from synth.core.errors import TargetError
from synth.core.npz import save_npz
from synth.data.st_har import load_st_har
from synth.export import c_build
from synth.validate import targets, validate as validate_module
from synth.validate.validate import validate
from synth.validate.targets import TargetRun

ZOO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "st_model_zoo_wisdm"
MODEL = ZOO / "ign_wl_24" / "ign_wl_24_int8.tflite"  # float32 interface, input (1, 24, 3, 1), 4 classes
ZOO_LABELS = ["jogging", "stationary", "stairs", "walking"]
SENSITIVITY_MG_PER_LSB = 0.122  # LSM6DSL at +-4 g
pytestmark = [
    pytest.mark.skipif(not MODEL.is_file(), reason=f"ST WISDM models (SLA0044) not found at {ZOO}"),
    pytest.mark.skipif(bool(c_build.missing_tools("gcc")), reason="gcc is not installed"),
]
needs_board = pytest.mark.skipif(
    bool(c_build.missing_tools("arm-none-eabi-gcc", "arm-none-eabi-size"))
    or c_build.B_L475E_IOT01A.machine not in c_build.qemu_machines(),
    reason="needs the Arm toolchain and QEMU >= 9 (.ci/run installs qemu-system-arm from bookworm-backports)")


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A synth generate folder of 12 real windows of 48 samples (two 24-sample crops each): 4 per class of
    ST's BSD-3 recordings, as +-4 g LSB codes."""
    real = load_st_har(rate_hz=26.0, window=48, stride=48)
    picked = np.concatenate([np.flatnonzero(real.y == c)[:4] for c in range(3)])
    folder = tmp_path / "dataset"
    folder.mkdir()
    save_npz(folder / "dataset.npz", {
        "lsb": np.round(real.x[picked] * 1000.0 / SENSITIVITY_MG_PER_LSB).astype(np.int16), "y": real.y[picked],
        "classes": np.array(real.classes), "rate_hz": np.float64(26.0),
        "sensitivity_mg_per_lsb": np.float64(SENSITIVITY_MG_PER_LSB)})
    return folder


@pytest.fixture
def manifest(tmp_path) -> Path:
    """A manifest naming the zoo model's labels in its own words (jogging for running)."""
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"labels": ZOO_LABELS, "model_sha256": hashlib.sha256(MODEL.read_bytes()).hexdigest()}))
    return path


@needs_board
def test_host_and_board_equal_tflite_micro_on_random_and_real_windows(run_cli, dataset, manifest, tmp_path):
    done = run_cli("validate", "--tflite", str(MODEL), "--manifest", str(manifest), "--data", str(dataset),
                   "--target", "qemu", "--random", "16", "--out", "out", timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert report["inputs"] == {"random": 16, "data": 24, "labelled": 24}  # 2 crops per window; jogging is running
    assert set(report["runtimes"]) == {"host C", "b-l475e-iot01a (QEMU)"}
    for result in report["runtimes"].values():
        assert result["identical_share"] == 1.0 and result["first_difference"] is None and result["agreement"] == 1.0
        assert result["accuracy"] == report["reference"]["accuracy"]
    board = report["runtimes"]["b-l475e-iot01a (QEMU)"]
    assert board["cycles"].startswith("not measured")
    firmware = report["footprint"]["firmware b-l475e-iot01a (QEMU)"]
    assert 0 < report["footprint"]["model_cortex_m4"]["flash"] < firmware["flash"] < 1024 * 1024
    assert firmware["ram"] < 96 * 1024 and report["footprint"]["arena_bytes"] > 0
    table = done.stdout.splitlines()
    assert table[0].startswith("ign_wl_24_int8.tflite: 16 random + 24 data inputs (24 labelled)")
    assert any(line.startswith("b-l475e-iot01a (QEMU)") and "100.00 %" in line for line in table)
    assert (tmp_path / "out" / "c" / "validation_b_l475e_iot01a.elf").is_file()


@pytest.mark.parametrize("name", ("gmp_wl_24", "gmp_wl_48", "ign_wl_24", "ign_wl_48"))
def test_every_zoo_model_computes_on_the_host_c_what_tflite_micro_does_on_real_windows(name, dataset, tmp_path):
    report = validate(ZOO / name / f"{name}_int8.tflite", tmp_path / "out", data=dataset, random_count=16)
    assert report["inputs"]["data"] == 24 // (2 if name.endswith("48") else 1)  # 48-sample models: one crop a window
    assert report["runtimes"]["host C"]["identical_share"] == 1.0


def test_the_same_seed_gives_the_same_report(tmp_path):
    first = validate(MODEL, tmp_path / "a", random_count=8, seed=3)
    validate(MODEL, tmp_path / "b", random_count=8, seed=3)
    assert (tmp_path / "a" / "validation.json").read_bytes() == (tmp_path / "b" / "validation.json").read_bytes()
    assert first["runtimes"]["host C"]["identical_share"] == 1.0 and first["seed"] == 3


def test_a_target_that_computes_otherwise_names_the_first_difference(tmp_path, monkeypatch):
    real_run_host = targets.run_host

    def off_by_one_bit(*args) -> TargetRun:
        run = real_run_host(*args)
        outputs = run.outputs.copy()
        outputs.view(np.int32)[3, 1] += 1  # one float32 output one unit in the last place away
        return TargetRun(run.name, outputs)

    monkeypatch.setattr(targets, "run_host", off_by_one_bit)
    with pytest.raises(TargetError, match=r"host C differs from tflite-micro: input 3 \(random\), output 1: "):
        validate(MODEL, tmp_path / "out", random_count=8)
    report = json.loads((tmp_path / "out" / "validation.json").read_text())  # the report says what differed
    assert report["runtimes"]["host C"]["first_difference"]["input"] == 3
    assert report["runtimes"]["host C"]["identical_share"] == 1 - 1 / (8 * 4)


@pytest.mark.parametrize("failure, fragment", [
    (c_build.FirmwareRun(0, np.zeros((3, 4), np.float32), None, True), "answered 3 of 8 inputs"),
    (c_build.FirmwareRun(99, np.zeros((0, 4), np.float32), None, False), "stopped without its done line with exit code 99"),
    (subprocess.TimeoutExpired("qemu-system-arm", 46.0), "did not finish 8 inferences within 46 s"),
    (ValueError("cannot reshape"), "printed outputs of the wrong size"),
])
def test_a_board_that_stops_answers_garbage_or_hangs_is_one_line(failure, fragment, tmp_path, monkeypatch):
    def run_firmware(*args, **kwargs):
        if isinstance(failure, Exception):
            raise failure
        return failure

    monkeypatch.setattr(targets.c_build, "build_cortex_m4", lambda *args: tmp_path / "firmware.elf")
    monkeypatch.setattr(targets.c_build, "run_firmware", run_firmware)
    monkeypatch.setattr(targets, "check_tools", lambda target: None)
    with pytest.raises(TargetError, match=fragment):
        validate(MODEL, tmp_path / "out", target="qemu", random_count=8)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_windows_shorter_than_the_model_input_are_refused_in_one_line(run_cli, tmp_path):
    folder = tmp_path / "short"
    folder.mkdir()
    save_npz(folder / "dataset.npz", {"lsb": np.zeros((2, 20, 3), np.int16), "y": np.zeros(2, np.int64),
                                      "classes": np.array(["walking"]), "rate_hz": np.float64(26.0),
                                      "sensitivity_mg_per_lsb": np.float64(0.122)})
    done = run_cli("validate", "--tflite", str(MODEL), "--data", str(folder), "--out", "out")
    assert_one_line_error(done, "its windows have 20 samples; the model takes 24")
    assert not (tmp_path / "out").exists()


def test_firmware_output_is_parsed_with_cycles_where_the_board_counts_them():
    text = "out 0000 0102\r\ncycles 0000 1234\r\nout 0001 0304\r\ncycles 0001 1240\r\ndone 0\r\n"
    run = c_build.parse_firmware_output(0, text, 2)
    assert run.finished and run.outputs.tolist() == [[1, 2], [3, 4]] and run.cycles.tolist() == [1234, 1240]
    assert validate_module._cycles(TargetRun("board", run.outputs, run.cycles, Path("x.elf"), on_device=True)) == {
        "cycles": {"mean": 1237.0, "max": 1240}}


# ---- a board on a serial port ------------------------------------------------------------------


@pytest.mark.skipif(bool(c_build.missing_tools("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm")),
                    reason="needs the Arm toolchain and QEMU (.ci/run installs them)")
def test_a_board_on_a_serial_port_answers_every_input_like_tflite_micro(run_cli, dataset, tmp_path):
    """The serial validation firmware on QEMU's netduinoplus2, whose emulated USART receives reliably,
    reached as socket:// by the command itself."""
    from synth.export.c_export import export_c
    from synth.stream.qemu import start_qemu

    export_c(MODEL, tmp_path / "c", runtime="standalone")
    sha = hashlib.sha256(MODEL.read_bytes()).hexdigest()
    elf = c_build.build_serial_validation(tmp_path / "c", "synth_model", sha[:16], c_build.NETDUINOPLUS2)
    qemu, url = start_qemu(elf, tmp_path / "console.log")
    try:
        done = run_cli("validate", "--tflite", str(MODEL), "--data", str(dataset), "--target", url, "--random", "12",
                       "--out", "out", timeout=300)
    finally:
        qemu.kill()
        qemu.wait()
    assert done.returncode == 0, done.stderr
    board = json.loads((tmp_path / "out" / "validation.json").read_text())["runtimes"][f"board on {url}"]
    assert board["identical_share"] == 1.0 and board["first_difference"] is None and board["agreement"] == 1.0
    assert board["cycles"].startswith("not measured")


@pytest.mark.skipif(bool(c_build.missing_tools("arm-none-eabi-gcc", "arm-none-eabi-objcopy")), reason="needs the Arm toolchain")
def test_firmware_writes_the_board_image_to_flash_before_validating_on_a_port(run_cli, tmp_path):
    done = run_cli("validate", "--tflite", str(MODEL), "--firmware", "--out", "fw")
    assert done.returncode == 0, done.stderr
    info = json.loads((tmp_path / "fw" / "firmware.json").read_text())
    assert info["model"]["sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest() and info["board"] == "b-l475e-iot01a"
    image = tmp_path / "fw" / info["flash_image"]
    assert 0 < image.stat().st_size <= info["size"]["flash"] < 1024 * 1024
    assert f"st-flash write fw/{info['flash_image']} 0x08000000" in done.stdout


class FakeBoard:
    """A TCP peer that plays a board: answers '?' with ``hello`` and each frame with ``answer(sequence)``."""

    def __init__(self, hello: bytes | None, answer=None):
        import socket
        import threading

        self.hello, self.answer = hello, answer
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        from synth.stream.frame import FrameDecoder

        connection, _ = self.server.accept()
        decoder = FrameDecoder()
        with connection:
            while chunk := connection.recv(4096):
                if chunk.startswith(b"?"):
                    connection.sendall(self.hello or b"")
                    chunk = chunk.lstrip(b"?")
                for frame in decoder.feed(chunk):
                    connection.sendall(self.answer(frame.sequence) if self.answer else b"")


def _hello(sha: str | None = None, input_bytes: int = 288, output_bytes: int = 16) -> bytes:
    return f"model {(sha or hashlib.sha256(MODEL.read_bytes()).hexdigest())[:16]} {input_bytes} {output_bytes}\n".encode()


@pytest.mark.parametrize("board, fragment", [
    (lambda: FakeBoard(None), "nothing answered on socket://"),
    (lambda: FakeBoard(b"hello world\n"), "answered 'hello world', not the validation firmware's 'model ...' line"),
    (lambda: FakeBoard(_hello("0" * 64)), "runs the validation firmware of another model (0000000000000000"),
    (lambda: FakeBoard(_hello(), lambda seq: b"garbage!\n"), "answered input 0 with 'garbage!', not a validation answer"),
    (lambda: FakeBoard(_hello(), lambda seq: f"out {seq:04x} 00ff\n".encode()), "answered input 0 with 2 bytes, not the model's 16"),
    (lambda: FakeBoard(_hello(), lambda seq: f"short {seq:04x}\n".encode()), "could not run input 0: the frame was shorter"),
    (lambda: FakeBoard(_hello()), "stopped answering at input 0"),
], ids=["silent", "garbage hello", "another model", "garbage answer", "short answer", "short frame", "stops"])
def test_a_board_on_a_port_that_is_silent_garbled_or_another_models_is_one_line(board, fragment, tmp_path, monkeypatch):
    from synth.validate import serial_target

    monkeypatch.setattr(serial_target, "HELLO_TIMEOUT_S", 1.5)
    monkeypatch.setattr(serial_target, "ANSWER_TIMEOUT_S", 1.5)
    with pytest.raises(TargetError, match=re.escape(fragment)):
        validate(MODEL, tmp_path / "out", target=board().url, random_count=4)
    assert not (tmp_path / "out").exists()
