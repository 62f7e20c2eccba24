"""``synth generate``: a synthetic dataset in a sensor profile's units and raw int16 format.

The output directory holds:
- dataset.npz: ``lsb`` (N, T, 3) int16 output codes, ``y`` (N,) int64 class indices,
  ``classes`` (K,) str, ``rate_hz`` and ``sensitivity_mg_per_lsb`` scalars. The values in mg
  are exactly ``lsb * sensitivity_mg_per_lsb`` (``load_dataset`` returns them); they are not
  stored twice, which keeps the file a third of the size and the writer fast;
- <class>.csv per class (unless ``generate.csv`` is false): one row per sample with the class,
  window index, sample index, time in s, x/y/z in mg and x/y/z as raw LSB;
- card.json: what made the data (generator hash, profile, rate, full scale, counts, seed,
  units, transforms, file hashes) and, for software-clipped profiles, the profile's note.
With ``generate.filter`` (an autoencoder folder, see synth.realism.filter), every generated window is
scored after the profile and rejected ones are dropped; generation continues in a bounded number
of rounds until each class has its requested count (a clear error otherwise), so the counts stay
what was asked; the card's ``filter`` entry records generated / rejected / kept per class, the
rounds, the autoencoder's sha256 and its threshold (null without a filter).
The directory is built in a temporary sibling and renamed at the end, so a crash never leaves a
half-written dataset; the same config and seed give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synth import __version__
from synth.core.atomic import build_directory, check_directory_target, open_atomic, write_json
from synth.core.config import Config, GenerateConfig, require
from synth.core.errors import ConfigError, DataError
from synth.core.npz import load_npz, save_npz
from synth.core.profiles import load_profile
from synth.core.resources_check import check_fits
from synth.core.runs import hash_file
from synth.core.transforms import apply_profile
from synth.models.artifact import load_generator
from synth.models.sampling import sample_windows
from synth.realism.filter import filter_in_rounds, load_realism_filter

DATASET_FILE = "dataset.npz"
CARD_FILE = "card.json"
DATASET_KEYS = ("lsb", "y", "classes", "rate_hz", "sensitivity_mg_per_lsb")


def generate_dataset(config: Config, out: Path, force: bool = False, seed: int | None = None, base_dir: Path = Path(".")) -> dict:
    """Generate per ``config.generate`` into ``out``; returns the dataset card."""
    settings: GenerateConfig = require(config.generate, "generate")
    check_directory_target(out, force)
    seed = config.seed if seed is None else seed
    load_profile(settings.profile)  # fail on a bad profile name before loading any model
    generator, info = load_generator(_resolve(settings.generator, base_dir))
    profile = load_profile(settings.profile, odr_hz=info.rate_hz)
    check_output_fits(settings, info, out)
    labels = class_labels(settings, info)
    rng = np.random.default_rng([seed, 1])  # a stream apart from the generator's noise

    def make(wanted: np.ndarray, round_index: int) -> tuple[np.ndarray, np.ndarray]:
        # round 0 is exactly the unfiltered run; later rounds key their noise apart (seed < 2**31)
        key = seed + (round_index << 32)
        windows_g = sample_windows(generator, wanted, info.noise_dim, len(info.classes), seed=key, batch_size=settings.batch_size)
        return apply_profile(windows_g, profile, rng, add_noise=settings.add_noise, add_offset=settings.add_offset)

    filter_card = None
    if settings.filter is None:
        _, lsb = make(labels, 0)
    else:
        labels, lsb, filter_card = _filtered(make, labels, settings.filter, base_dir, info, profile)
    with build_directory(out, force=force) as staging:
        write_dataset(staging, lsb, labels, info.classes, profile, settings.csv)
        card = {**_card(settings, info, profile, labels, seed, staging), "filter": filter_card}
        write_json(staging / CARD_FILE, card)
    return card


def _filtered(make, labels: np.ndarray, path: str, base_dir: Path, info, profile):
    """(labels, lsb, card entry) after the realism filter at ``path`` (see synth.realism.filter.filter_in_rounds)."""
    realism = load_realism_filter(_resolve(path, base_dir))
    realism.check_matches(info.window, profile.odr_hz, profile.full_scale_g)
    labels, lsb, counts, rounds = filter_in_rounds(make, labels, info.classes, realism)
    return labels, lsb, {
        "autoencoder": path, "autoencoder_sha256": realism.sha256, "threshold_g2": realism.threshold,
        "k": realism.info["k"], "rounds": rounds, "rejected_total": sum(c["rejected"] for c in counts.values()),
        "per_class": {info.classes[c]: entry for c, entry in counts.items()},
    }


# Peak bytes per generated value (window sample x axis): the windows in g (float32) and through
# the profile (float32 + int16 codes), with room for one temporary copy; the card's CSV writes
# one line of about 60 characters per sample
MEMORY_BYTES_PER_VALUE = 4 + 4 + 2 + 4
CSV_BYTES_PER_SAMPLE = 60


def check_output_fits(settings: GenerateConfig, info, out: Path) -> None:
    """ConfigError, before any sampling, when the requested dataset would not fit in memory or on disk."""
    names = list(settings.classes or info.classes)
    n = sum(_class_counts(settings, names).values())
    values = n * info.window * 3
    disk = values * 2 + (n * info.window * CSV_BYTES_PER_SAMPLE if settings.csv else 0)
    check_fits(f"generate: {n:,} windows of {info.window} samples", values * MEMORY_BYTES_PER_VALUE, disk, out,
               "ask for fewer (generate.windows_per_class or generate.total)")


def class_labels(settings: GenerateConfig, info) -> np.ndarray:
    """Class index of every window to generate (N,), grouped by class in the generator's order."""
    names = list(settings.classes or info.classes)
    for name in [*names, *(settings.class_ratios or {})]:
        info.class_index(name)
    counts = _class_counts(settings, names)
    return np.concatenate([np.full(counts[n], info.class_index(n), np.int64) for n in names])


