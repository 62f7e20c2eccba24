"""Where ``synth validate`` runs the standalone C: the host (gcc), ST's B-L475E-IOT01A in QEMU, and a
board on a serial port running the serial validation firmware.

Each target takes the exported C folder and the packed inputs (N, total elements) and returns a
TargetRun: the outputs (N, output size) in the model's output dtype, the cycles per inference
where the target counts them, and the firmware it ran (for its flash and RAM).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.core.errors import ConfigError, TargetError
from synth.export import c_build
from synth.validate.serial_target import MODEL_ID_HEX, run_serial

QEMU_BOARD = c_build.B_L475E_IOT01A
# the same board on the desk: no semihosting (without a debugger it would fault), the run never ends
SILICON_BOARD = dataclasses.replace(c_build.B_L475E_IOT01A, defines=())
QEMU_SECONDS_PER_INPUT = 2.0  # generous for QEMU's TCG on a busy core; a run's bound is this times N + 30 s
TOOLS = {"host": ["gcc"], "qemu": ["gcc", "arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"],
         "firmware": ["arm-none-eabi-gcc", "arm-none-eabi-size", "arm-none-eabi-objcopy"]}


@dataclass(frozen=True)
class TargetRun:
    """What one target computed: outputs (N, size), cycles (N,) or None, the firmware ELF or None, and
    whether it ran on a microcontroller (real or emulated)."""

    name: str
    outputs: np.ndarray
    cycles: np.ndarray | None = None
    firmware: Path | None = None
    on_device: bool = False


def is_port(target: str) -> bool:
    """Whether ``target`` names a serial port: a device path, COMn, or a pyserial URL (socket://, rfc2217://)."""
    return target.startswith("/dev/") or "://" in target or re.fullmatch(r"COM\d+", target) is not None


def check_tools(target: str) -> None:
    """ConfigError in one line naming what is missing for ``target`` ("host", "qemu", "firmware" or a port)."""
    needed = TOOLS.get(target, TOOLS["host"])  # a port needs the host build only
    missing = c_build.missing_tools(*needed)
    if missing:
        option = "--firmware" if target == "firmware" else f"--target {target}"
        raise ConfigError(f"{option} needs {', '.join(missing)} on PATH (Debian: gcc, gcc-arm-none-eabi, "
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
    return TargetRun(f"{QEMU_BOARD.machine} (QEMU)", run.outputs, run.cycles, elf, on_device=True)


def run_port(port: str, packed: np.ndarray, output_size: int, output_dtype, model_sha256: str) -> TargetRun:
    """A board on ``port`` running the serial validation firmware of this model."""
    outputs, cycles = run_serial(port, packed, output_size, output_dtype, model_sha256)
    return TargetRun(f"board on {port}", outputs, cycles, on_device=True)


def build_board_firmware(folder: Path, name: str, model_sha256: str) -> tuple[Path, Path]:
    """(ELF, flash image) of the serial validation firmware for the B-L475E-IOT01A, from the C in ``folder``."""
    elf = c_build.build_serial_validation(folder, name, model_sha256[:MODEL_ID_HEX], SILICON_BOARD)
    return elf, c_build.flash_image(elf)
