"""Build and run generated C: host gcc, Cortex-M4 cross-compilation for a board, QEMU, and the
tflite-micro interpreter as the reference. Used by ``synth validate``, the tests and the benchmarks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.export.micro_runtime import micro_runtime
from synth.export.standalone import TEMPLATES, environment

HOST_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]
M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
            "-std=c99", "-Wall", "-Wextra", "-Werror", "-Os", "-ffunction-sections", "-fdata-sections"]
CORTEX_M4_DIR = TEMPLATES / "cortex_m4"  # start-up code, semihosting and the board interface every board shares
VALIDATION_DIR = TEMPLATES / "validation"  # the validation firmware: inputs compiled in, or requested over serial


@dataclass(frozen=True)
class Board:
    """A Cortex-M4 board the firmware is built for, and how QEMU runs it.

    ``folder`` (below firmware_export/) holds its ``board.c`` (console, cycle counter, end of run:
    cortex_m4/board.h), its ``uart.c`` (the serial link: cortex_m4/uart.h) and its linker script;
    the start-up code and semihosting in cortex_m4/ are shared. ``console`` is where QEMU sends
    the firmware's text: "semihosting" or "serial" (USART1, a real board's ST-LINK virtual COM port).
    """

    machine: str
    folder: str
    linker_script: str
    console: str
    defines: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return TEMPLATES / self.folder


# QEMU's STM32F405 board: its USART receives reliably, so the serial (stream) tests run on it.
NETDUINOPLUS2 = Board("netduinoplus2", "qemu", "netduinoplus2.ld", "semihosting")
# ST's Discovery kit with the LSM6DSL, as QEMU >= 9 models it; BOARD_SEMIHOSTING lets QEMU exit.
B_L475E_IOT01A = Board("b-l475e-iot01a", "b_l475e_iot01a", "stm32l475vg.ld", "serial", ("BOARD_SEMIHOSTING",))
BOARDS = {board.machine: board for board in (NETDUINOPLUS2, B_L475E_IOT01A)}


@dataclass(frozen=True)
class FirmwareRun:
    """What a validation firmware printed: its exit code, outputs (N, output_size) and cycles per call
    (None where the board has no cycle counter)."""

    code: int
    outputs: np.ndarray
    cycles: np.ndarray | None
    finished: bool


def missing_tools(*tools: str) -> list[str]:
    """The command-line tools among ``tools`` that are not on PATH."""
    return [t for t in tools if shutil.which(t) is None]


def model_sources(folder: Path, name: str) -> list[str]:
    return [str(folder / f"{name}.c"), str(folder / "synth_kernels.c")]


def build_host(folder: Path, name: str) -> Path:
    """Compile the stdin/stdout harness with gcc -std=c99 -Wall -Wextra -Werror; returns the executable."""
    harness = folder / "host_main.c"
    harness.write_text(environment().get_template("standalone/host_main.c.j2").render(name=name, prefix=name.upper()))
    exe = folder / "host_model"
    _run(["gcc", *HOST_FLAGS, "-o", str(exe), str(harness), *model_sources(folder, name)])
    return exe


def run_host(exe: Path, inputs: np.ndarray, output_size: int, output_dtype=np.int8) -> np.ndarray:
    """Outputs (N, output_size) ``output_dtype`` of the host build for inputs (N, input_size): float32 for a
    float interface, anything else is sent as int8."""
    inputs = np.asarray(inputs)
    wire = inputs.astype(np.float32 if inputs.dtype == np.float32 else np.int8)
    result = subprocess.run([str(exe)], input=np.ascontiguousarray(wire).tobytes(), capture_output=True, check=True)
    return np.frombuffer(result.stdout, output_dtype).reshape(len(inputs), output_size)


def run_tflm(tflite: bytes, inputs: list[np.ndarray]) -> np.ndarray:
    """Outputs (N, output_size) of the tflite-micro interpreter (reference kernels), in the model's output type
    (int8, or float32 for a float interface); inputs[k] is (N, *shape_k)."""
    runtime = micro_runtime()

    interpreter = runtime.Interpreter.from_bytes(tflite)
    rows = []
    for n in range(len(inputs[0])):
        for k, x in enumerate(inputs):
            interpreter.set_input(x[n], k)
        interpreter.invoke()
        rows.append(interpreter.get_output(0).ravel().copy())
    return np.asarray(rows)


def build_cortex_m4(folder: Path, name: str, inputs: np.ndarray, board: Board = NETDUINOPLUS2) -> Path:
    """Cross-compile the validation firmware (model + fixed inputs) for ``board``; returns the ELF."""
    main = folder / "validation_main.c"
    inputs = np.asarray(inputs)
    if inputs.dtype == np.float32:  # a float interface: literals that parse back to the same float32 values
        rows = [", ".join(f"{float(v)!r}f" for v in row) for row in inputs]
    else:
        rows = [", ".join(str(int(v)) for v in row) for row in inputs.astype(np.int8)]
    template = environment().get_template("validation/main.c.j2")
    main.write_text(template.render(name=name, prefix=name.upper(), rows=rows, count=len(rows)))
    sources = [str(main), str(VALIDATION_DIR / "text_line.c"), *model_sources(folder, name)]
    return link_cortex_m4(folder / f"validation_{board.folder}.elf", sources, [folder, VALIDATION_DIR], board)


def build_serial_validation(folder: Path, name: str, model_id: str, board: Board) -> Path:
    """Cross-compile the serial validation firmware (inference requests over USART1, see
    validation/serial_main.c.j2) for ``board``; ``model_id`` is the model's sha256 prefix it announces."""
    main = folder / "serial_validation_main.c"
    template = environment().get_template("validation/serial_main.c.j2")
    main.write_text(template.render(name=name, prefix=name.upper(), model_id=model_id))
    sources = [str(main), str(VALIDATION_DIR / "text_line.c"), str(TEMPLATES / "synth_stream_frame.c"),
               *model_sources(folder, name)]
    return link_cortex_m4(folder / f"serial_validation_{board.folder}.elf", sources, [folder, VALIDATION_DIR], board)


