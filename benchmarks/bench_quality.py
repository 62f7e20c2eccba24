"""Per-class quality of a trained generator against the held-out real recordings of its config.

Usage:
  .venv/bin/python benchmarks/bench_quality.py --generator runs/st_har_lsm6dsl_4g/generator \
      --config configs/train_st_har_lsm6dsl_4g.json [--n N] [--seed 0] [--json out.json] \
      [--shared-data ../shared/data]

Real: the recordings listed in the config's ``data.test_groups`` (never seen in training), cut
into non-overlapping windows of the config's length. Generated: ``--n`` windows per class
(default: as many as the real ones of that class), passed through the generator's sensor
profile (mounting, clip, quantise; no noise or offset, as ``synth generate`` does by default),
i.e. what a dataset would hold. Prints two tables, real vs generated per class:
1. signal metrics (synth.realism.quality: dynamic magnitude, per-axis mean/std, clipping, spectra);
2. per-class accuracy (recall) of every classifier available: ST's BSD-3 example model, each
   ST WISDM model found under --shared-data, and a Conv1D trained here on ST's mobility_v1 set
   (the independent reference: it never saw a BSD-3 recording).
The SLA0044 files are read in place; when they are absent those classifiers are skipped.
Goal: a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from synth.classify.classifiers import (  # noqa: E402
    SHARED_DATA, StBsd3Classifier, StZooClassifier, mobility_pickle, train_mobility_classifier, zoo_model_paths,
)
from synth.core.config import DataConfig, parse_config  # noqa: E402
from synth.data.loading import load_windows  # noqa: E402
from synth.models.artifact import load_generator  # noqa: E402
from synth.models.sampling import sample_windows  # noqa: E402
from synth.core.profiles import load_profile  # noqa: E402
from synth.realism.quality import classifier_report, compare_per_class  # noqa: E402
from synth.core.transforms import apply_profile  # noqa: E402
from synth.core.windows import Windows  # noqa: E402

NOTES = [
    "st_bsd3 was trained by ST on random 50 %-overlapping windows of all 92 BSD-3 recordings, held-out "
    "ones included: its real accuracy is optimistic, and it judges generated data by a model that saw the "
    "generator's own training recordings.",
    "st_zoo_* are WISDM models: on real ST recordings they call most walking 'stairs' (also on ST's own "
    "mobility_v1), so their walking column says nothing about the generator.",
    "mobility_conv1d never saw a BSD-3 recording: its real column is a true cross-data-set held-out accuracy.",
]


def read_data_section(config_path: Path) -> DataConfig:
    """The validated ``data`` section of a config (the only one this benchmark needs, so the
    model and training sections may evolve without breaking it)."""
    try:
        raw = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        sys.exit(f"cannot read config {config_path}: {exc}")
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
        sys.exit(f"{config_path}: no data section")
    return parse_config({"data": raw["data"]}, source=str(config_path)).data


def held_out_real(config_path: Path, rate_hz: float) -> Windows:
    """The config's test-group recordings in non-overlapping windows (N, window, 3) in g."""
    data = read_data_section(config_path)
    whole = data.model_copy(update={"stride": data.window})
    _, test = load_windows(whole, rate_hz, config_path.parent).split_by_group(data.test_groups)
    if not len(test):
        sys.exit(f"{config_path}: data.test_groups selects no real windows")
    return test


