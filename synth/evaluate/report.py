"""The human side of ``synth evaluate``: report.md (Markdown tables) and PNG plots (matplotlib, Agg).

report.md holds the overall figures, per-class accuracies, one compact table per realism figure
(discriminative score, orientation, per-window statistics, PSD distance, memorisation; each
synthetic beside real vs real), the user's classifiers and the signal metrics per class.

Plots, each real (held-out) beside synthetic:
- examples_<class>.png: up to 8 windows per side, per axis;
- spectra.png: mean Welch spectrum per class (rows) and axis (columns), log scale, g^2/Hz;
- embedding.png: the first two principal components of ``window_features``, fitted on the real
  windows, one colour per class, dots real and crosses synthetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synth.core.plots import AXES, markdown_table, plot_real_vs_generated, pyplot, save_figure
from synth.core.windows import Windows
from synth.evaluate.evaluate_metrics import pca_2d, window_features
from synth.realism.quality import AXIS_DIRECTIONS, welch_psd


def _fmt(value, digits: int = 3, kind: str = "f") -> str:
    """A number (or a list of them, space-separated) for a table cell: ``digits`` decimals, or
    significant digits with kind "g"; '-' when missing."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return " ".join(_fmt(v, digits, kind) for v in value)
    return f"{value:.{digits}{kind}}"


def _recall(block: dict, name: str) -> str:
    """One class's accuracy (recall) from a score block ({"per_class": {name: {"accuracy": ...}}})."""
    return _fmt(block["per_class"].get(name, {}).get("accuracy"))


def _beside(value, reference, digits: int = 3) -> str:
    """'value (reference)' for a bench table cell."""
    return f"{_fmt(value, digits)} ({_fmt(reference, digits)})"


def classifier_row(block: dict) -> list[str]:
    """[metric, synthetic, real reference] of one ST classifier's overall accuracy (or why it was skipped)."""
    label = f"ST classifier accuracy ({block['classifier']})"
    if "skipped" in block:
        return [label, "skipped: " + block["skipped"], "-"]
    return [label, _fmt(block["synthetic"]["overall"]), _fmt(block["real"]["overall"]) + " (held-out real)"]


def headline_rows(report: dict) -> list[list[str]]:
    """[metric, synthetic, real reference] rows of the overall numbers."""
    classifier_rows = [classifier_row(block) for block in [report["st_classifier"], *report.get("classifiers", [])]]
    return [
        ["TSTR vs TRTR accuracy (held-out real)", _fmt(report["tstr"]["overall"]), _fmt(report["trtr"]["overall"])],
        ["TSTR vs TRTR balanced accuracy", _fmt(report["tstr"]["balanced"]), _fmt(report["trtr"]["balanced"])],
        ["TSTR / TRTR (balanced)", _fmt(report["tstr_over_trtr"]), "1 (ideal)"],
        ["TRTS accuracy (real-trained, on synthetic)", _fmt(report["trts"]["overall"]), _fmt(report["trtr"]["overall"]) + " (TRTR)"],
        *classifier_rows,
        *[[f"discriminative score, {DISCRIMINATOR_LABELS[key]} (abs(accuracy - 0.5))", _fmt(score),
           _fmt(floor) + " (real vs real; 0 ideal)"] for key, (score, floor) in discriminative_pairs(report).items()],
    ]


DISCRIMINATOR_LABELS = {"conv1d_raw_g": "Conv1D on raw g", "gradient_boosting_features": "gradient boosting on features"}
SIDES = ("synthetic", "held_out", "train")  # the order of the sides in the realism tables
STATISTIC_LABELS = {"std_magnitude_g": "std of magnitude (g)", "motion_rms_g": "motion RMS (g)",
                    "peak_magnitude_g": "peak magnitude (g)"}  # no '|' in Markdown cells


