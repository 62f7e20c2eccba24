"""The human side of ``synth evaluate``: report.md (Markdown tables) and PNG plots (matplotlib, Agg).

Plots, each real (held-out) beside synthetic:
- examples_<class>.png: up to 8 windows per side, per axis;
- spectra.png: mean Welch spectrum per class (rows) and axis (columns), log scale, g^2/Hz;
- embedding.png: the first two principal components of ``window_features``, fitted on the real
  windows, one colour per class, dots real and crosses synthetic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synth.evaluate_metrics import pca_2d, window_features
from synth.plots import AXES, markdown_table, plot_real_vs_generated, pyplot, save_figure
from synth.quality import welch_psd
from synth.windows import Windows


def _fmt(value, digits: int = 3) -> str:
    """A number for a table cell; '-' when missing."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return " ".join(_fmt(v, digits) for v in value)
    return f"{value:.{digits}f}"


def _recall(block: dict, name: str) -> str:
    """One class's accuracy (recall) from a score block ({"per_class": {name: {"accuracy": ...}}})."""
    return _fmt(block["per_class"].get(name, {}).get("accuracy"))


def classifier_row(block: dict) -> list[str]:
    """[metric, synthetic, real reference] of one ST classifier's overall accuracy (or why it was skipped)."""
    label = f"ST classifier accuracy ({block['classifier']})"
    if "skipped" in block:
        return [label, "skipped: " + block["skipped"], "-"]
    return [label, _fmt(block["synthetic"]["overall"]), _fmt(block["real"]["overall"]) + " (held-out real)"]


def headline_rows(report: dict) -> list[list[str]]:
    """[metric, synthetic, real reference] rows of the overall numbers."""
    disc = report["discriminative"]
    classifier_rows = [classifier_row(block) for block in [report["st_classifier"], *report.get("classifiers", [])]]
    return [
        ["TSTR vs TRTR accuracy (held-out real)", _fmt(report["tstr"]["overall"]), _fmt(report["trtr"]["overall"])],
        ["TSTR vs TRTR balanced accuracy", _fmt(report["tstr"]["balanced"]), _fmt(report["trtr"]["balanced"])],
        ["TSTR / TRTR (balanced)", _fmt(report["tstr_over_trtr"]), "1 (ideal)"],
        ["TRTS accuracy (real-trained, on synthetic)", _fmt(report["trts"]["overall"]), _fmt(report["trtr"]["overall"]) + " (TRTR)"],
        *classifier_rows,
        ["discriminative score (abs(accuracy - 0.5))", _fmt(disc["score"]), "0 (ideal)"],
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
    rows.append(["PSD distance x y z (dB) to held-out real",
                 _fmt(block["psd_distance_db_real_reference"], 2) + " (train-side real)", _fmt(block["psd_distance_db"], 2)])
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