def generate_like(generator, info, real: Windows, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """(x_g (M, T, 3) after the profile, y (M,) indices into real.classes, generator summary).

    Generates, for every class the generator and the real windows share, ``n`` windows (or as
    many as the real windows of that class).
    """
    if info.window != real.length:
        sys.exit(f"generator makes {info.window}-sample windows; the config's real windows have {real.length}")
    counts = real.class_counts()
    labels = [(real.classes.index(c), info.class_index(c), n or counts[c]) for c in info.classes if c in real.classes]
    y_real = np.concatenate([np.full(k, r, np.int64) for r, _, k in labels])
    y_gen = np.concatenate([np.full(k, g, np.int64) for _, g, k in labels])
    x = sample_windows(generator, y_gen, info.noise_dim, len(info.classes), seed=seed)
    profile = profile_of(info)
    x_profiled, _ = apply_profile(x, profile)
    summary = {"classes": list(info.classes), "window": info.window, "rate_hz": info.rate_hz,
               "profile": profile.name, "full_scale_g": profile.full_scale_g, "weights_sha256": info.weights_sha256}
    return x_profiled, y_real, summary


def profile_of(info):
    """The sensor profile a generator was made or fine-tuned for (lsm6dsl_4g when it names none)."""
    return load_profile(info.profile or "lsm6dsl_4g", odr_hz=info.rate_hz)


def classifiers(shared: Path, seed: int) -> tuple[list, list[str]]:
    """(every classifier available, a line per one skipped and why)."""
    found, skipped = [StBsd3Classifier()], []
    paths = zoo_model_paths(shared)
    found += [StZooClassifier(p) for p in paths]
    if not paths:
        skipped.append(f"ST WISDM models: none under {shared / 'st_model_zoo_wisdm'}")
    pickle = mobility_pickle(shared)
    if pickle is None:
        skipped.append(f"mobility_conv1d: {shared / 'st_mobility_v1' / 'train.pkl'} not found")
    else:
        found.append(train_mobility_classifier(pickle, seed=seed))
    return found, skipped


def _triple(values: list[float], fmt: str) -> str:
    return " ".join(format(v, fmt) for v in values)


METRIC_ROWS = [
    ("median dynamic |a| (m/s^2)", lambda m: format(m["median_dynamic_ms2"], ".3f")),
    ("mean x y z (g)", lambda m: _triple(m["mean_g"], "+.3f")),
    ("std x y z (g)", lambda m: _triple(m["std_g"], ".3f")),
    ("window std x y z (g)", lambda m: _triple(m["window_std_g"], ".3f")),
    ("clipped samples (fraction)", lambda m: format(m["clip_fraction"], ".4f")),
    ("dominant frequency (Hz)", lambda m: format(m["dominant_hz"], ".2f")),
]


def print_metrics(metrics: dict) -> None:
    """One block per class: each metric, real vs generated."""
    print("\n=== 1. Signal metrics per class: real held-out vs generated (after the sensor profile) ===")
    for name, block in metrics.items():
        real, gen = block["real"], block["generated"]
        print(f"\n--- {name}: {real['windows']} real windows, {gen['windows']} generated ---")
        print(f"{'metric':30s} {'real':>24s} {'generated':>24s}")
        for label, show in METRIC_ROWS:
            print(f"{label:30s} {show(real):>24s} {show(gen):>24s}")
        print(f"{'PSD distance x y z (dB)':30s} {'-':>24s} {_triple(block['psd_distance_db'], '.2f'):>24s}")


def print_accuracy(reports: list[dict], class_names: tuple[str, ...]) -> None:
    """One row per classifier: per-class and overall recall, real / generated."""
    print("\n=== 2. Classifier accuracy (recall) per class: real held-out / generated ===")
    columns = [*class_names, "overall"]
    print(f"{'classifier':20s}" + "".join(f"{c:>22s}" for c in columns))
    for report in reports:
        cells = [_pair(report, lambda s, c=c: s["per_class"].get(c, {}).get("accuracy")) for c in class_names]
        cells.append(_pair(report, lambda s: s["overall"]))
        print(f"{report['classifier']:20s}" + "".join(f"{cell:>22s}" for cell in cells))


def print_confusions(reports: list[dict], side: str) -> None:
    """What each classifier called the ``side`` windows of every class (counts)."""
    print(f"\n=== 3. What the {side} windows were classified as ===")
    for report in reports:
        cells = [f"{name} -> " + ", ".join(f"{p} {n}" for p, n in row["predicted"].items())
                 for name, row in report[side]["per_class"].items()]
        print(f"{report['classifier']:20s}" + " | ".join(cells))


def _pair(report: dict, pick) -> str:
    """'real / generated' of one accuracy, '-' where a side has no windows."""
    values = [pick(report[side]) for side in ("real", "generated")]
    return " / ".join("-" if v is None else f"{v:.3f}" for v in values)


def main() -> None:
    args = _parse()
    start = time.perf_counter()
    generator, generator_info = load_generator(args.generator)
    real = held_out_real(args.config, generator_info.rate_hz).to_units("g")
    real = replace(real, x=apply_profile(real.x, profile_of(generator_info))[0])  # real seen by the same sensor
    x_gen, y_gen, info = generate_like(generator, generator_info, real, args.n, args.seed)
    metrics = compare_per_class((real.x, real.y), (x_gen, y_gen), real.classes, real.rate_hz, info["full_scale_g"])
    found, skipped = classifiers(args.shared_data, args.seed)
    sets = {"real": (real.x, real.y), "generated": (x_gen, y_gen)}
    reports = [classifier_report(c, sets, real.classes) for c in found]
    seconds = time.perf_counter() - start

    print(f"generator {args.generator} (weights {info['weights_sha256'][:12]}), config {args.config}")
    print(f"real held-out windows {real.class_counts()}; generated {dict(zip(real.classes, np.bincount(y_gen, minlength=len(real.classes)).tolist()))}")
    print_metrics(metrics)
    print_accuracy(reports, real.classes)
    print_confusions(reports, "generated")
    for line in skipped:
        print(f"skipped: {line}")
    print("\nNotes:\n" + "\n".join(f"- {note}" for note in NOTES))
    print(f"\n{seconds:.1f} s")
    if args.json:
        result = {"generator": str(args.generator), "config": str(args.config), "generator_info": info,
                  "real_windows": real.class_counts(), "metrics": metrics, "classifiers": reports,
                  "skipped": skipped, "notes": NOTES, "seconds": seconds}
        args.json.write_text(json.dumps(result, indent=2))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path, required=True, help="generator folder")
    parser.add_argument("--config", type=Path, required=True, help="the config that trained it (data.test_groups = held-out)")
    parser.add_argument("--n", type=int, default=None, help="generated windows per class (default: as many as real)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed and mobility classifier seed")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA, help="folder of the SLA0044 files (read in place)")
    return parser.parse_args()


if __name__ == "__main__":
    main()