def discriminative_pairs(report: dict, name: str | None = None) -> dict:
    """{family: (synthetic score, real-vs-real floor)} for class ``name``, overall when None."""
    if name is None:
        return {k: (f["overall"]["score"], f["real_vs_real"]["overall"]) for k, f in report["discriminative"].items()}
    return {k: (f["per_class"].get(name), f["real_vs_real"]["per_class"].get(name)) for k, f in report["discriminative"].items()}


def evaluated_classes(report: dict) -> list[tuple[str, dict]]:
    """(class, per-class block) of the classes not skipped."""
    return [(name, block) for name, block in report["per_class"].items() if "skipped" not in block]


def discriminative_rows(report: dict) -> list[list[str]]:
    """[class, per family: synthetic score, real-vs-real floor], the classes then "overall"."""
    names = [*report["inputs"]["classes"], None]
    return [[name or "overall", *(_fmt(v) for pair in discriminative_pairs(report, name).values() for v in pair)]
            for name in names]


def orientation_rows(report: dict) -> list[list[str]]:
    """[class, largest gap synthetic vs train, held-out vs train, shares +x -x +y -y +z -z per side]."""
    rows = []
    for name, block in evaluated_classes(report):
        gap, coverage = block["orientation"]["largest_gap"], block["orientation"]["coverage"]
        rows.append([name, _fmt(gap["synthetic_vs_train"], 2), _fmt(gap["held_out_vs_train"], 2),
                     *(_fmt([coverage[side][d] for d in AXIS_DIRECTIONS], 2) for side in SIDES)])
    return rows


def window_statistic_rows(report: dict) -> list[list[str]]:
    """[class, statistic, quantiles 5 25 50 75 95 per side, median ratios synthetic / held-out, train / held-out]."""
    rows = []
    for name, block in evaluated_classes(report):
        for key, entry in block["window_statistics"].items():
            quantiles = [_fmt(list(entry["quantiles"][side].values()), 4, "g") for side in SIDES]
            rows.append([name, STATISTIC_LABELS[key], *quantiles, *(_fmt(r, 2) for r in median_ratios(entry))])
    return rows


def median_ratios(entry: dict) -> tuple:
    """(synthetic / held-out, train / held-out) median ratio of one window statistic."""
    return entry["median_ratio"]["synthetic_over_held_out"], entry["median_ratio"]["train_over_held_out"]


def psd_rows(report: dict) -> list[list[str]]:
    """[class, PSD distance x y z (dB) synthetic to held-out real, train-side real to held-out real]."""
    return [[name, _fmt(block["psd_distance_db"], 2), _fmt(block["psd_distance_db_real_reference"], 2)]
            for name, block in evaluated_classes(report)]


def memorisation_rows(report: dict) -> list[list[str]]:
    """[class, nearest train-side distance p1 p5 min of synthetic, of held-out real, share nearer than held-out p1]."""
    rows = []
    for name, block in evaluated_classes(report):
        check = block["memorisation"]
        distances = [_fmt([check[key][k] for k in ("p01", "p05", "min")], 2) for key in ("synthetic_to_train", "held_out_to_train")]
        rows.append([name, *distances, _fmt(check["share_closer_than_real_p1"])])
    return rows


def realism_rows(report: dict) -> list[list[str]]:
    """Bench summary per class, synthetic (real reference): discriminative score per family (real-vs-real
    floor), orientation gap (held-out), median ratios of std |a| and motion RMS to held-out (train side),
    memorisation share; then the overall discriminative scores."""
    rows = []
    for name, block in evaluated_classes(report):
        gap, stats = block["orientation"]["largest_gap"], block["window_statistics"]
        ratios = [_beside(*median_ratios(stats[key]), 2) for key in ("std_magnitude_g", "motion_rms_g")]
        rows.append([name, *(_beside(*pair) for pair in discriminative_pairs(report, name).values()),
                     _beside(gap["synthetic_vs_train"], gap["held_out_vs_train"], 2), *ratios,
                     _fmt(block["memorisation"]["share_closer_than_real_p1"])])
    overall = [_beside(*pair) for pair in discriminative_pairs(report).values()]
    return rows + [["overall", *overall, *["-"] * (len(REALISM_HEADER) - 1 - len(overall))]]


