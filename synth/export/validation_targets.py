"""Where ``synth validate`` runs the standalone C: the host (gcc) and ST's B-L475E-IOT01A in QEMU.

Each target takes the exported C folder and the packed inputs (N, total elements) and returns a
TargetRun: the outputs (N, output size) in the model's output dtype, the cycles per inference
where the target counts them, and the firmware it ran (for its flash and RAM).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.errors import ConfigError, TargetError
from synth.export import c_build

QEMU_BOARD = c_build.B_L475E_IOT01A
QEMU_SECONDS_PER_INPUT = 2.0  # generous for QEMU's TCG on a busy core; a run's bound is this times N + 30 s


@dataclass(frozen=True)
class TargetRun:
    """What one target computed: outputs (N, size), cycles (N,) or None, the firmware ELF or None."""

    name: str
    outputs: np.ndarray
    cycles: np.ndarray | None = None
    firmware: Path | None = None


def check_tools(target: str) -> None:
    """ConfigError in one line naming what is missing for ``target`` ("host" or "qemu")."""
    needed = ["gcc"] + (["arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"] if target == "qemu" else [])
    missing = c_build.missing_tools(*needed)
    if missing:
        raise ConfigError(f"--target {target} needs {', '.join(missing)} on PATH (Debian: gcc, gcc-arm-none-eabi, "
                          "libnewlib-arm-none-eabi, qemu-system-arm)")
    if target == "qemu" and QEMU_BOARD.machine not in c_build.qemu_machines():
        raise ConfigError(f"this qemu-system-arm has no {QEMU_BOARD.machine} machine (QEMU >= 9 has it; on Debian "
                          "bookworm: apt-get install -t bookworm-backports qemu-system-arm)")


def run_host(folder: Path, name: str, packed: np.ndarray, output_size: int, output_dtype) -> TargetRun:
    """The standalone C compiled for this machine with gcc, fed the inputs on stdin."""
    exe = c_build.build_host(folder, name)
    return TargetRun("host C", c_build.run_host(exe, packed, output_size, output_dtype))


def run_qemu(folder: Path, name: str, packed: np.ndarray, output_size: int, output_dtype) -> TargetRun:
    """The validation firmware for the B-L475E-IOT01A, inputs compiled in, run on QEMU's model of the board."""
    elf = c_build.build_cortex_m4(folder, name, packed, QEMU_BOARD)
    timeout = 30.0 + QEMU_SECONDS_PER_INPUT * len(packed)
    try:
        run = c_build.run_firmware(elf, output_size, QEMU_BOARD, timeout=timeout, output_dtype=output_dtype)
    except subprocess.TimeoutExpired:
        raise TargetError(f"the {QEMU_BOARD.machine} in QEMU did not finish {len(packed)} inferences within {timeout:g} s") from None
    except ValueError:
        raise TargetError(f"the {QEMU_BOARD.machine} in QEMU printed outputs of the wrong size "
                          f"(expected {output_size} values per line)") from None
    if not run.finished or run.code != 0 or len(run.outputs) != len(packed):
        raise TargetError(f"the {QEMU_BOARD.machine} in QEMU answered {len(run.outputs)} of {len(packed)} inputs and "
                          f"{'ended' if run.finished else 'stopped without its done line'} with exit code {run.code}")
    return TargetRun(f"{QEMU_BOARD.machine} (QEMU)", run.outputs, run.cycles, elf)
