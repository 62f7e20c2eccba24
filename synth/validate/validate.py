"""``synth validate``: does the model compute on the target exactly what it computes on the host?

The reference is tflite-micro (PyPI's build of the microcontroller interpreter). The model is
exported as standalone C (``synth export-c --runtime standalone``), compiled for the host with
gcc and, with ``--target qemu``, for ST's B-L475E-IOT01A run in QEMU (inputs compiled in);
with ``--target PORT`` a real board on a serial port answers each input, running the serial
validation firmware that ``--firmware`` builds for it. Every runtime gets the same inputs: seeded random ones over the model's whole input range and, with ``--data``, real
windows. Reported per runtime against the reference: the share of identical output values, the
max and mean absolute error (in int8 codes, or in the output's units for a float32 output),
the classification agreement and accuracy where the output is a score vector, and the first
differing value. Also: flash and RAM (arm-none-eabi-size), the arena, and cycles per inference
where the target counts them. Written to OUT/validation.json with the C and the firmware.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from synth.core.atomic import build_directory, check_directory_target, write_json
from synth.core.errors import ConfigError, TargetError
from synth.core.tflite_file import load_tflite, read_graph
from synth.export import c_build
from synth.export.c_export import check_manifest_matches, export_c, read_manifest
from synth.validate import targets
from synth.validate.inputs import ValidationInputs, combine, data_inputs, random_inputs

TARGETS = ("host", "qemu")  # or a serial port (targets.is_port)
FIRMWARE_FILE = "firmware.json"
C_NAME = "synth_model"
REPORT_FILE = "validation.json"
C_FOLDER = "c"


def validate(tflite_path: Path, out: Path, manifest_path: Path | None = None, data: Path | None = None,
             target: str = "host", random_count: int = 64, data_limit: int = 256, seed: int = 0,
             force: bool = False) -> dict:
    """Validate ``tflite_path`` on the host and ``target``; write OUT/validation.json; return the report.

    TargetError (after the report is written) when a runtime's outputs differ from the reference.
    """
    if target not in TARGETS and not targets.is_port(target):
        raise ConfigError(f"unknown --target {target!r} (allowed: {', '.join(TARGETS)}, or a serial port such as "
                          "/dev/ttyACM0, COM5 or socket://HOST:PORT)")
    check_directory_target(out, force)
    targets.check_tools(target)
    tflite = load_tflite(tflite_path)
    manifest = read_manifest(manifest_path)
    check_manifest_matches(manifest, tflite, tflite_path, manifest_path)
    graph = read_graph(tflite)
    inputs = random_inputs(graph, random_count, seed)
    if data is not None:
        inputs = combine(inputs, data_inputs(data, graph, manifest, data_limit, seed))
    with build_directory(out, force) as staging:
        report = _run_all(tflite, Path(tflite_path), manifest_path, graph, inputs, target, staging / C_FOLDER)
        report["seed"] = seed
        write_json(staging / REPORT_FILE, report)
    failed = [name for name, result in report["runtimes"].items() if result.get("first_difference")]
    if failed:
        first = report["runtimes"][failed[0]]["first_difference"]
        raise TargetError(f"{failed[0]} differs from tflite-micro: input {first['input']} ({first['origin']}), output "
                          f"{first['output']}: {first['value']} instead of {first['reference']} (report: {out / REPORT_FILE})")
    return report


def build_firmware(tflite_path: Path, out: Path, manifest_path: Path | None = None, force: bool = False) -> dict:
    """Write the serial validation firmware of the model for the B-L475E-IOT01A into OUT (ELF, flash
    image, its C, firmware.json); returns firmware.json's content."""
    check_directory_target(out, force)
    targets.check_tools("firmware")
    tflite = load_tflite(tflite_path)
    manifest = read_manifest(manifest_path)
    check_manifest_matches(manifest, tflite, tflite_path, manifest_path)
    sha256 = hashlib.sha256(tflite).hexdigest()
    with build_directory(out, force) as staging:
        export_c(tflite_path, staging / C_FOLDER, runtime="standalone", name=C_NAME, manifest_path=manifest_path)
        elf, image = targets.build_board_firmware(staging / C_FOLDER, C_NAME, sha256)
        elf, image = (Path(p).replace(staging / p.name) for p in (elf, image))
        info = {"model": {"file": Path(tflite_path).name, "sha256": sha256}, "board": targets.SILICON_BOARD.machine,
                "elf": elf.name, "flash_image": image.name, "flash_address": "0x08000000",
                "size": c_build.arm_size(elf), "serial": {"baud": 115200, "link": "USART1 (ST-LINK virtual COM port)"}}
        write_json(staging / FIRMWARE_FILE, info)
    return info


def _run_all(tflite: bytes, tflite_path: Path, manifest_path, graph, inputs: ValidationInputs, target: str,
             folder: Path) -> dict:
    """Export, run every runtime, compare: the report (without the seed)."""
    exported = export_c(tflite_path, folder, runtime="standalone", name=C_NAME, manifest_path=manifest_path)
    output = graph.tensors[graph.outputs[0]]
    dtype, size = (np.float32 if output.dtype is np.float32 else np.int8), output.size
    reference = c_build.run_tflm(tflite, inputs.per_input).reshape(len(inputs), size)
    runs = [targets.run_host(folder, C_NAME, inputs.packed, size, dtype)]
    if target == "qemu":
        runs.append(targets.run_qemu(folder, C_NAME, inputs.packed, size, dtype))
    elif target != "host":
        runs.append(targets.run_port(target, inputs.packed, size, dtype, hashlib.sha256(tflite).hexdigest()))
    scores = len(output.shape) == 2 and size > 1  # a (1, C) output: one score per class
    return {
        "model": {"file": tflite_path.name, "sha256": hashlib.sha256(tflite).hexdigest(), "bytes": len(tflite),
                  "input": [_describe(graph.tensors[i]) for i in graph.inputs], "output": _describe(output)},
        "inputs": {"random": int((inputs.origin == "random").sum()), "data": int((inputs.origin == "data").sum()),
                   "labelled": int((inputs.labels >= 0).sum())},
        "error_units": "output units (float32 output)" if dtype is np.float32 else "int8 output codes",
        "reference": {"runtime": "tflite-micro", **(_accuracy(reference, inputs) if scores else {})},
        "runtimes": {run.name: _compare(run.outputs, reference, inputs, scores) | _cycles(run) for run in runs},
        "footprint": _footprint(folder, exported["arena_bytes"], runs),
    }