def _class_counts(settings: GenerateConfig, names: list[str]) -> dict[str, int]:
    """Windows per class from windows_per_class, or from total split by class_ratios."""
    if (settings.windows_per_class is None) == (settings.total is None):
        raise ConfigError("generate: give exactly one of 'windows_per_class' and 'total'")
    if settings.windows_per_class is not None:
        return {name: settings.windows_per_class for name in names}
    ratios = np.array([(settings.class_ratios or {}).get(n, 0.0 if settings.class_ratios else 1.0) for n in names])
    if (ratios < 0).any() or ratios.sum() <= 0:
        raise ConfigError("generate.class_ratios: ratios must be >= 0 and not all zero")
    exact = settings.total * ratios / ratios.sum()
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: settings.total - counts.sum()]] += 1  # largest remainders
    return dict(zip(names, counts.tolist()))


def write_dataset(folder: Path, lsb: np.ndarray, labels: np.ndarray, classes, profile, with_csv: bool) -> None:
    """dataset.npz and, optionally, one CSV per class present in ``labels``."""
    save_npz(folder / DATASET_FILE, {
        "lsb": lsb.astype(profile.numpy_dtype, copy=False), "y": labels, "classes": np.array(classes),
        "rate_hz": np.float64(profile.odr_hz), "sensitivity_mg_per_lsb": np.float64(profile.sensitivity_mg_per_lsb),
    })
    if with_csv:
        for index in np.unique(labels):
            mask = labels == index
            mg = lsb[mask] * np.float32(profile.sensitivity_mg_per_lsb)
            write_class_csv(folder / f"{classes[index]}.csv", classes[index], mg, lsb[mask], profile.odr_hz)


