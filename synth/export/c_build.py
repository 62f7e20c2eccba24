"""Build and run generated C: host gcc, Cortex-M4 cross-compilation, QEMU with semihosting, and the
tflite-micro interpreter as the reference. Used by the tests and benchmarks/bench_export_c.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from synth.export.micro_runtime import micro_runtime
from synth.export.standalone import TEMPLATES, environment

HOST_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"]
M4_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
            "-std=c99", "-Wall", "-Wextra", "-Werror", "-Os", "-ffunction-sections", "-fdata-sections"]
QEMU_MACHINE = "netduinoplus2"
QEMU_DIR = TEMPLATES / "qemu"


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


def build_cortex_m4(folder: Path, name: str, inputs: np.ndarray) -> Path:
    """Cross-compile the QEMU test firmware (model + fixed inputs) for the netduinoplus2; returns the ELF."""
    main = folder / "qemu_main.c"
    inputs = np.asarray(inputs)
    if inputs.dtype == np.float32:  # a float interface: literals that parse back to the same float32 values
        rows = [", ".join(f"{float(v)!r}f" for v in row) for row in inputs]
    else:
        rows = [", ".join(str(int(v)) for v in row) for row in inputs.astype(np.int8)]
    main.write_text(environment().get_template("qemu/main.c.j2").render(name=name, prefix=name.upper(), rows=rows, count=len(rows)))
    return link_cortex_m4(folder / "qemu_model.elf", [str(main), *model_sources(folder, name)], [folder])


def link_cortex_m4(elf: Path, sources: list[str], include_dirs: list[Path]) -> Path:
    """Cross-compile ``sources`` with the QEMU start-up code (semihosting) and linker script into ``elf``."""
    includes = [f"-I{d}" for d in (QEMU_DIR, *include_dirs)]
    _run(["arm-none-eabi-gcc", *M4_FLAGS, *includes, "-nostartfiles", "--specs=nano.specs",
          "--specs=nosys.specs", f"-T{QEMU_DIR / 'netduinoplus2.ld'}", "-Wl,--gc-sections", "-o", str(elf),
          str(QEMU_DIR / "startup.c"), *sources])
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


def run_qemu(elf: Path, output_size: int, timeout: float = 120.0, output_dtype=np.int8) -> tuple[int, np.ndarray]:
    """(exit code, outputs (N, output_size) ``output_dtype``) of the firmware on qemu-system-arm with semihosting.

    QEMU sends semihosting console text to stderr or stdout depending on its version: read both.
    """
    result = subprocess.run(["qemu-system-arm", "-M", QEMU_MACHINE, "-nographic", "-monitor", "none", "-serial", "null",
                             "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                            capture_output=True, text=True, timeout=timeout)
    lines = re.findall(r"^out [0-9a-f]{4} ([0-9a-f]*)$", result.stdout + result.stderr, flags=re.MULTILINE)
    rows = [np.frombuffer(bytes.fromhex(h), output_dtype) for h in lines]  # little-endian on both ends
    return result.returncode, np.asarray(rows, output_dtype).reshape(len(rows), output_size)


def _run(command: list[str]) -> str:
    """Run a build tool; RuntimeError with its stderr when it fails (a bug in the generator, not a user error)."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stderr[-4000:]}")
    return result.stdout
