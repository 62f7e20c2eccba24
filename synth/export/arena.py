"""Tensor arena size of a .tflite model on tflite-micro, measured in child processes.

tflite-micro allocates every tensor, kernel buffer and bookkeeping struct from one arena the
firmware declares; too small an arena can abort the whole process, so every attempt runs in a
child (``python -m synth.export.arena MODEL ARENA_BYTES``). The child builds the interpreter,
runs one inference on zero inputs and prints the RecordingMicroAllocator's report, whose
"Arena allocation total" is a lower bound of the bytes needed; the smallest size that works
is then found by doubling and bisecting at the 16-byte arena alignment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from synth.core.errors import ModelError
from synth.export.micro_runtime import micro_runtime

ALIGNMENT = 16  # tflite-micro aligns the arena and its buffers to 16 bytes
MIN_PROBE_BYTES = 256 * 1024
_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")


def probe_arena(tflite: bytes) -> int:
    """The smallest arena (bytes, a multiple of 16) with which tflite-micro allocates and runs ``tflite``.

    The allocator's report is a lower bound (planning needs scratch room it does not count), so
    the size is found by doubling from it and then bisecting, each attempt in a child process.
    """
    micro_runtime()  # absent, say so in one line here rather than as every child's failure
    with tempfile.TemporaryDirectory(prefix="synth-arena-") as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(tflite)
        ok, report = run_child(path, max(MIN_PROBE_BYTES, 10 * len(tflite)))
        match = _TOTAL.search(report)
        if not ok or not match:
            raise ModelError(f"tflite-micro cannot run the exported model: {_last_line(report)}")
        low = _align(int(match.group(1))) - ALIGNMENT  # known (or assumed) too small
        high = low + ALIGNMENT
        while not run_child(path, high)[0]:
            low, high = high, _align(2 * high)
        while high - low > ALIGNMENT:
            middle = _align((low + high) // 2)
            low, high = (low, middle) if run_child(path, middle)[0] else (middle, high)
        return high


def _align(size: int) -> int:
    """``size`` rounded up to the arena alignment."""
    return -(-size // ALIGNMENT) * ALIGNMENT


def arena_fits(tflite: bytes, size: int) -> bool:
    """Whether tflite-micro allocates and runs ``tflite`` in an arena of ``size`` bytes."""
    micro_runtime()
    with tempfile.TemporaryDirectory(prefix="synth-arena-") as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(tflite)
        return run_child(path, size)[0]


def run_child(path: Path, size: int) -> tuple[bool, str]:
    """(whether the child succeeded, its stderr) for one attempt with ``size`` bytes."""
    done = subprocess.run([sys.executable, "-m", "synth.export.arena", str(path), str(size)],
                          capture_output=True, text=True, timeout=120)
    return done.returncode == 0, done.stderr


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _child(path: str, size: int) -> None:
    """Build, run once on zero inputs, print the allocation report (to stderr, from C++)."""
    runtime = micro_runtime()

    interpreter = runtime.Interpreter.from_bytes(Path(path).read_bytes(), arena_size=size)
    index = 0
    while True:
        try:
            detail = interpreter.get_input_details(index)
        except (RuntimeError, ValueError, IndexError):
            break
        interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), index)
        index += 1
    interpreter.invoke()
    interpreter.print_allocations()


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
