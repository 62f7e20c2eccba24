"""The anomaly flag as the device computes it: the constants, the C files and a Python mirror.

``NAME_is_anomaly(row, &error)`` (firmware_export/anomaly/anomaly.c.j2) and ``device_flags``
here take a raw row of ROW_SIZE values and do, in float32 and in this order:

1. prepare value i: features (row[i] - LOW[i]) * INV_SPAN[i]; windows: clip at +-FULL_SCALE_G;
2. quantise: x = prepared / input scale, rounded half away from zero, + input zero point,
   saturated to int8 (NaN saturates low);
3. run the int8 model (standalone NAME_invoke or the TFLM glue in C; tflite-micro here);
4. dequantise: (q - output zero point) * output scale;
5. error = (sum over i, in index order, of (prepared_i - reconstruction_i)^2) / ROW_SIZE;
6. flag = !(error <= THRESHOLD): above the threshold, or NaN (a row holding NaN is not normal).
   A window detector with a fault rule (extra.anomaly.fault_rule, synth.anomaly.fault_rule) flags
   instead when any of its statistics (synth.anomaly.window_features of the clipped window, then
   the error) is above the threshold of the window's motion level, or is NaN; the C computes the
   statistics in the same float32 order as the Python, with its own correctly rounded square root and
   the logarithms of window_features.LOG as exact float32 literals.

Quantisation saturates, but the error compares the reconstruction with the unsaturated
prepared value: a feature far outside its training range still makes a large error.
LOW, INV_SPAN = 1 / max(high - low, 1e-12), FULL_SCALE_G, THRESHOLD and the tensor scales are
float32 numbers that the C literals print exactly, so both sides compute with the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.anomaly.fault_rule import FaultRule, statistics
from synth.anomaly.statistics import MIN_RANGE
from synth.anomaly.window_features import BURST_FLOOR_G2, LOG, MAX_SAMPLES, MIN_CHANGES, ROUGHNESS_FLOOR_G2, SPIKE_FLOOR_G
from synth.core.errors import ConfigError, DataError
from synth.core.tflite_file import Graph, read_graph
from synth.export.c_build import run_tflm
from synth.export.c_literals import c_float, c_string
from synth.export.standalone import environment

SATURATE = np.float32(512.0)  # |x| beyond any int8 code whatever the zero point: rounding can stop there
PER_LINE = 4  # values per line of a C initialiser


@dataclass(frozen=True)
class FlagConstants:
    """The numbers NAME_is_anomaly computes with (float32 where the C uses float).

    low, inv_span: (F,) float32 for features, empty for windows; full_scale_g: 0 for features;
    rule: the window detector's fault rule (thresholds (levels, statistics) float32, motion edges in g)
    or None (the error against the threshold decides).
    """

    windows: bool
    row_shape: tuple[int, ...]
    threshold: np.float32
    low: np.ndarray
    inv_span: np.ndarray
    full_scale_g: np.float32
    input_scale: np.float32
    input_zero_point: int
    output_scale: np.float32
    output_zero_point: int
    rule: FaultRule | None = None

    @property
    def row_size(self) -> int:
        return int(np.prod(self.row_shape))


def manifest_anomaly(manifest: dict) -> dict | None:
    """The "anomaly" block of an export manifest's extra, or None when the manifest is not a detector's."""
    extra = manifest.get("extra")
    block = extra.get("anomaly") if isinstance(extra, dict) else None
    if block is not None and not isinstance(block, dict):
        raise ConfigError("the manifest's extra.anomaly must be a JSON object")
    return block


def flag_constants(anomaly: dict, graph: Graph) -> FlagConstants:
    """FlagConstants of a manifest's anomaly block and the model; ConfigError when they do not fit."""
    try:
        windows, shape = _input_kind(anomaly["input"]), tuple(int(d) for d in anomaly["row_shape"])
        low, inv_span = _scaling(anomaly, windows, int(np.prod(shape)))
        threshold = np.float32(anomaly["threshold"])
        full_scale = np.float32(anomaly["full_scale_g"] if windows else 0.0)
        rule = _fault_rule(anomaly.get("fault_rule"), shape if windows else None)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the manifest's extra.anomaly is incomplete or malformed ({type(exc).__name__}: {exc})") from None
    numbers = [low, inv_span, [threshold, full_scale]]
    numbers += [] if rule is None else [rule.thresholds.ravel(), np.float32(rule.motion_edges_g)]
    if not np.all(np.isfinite(np.concatenate(numbers))) or (windows and full_scale <= 0):
        raise ConfigError("the manifest's extra.anomaly holds a threshold, scaling, full scale or fault rule value "
                          "that is not a finite float32")
    inp, out = _tensors(graph, int(np.prod(shape)))
    return FlagConstants(windows, shape, threshold, low, inv_span, full_scale, np.float32(inp.scale), inp.zero_point,
                         np.float32(out.scale), out.zero_point, rule)


