"""``synth evaluate`` on a dataset from the shipped generator against held-out ST BSD-3 recordings.

Usage:
  .venv/bin/python benchmarks/bench_evaluate.py [--generate-config configs/configuration.json] \
      [--real configs/train_st_har_lsm6dsl_4g.json] [--steps 1500] [--seed 0] [--keep DIR] \
      [--classifier MODEL ...]

Generates the dataset of ``--generate-config`` (the shipped generator, 1,000 windows per class,
LSM6DSL +-4 g) into a temporary folder with ``synth.gan.generate.generate_dataset``, evaluates it
against the real recordings of ``--real`` (its data.test_groups are the held-out ones) and
prints the headline numbers: TSTR vs TRTR per class and overall, TRTS, the discriminative
scores of both discriminator families beside their real-vs-real floors, ST's classifier on
synthetic vs held-out real, and the nearest-neighbour ratios; then a realism table per class,
synthetic (real reference): discriminative score per family (real-vs-real floor), largest
orientation gap to the train side (held-out real's), median ratios to held-out real of std |a|
and motion RMS (train side's), and the share of synthetic windows nearer to a training window
than the held-out 1st percentile (about 0.01 or less is healthy).
``--keep DIR`` also leaves the report folder there. ``--classifier`` adds ST model-zoo
classifiers (WISDM class order); by default the four WISDM models under
../shared/data/st_model_zoo_wisdm are used when that folder exists (never shipped: they are
independent judges that saw none of the BSD-3 recordings). Goal: a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from synth.core.config import load_config  # noqa: E402
from synth.classify.classifiers import zoo_model_paths  # noqa: E402
from synth.evaluate.evaluate import classifier_specs, evaluate  # noqa: E402
from synth.evaluate.evaluate_metrics import Budget  # noqa: E402
from synth.gan.generate import generate_dataset  # noqa: E402
from synth.evaluate.report import REALISM_HEADER, headline_rows, per_class_rows, realism_rows, user_classifier_rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def print_rows(header: list[str], rows: list[list[str]]) -> None:
    """A plain-text table, first column left-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))


def main() -> None:
    args = _parse()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate_dataset(load_config(args.generate_config), Path(tmp) / "dataset", base_dir=args.generate_config.parent)
        generated = time.perf_counter()
        out = args.keep or Path(tmp) / "report"
        report = evaluate(args.real, Path(tmp) / "dataset", out, force=args.keep is not None,
                          budget=Budget(steps=args.steps, seed=args.seed), classifiers=classifier_specs(args.classifier))
        evaluated = time.perf_counter()
    print(f"real {args.real} (held-out recordings: {len(report['inputs']['held_out_recordings'])}); "
          f"synthetic from {args.generate_config}")
    print(f"windows: {report['inputs']['windows']}\n")
    print_rows(["metric", "synthetic", "real reference"], headline_rows(report))
    print()
    print_rows(["class", "TSTR", "TRTR", "TRTS", "ST on synth", "ST on real", "NN ratio", "coverage"], per_class_rows(report))
    print()
    print_rows(REALISM_HEADER, realism_rows(report))
    if report["classifiers"]:
        print()
        print_rows(["classifier", "windows", *report["inputs"]["classes"], "overall"], user_classifier_rows(report))
    print(f"\ngenerate {generated - start:.1f} s, evaluate {evaluated - generated:.1f} s"
          + (f"; report in {args.keep}" if args.keep else ""))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate-config", type=Path, default=ROOT / "configs" / "configuration.json")
    parser.add_argument("--real", type=Path, default=ROOT / "configs" / "train_st_har_lsm6dsl_4g.json")
    parser.add_argument("--steps", type=int, default=1500, help="training updates of every classifier")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="write the report folder here (replaced if present)")
    parser.add_argument("--classifier", type=Path, nargs="*", default=zoo_model_paths(),
                        help="ST model-zoo classifiers (WISDM order) to score too; default: those in ../shared/data")
    return parser.parse_args()


if __name__ == "__main__":
    main()
