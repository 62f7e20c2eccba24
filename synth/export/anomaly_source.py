"""A ``synth anomaly`` detector folder as an ExportSource, for ``synth export --model autoencoder``.

``load_export_source`` hands a folder here when its autoencoder.json has "input" and
"row_shape" (synth.anomaly.detector). The exported int8 model takes what the Keras model takes:

- "features": the min-max SCALED row (1, F). Scaling stays outside the model (in C, and in
  synth.export.anomaly_flag), because raw features can span 1e9 and one int8 scale cannot.
- "windows": the window (1, T, 3) in g, clipped at +-full_scale_g; the model rescales inside.

Rows come from the detector's own config (``info["config"]``, relative paths from the current
directory) or from ``--config``. Representative data: the prepared normal training rows, always
with the rows holding the smallest and largest prepared value, so that the int8 input covers the
training range. Held-out: validation + test rows in a seeded order, labelled normal / anomalous.
A window detector's fault rule (``info["fault_rule"]``) goes into the manifest with its threshold:
the device then flags by the rule, and so do both sides of the flag report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from synth.anomaly.dataset import load_anomaly_data
from synth.anomaly.detector import load_detector
from synth.anomaly.fault_rule import statistics
from synth.anomaly.metrics import detection_metrics
from synth.core.config import load_config, parse_config, require
from synth.core.errors import DataError, ModelError
from synth.core.rows import concat_rows
from synth.core.runs import hash_file
from synth.export.anomaly_flag import device_flags
from synth.export.export_source import ExportSource, pick_rows, profile_constants
from synth.realism.filter import INFO_FILE, MODEL_FILE

KIND = "anomaly_detector"
LABELS = ["normal", "anomalous"]  # index = what NAME_is_anomaly returns


def is_detector_folder(source: str | Path) -> bool:
    """Whether ``source`` is a folder whose autoencoder.json was written by ``synth anomaly``."""
    try:
        info = json.loads((Path(source) / INFO_FILE).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and "input" in info and "row_shape" in info


@dataclass(frozen=True)
class DetectorSource(ExportSource):
    """ExportSource of a detector, plus the raw held-out rows the device will flag.

    detector: synth.anomaly.detector.Detector; raw_held_out: (N, *row_shape) float32 raw rows
    (features in the data's own units, windows in g); anomalous: (N,) bool truth.
    """

    detector: object = None
    raw_held_out: Optional[np.ndarray] = None
    anomalous: Optional[np.ndarray] = None

    def flag_report(self, tflite: bytes) -> dict:
        """Flags of every held-out row by the float Keras detector and by the device's int8 path."""
        float_errors = self.detector.errors(self.raw_held_out)
        float_flags = self._float_flags(float_errors)
        int8_errors, int8_flags = device_flags(tflite, self.metadata["anomaly"], self.raw_held_out)
        changed = float_flags != int8_flags
        return {"data": "held-out rows (the detector's validation and test rows)",
                "flags": {"rows": int(len(changed)), "changed": int(changed.sum()), "changed_share": float(changed.mean()),
                          "float": _detection(self.anomalous, float_flags), "int8": _detection(self.anomalous, int8_flags),
                          "error_abs_diff_max": float(np.max(np.abs(int8_errors - float_errors)))}}

    def _float_flags(self, errors: np.ndarray) -> np.ndarray:
        """(N,) bool flags of the held-out rows by the float detector: its fault rule over the windows and
        ``errors`` (N,) when it has one, else errors above the threshold."""
        rule = self.detector.rule
        if rule is None:
            return errors > self.detector.threshold
        windows = self.detector.prepare(self.raw_held_out)
        return rule.flags(*statistics(windows, errors, self.detector.info["full_scale_g"], rule.motion_edges_g))


def detector_source(source: Path, config: Optional[str | Path], max_samples: int, seed: int) -> DetectorSource:
    """The DetectorSource of the detector folder ``source``; ``config`` overrides the rows' config."""
    detector = load_detector(source)
    settings, data = _detector_data(detector, source, config)
    held = concat_rows([data.validation, data.test])
    held = held.subset(np.random.default_rng(seed).permutation(len(held)))  # both classes among the first rows verified
    held_out = ((detector.prepare(held.x),), held.anomalous.astype(np.int64))
    return DetectorSource(KIND, detector.model, (_representative(detector, data.train.normal().x, max_samples, seed),),
                          _metadata(source, detector.info, settings.profile), held_out,
                          detector=detector, raw_held_out=held.x, anomalous=held.anomalous)


def _detector_data(detector, source: Path, config: Optional[str | Path]):
    """(Config, AnomalyData) of ``config`` (its folder as base) or of the detector's own config (base: here)."""
    if config is not None:
        settings, base_dir = load_config(config), Path(config).parent
        require(settings.anomaly, "anomaly", str(config))
    elif isinstance(detector.info.get("config"), dict):
        settings, base_dir = parse_config(detector.info["config"], source=f"{source / INFO_FILE} config"), Path(".")
    else:
        raise ModelError(f"{source / INFO_FILE} holds no config to load its rows from: pass --config")
    data = load_anomaly_data(settings, base_dir)
    detector.check_width(data.train.x)
    _check_columns(list(data.train.feature_names), list(detector.info.get("feature_names") or data.train.feature_names))
    return settings, data


def _check_columns(got: list[str], expected: list[str]) -> None:
    """DataError naming the first column where rows (already of the detector's width) differ from its training rows."""
    for i, (name, trained) in enumerate(zip(got, expected)):
        if name != trained:
            raise DataError(f"column {i + 1} of the config's rows is {name!r} but the detector was trained with "
                            f"{trained!r} there: pass the config it was trained on")


def _representative(detector, train_x: np.ndarray, max_samples: int, seed: int) -> np.ndarray:
    """Prepared training rows (M, *row_shape) float32, M <= max_samples, with the two extreme rows."""
    prepared = detector.prepare(train_x)
    flat = prepared.reshape(len(prepared), -1)
    extremes = np.unique([np.argmin(flat) // flat.shape[1], np.argmax(flat) // flat.shape[1]])
    rest = np.delete(prepared, extremes, axis=0)
    return np.concatenate([prepared[extremes], pick_rows(rest, max(1, max_samples - len(extremes)), seed)]).astype(np.float32)


def _metadata(source: Path, info: dict, profile: str) -> dict:
    """Manifest fields: labels, tensors with units, who prepares the rows, the detector's constants, the source."""
    windows = info["input"] == "windows"
    units = "g" if windows else "min-max scaled features (0..1 on normal training rows)"
    layout = f"(1, {', '.join(str(d) for d in info['row_shape'])})"
    meta = {
        "kind": KIND, "labels": LABELS, "rate_hz": info.get("rate_hz"), "anomaly": anomaly_constants(info),
        "inputs": [{"name": "window" if windows else "features_scaled", "units": units, "layout": layout}],
        "outputs": [{"name": "reconstruction", "units": units, "layout": layout}],
        "preprocessing": _preprocessing(windows),
        "profile": profile_constants(profile) if windows else None,
        "source": {"path": str(source), "sha256": hash_file(source / MODEL_FILE), "hashed_file": MODEL_FILE,
                   "seed": info.get("seed"), "data_hash": info.get("data_hash"), "config": info.get("config")},
    }
    return meta | ({"window": info["window"]} if windows else {})


def anomaly_constants(info: dict) -> dict:
    """What the device needs to flag a raw row: input kind, row shape, scaling or full scale, threshold, and a
    window detector's fault rule when it has one."""
    keys = ("input", "row_shape", "feature_names", "threshold", "k", "mean", "std", "count", "units", "training")
    constants = {key: info.get(key) for key in keys}
    if info["input"] == "windows":
        rule = {"fault_rule": info["fault_rule"]} if info.get("fault_rule") is not None else {}
        return constants | {"full_scale_g": float(info["full_scale_g"])} | rule
    return constants | {"scaling": {"low": list(info["scaling"]["low"]), "high": list(info["scaling"]["high"])}}


def _preprocessing(windows: bool) -> dict:
    """The manifest's statement that the caller prepares each raw row before quantising it."""
    steps = ("clip each value at +-extra.anomaly.full_scale_g (g)" if windows else
             "scaled = (raw - extra.anomaly.scaling.low) / max(high - low, 1e-12) per feature; values outside 0..1 stay")
    return {"name": "clip" if windows else "min_max_scaling", "inside_model": False,
            "done_by": "caller (NAME_is_anomaly of synth export-c does it)", "steps": steps}


def _detection(anomalous: np.ndarray, flags: np.ndarray) -> dict:
    """{flagged, tpr, fpr, precision, f1} of flags (N,) bool against the truth (None where undefined)."""
    metrics = detection_metrics(anomalous, np.asarray(flags, np.float64), 0.5)  # a flag is a 0 / 1 score over 0.5
    return {"flagged": metrics["tp"] + metrics["fp"], **{k: metrics[k] for k in ("tpr", "fpr", "precision", "f1")}}
