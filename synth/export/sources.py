"""The float models ``synth export`` quantises, each with its representative data and metadata.

``load_export_source(kind, source, config=None)`` returns an ExportSource for:

- ``generator``: a generator folder (synth.models.artifact). Inputs: noise (1, noise_dim)
  ~N(0, 1) and a one-hot class (1, K); output (1, T, 3) in g. Representative data: its own
  seeded noise with the classes in turn.
- ``classifier``: a ``synth train-classifier`` run folder (or its classifier.keras), exported
  WITHOUT its first layer (ST's gravity rotation + suppression, float64 TF ops that have no int8
  kernels): input (1, wl, 3, 1) m/s^2 already preprocessed, as ST's own model-zoo files; or
  ST's BSD-3 model.h5 (input (1, 26, 3) = mg / 4000, no preprocessing). Representative data:
  real train-side windows prepared that way; held-out: the run's test recordings.
- ``autoencoder``: a ``synth train-autoencoder`` folder. Input and output (1, T, 3) in g.
  Representative data: real train-side windows clipped at the profile's full scale. A
  ``synth anomaly`` detector folder (features or windows) goes to synth.export.anomaly_source.

Real windows come from ``config``'s data section when given, else from ST's BSD-3 recordings
shipped in synth/assets (split by the recordings the model's run held out).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import numpy as np

from synth.classify.classifiers import BSD3_CLASSES, canonical_class, load_keras, st_zoo_input
from synth.classify.preprocessing import HIGHPASS_CUTOFF_HZ, HIGHPASS_ORDER, RATE_HZ, ST_G_TO_MS2
from synth.core.config import load_config
from synth.core.errors import ConfigError, ModelError
from synth.core.runs import hash_file
from synth.core.windows import Windows
from synth.data.loading import load_windows
from synth.data.st_har import load_st_har
from synth.export.anomaly_source import detector_source, is_detector_folder
from synth.export.export_source import DEFAULT_PROFILE, ExportSource, pick_rows, profile_constants
from synth.export.generator_window import ASSEMBLY
from synth.export.request import KINDS
from synth.models.artifact import load_generator
from synth.models.zoo import DEVICE_OFFSET_UNIT_G, device_core, get_class_scales
from synth.realism.filter import load_realism_filter

BSD3_WINDOW = 26
BSD3_INPUT_SCALE_G = 4.0  # ST's BSD-3 model takes mg / 4000 = g / 4
GENERATOR_SAMPLES = 600  # seeded noise vectors (a multiple of the class count keeps them balanced)


def load_export_source(kind: str, source: str | Path, config: Optional[str | Path] = None,
                       max_samples: int = 500, seed: int = 0) -> ExportSource:
    """The ExportSource of ``kind`` at ``source``; ``config`` (a JSON config) names the real data.

    ModelError for an unknown kind or a missing / unreadable model; ConfigError for a config
    without a data section.
    """
    if kind not in KINDS:
        raise ModelError(f"unknown model kind {kind!r} (allowed: {', '.join(KINDS)})")
    source = Path(source)
    if not source.exists():
        raise ModelError(f"{kind} not found: {source}")
    if kind == "autoencoder":
        if is_detector_folder(source):  # its rows come from its own anomaly config, which has no data section
            return detector_source(source, config, max_samples, seed)
    loader = {"generator": _generator, "classifier": _classifier, "autoencoder": _autoencoder}[kind]
    return loader(source, _read_config(config), max_samples, seed)


def _read_config(path: Optional[str | Path]):
    """(Config, its folder) or None."""
    if path is None:
        return None
    config = load_config(path)
    if config.data is None:
        raise ConfigError(f"{path} has no data section: it must name the real windows for calibration")
    return config, Path(path).parent


def _generator(source: Path, config, max_samples: int, seed: int) -> ExportSource:
    """The generator with its own seeded noise and one-hot labels as representative data."""
    generator, info = load_generator(source)
    model = device_core(generator)
    n = max(len(info.classes), min(max_samples, GENERATOR_SAMPLES) // len(info.classes) * len(info.classes))
    noise = np.random.default_rng(seed).standard_normal((n, info.noise_dim)).astype(np.float32)
    labels = np.eye(len(info.classes), dtype=np.float32)[np.arange(n) % len(info.classes)]
    metadata = {
        "kind": "generator", "labels": list(info.classes), "rate_hz": info.rate_hz,
        "inputs": [{"name": "noise", "units": "standard normal N(0, 1) per element"},
                   {"name": "label", "units": "one-hot class in the order of labels"}],
        "outputs": [{"name": "offset_and_motion", "units": "row 0: offset in eighths of a g; rows 1..window: motion in "
                     "units of the class's motion scale (see generator.class_scales_g)",
                     "layout": "(1, 1 + window, 3) axes x, y, z; window (g) = 0.125 x row 0 + class_scales_g[class] x row 1 + t"}],
        "generator": {"layout": ASSEMBLY, "offset_unit_g": DEVICE_OFFSET_UNIT_G,
                      "class_scales_g": np.asarray(get_class_scales(generator), np.float32).tolist()},
        "preprocessing": None,
        "profile": profile_constants(info.profile or DEFAULT_PROFILE),
        "source": {"path": str(source), "sha256": info.weights_sha256, "hashed_file": "generator.weights.npz",
                   "seed": info.seed, "data_hash": info.data_hash,
                   "config": asdict(info).get("provenance", {}).get("config")},
    }
    return ExportSource("generator", model, (noise, labels), metadata, ((noise, labels), None))


def _classifier(source: Path, config, max_samples: int, seed: int) -> ExportSource:
    """An ST-layout classifier without its preprocessing layer, calibrated on prepared real windows."""
    if source.suffix == ".h5":
        return _bsd3_classifier(source, config, max_samples, seed)
    folder = source.parent if source.is_file() else source
    try:
        info = json.loads((folder / "classifier.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{folder}: not a classifier run folder (classifier.json and classifier.keras): {exc}") from None
    model = _without_preprocessing(folder / "classifier.keras", info)
    windows = _real_windows(config, info["window"])
    train, held = _split(windows, info.get("test_recordings", []))
    metadata = _classifier_metadata(info["classes"], info["window"], folder / "classifier.keras", info, config)
    metadata["preprocessing"] = _preprocessing_note()
    return _labelled_source(model, metadata, train, held, _st_zoo_input, max_samples, seed)


def _bsd3_classifier(source: Path, config, max_samples: int, seed: int) -> ExportSource:
    """ST's BSD-3 example model: input (26, 3) = g / 4, classes stationary, walking, running."""
    try:
        model = load_keras(source)
    except Exception as exc:  # Keras raises many types for files it cannot read
        raise ModelError(f"{source}: cannot load it as a Keras model ({str(exc).splitlines()[0]})") from None
    if tuple(model.input_shape[1:]) != (BSD3_WINDOW, 3):
        raise ModelError(f"{source}: input shape {model.input_shape} is neither ST's BSD-3 (26, 3) "
                         "nor a synth classifier run folder")
    windows = _real_windows(config, BSD3_WINDOW)
    train, held = _split(windows, config[0].data.test_groups if config else [])
    metadata = _classifier_metadata(list(BSD3_CLASSES), BSD3_WINDOW, source, {}, config)
    metadata["inputs"][0].update(units="g / 4 (mg / 4000)", layout="(1, 26, 3) axes x, y, z, gravity included")
    metadata["preprocessing"] = None
    return _labelled_source(model, metadata, train, held, lambda x_g: x_g / BSD3_INPUT_SCALE_G, max_samples, seed)