def flash_image(elf: Path) -> Path:
    """The raw flash image (.bin beside the ELF) that ST-LINK's drag-and-drop drive or st-flash writes at 0x08000000."""
    image = elf.with_suffix(".bin")
    _run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(image)])
    return image


def link_cortex_m4(elf: Path, sources: list[str], include_dirs: list[Path], board: Board = NETDUINOPLUS2) -> Path:
    """Cross-compile ``sources`` with ``board``'s start-up code, board services and linker script into ``elf``."""
    includes = [f"-I{d}" for d in (board.path, CORTEX_M4_DIR, TEMPLATES, *include_dirs)]
    defines = [f"-D{d}" for d in board.defines]
    common = [str(CORTEX_M4_DIR / name) for name in ("startup.c", "semihost.c")] + [
        str(board.path / name) for name in ("board.c", "uart.c")]
    _run(["arm-none-eabi-gcc", *M4_FLAGS, *defines, *includes, "-nostartfiles", "--specs=nano.specs",
          "--specs=nosys.specs", f"-T{board.path / board.linker_script}", "-Wl,--gc-sections", "-o", str(elf),
          *common, *sources])
    return elf


def model_footprint(folder: Path, name: str) -> dict[str, int]:
    """Cortex-M4 bytes of the model alone (its .c and the kernels, -Os): flash = text + data, ram = data + bss."""
    objects = []
    for source in model_sources(folder, name):
        obj = Path(source).with_suffix(".m4.o")
        _run(["arm-none-eabi-gcc", *M4_FLAGS, "-c", "-o", str(obj), source])
        objects.append(obj)
    return arm_size(*objects)


def arm_size(*paths: Path) -> dict[str, int]:
    """Summed text/data/bss of arm-none-eabi-size (Berkeley format), plus flash and ram totals."""
    out = _run(["arm-none-eabi-size", *map(str, paths)])
    totals = {"text": 0, "data": 0, "bss": 0}
    for line in out.splitlines()[1:]:
        text, data, bss = (int(v) for v in line.split()[:3])
        totals = {"text": totals["text"] + text, "data": totals["data"] + data, "bss": totals["bss"] + bss}
    return totals | {"flash": totals["text"] + totals["data"], "ram": totals["data"] + totals["bss"]}


def run_qemu(elf: Path, output_size: int, timeout: float = 120.0, output_dtype=np.int8,
             board: Board = NETDUINOPLUS2) -> tuple[int, np.ndarray]:
    """(exit code, outputs (N, output_size) ``output_dtype``) of the validation firmware on QEMU's ``board``."""
    run = run_firmware(elf, output_size, board, timeout, output_dtype)
    return run.code, run.outputs


def run_firmware(elf: Path, output_size: int, board: Board, timeout: float = 120.0, output_dtype=np.int8) -> FirmwareRun:
    """Run the validation firmware on qemu-system-arm's ``board`` and read what it printed.

    The console is semihosting or the board's USART1 (``-serial stdio``); QEMU sends semihosting
    text to stderr or stdout depending on its version, so both are read. The firmware ends the run
    through semihosting on both boards.
    """
    serial = "stdio" if board.console == "serial" else "null"
    command = ["qemu-system-arm", "-M", board.machine, "-display", "none", "-monitor", "none", "-serial", serial,
               "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return parse_firmware_output(result.returncode, result.stdout + result.stderr, output_size, output_dtype)


def parse_firmware_output(code: int, text: str, output_size: int, output_dtype=np.int8) -> FirmwareRun:
    """The outputs and cycle counts in a validation firmware's console text (see validation/main.c.j2)."""
    lines = re.findall(r"^out [0-9a-f]{4} ([0-9a-f]*)\r?$", text, flags=re.MULTILINE)
    rows = [np.frombuffer(bytes.fromhex(h), output_dtype) for h in lines]  # little-endian on both ends
    outputs = np.asarray(rows, output_dtype).reshape(len(rows), output_size)
    cycles = [int(n) for n in re.findall(r"^cycles [0-9a-f]{4} ([0-9]+)\r?$", text, flags=re.MULTILINE)]
    finished = re.search(r"^done [0-9]+\r?$", text, flags=re.MULTILINE) is not None
    return FirmwareRun(code, outputs, np.asarray(cycles, np.int64) if cycles else None, finished)


def qemu_machines() -> set[str]:
    """The machine names this machine's qemu-system-arm offers (empty if it is not installed)."""
    if shutil.which("qemu-system-arm") is None:
        return set()
    result = subprocess.run(["qemu-system-arm", "-M", "help"], capture_output=True, text=True)
    return {line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()}


def _run(command: list[str]) -> str:
    """Run a build tool; RuntimeError with its stderr when it fails (a bug in the generator, not a user error)."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")
    return result.stdout