def _input_kind(value) -> bool:
    """True for "windows", False for "features"; ValueError otherwise."""
    if value not in ("features", "windows"):
        raise ValueError(f"input is {value!r}, not 'features' or 'windows'")
    return value == "windows"


def _fault_rule(value, window_shape: tuple[int, ...] | None) -> FaultRule | None:
    """The FaultRule of the block's "fault_rule" (None without one); ValueError when it does not fit
    ``window_shape`` (T, 3) (None for a features detector, which has no rule)."""
    if value is None:
        return None
    if window_shape is None or len(window_shape) != 2 or not 3 <= window_shape[0] <= MAX_SAMPLES or window_shape[1] != 3:
        rows = window_shape or "features"
        raise ValueError(f"a fault rule needs windows of 3 to {MAX_SAMPLES} samples x 3 axes, the rows are {rows}")
    try:
        with np.errstate(over="ignore"):  # a threshold past float32 becomes inf, which flag_constants refuses
            rule = FaultRule.from_json(value)
    except DataError as exc:
        raise ValueError(str(exc)) from None
    if not rule.motion_edges_g:
        raise ValueError("a fault rule needs at least one motion edge")
    return rule


def _scaling(anomaly: dict, windows: bool, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(LOW, INV_SPAN) float32 (F,) of a features detector, empty for windows."""
    if windows:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    low, high = (np.asarray(anomaly["scaling"][key], np.float64) for key in ("low", "high"))
    if low.shape != (size,) or high.shape != (size,):
        raise ValueError(f"scaling has {low.size} / {high.size} values for rows of {size} features")
    return low.astype(np.float32), (1.0 / np.maximum(high - low, MIN_RANGE)).astype(np.float32)


def _tensors(graph: Graph, row_size: int):
    """(input, output) tensors of a one-input one-output model whose both hold ``row_size`` values."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ConfigError(f"an anomaly detector's model has one input and one output, "
                          f"this one {len(graph.inputs)} and {len(graph.outputs)}")
    inp, out = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    if inp.size != row_size or out.size != row_size:
        raise ConfigError(f"the manifest's detector takes rows of {row_size} values, but the model's input holds "
                          f"{inp.size} and its output {out.size}: the manifest belongs to another model")
    return inp, out


def prepare_rows(rows: np.ndarray, c: FlagConstants) -> np.ndarray:
    """Raw rows (N, *row_shape) -> model inputs before quantisation (N, ROW_SIZE) float32 (step 1)."""
    rows = np.asarray(rows, np.float32)
    if rows.shape[1:] != c.row_shape:
        raise DataError(f"rows of shape {rows.shape[1:]} do not fit the detector, which takes {c.row_shape}")
    flat = rows.reshape(len(rows), -1)
    if c.windows:
        return np.clip(flat, -c.full_scale_g, c.full_scale_g)
    return (flat - c.low) * c.inv_span


def quantize_rows(prepared: np.ndarray, c: FlagConstants) -> np.ndarray:
    """Prepared values (N, ROW_SIZE) float32 -> int8 input codes (step 2; see the module docstring)."""
    x = prepared / c.input_scale
    x = np.minimum(np.where(x >= -SATURATE, x, -SATURATE), SATURATE)  # NaN fails the test and saturates low
    whole = np.trunc(x)
    fraction = x - whole  # exact in float32
    q = whole.astype(np.int32) + (fraction >= 0.5) - (fraction <= -0.5) + c.input_zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def row_errors(prepared: np.ndarray, output_codes: np.ndarray, c: FlagConstants) -> np.ndarray:
    """Reconstruction error (N,) float32 from the int8 outputs (steps 4 and 5), summed in index order as the C."""
    reconstruction = (output_codes.astype(np.int32) - c.output_zero_point).astype(np.float32) * c.output_scale
    total = np.zeros(len(prepared), np.float32)
    for i in range(prepared.shape[1]):  # sequential float32 sum: numpy's pairwise sum would round differently
        difference = prepared[:, i] - reconstruction[:, i]
        total = total + difference * difference
    return total / np.float32(prepared.shape[1])