def _labelled_source(model, metadata: dict, train: Windows, held: Windows, prepare, max_samples: int,
                     seed: int) -> ExportSource:
    """ExportSource with prepared train-side samples and labelled held-out inputs (labels in model order)."""
    samples = prepare(pick_rows(train.x, max_samples, seed)).astype(np.float32)
    canonical = [canonical_class(c) for c in metadata["labels"]]
    missing = [c for c in held.classes if canonical_class(c) not in canonical]
    labels = None if missing else np.asarray([canonical.index(canonical_class(held.classes[i])) for i in held.y], np.int64)
    held_out = ((prepare(held.x).astype(np.float32),), labels) if len(held) else None
    return ExportSource("classifier", model, (samples,), metadata, held_out)


def _without_preprocessing(path: Path, info: dict):
    """The run's classifier rebuilt with preprocess=False and its trained weights copied over."""
    import keras

    import synth.classify.preprocessing_tf  # noqa: F401  (registers the preprocessing layer for .keras files)
    from synth.classify.har import build_har_classifier

    try:
        trained = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for corrupt files
        raise ModelError(f"{path}: cannot load it as a Keras model ({str(exc).splitlines()[0]})") from None
    bare = build_har_classifier(info["architecture"], info["window"], len(info["classes"]), preprocess=False)
    bare.set_weights(trained.get_weights())  # the preprocessing layer holds no weights
    return bare