def write_class_csv(path: Path, class_name: str, mg: np.ndarray, lsb: np.ndarray, rate_hz: float) -> None:
    """One row per sample: class,window,sample,time_s,x_mg,y_mg,z_mg,x_lsb,y_lsb,z_lsb."""
    n, t, _ = mg.shape
    window, sample = np.divmod(np.arange(n * t), t)
    columns = [window, sample, sample / rate_hz, *mg.reshape(-1, 3).T, *lsb.reshape(-1, 3).T]
    table = np.column_stack(columns)
    with open_atomic(path, "w") as handle:
        handle.write("class,window,sample,time_s,x_mg,y_mg,z_mg,x_lsb,y_lsb,z_lsb\n")
        np.savetxt(handle, table, delimiter=",", fmt=[f"{class_name},%d", "%d", "%.6f", "%.3f", "%.3f", "%.3f", "%d", "%d", "%d"])


def load_dataset(folder: Path) -> dict[str, np.ndarray]:
    """A generated dataset's arrays, checked, with ``mg`` (N, T, 3) float32 = lsb x sensitivity added.

    lsb (N, T, 3) integer codes, y (N,) indices into classes (C,), rate_hz and
    sensitivity_mg_per_lsb positive scalars, N >= 1; anything else is a DataError naming the file.
    """
    path = Path(folder) / DATASET_FILE
    if not path.is_file():
        raise DataError(f"{path}: not found (expected a 'synth generate' folder)")
    arrays = load_npz(path)
    missing = [key for key in DATASET_KEYS if key not in arrays]
    if missing:
        raise DataError(f"{path}: not a synth dataset (lacks {', '.join(missing)}; expected {', '.join(DATASET_KEYS)})")
    lsb, y, classes = arrays["lsb"], arrays["y"], arrays["classes"]
    if lsb.ndim != 3 or lsb.shape[2] != 3 or not np.issubdtype(lsb.dtype, np.integer) or len(lsb) == 0:
        raise DataError(f"{path}: lsb must be integer codes (N >= 1, T, 3), got {lsb.dtype} {lsb.shape}")
    if y.shape != (len(lsb),) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(classes):
        raise DataError(f"{path}: y must hold one class index (0-{len(classes) - 1}) per window")
    for key in ("rate_hz", "sensitivity_mg_per_lsb"):
        if arrays[key].shape != () or not float(arrays[key]) > 0:
            raise DataError(f"{path}: {key} must be one positive number")
    arrays["mg"] = lsb * np.float32(arrays["sensitivity_mg_per_lsb"])
    return arrays


def _card(settings: GenerateConfig, info, profile, labels: np.ndarray, seed: int, folder: Path) -> dict:
    """The dataset card: provenance, units, counts and file hashes (no timestamps: stable bytes)."""
    counts = np.bincount(labels, minlength=len(info.classes))
    return {
        "synth_version": __version__,
        "seed": seed,
        "generator": {"path": settings.generator, "weights_sha256": info.weights_sha256, "classes": list(info.classes),
                      "trained_on_data_hash": info.data_hash, "window": info.window,
                      # fine-tuned on another sensor's pretraining: which target recordings taught
                      # it and which classes only they taught (synth finetune's target card)
                      "fine_tuning_target": info.provenance.get("target")},
        "profile": profile.card(),
        "software_clip_note": profile.note if profile.software_clip else None,
        "rate_hz": profile.odr_hz,
        "full_scale_g": profile.full_scale_g,
        "window": info.window,
        "units": {"mg": "milli-g = lsb x sensitivity_mg_per_lsb (CSV columns x_mg, y_mg, z_mg)",
                  "lsb": f"raw output code, {profile.output.dtype} {profile.output.byte_order} endian (dataset.npz 'lsb', CSV x_lsb ...)"},
        "transforms": {"mounting_rotation": True, "zero_g_offset": settings.add_offset, "noise": settings.add_noise,
                       "clip_full_scale": True, "quantise_lsb": True},
        "counts": {info.classes[i]: int(c) for i, c in enumerate(counts) if c},
        "total_windows": int(len(labels)),
        "config": settings.model_dump(mode="json"),
        "files": {p.name: hash_file(p) for p in sorted(folder.iterdir()) if p.is_file()},
    }


def _resolve(path: str, base_dir: Path) -> Path:
    """An input path from a config, relative to the config file's folder."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path(base_dir) / candidate
