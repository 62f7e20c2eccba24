"""Realism figures of ``synth evaluate``, each beside the same figure for real against real.

A synthetic figure alone says little: real recordings differ among themselves too. So every
figure here comes with its real-vs-real counterpart, computed the same way:

- ``discriminative_report``: the discriminative score of every family in ``DISCRIMINATORS``,
  overall and per class, beside the real-vs-real floor (``real_halves``: the real recordings of
  each class dealt into two halves, one playing "real", the other "synthetic");
- ``orientation_gaps``: the share of windows per gravity direction, and the largest gap over the
  six directions of synthetic vs train-side real beside held-out vs train-side real;
- ``window_statistic_quantiles``: quantiles of ``synth.realism.quality.window_statistics`` per side and
  the median ratios synthetic / held-out beside train-side / held-out;
- ``memorisation_check``: nearest train-side distances of synthetic windows beside those of
  held-out real windows, in standardised window-feature space.

Sides of one class are named "train" (real train side), "held_out" (real, never trained on) and
"synthetic"; windows are (N, T, 3) in g.
"""

from __future__ import annotations

import numpy as np

from synth.core.windows import Windows
from synth.evaluate.evaluate_metrics import (
    DISCRIMINATORS, Budget, discriminative_score, nearest_distances, ratio, split_recordings,
)
from synth.realism.quality import AXIS_DIRECTIONS, WINDOW_STATISTICS, orientation_coverage, window_statistics

QUANTILES = (5, 25, 50, 75, 95)  # percent
MEMORISATION_PERCENTILES = (1, 5)  # percent


def real_halves(real: Windows, seed: int) -> tuple[Windows, Windows]:
    """Real windows dealt into two halves by recording: per class, half of the recordings in a seeded
    random order (``split_recordings`` with fraction 0.5) form the second half, the others the first."""
    return real.split_by_group(split_recordings(real, 0.5, np.random.default_rng([seed, 17])))


def discriminative_report(real: Windows, synthetic: Windows, budget: Budget) -> dict:
    """{family: family_scores(...)} for every discriminator family of ``DISCRIMINATORS``.

    real: all real windows (train side and held out); synthetic: the generated windows.
    """
    halves = real_halves(real, budget.seed)
    return {name: family_scores(discriminator, real, synthetic, halves, budget)
            for name, discriminator in DISCRIMINATORS.items()}


def family_scores(discriminator, real: Windows, synthetic: Windows, halves: tuple[Windows, Windows],
                  budget: Budget) -> dict:
    """One family's {"overall": discriminative_score(...) dict, "per_class": {class: score},
    "real_vs_real": {"overall": score, "per_class": {class: score}}}; a score is None when a
    side has no windows (or no recording) to test on."""
    def score(a: Windows, b: Windows) -> dict:
        return discriminative_score(a, b, budget, discriminator=discriminator)

    return {"overall": score(real, synthetic), "per_class": per_class_scores(real, synthetic, score),
            "real_vs_real": {"overall": score(*halves)["score"], "per_class": per_class_scores(*halves, score)}}


def per_class_scores(real: Windows, other: Windows, score) -> dict:
    """{class: score} of a discriminator trained and tested within each class's windows."""
    return {name: score(real.subset(real.y == k), other.subset(other.y == k))["score"]
            for k, name in enumerate(real.classes)}


def orientation_gaps(sides: dict[str, np.ndarray]) -> dict:
    """{"coverage": {side: orientation_coverage}, "largest_gap": {"synthetic_vs_train", "held_out_vs_train"}}.

    sides: {"train", "held_out", "synthetic": windows (N >= 1, T, 3) g} of one class. A gap is the
    largest absolute difference of a direction's share over the six directions (0 to 1).
    """
    coverage = {side: orientation_coverage(x) for side, x in sides.items()}

    def gap(side: str) -> float:
        return max(abs(coverage[side][d] - coverage["train"][d]) for d in AXIS_DIRECTIONS)

    return {"coverage": coverage, "largest_gap": {"synthetic_vs_train": gap("synthetic"), "held_out_vs_train": gap("held_out")}}


def window_statistic_quantiles(sides: dict[str, np.ndarray], rate_hz: float) -> dict:
    """{statistic: {"quantiles": {side: {"p05", ..., "p95"}}, "median_ratio": {"synthetic_over_held_out",
    "train_over_held_out"}}} of ``window_statistics`` (g) for sides {"train", "held_out", "synthetic"}."""
    values = {side: window_statistics(x, rate_hz) for side, x in sides.items()}
    report = {}
    for column, name in enumerate(WINDOW_STATISTICS):
        quantiles = {side: percentiles(v[:, column], QUANTILES) for side, v in values.items()}
        held_out = quantiles["held_out"]["p50"]
        report[name] = {"quantiles": quantiles,
                        "median_ratio": {"synthetic_over_held_out": ratio(quantiles["synthetic"]["p50"], held_out),
                                         "train_over_held_out": ratio(quantiles["train"]["p50"], held_out)}}
    return report


def percentiles(values: np.ndarray, percents: tuple[int, ...]) -> dict:
    """{"p<q>": q-th percentile of values (N >= 1,)} for every q in percents."""
    return {f"p{q:02d}": float(v) for q, v in zip(percents, np.percentile(values, percents))}


def memorisation_check(features: dict[str, np.ndarray]) -> dict:
    """Copies of training windows, from nearest distances to the train side.

    features: {"train", "held_out", "synthetic": rows (N >= 1, D)} of one class, standardised by
    the train side. Returns {"synthetic_to_train", "held_out_to_train": {"windows", "p01", "p05",
    "min"}} (distance from each window to its nearest train-side window) and
    "share_closer_than_real_p1": the share of synthetic windows nearer to a train-side window
    than the 1st percentile of the held-out distances (about 0.01 or less is healthy; well above
    suggests copies). The minimum of the larger set is naturally the smaller.
    """
    distances = {f"{side}_to_train": nearest_distances(features[side], features["train"]) for side in ("synthetic", "held_out")}
    report = {key: {"windows": int(len(d)), **percentiles(d, MEMORISATION_PERCENTILES), "min": float(d.min())}
              for key, d in distances.items()}
    floor = report["held_out_to_train"]["p01"]
    return {**report, "share_closer_than_real_p1": float(np.mean(distances["synthetic_to_train"] < floor))}


def class_realism(sides: dict[str, np.ndarray], features: dict[str, np.ndarray], rate_hz: float) -> dict:
    """{"orientation", "window_statistics", "memorisation"} of one class (see the module docstring)."""
    return {"orientation": orientation_gaps(sides), "window_statistics": window_statistic_quantiles(sides, rate_hz),
            "memorisation": memorisation_check(features)}