def _st_zoo_input(x_g: np.ndarray) -> np.ndarray:
    """Windows (N, wl, 3) g -> ST's model-zoo input (N, wl, 3, 1) float32: gravity rotation + suppression, m/s^2."""
    return st_zoo_input(np.asarray(x_g, np.float64)).astype(np.float32)


def _preprocessing_note() -> dict:
    """The manifest's statement that the caller prepares the classifier's input."""
    return {
        "name": "gravity_rotation_suppression", "inside_model": False, "done_by": "caller",
        "steps": f"g x {ST_G_TO_MS2} -> m/s^2; Butterworth high-pass order {HIGHPASS_ORDER} at {HIGHPASS_CUTOFF_HZ} Hz "
                 "(started in the first sample's steady state) gives the dynamic part; gravity = acc - dynamic; "
                 "rotate the dynamic part so that gravity points along -z (synth.classify.preprocessing.gravity_rotation_suppression)",
    }


def _classifier_metadata(labels: list, window: int, model_file: Path, info: dict, config) -> dict:
    """Manifest fields shared by both classifier flavours."""
    profile = config[0].profile if config else DEFAULT_PROFILE
    return {
        "kind": "classifier", "labels": list(labels), "rate_hz": RATE_HZ, "window": window,
        "inputs": [{"name": "acc", "units": "m/s^2 (dynamic acceleration, gravity along -z)",
                    "layout": f"(1, {window}, 3, 1) axes x, y, z"}],
        "outputs": [{"name": "scores", "units": "softmax probability per label"}],
        "profile": profile_constants(profile),
        "source": {"path": str(model_file), "sha256": hash_file(model_file), "hashed_file": model_file.name,
                   "seed": info.get("seed"), "data_hash": info.get("data_hash"), "config": info.get("config")},
    }


def _autoencoder(source: Path, config, max_samples: int, seed: int) -> ExportSource:
    """The realism autoencoder, calibrated on clipped real train-side windows."""
    realism = load_realism_filter(source)
    info = realism.info
    windows = _real_windows(config, int(info["window"]))
    train, held = _split(windows, info.get("held_out_recordings", []))
    clip = float(info["full_scale_g"])
    prepare = lambda x: np.clip(x, -clip, clip).astype(np.float32)  # noqa: E731  (the sensor saturates there)
    metadata = {
        "kind": "autoencoder", "labels": [], "rate_hz": info["rate_hz"], "window": info["window"],
        "threshold_g2": info["threshold"],
        "inputs": [{"name": "window", "units": "g", "layout": f"(1, {info['window']}, 3)"}],
        "outputs": [{"name": "reconstruction", "units": "g", "layout": f"(1, {info['window']}, 3)"}],
        "preprocessing": None,
        "profile": profile_constants(info.get("config", {}).get("profile", DEFAULT_PROFILE)),
        "source": {"path": str(source), "sha256": realism.sha256, "hashed_file": "autoencoder.keras",
                   "seed": info.get("seed"), "data_hash": info.get("data_hash"), "config": info.get("config")},
    }
    held_out = ((prepare(held.x),), None) if len(held) else None
    return ExportSource("autoencoder", realism.model, (prepare(pick_rows(train.x, max_samples, seed)),), metadata, held_out)


def _real_windows(config, window: int) -> Windows:
    """Real windows (N, window, 3) g: the config's data section, else ST's shipped BSD-3 recordings."""
    if config is not None:
        settings, base_dir = config
        if settings.data.window != window:
            raise ConfigError(f"the config's data.window is {settings.data.window} but the model takes {window} samples")
        return load_windows(settings.data, 26.0, base_dir)
    return load_st_har(window=window, stride=window)


def _split(windows: Windows, held_groups: list) -> tuple[Windows, Windows]:
    """(train side, held-out side) by recording; with no held-out recordings both are everything."""
    held = np.isin(windows.groups, list(held_groups))
    if not held.any() or held.all():
        return windows, windows
    return windows.subset(~held), windows.subset(held)