REALISM_HEADER = ["class", "disc Conv1D (floor)", "disc boosting (floor)", "orientation gap (held-out)",
                  "std|a| ratio (train)", "RMS ratio (train)", "memorised share"]


def realism_section(report: dict) -> list[str]:
    """The realism tables of report.md, each synthetic beside real vs real."""
    families = [f"{DISCRIMINATOR_LABELS[k]}: {s}" for k in report["discriminative"] for s in ("synthetic", "real vs real")]
    sides = ("synthetic", "held-out real", "train-side real")
    memorisation = ["class", "synthetic p1 p5 min", "held-out real p1 p5 min", "synthetic share nearer than held-out p1 (~0.01)"]
    return [
        "## Realism per class: synthetic beside real vs real",
        "### Discriminative score (0 = indistinguishable; floor: real recordings split in two halves)",
        markdown_table(["class", *families], discriminative_rows(report)),
        f"### Orientation (share of windows by gravity direction {' '.join(AXIS_DIRECTIONS)})",
        markdown_table(["class", "largest gap synthetic vs train", "largest gap held-out vs train",
                        *(f"{s} shares" for s in sides)], orientation_rows(report)),
        "### Per-window statistics (quantiles 5 25 50 75 95 %)",
        markdown_table(["class", "statistic", *sides, "median synthetic / held-out", "median train / held-out"],
                       window_statistic_rows(report)),
        "### PSD distance to held-out real (x y z, dB)",
        markdown_table(["class", "synthetic", "train-side real"], psd_rows(report)),
        "### Memorisation (distance to the nearest train-side window, standardised window features)",
        markdown_table(memorisation, memorisation_rows(report)),
    ]


def per_class_rows(report: dict) -> list[list[str]]:
    """Per-class accuracies and NN ratios, synthetic beside real reference."""
    st = report["st_classifier"]
    rows = []
    for name in report["inputs"]["classes"]:
        st_cells = [_recall(st["synthetic"], name), _recall(st["real"], name)] if "skipped" not in st else ["-", "-"]
        nn = report["per_class"].get(name, {}).get("nearest_neighbour", {})
        rows.append([name, *(_recall(report[key], name) for key in ("tstr", "trtr", "trts")), *st_cells,
                     _fmt(nn.get("ratio"), 2), _fmt(nn.get("coverage_ratio"), 2)])
    return rows


def user_classifier_rows(report: dict) -> list[list[str]]:
    """[classifier, set, accuracy per class..., overall] of the user's classifiers, synthetic then held-out real."""
    classes = report["inputs"]["classes"]
    return [[block["classifier"], label, *(_recall(block[key], name) for name in classes), _fmt(block[key]["overall"])]
            for block in report.get("classifiers", []) for key, label in (("synthetic", "synthetic"), ("real", "held-out real"))]


def user_classifier_section(report: dict) -> list[str]:
    """The per-class table of the user's classifiers; nothing when none was given."""
    rows = user_classifier_rows(report)
    if not rows:
        return []
    header = ["classifier", "set", *report["inputs"]["classes"], "overall"]
    return ["## Your ST classifiers per class", markdown_table(header, rows)]


SIGNAL_ROWS = [
    ("mean x y z (g)", "mean_g"), ("std x y z (g)", "std_g"), ("min x y z (g)", "min_g"), ("max x y z (g)", "max_g"),
    ("window std x y z (g)", "window_std_g"), ("median dynamic (m/s^2)", "median_dynamic_ms2"),
    ("clipped fraction", "clip_fraction"), ("dominant frequency (Hz)", "dominant_hz"),
]


def signal_section(name: str, block: dict) -> str:
    """One class's signal table: metric, held-out real, synthetic."""
    if "skipped" in block:
        return f"### {name}\n\nskipped: {block['skipped']}"
    rows = [[label, _fmt(block["real"][key]), _fmt(block["generated"][key])] for label, key in SIGNAL_ROWS]
    return f"### {name}\n\n" + markdown_table(["metric", "held-out real", "synthetic"], rows)


