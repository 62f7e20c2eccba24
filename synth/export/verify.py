"""Run an exported int8 model on tflite-micro and on LiteRT and compare it with the float model.

Both runtimes get the same int8 inputs (the float inputs quantised with the model's input
scale and zero point) one sample at a time (the model's batch is 1). Reported:

- every kind: the int8 output's error against the float Keras model (max and RMS, in the
  output's units) and the largest tflite-micro vs LiteRT difference in output quanta (LSB of
  the int8 output; the two may differ by 1-2 on the same model);
- generator: the windows assembled from the int8 core's output (synth.export.generator_window)
  against the float generator's, in LSB of the sensor profile (mg / sensitivity), overall and
  per class, and the int8 output's step per class in profile LSB;
- classifier: accuracy of the float model, of tflite-micro and of LiteRT on the held-out real
  windows, and the drop in percentage points;
- autoencoder: the reconstruction error (g^2) of both, and how often accept / reject decisions
  at the threshold differ.
- anomaly detector (synth.export.anomaly_source): every held-out row flagged by the float
  detector and by the device's int8 path (synth.export.anomaly_flag), and the share that changed.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from synth.core.tflite_file import ModelInfo, TensorInfo
from synth.export.generator_window import assemble_windows, dequantize_float32
from synth.export.micro_runtime import micro_runtime

MAX_VERIFY_SAMPLES = 1000  # per runtime: enough for an accuracy to 0.1 point, a few seconds each
TFLM_ARENA_BYTES = 1 << 20  # generous: verification is about outputs, arena size is probed apart


def quantize(x: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """Float values -> int8 codes with the tensor's scale and zero point (round half to even, saturate)."""
    q = np.round(np.asarray(x, np.float64) / tensor.scale) + tensor.zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """int8 codes -> float32 values of the tensor."""
    return ((np.asarray(q, np.float64) - tensor.zero_point) * tensor.scale).astype(np.float32)


