"""The rows of an ``anomaly`` config, split into normal training, held-out normal and test rows.

Feature rows (csv, shuttle, nbaiot, edge_iiotset): the normal rows are shuffled (seeded) and cut
into ``test_fraction`` test rows, ``validation_fraction`` threshold rows and training rows; every
anomalous row goes to the test set (an autoencoder learns normal behaviour only).
Accelerometer windows (``source: windows``, the data section's recordings, clipped at the
profile's full scale): the split is by recording, within each activity, so that no recording
feeds two sides: ``data.test_groups`` (or a seeded ``test_fraction`` of each activity's
recordings) are tested, a seeded ``validation_fraction`` of the rest set the threshold. The test
set holds the test windows as they are (normal) and one copy per injected fault (anomalous).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from synth.anomaly.faults import FAULTS, inject_faults
from synth.anomaly.window_features import MAX_SAMPLES
from synth.core.config import AnomalyConfig, Config, require
from synth.core.errors import ConfigError, DataError
from synth.core.profiles import load_profile
from synth.core.rows import NORMAL, Rows, concat_rows, make_rows
from synth.core.runs import hash_arrays
from synth.data.edge_iiotset import load_edge_iiotset
from synth.data.loading import load_windows
from synth.data.nbaiot import load_nbaiot
from synth.data.tabular_csv import load_csv_rows, load_shuttle

AXES = ("x", "y", "z")


@dataclass(frozen=True)
class AnomalyData:
    """Normal training rows, held-out normal rows, labelled test rows and what made them.

    ``full_scale_g`` and ``rate_hz`` are set for windows only; ``vocabulary`` for Edge-IIoTset.
    """

    train: Rows
    validation: Rows
    test: Rows
    source: str
    data_hash: str
    full_scale_g: Optional[float] = None
    rate_hz: Optional[float] = None
    vocabulary: Optional[dict] = None

    def context(self) -> dict:
        """What a report or detector records about the data."""
        return {"source": self.source, "data_hash": self.data_hash, "train_rows": len(self.train),
                "validation_rows": len(self.validation), "test_rows": len(self.test),
                "test_anomalies": int(self.test.anomalous.sum())}


def load_anomaly_data(config: Config, base_dir: Path = Path(".")) -> AnomalyData:
    """The split rows of ``config``'s anomaly section (and data section, for windows)."""
    settings: AnomalyConfig = require(config.anomaly, "anomaly")
    if settings.source == "windows":
        return _window_data(config, settings, Path(base_dir))
    rows, vocabulary = load_feature_rows(settings, Path(base_dir), config.seed)
    train, validation, test = split_feature_rows(rows, settings, config.seed)
    return _finish(train, validation, test, settings.source, vocabulary=vocabulary)


def load_feature_rows(settings: AnomalyConfig, base_dir: Path, seed: int, vocabulary: Optional[dict] = None,
                      path: Optional[Path] = None) -> tuple[Rows, Optional[dict]]:
    """(Rows (N, F), Edge-IIoTset vocabulary or None) of a feature source; ``path`` overrides the config's."""
    path = path or _resolve(settings.path, base_dir)
    if settings.source == "shuttle":
        return load_shuttle(path), None
    if path is None:
        raise DataError(f"anomaly.path is required for source {settings.source!r}")
    if settings.source == "csv":
        return load_csv_rows(path, label_column=settings.label_column), None
    if settings.source == "nbaiot":
        return load_nbaiot(path, settings.devices, settings.max_rows_per_file, seed), None
    return load_edge_iiotset(path, vocabulary or settings.vocabulary, settings.max_rows_per_file, seed)


def split_feature_rows(rows: Rows, settings: AnomalyConfig, seed: int) -> tuple[Rows, Rows, Rows]:
    """(train, validation, test) of feature rows; see the module docstring."""
    normal = np.flatnonzero(~rows.anomalous)
    if len(normal) < 3:
        raise DataError(f"the data holds {len(normal)} normal rows: at least 3 are needed (to train, to set the threshold, to test)")
    order = np.random.default_rng(seed).permutation(normal)
    n_test = max(1, int(round(settings.test_fraction * len(order))))
    n_validation = max(1, int(round(settings.validation_fraction * len(order))))
    if n_test + n_validation >= len(order):
        raise DataError("anomaly.test_fraction + anomaly.validation_fraction leave no normal rows to train on")
    test = np.sort(np.concatenate([order[:n_test], np.flatnonzero(rows.anomalous)]))
    validation, train = np.sort(order[n_test:n_test + n_validation]), np.sort(order[n_test + n_validation:])
    return rows.subset(train), rows.subset(validation), rows.subset(test)


def _window_data(config: Config, settings: AnomalyConfig, base_dir: Path) -> AnomalyData:
    """Windows of the data section split by recording, with faults injected into the test windows."""
    data = require(config.data, "data")
    if data.window > MAX_SAMPLES:
        raise ConfigError(f"data.window is {data.window}: the fault statistics of a window detector take windows of "
                          f"at most {MAX_SAMPLES} samples")
    profile = load_profile(config.profile)
    windows = load_windows(data, profile.odr_hz, base_dir)
    clip = float(profile.full_scale_g)
    x = np.clip(windows.x, -clip, clip)
    test_groups = data.test_groups or _pick_groups(windows.groups, windows.y, settings.test_fraction, config.seed)
    is_test = np.isin(windows.groups, test_groups)
    rest = ~is_test
    validation_groups = _pick_groups(windows.groups[rest], windows.y[rest], settings.validation_fraction, config.seed + 1)
    is_validation = rest & np.isin(windows.groups, validation_groups)
    as_rows = lambda mask: make_rows(x[mask], False, NORMAL, windows.groups[mask], AXES)  # noqa: E731
    test_x, test_groups_of = x[is_test], windows.groups[is_test]
    faulty = inject_faults(test_x, settings.faults or list(FAULTS), config.seed, clip, settings.fault_params, test_groups_of)
    test = concat_rows([as_rows(is_test), faulty])
    return _finish(as_rows(rest & ~is_validation), as_rows(is_validation), test, f"windows:{data.source}",
                   full_scale_g=clip, rate_hz=float(windows.rate_hz))


def _pick_groups(groups: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> list[str]:
    """A seeded ``fraction`` (at least one) of each class's recordings; DataError when a class has one."""
    rng, picked = np.random.default_rng(seed), []
    for label in np.unique(labels):
        names = sorted(set(groups[labels == label].tolist()))
        if len(names) < 2:
            raise DataError(f"an activity has {len(names)} recording(s): at least 2 are needed to hold one out")
        take = min(max(1, int(round(fraction * len(names)))), len(names) - 1)
        picked += [names[i] for i in rng.permutation(len(names))[:take]]
    return sorted(picked)


def _finish(train: Rows, validation: Rows, test: Rows, source: str, **extra) -> AnomalyData:
    """AnomalyData with its hash; DataError when a side is empty."""
    for name, part in (("training", train), ("held-out normal", validation), ("test", test)):
        if not len(part):
            raise DataError(f"the split leaves no {name} rows: use more data or other fractions")
    digest = hash_arrays(train.x, validation.x, test.x, test.anomalous.astype(np.uint8),
                         extra=json.dumps(sorted(set(test.kind.tolist()))))
    return AnomalyData(train, validation, test, source, digest, **extra)


def _resolve(path: Optional[str], base_dir: Path) -> Optional[Path]:
    if path is None:
        return None
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base_dir / candidate