def render_markdown(report: dict) -> str:
    """The whole report.md."""
    inputs = report["inputs"]
    parts = [
        "# Synthetic data quality report",
        f"Real: `{inputs.get('real_config')}` ({len(inputs['held_out_recordings'])} held-out recordings); "
        f"synthetic: `{inputs.get('synthetic')}`; classes {', '.join(inputs['classes'])}; "
        f"{inputs['window']} samples at {inputs['rate_hz']:g} Hz.",
        markdown_table(["set", *inputs["classes"]], [[k, *map(str, v.values())] for k, v in inputs["windows"].items()]),
        "## Overall",
        markdown_table(["metric", "synthetic", "real reference"], headline_rows(report)),
        "## Per class",
        markdown_table(["class", "TSTR", "TRTR", "TRTS", "ST on synthetic", "ST on real", "NN ratio", "coverage ratio"],
               per_class_rows(report)),
        *realism_section(report),
        *user_classifier_section(report),
        "## Signal per class",
        *[signal_section(name, block) for name, block in report["per_class"].items()],
        "## Notes",
        "\n".join(f"- {note}" for note in report["notes"]),
        "Plots: examples_<class>.png, spectra.png, embedding.png.",
    ]
    return "\n\n".join(parts) + "\n"


def write_plots(folder: Path, real: Windows, synthetic: Windows) -> None:
    """examples_<class>.png, spectra.png and embedding.png in ``folder`` (see the module docstring)."""
    for index, name in enumerate(synthetic.classes):
        plot_real_vs_generated(real.x[real.y == index], synthetic.x[synthetic.y == index],
                               f"{name}: held-out real vs synthetic", real.rate_hz, folder / f"examples_{name}.png")
    save_figure(plot_spectra(real, synthetic), folder / "spectra.png")
    save_figure(plot_embedding(real, synthetic), folder / "embedding.png")


def plot_spectra(real: Windows, synthetic: Windows):
    """Figure: mean spectrum per class (rows) and axis (columns), real vs synthetic."""
    plt = pyplot()
    k = len(synthetic.classes)
    fig, grid = plt.subplots(k, 3, figsize=(11, 2.6 * k), squeeze=False, sharex=True)
    for row, name in enumerate(synthetic.classes):
        for label, windows, style in (("held-out real", real, "-"), ("synthetic", synthetic, "--")):
            x = windows.x[windows.y == row].astype(np.float64)
            if not len(x):
                continue
            freqs, psd = welch_psd(x, windows.rate_hz)
            for col, axis in enumerate(AXES):
                grid[row, col].semilogy(freqs[1:], psd[1:, col], style, label=label)
                grid[row, col].set_title(f"{name}, {axis}", fontsize=9)
        grid[row, 0].set_ylabel("PSD (g^2/Hz)")
    for col in range(3):
        grid[-1, col].set_xlabel("frequency (Hz)")
    grid[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_embedding(real: Windows, synthetic: Windows):
    """Figure: 2-D PCA of window features, colour = class, dot = real, cross = synthetic."""
    plt = pyplot()
    real_features = window_features(real.x, real.rate_hz)
    points = {"held-out real": pca_2d(real_features, real_features),
              "synthetic": pca_2d(window_features(synthetic.x, synthetic.rate_hz), real_features)}
    fig, ax = plt.subplots(figsize=(7, 6))
    for (label, xy), windows, marker in zip(points.items(), (real, synthetic), ("o", "x")):
        for index, name in enumerate(synthetic.classes):
            mask = windows.y == index
            ax.scatter(xy[mask, 0], xy[mask, 1], s=10, marker=marker, color=f"C{index}", alpha=0.5, label=f"{name} ({label})")
    ax.set_xlabel("PC 1 (window features)")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize=8, markerscale=1.5)
    fig.tight_layout()
    return fig

