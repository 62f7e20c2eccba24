"""Read a file to score with a detector, the way the detector's training data was read.

A feature detector reads the same source format it was trained on (its config's anomaly.source):
a CSV (its feature columns by name; its label column when the file has one), the Shuttle set,
an N-BaIoT folder or an Edge-IIoTset file (one-hot encoded with the training vocabulary). A
window detector reads a capture CSV (synth stream --record, or any x, y, z capture) and cuts it
into back-to-back windows of its length.
"""

from __future__ import annotations

from pathlib import Path

from synth.anomaly.dataset import load_feature_rows
from synth.anomaly.detector import Detector
from synth.core.config import AnomalyConfig
from synth.core.errors import DataError
from synth.core.rows import NORMAL, Rows, make_rows
from synth.data.csv_capture import load_captures
from synth.data.tabular_csv import load_csv_rows, read_header


def read_rows_for(detector: Detector, path: Path) -> Rows:
    """The rows of ``path`` as ``detector`` takes them; DataError when they do not fit it."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"input not found: {path}")
    settings = detector.info.get("config", {}).get("anomaly", {})
    source = settings.get("source", "csv")
    if detector.info["input"] == "windows":
        rows = _capture_windows(path, detector)
    elif source == "csv":
        rows = _csv(path, detector, settings.get("label_column"))
    else:
        rows, _ = load_feature_rows(AnomalyConfig.model_validate(settings), path.parent, 0,
                                    detector.info.get("vocabulary"), path=path)
    detector.check_width(rows.x)
    return rows


def _csv(path: Path, detector: Detector, label_column: str | None) -> Rows:
    """A CSV's detector feature columns (by name), with its labels when it has the label column."""
    header = read_header(path, "CSV file")
    label = label_column if label_column in header else None
    return load_csv_rows(path, label_column=label, feature_columns=list(detector.info["feature_names"]))


def _capture_windows(path: Path, detector: Detector) -> Rows:
    """Back-to-back windows (N, T, 3) in g of a capture CSV, at the detector's rate."""
    window = int(detector.info["window"])
    windows = load_captures(path, float(detector.info["rate_hz"]), window, window, None, unlabelled_class=NORMAL)
    return make_rows(windows.x, False, NORMAL, windows.groups, ("x", "y", "z"))
