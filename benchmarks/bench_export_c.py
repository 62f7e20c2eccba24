"""``synth export-c --runtime standalone`` on the shipped generator and ST's BSD-3 HAR classifier.

Usage:
  .venv/bin/python benchmarks/bench_export_c.py [--inputs 1000] [--qemu-inputs 16] [--seed 0]

Each model is quantised to full int8 the way ``synth export`` does it (representative data from
synth.export.sources), then exported as standalone C. Printed per model:
- Cortex-M4 bytes (arm-none-eabi-gcc -Os, hard float; arm-none-eabi-size) of the model alone
  (its C file + the kernels: flash = text + data, RAM = data + bss) and of the whole QEMU firmware;
- int8 values that differ between the host build (gcc -std=c99 -Wall -Wextra -Werror) and the
  tflite-micro interpreter over ``--inputs`` random int8 inputs (the bar is 0);
- whether the firmware on QEMU (netduinoplus2, semihosting) prints the host's outputs byte for byte.
Goal: under two minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from synth.export import c_build  # noqa: E402
from synth.export.c_export import export_c  # noqa: E402
from synth.core.tflite_file import read_graph  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    "generator (shipped, st_har_lsm6dsl_4g)": ("generator", ROOT / "synth/assets/generators/st_har_lsm6dsl_4g"),
    "classifier (ST BSD-3 HAR, model.h5)": ("classifier", ROOT / "synth/assets/st_har_bsd3/model.h5"),
}


def quantized(kind: str, source: Path, seed: int) -> bytes:
    """Full-int8 .tflite of the model, calibrated on its export representative data."""
    from synth.export.quantize import load_export_source, quantize_to_int8

    export_source = load_export_source(kind, source, seed=seed)
    samples = export_source.samples
    return quantize_to_int8(export_source.model, list(samples) if len(samples) > 1 else samples[0], seed=seed)


def measure(label: str, tflite: bytes, folder: Path, n_inputs: int, n_qemu: int, seed: int) -> dict:
    """Sizes, host-vs-TFLM mismatches and QEMU agreement of one model's standalone C."""
    model_file = folder / "model.tflite"
    model_file.write_bytes(tflite)
    out = folder / "c"
    result = export_c(model_file, out, runtime="standalone")
    graph = read_graph(tflite)
    output_size = graph.tensors[graph.outputs[0]].size
    rng = np.random.default_rng(seed)
    per_input = [rng.integers(-128, 128, size=(n_inputs,) + graph.tensors[i].shape, dtype=np.int8) for i in graph.inputs]
    packed = np.concatenate([x.reshape(n_inputs, -1) for x in per_input], axis=1)
    exe = c_build.build_host(out, "synth_model")
    host = c_build.run_host(exe, packed, output_size)
    reference = c_build.run_tflm(tflite, per_input)
    row = {"model": label, "tflite_bytes": len(tflite), "ops": result["ops"], "arena": result["arena_bytes"],
           "mismatches": int((host != reference).sum()), "values": host.size, "inputs": n_inputs}
    if not c_build.missing_tools("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"):
        elf = c_build.build_cortex_m4(out, "synth_model", packed[:n_qemu])
        code, on_qemu = c_build.run_qemu(elf, output_size)
        row |= {"model_m4": c_build.model_footprint(out, "synth_model"), "firmware_m4": c_build.arm_size(elf),
                "qemu_exit": code, "qemu_equal": bool(np.array_equal(on_qemu, host[:n_qemu])), "qemu_inputs": n_qemu}
    return row


def report(row: dict) -> str:
    lines = [f"{row['model']}: {row['tflite_bytes']} B .tflite, ops {', '.join(row['ops'])}",
             f"  host C vs tflite-micro: {row['mismatches']} of {row['values']} int8 values differ "
             f"({row['inputs']} random inputs); static arena {row['arena']} B"]
    if "model_m4" in row:
        m, f = row["model_m4"], row["firmware_m4"]
        lines += [f"  Cortex-M4 model + kernels: flash {m['flash']} B (text {m['text']}, data {m['data']}), RAM {m['ram']} B (bss {m['bss']})",
                  f"  QEMU firmware (netduinoplus2): flash {f['flash']} B, RAM {f['ram']} B (+ 8 KiB stack reserved)",
                  f"  QEMU vs host on {row['qemu_inputs']} inputs: {'identical' if row['qemu_equal'] else 'DIFFERENT'} (exit code {row['qemu_exit']})"]
    else:
        lines.append("  Cortex-M4 / QEMU: skipped (arm-none-eabi-gcc or qemu-system-arm not installed)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--qemu-inputs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-export-c-") as tmp:
        for i, (label, (kind, source)) in enumerate(MODELS.items()):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            print(report(measure(label, quantized(kind, source, args.seed), folder, args.inputs, args.qemu_inputs, args.seed)),
                  flush=True)
    print(f"total {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