def _describe(tensor) -> dict:
    return {"name": tensor.name, "shape": list(tensor.shape), "dtype": np.dtype(tensor.dtype).name}


def _compare(outputs: np.ndarray, reference: np.ndarray, inputs: ValidationInputs, scores: bool) -> dict:
    """Errors of one runtime's outputs against the reference, and its first differing value."""
    error = np.abs(outputs.astype(np.float64) - reference.astype(np.float64))
    same = _bits(outputs) == _bits(reference)  # float32 compared bit for bit: -0.0 is not 0.0, NaN is NaN
    result = {"identical_share": float(same.mean()), "max_abs_error": float(error.max()),
              "mean_abs_error": float(error.mean()), "first_difference": None}
    if not same.all():
        row, column = (int(v) for v in np.argwhere(~same)[0])
        result["first_difference"] = {"input": row, "origin": str(inputs.origin[row]), "output": column,
                                      "value": outputs[row, column].item(), "reference": reference[row, column].item()}
    if scores:
        result["agreement"] = float((outputs.argmax(axis=1) == reference.argmax(axis=1)).mean())
        result |= _accuracy(outputs, inputs)
    return result


def _bits(values: np.ndarray) -> np.ndarray:
    return values.view(np.int32) if values.dtype == np.float32 else values


def _accuracy(outputs: np.ndarray, inputs: ValidationInputs) -> dict:
    """Accuracy on the labelled inputs (argmax of the scores); nothing without labels."""
    labelled = inputs.labels >= 0
    if not labelled.any():
        return {}
    return {"accuracy": float((outputs[labelled].argmax(axis=1) == inputs.labels[labelled]).mean())}


def _cycles(run: targets.TargetRun) -> dict:
    if not run.on_device:
        return {}
    if run.cycles is None:
        return {"cycles": "not measured (the target has no DWT cycle counter; QEMU does not model it)"}
    return {"cycles": {"mean": float(run.cycles.mean()), "max": int(run.cycles.max())}}


def _footprint(folder: Path, arena_bytes: int, runs: list) -> dict:
    """The arena, and where the Arm tools are present the model's and each firmware's flash and RAM bytes."""
    footprint: dict = {"arena_bytes": arena_bytes}
    if c_build.missing_tools("arm-none-eabi-gcc", "arm-none-eabi-size"):
        return footprint | {"flash_ram": "not measured (arm-none-eabi-gcc and arm-none-eabi-size are not installed)"}
    footprint["model_cortex_m4"] = c_build.model_footprint(folder, C_NAME)
    for run in runs:
        if run.firmware is not None:
            footprint[f"firmware {run.name}"] = c_build.arm_size(run.firmware)
    return footprint


def summary(report: dict, out: Path) -> str:
    """One screen: a row per runtime (identical share, errors, agreement, accuracy), then footprint and cycles."""
    reference, runtimes = report["reference"], report["runtimes"]
    width = max(26, *(len(name) + 2 for name in runtimes))
    rows = [f"{'runtime':<{width}}{'identical':>10}{'max |err|':>12}{'mean |err|':>12}{'agreement':>11}{'accuracy':>10}",
            f"{'tflite-micro (reference)':<{width}}{'':>45}{_share(reference.get('accuracy')):>10}"]
    for name, result in runtimes.items():
        rows.append(f"{name:<{width}}{_share(result['identical_share']):>10}{result['max_abs_error']:>12.4g}"
                    f"{result['mean_abs_error']:>12.4g}{_share(result.get('agreement')):>11}{_share(result.get('accuracy')):>10}")
    model, counts = report["model"], report["inputs"]
    lines = [f"{model['file']}: {counts['random']} random + {counts['data']} data inputs "
             f"({counts['labelled']} labelled); errors in {report['error_units']}", *rows, _footprint_line(report)]
    lines += [f"{name} cycles per inference: " + (f"{r['cycles']['mean']:.0f} mean, {r['cycles']['max']} max"
              if isinstance(r["cycles"], dict) else r["cycles"]) for name, r in runtimes.items() if "cycles" in r]
    return "\n".join(lines + [f"report: {out / REPORT_FILE}"])


def _share(value) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def _footprint_line(report: dict) -> str:
    footprint = report["footprint"]
    parts = [f"arena {footprint['arena_bytes']} B"]
    if "model_cortex_m4" in footprint:
        model = footprint["model_cortex_m4"]
        parts.append(f"model on Cortex-M4: flash {model['flash']} B, RAM {model['ram']} B")
        parts += [f"{k}: flash {v['flash']} B, RAM {v['ram']} B" for k, v in footprint.items() if k.startswith("firmware ")]
    else:
        parts.append(footprint["flash_ram"])
    return "; ".join(parts)