def device_flags(tflite: bytes, anomaly: dict, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(errors (N,) float32, flags (N,) bool) of raw rows (N, *row_shape) as NAME_is_anomaly computes them,
    with the int8 model run on tflite-micro; ``anomaly`` is the manifest's extra.anomaly block."""
    graph = read_graph(tflite)
    c = flag_constants(anomaly, graph)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN rows give inf and NaN errors, as in C
        prepared = prepare_rows(rows, c)
        codes = quantize_rows(prepared, c)
        errors = row_errors(prepared, run_tflm(tflite, [codes.reshape(len(codes), *graph.tensors[graph.inputs[0]].shape)]), c)
        if c.rule is None:
            return errors, ~(errors <= c.threshold)
        windows = prepared.reshape(len(prepared), *c.row_shape)
        return errors, c.rule.flags(*statistics(windows, errors, c.full_scale_g, c.rule.motion_edges_g))


def config_values(graph: Graph, manifest: dict) -> dict | None:
    """Values of the anomaly block of ``NAME_config.h`` (firmware_export/anomaly/config.h.j2), or None."""
    anomaly = manifest_anomaly(manifest)
    if anomaly is None:
        return None
    c = flag_constants(anomaly, graph)
    names = [f'"{c_string(str(n))}"' for n in anomaly.get("feature_names") or []]
    return {"windows": c.windows, "row_shape": list(c.row_shape), "threshold": c_float(c.threshold),
            "k": repr(float(anomaly.get("k") or 0.0)), "count": anomaly.get("count"), "training": anomaly.get("training"),
            "feature_names": _initializer(names) if len(names) == c.row_size else None,
            "low": _initializer([c_float(v) for v in c.low]), "inv_span": _initializer([c_float(v) for v in c.inv_span]),
            "full_scale_g": c_float(c.full_scale_g), "rule": _rule_values(c.rule, c.row_shape[0])}


def _rule_values(rule: FaultRule | None, samples: int) -> dict | None:
    """C literals of a fault rule over windows of ``samples`` (config.h.j2, anomaly.c.j2): names, edges, thresholds,
    the statistics' constants and the part of the LOG table they read (log 1 .. log (2 x samples - 1))."""
    if rule is None:
        return None
    rows = [_initializer([c_float(v) for v in level]) for level in rule.thresholds]
    return {"names": list(rule.names), "levels": len(rule.thresholds),
            "names_initializer": _initializer([f'"{c_string(n)}"' for n in rule.names]),
            "edges": _initializer([c_float(e) for e in rule.motion_edges_g]), "thresholds": _initializer(rows, 1),
            "min_changes": MIN_CHANGES, "spike_floor_g": c_float(SPIKE_FLOOR_G),
            "roughness_floor_g2": c_float(ROUGHNESS_FLOOR_G2), "burst_floor_g2": c_float(BURST_FLOOR_G2),
            "log_table": _initializer([c_float(v) for v in LOG[: 2 * samples - 1]], macro=False)}


def anomaly_files(graph: Graph, name: str, source: str, manifest: dict, runtime: str) -> dict[str, str]:
    """``NAME_anomaly.h`` / ``NAME_anomaly.c`` when ``manifest`` is a detector's, else {}."""
    values = config_values(graph, manifest)
    if values is None:
        return {}
    values |= {"name": name, "prefix": name.upper(), "guard": name.upper(), "source": source, "tflm": runtime == "tflm",
               "model_header": f"{name}_tflm.h" if runtime == "tflm" else f"{name}.h",
               "row_size": int(np.prod(values["row_shape"]))}
    env = environment()
    return {f"{name}_anomaly.{ext}": env.get_template(f"anomaly/anomaly.{ext}.j2").render(values) for ext in ("h", "c")}


def _initializer(literals: list[str], per_line: int = PER_LINE, macro: bool = True) -> str:
    """A brace initialiser, ``per_line`` values a line (continued with backslashes for a macro)."""
    lines = [", ".join(literals[i : i + per_line]) for i in range(0, len(literals), per_line)]
    return "{ " + (", \\\n    " if macro else ",\n    ").join(lines) + " }"
