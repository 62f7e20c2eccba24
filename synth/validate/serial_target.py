"""``synth validate --target PORT``: a board running the serial validation firmware, over its serial link.

The firmware (firmware_export/validation/serial_main.c.j2, built by ``synth validate
--firmware``) answers one inference per ``synth stream`` binary frame. The host first sends '?'
and checks the answer "model <sha256 prefix> <input bytes> <output bytes>" against the model
being validated, then sends each input as a frame whose samples carry the input's bytes, and
reads "out <seq> <hex>" (and "cycles <seq> <n>" where the board counts cycles) per request.
A board that does not answer, answers garbage or runs another model's firmware is a TargetError.
"""

from __future__ import annotations

import re
import time

import numpy as np

from synth.core.errors import TargetError
from synth.stream.frame import MAX_SAMPLES, SAMPLE_BYTES, encode_frame
from synth.stream.link import open_link

BAUD = 115200  # the firmware's USART1 (the ST-LINK virtual COM port)
HELLO = b"?"
HELLO_TIMEOUT_S = 5.0
HELLO_REPEAT_S = 1.0
ANSWER_TIMEOUT_S = 10.0  # per inference: generous for a 4 MHz clock and QEMU on a busy core
TRAILING_QUIET_S = 0.3  # after the last answer: time for its cycles line to arrive
MAX_INPUT_BYTES = MAX_SAMPLES * SAMPLE_BYTES  # one frame per request
MODEL_ID_HEX = 16  # sha256 hex digits the firmware announces
_ANSWER = re.compile(r"^(out|cycles|short|fail) ([0-9a-f]{4})(?: (\S+))?$")
_MODEL = re.compile(r"^model ([0-9a-f]+) (\d+) (\d+)$")


class _Lines:
    """Text lines from the link, with a deadline per read."""

    def __init__(self, link, port: str):
        self.link, self.port, self.buffer = link, port, b""

    def next(self, timeout_s: float) -> str | None:
        """The next line (without its end), or None when none arrived within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self.buffer:
            if time.monotonic() > deadline:
                return None
            self.buffer += self.link.read(max(1, self.link.in_waiting))
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("ascii", errors="replace").strip()


def run_serial(port: str, packed: np.ndarray, output_size: int, output_dtype, model_sha256: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(outputs (N, output_size), cycles (N,) or None) of the board on ``port`` for inputs (N, elements)."""
    packed = np.ascontiguousarray(packed)
    input_bytes, output_bytes = packed[0].nbytes, output_size * np.dtype(output_dtype).itemsize
    if input_bytes > MAX_INPUT_BYTES:
        raise TargetError(f"--target {port} sends one input per frame, at most {MAX_INPUT_BYTES} bytes; this model's "
                          f"input has {input_bytes} (validate it with --target qemu)")
    link = open_link(port, BAUD, exclusive=True)
    try:
        lines = _Lines(link, port)
        _check_firmware(link, lines, port, model_sha256[:MODEL_ID_HEX], input_bytes, output_bytes)
        return _infer_all(link, lines, port, packed, output_size, output_dtype)
    finally:
        link.close()


def _check_firmware(link, lines: _Lines, port: str, model_id: str, input_bytes: int, output_bytes: int) -> None:
    """Ask which model the firmware runs; TargetError unless it is this one.

    The question is repeated every HELLO_REPEAT_S: a board that is still starting (or QEMU's
    UART before the firmware enabled it) drops what it receives.
    """
    deadline, line = time.monotonic() + HELLO_TIMEOUT_S, None
    while line is None and time.monotonic() < deadline:
        link.write(HELLO)
        line = lines.next(HELLO_REPEAT_S)
    if line is None:
        raise TargetError(f"nothing answered on {port} within {HELLO_TIMEOUT_S:g} s; flash the board with the firmware "
                          "of 'synth validate --firmware' for this model first")
    match = _MODEL.match(line)
    if match is None:
        raise TargetError(f"{port} answered {line[:60]!r}, not the validation firmware's 'model ...' line")
    if match[1] != model_id or (int(match[2]), int(match[3])) != (input_bytes, output_bytes):
        raise TargetError(f"the board on {port} runs the validation firmware of another model ({match[1]}, "
                          f"{match[2]} B in, {match[3]} B out; this one is {model_id}, {input_bytes} B in, {output_bytes} B out)")
    while (extra := lines.next(TRAILING_QUIET_S)) is not None:  # answers to a repeated question
        if _MODEL.match(extra) is None:
            raise TargetError(f"{port} answered {extra[:60]!r}, not the validation firmware's 'model ...' line")


def _infer_all(link, lines: _Lines, port: str, packed: np.ndarray, output_size: int, output_dtype):
    """Send every input as a frame and collect the answers in order."""
    outputs, cycles = [], {}
    for index, row in enumerate(packed):
        link.write(encode_frame(index & 0xFFFF, _as_samples(row)))
        outputs.append(_answer(lines, port, index, output_size, output_dtype, cycles))
    while (line := lines.next(TRAILING_QUIET_S)) is not None:  # the last answer's cycles line
        _record_cycles(line, port, len(packed) - 1, cycles)
    counted = [cycles.get(i & 0xFFFF) for i in range(len(packed))]
    return np.asarray(outputs), (np.asarray(counted, np.int64) if all(c is not None for c in counted) else None)


def _as_samples(row: np.ndarray) -> np.ndarray:
    """An input's bytes as int16 samples (n, 3), little endian, zero-padded to whole samples."""
    data = row.tobytes()
    data += bytes(-len(data) % SAMPLE_BYTES)
    return np.frombuffer(data, "<i2").reshape(-1, 3)


def _answer(lines: _Lines, port: str, index: int, output_size: int, output_dtype, cycles: dict) -> np.ndarray:
    """The output the board sent for request ``index``; cycles lines on the way are kept in ``cycles``."""
    sequence = index & 0xFFFF
    while True:
        line = lines.next(ANSWER_TIMEOUT_S)
        if line is None:
            raise TargetError(f"the board on {port} stopped answering at input {index} (nothing within {ANSWER_TIMEOUT_S:g} s)")
        match = _ANSWER.match(line)
        if match is None:
            raise TargetError(f"the board on {port} answered input {index} with {line[:60]!r}, not a validation answer")
        kind, answered, value = match[1], int(match[2], 16), match[3]
        if kind == "cycles":
            _record_cycles(line, port, index, cycles)
        elif kind in ("short", "fail"):
            raise TargetError(f"the board on {port} could not run input {answered}: "
                              f"{'the frame was shorter than the input' if kind == 'short' else 'the model call failed'}")
        elif answered == sequence:
            return _decode(value, port, index, output_size, output_dtype)


def _record_cycles(line: str, port: str, index: int, cycles: dict) -> None:
    match = _ANSWER.match(line)
    if match is None or match[1] != "cycles" or match[3] is None or not match[3].isdigit():
        raise TargetError(f"the board on {port} answered input {index} with {line[:60]!r}, not a validation answer")
    cycles[int(match[2], 16)] = int(match[3])


def _decode(value: str | None, port: str, index: int, output_size: int, output_dtype) -> np.ndarray:
    """One answer's hex bytes as the output (output_size,) of ``output_dtype``."""
    try:
        output = np.frombuffer(bytes.fromhex(value or ""), output_dtype)
    except ValueError:
        output = np.zeros(0)
    if output.size != output_size:
        raise TargetError(f"the board on {port} answered input {index} with {len(value or '') // 2} bytes, "
                          f"not the model's {output_size * np.dtype(output_dtype).itemsize}")
    return output