def run_tflite_micro(tflite: bytes, info: ModelInfo, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """int8 outputs (N, *output_shape[1:]) of tflite-micro for float inputs (one (N, ...) array per input)."""
    runtime = micro_runtime()

    interpreter = runtime.Interpreter.from_bytes(tflite, arena_size=max(TFLM_ARENA_BYTES, 10 * len(tflite)))

    def one(row: list[np.ndarray]) -> np.ndarray:
        for index, value in enumerate(row):
            interpreter.set_input(value, index)
        interpreter.invoke()
        return np.array(interpreter.get_output(0))

    return _each_sample(info, inputs, one)


def run_litert(tflite: bytes, info: ModelInfo, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """int8 outputs (N, *output_shape[1:]) of the LiteRT interpreter (the Raspberry Pi runtime)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=tflite, num_threads=1)
    interpreter.allocate_tensors()
    in_details, out_index = interpreter.get_input_details(), interpreter.get_output_details()[0]["index"]

    def one(row: list[np.ndarray]) -> np.ndarray:
        for detail, value in zip(in_details, row):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        return interpreter.get_tensor(out_index).copy()

    return _each_sample(info, inputs, one)


def _each_sample(info: ModelInfo, inputs: Sequence[np.ndarray], run) -> np.ndarray:
    """Quantise each sample's inputs, run ``run`` on them (batch of 1), stack the outputs."""
    codes = [quantize(x, tensor) for x, tensor in zip(inputs, info.inputs)]
    outputs = [run([c[i : i + 1] for c in codes])[0] for i in range(len(codes[0]))]
    return np.stack(outputs).astype(np.int8)


def verify(source, tflite: bytes, info: ModelInfo) -> dict:
    """The verification report (see the module docstring) of ``tflite`` against ``source`` (an ExportSource)."""
    inputs, labels = source.held_out if source.held_out is not None else (source.samples, None)
    inputs = tuple(x[:MAX_VERIFY_SAMPLES] for x in inputs)
    labels = None if labels is None else labels[:MAX_VERIFY_SAMPLES]
    reference = np.asarray(source.model.predict(list(inputs) if len(inputs) > 1 else inputs[0], batch_size=256, verbose=0))
    micro = run_tflite_micro(tflite, info, inputs)
    lite = run_litert(tflite, info, inputs)
    output = info.outputs[0]
    report = {
        "samples": int(len(inputs[0])),
        "data": "held-out real windows" if source.held_out is not None and source.kind != "generator" else
                "representative inputs",
        "tflite_micro_vs_float": _errors(dequantize(micro, output), reference),
        "litert_vs_float": _errors(dequantize(lite, output), reference),
        "tflite_micro_vs_litert_max_lsb": int(np.max(np.abs(micro.astype(np.int16) - lite.astype(np.int16)))),
        "output_units": source.metadata["outputs"][0]["units"],
        "int8_output_step": float(output.scale),
    }
    if source.kind == "generator":
        report.update(_generator_report(source, inputs[1].argmax(-1), reference, micro, output))
    else:
        report.update(_kind_report(source, reference, dequantize(micro, output), dequantize(lite, output), labels, output))
    if hasattr(source, "flag_report"):  # a detector's flags are checked on every held-out row, from raw rows
        report.update(source.flag_report(tflite))
    return report


def _errors(int8_values: np.ndarray, reference: np.ndarray) -> dict:
    """{max_abs, rms} of int8 (dequantised) outputs against the float model's."""
    diff = int8_values.astype(np.float64) - reference
    return {"max_abs": float(np.max(np.abs(diff))), "rms": float(np.sqrt(np.mean(diff**2)))}


def _generator_report(source, classes: np.ndarray, reference: np.ndarray, micro: np.ndarray, output: TensorInfo) -> dict:
    """Windows (g) assembled from the float core and from tflite-micro's int8 output, compared in profile LSB."""
    assembly = source.metadata["generator"]
    lsb_g = source.metadata["profile"]["sensitivity_mg_per_lsb"] / 1000.0
    float_windows = assemble_windows(reference, classes, assembly)
    int8_windows = assemble_windows(dequantize_float32(micro, output.scale, output.zero_point), classes, assembly)
    diff = np.abs(int8_windows.astype(np.float64) - float_windows) / lsb_g
    scales = np.asarray(assembly["class_scales_g"], np.float64)
    per_class = {label: {"max": float(diff[classes == k].max()), "mean": float(diff[classes == k].mean()),
                         "rms_mg": float(1000.0 * lsb_g * np.sqrt(np.mean(diff[classes == k] ** 2))),
                         "int8_motion_step_profile_lsb": float(output.scale * scales[k].max() / lsb_g),
                         "int8_motion_step_mg": float(1000.0 * output.scale * scales[k].max())}
                 for k, label in enumerate(source.metadata["labels"]) if np.any(classes == k)}
    return {"generator_error_profile_lsb": {"max": float(diff.max()), "mean": float(diff.mean()), "per_class": per_class},
            "int8_offset_step_profile_lsb": float(output.scale * assembly["offset_unit_g"] / lsb_g)}


def _kind_report(source, reference, micro, lite, labels, output: TensorInfo) -> dict:
    """The figures specific to the model's kind."""
    if source.kind == "classifier" and labels is not None:
        accuracy = {name: float(np.mean(v.argmax(-1) == labels)) for name, v in
                    (("float", reference), ("tflite_micro", micro), ("litert", lite))}
        return {"accuracy": accuracy, "accuracy_drop_points": 100.0 * (accuracy["float"] - accuracy["tflite_micro"])}
    if source.kind == "autoencoder":
        x = source.held_out[0][0][: len(reference)] if source.held_out else source.samples[0][: len(reference)]
        float_error, int8_error = (np.mean((v - x) ** 2, axis=(1, 2)) for v in (reference, micro))
        threshold = float(source.metadata["threshold_g2"])
        return {"reconstruction_error_g2": {"float_mean": float(float_error.mean()), "int8_mean": float(int8_error.mean())},
                "decisions_differing": float(np.mean((float_error <= threshold) != (int8_error <= threshold)))}
    return {}
