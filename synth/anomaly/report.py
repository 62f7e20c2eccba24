"""The report of ``synth anomaly``: local-only, federated and centralised detectors side by side.

Input: ``results: dict[method, MethodResult]`` with method one of ``METHODS`` ("local",
"federated", "centralised"; any subset, always reported in that order). A ``MethodResult`` holds

- ``per_node: dict[node_name, NodeScores]``: that node's test rows scored by that method's
  detector for the node: ``anomalous`` (N,) bool, ``kind`` (N,) str (``rows.NORMAL`` or the fault /
  attack name), ``errors`` (N,) float64 reconstruction errors (mean squared error of the scaled
  row, unitless) and ``threshold`` (float, same units; a row is flagged when error > threshold).
  Local-only training gives every node its own detector and threshold; federated and
  centralised share one detector, so every node has the same threshold;
- ``extra: dict``: JSON-ready facts of the training (rounds, bytes per round, seconds ...),
  copied verbatim into the report.

"Overall" scores pool the test rows of every node (in ``per_node`` order), each row flagged by
its own node's detector. ROC curves and AUC rank rows by error, or by error / own threshold when
the nodes' thresholds differ (local-only), since errors of different detectors are not on one scale.

report.json (``build_report``)::

    {"context": {...},                       # data source, config, seed, data hash, k: verbatim
     "methods": ["local", ...],              # the methods present, in METHODS order
     "results": {method: {
         "nodes": [node, ...],               # per_node order (JSON keys are sorted)
         "per_node": {node: detection_metrics},
         "overall": detection_metrics of the pooled rows; "threshold" is a float when all nodes
                    share it, else the list of node thresholds in "nodes" order,
         "mean_node_f1": mean of the per-node F1 over nodes with anomalies (None if none has),
         "per_kind": {kind: {"rows", "detected", "rate"}},   # see metrics.per_kind
         "extra": {...}}}}

``write_report`` writes report.json, report.md (Markdown tables, 3 decimals), errors_<method>.png
(histograms of log10 reconstruction error, normal vs anomalous, with the threshold) and roc.png
(the ROC curve of every method on its pooled rows), each file atomically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.anomaly.metrics import anomaly_scores, detection_metrics, per_kind
from synth.core.atomic import write_json, write_text
from synth.core.plots import markdown_table, pyplot, save_figure
from synth.core.rows import NORMAL

METHODS = ("local", "federated", "centralised")
_ERROR_FLOOR = 1e-12  # an exactly reconstructed row (error 0) has no logarithm; plot it here instead


@dataclass(frozen=True)
class NodeScores:
    """One node's test rows under one detector; see the module docstring for shapes and units.

    ``errors`` are the detector's scores (reconstruction errors, or a window fault rule's scores,
    see Detector.scores); ``threshold`` is a float, or (N,) per-row thresholds for rows pooled
    from several detectors.
    """

    anomalous: np.ndarray
    kind: np.ndarray
    errors: np.ndarray
    threshold: float | np.ndarray


@dataclass(frozen=True)
class MethodResult:
    """Every node's scores under one training method, plus JSON-ready facts of the training."""

    per_node: dict[str, NodeScores]
    extra: dict = field(default_factory=dict)


def build_report(results: dict[str, MethodResult], context: dict) -> dict:
    """The report.json structure of the module docstring; ``context`` is stored verbatim."""
    methods = ordered_methods(results)
    return {"context": context, "methods": methods, "results": {m: method_report(results[m]) for m in methods}}


def ordered_methods(results: dict) -> list[str]:
    """The methods of ``results`` in ``METHODS`` order; ValueError on any other name."""
    unknown = sorted(set(results) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; expected some of {list(METHODS)}")
    return [method for method in METHODS if method in results]


def method_report(result: MethodResult) -> dict:
    """One method's block of report.json: per node, pooled, mean node F1, per kind, extra."""
    per_node = {name: detection_metrics(s.anomalous, s.errors, s.threshold) for name, s in result.per_node.items()}
    pooled = pool(result)
    thresholds = node_thresholds(result)
    f1s = [block["f1"] for block in per_node.values() if block["f1"] is not None]
    return {
        "nodes": list(result.per_node),
        "per_node": per_node,
        "overall": {**detection_metrics(pooled.anomalous, pooled.errors, pooled.threshold),
                    "threshold": thresholds[0] if len(set(thresholds)) == 1 else thresholds},
        "mean_node_f1": float(np.mean(f1s)) if f1s else None,
        "per_kind": per_kind(pooled.anomalous, pooled.kind, pooled.errors, pooled.threshold),
        "extra": dict(result.extra),
    }


def node_thresholds(result: MethodResult) -> list[float]:
    """Every node's threshold, in ``per_node`` order; ValueError when there are no nodes."""
    if not result.per_node:
        raise ValueError("a method result needs at least one node")
    return [float(scores.threshold) for scores in result.per_node.values()]


def pool(result: MethodResult) -> NodeScores:
    """All nodes' rows concatenated in ``per_node`` order; the threshold stays one float when every
    node shares it, else it becomes (N,) per-row thresholds (each row keeps its node's)."""
    thresholds = node_thresholds(result)
    nodes = list(result.per_node.values())
    row_thresholds = np.concatenate([np.full(len(s.errors), t) for s, t in zip(nodes, thresholds)])
    return NodeScores(np.concatenate([np.asarray(s.anomalous, bool) for s in nodes]),
                      np.concatenate([np.asarray(s.kind, str) for s in nodes]),
                      np.concatenate([np.asarray(s.errors, np.float64) for s in nodes]),
                      thresholds[0] if len(set(thresholds)) == 1 else row_thresholds)


def write_report(report: dict, results: dict[str, MethodResult], out_dir: Path) -> list[Path]:
    """Write report.json, report.md, errors_<method>.png and roc.png into ``out_dir`` (atomically,
    file by file) and return their paths in that order. ``results`` supplies the errors to plot."""
    out_dir = Path(out_dir)
    paths = [out_dir / "report.json", out_dir / "report.md"]
    write_json(paths[0], report)
    write_text(paths[1], render_markdown(report))
    for method in report["methods"]:
        paths.append(out_dir / f"errors_{method}.png")
        save_figure(plot_errors(method, results[method]), paths[-1])
    paths.append(out_dir / "roc.png")
    save_figure(plot_roc(report, results), paths[-1])
    return paths


# --- report.md --------------------------------------------------------------------------------


def render_markdown(report: dict) -> str:
    """The whole report.md: context, overall, per node, per kind and training facts (if any)."""
    methods = report["methods"]
    parts = [
        "# Anomaly detection report",
        "\n".join(f"- {key}: {_plain(value)}" for key, value in report["context"].items()),
        "## Overall (test rows of all nodes pooled, each flagged by its own node's detector)",
        markdown_table(["method", "rows", "anomalies", "TPR", "FPR", "precision", "F1", "accuracy", "ROC AUC", "threshold",
                "mean node F1"], overall_rows(report)),
        "## Per node",
        markdown_table(["node", "metric", *methods], per_node_rows(report)),
        "## Per kind (share of rows flagged: detection rate; for normal rows the false-alarm rate)",
        markdown_table(["kind", *methods], per_kind_rows(report)),
        *training_section(report),
        "Plots: " + ", ".join(f"errors_{m}.png" for m in methods) + ", roc.png.",
    ]
    return "\n\n".join(part for part in parts if part) + "\n"  # an empty context leaves no blank section


def training_section(report: dict) -> list[str]:
    """A bullet per method with training facts ("extra"); nothing when no method has any."""
    lines = [f"- {m}: {_plain(report['results'][m]['extra'])}" for m in report["methods"] if report["results"][m]["extra"]]
    return ["## Training", "\n".join(lines)] if lines else []


def overall_rows(report: dict) -> list[list[str]]:
    """One row per method of the pooled metrics."""
    rows = []
    for method in report["methods"]:
        block = report["results"][method]
        overall = block["overall"]
        rows.append([method, str(overall["rows"]), str(overall["anomalies"]),
                     *(_fmt(overall[key]) for key in ("tpr", "fpr", "precision", "f1", "accuracy", "roc_auc")),
                     _fmt_threshold(overall["threshold"]), _fmt(block["mean_node_f1"])])
    return rows


def per_node_rows(report: dict) -> list[list[str]]:
    """[node, metric, value per method] for F1, TPR and FPR of every node ('-' where a method lacks it)."""
    results = report["results"]
    nodes = list(dict.fromkeys(node for m in report["methods"] for node in results[m]["nodes"]))
    return [[node, label, *(_fmt(results[m]["per_node"].get(node, {}).get(key)) for m in report["methods"])]
            for node in nodes for label, key in (("F1", "f1"), ("TPR", "tpr"), ("FPR", "fpr"))]


def per_kind_rows(report: dict) -> list[list[str]]:
    """[kind, 'rate (detected/rows)' per method]; normal rows first."""
    results = report["results"]
    kinds = sorted({k for m in report["methods"] for k in results[m]["per_kind"]}, key=lambda k: (k != NORMAL, k))
    return [[f"{kind} (false alarms)" if kind == NORMAL else kind,
             *(_kind_cell(results[m]["per_kind"].get(kind)) for m in report["methods"])] for kind in kinds]


def _kind_cell(block: dict | None) -> str:
    """'0.950 (19/20)', or '-' when the method saw no row of the kind."""
    return "-" if block is None else f"{_fmt(block['rate'])} ({block['detected']}/{block['rows']})"


def _fmt(value) -> str:
    """A metric for a table cell: 3 decimals; '-' when undefined (None)."""
    return "-" if value is None else f"{value:.3f}"


def _fmt_threshold(value) -> str:
    """A threshold (3 significant digits: errors of scaled rows are often well below 0.001); a
    per-node list as its range."""
    if isinstance(value, list):
        return f"{min(value):.3g} to {max(value):.3g} ({len(value)} nodes)"
    return f"{value:.3g}"


def _plain(value) -> str:
    """A context or training value for a bullet: dicts and lists as compact JSON."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


# --- figures ----------------------------------------------------------------------------------


def plot_errors(method: str, result: MethodResult):
    """Figure: density histograms of log10 reconstruction error, normal vs anomalous rows of all
    nodes, on shared bins, with a vertical line at the threshold, or one per node when they differ."""
    plt = pyplot()
    pooled, thresholds = pool(result), sorted(set(node_thresholds(result)))
    log_errors = np.log10(np.maximum(pooled.errors, _ERROR_FLOOR))
    edges = np.histogram_bin_edges(log_errors, bins=40)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, mask, colour in (("normal", ~pooled.anomalous, "C0"), ("anomalous", pooled.anomalous, "C3")):
        if mask.any():  # the density of an empty class is undefined
            ax.hist(log_errors[mask], bins=edges, density=True, alpha=0.5, color=colour, label=f"{label} ({mask.sum()} rows)")
    line = f"threshold {thresholds[0]:.3g}" if len(thresholds) == 1 else f"{len(thresholds)} node thresholds"
    for index, threshold in enumerate(thresholds):
        ax.axvline(np.log10(max(threshold, _ERROR_FLOOR)), color="k", linestyle="--", linewidth=1, label=None if index else line)
    ax.set_xlabel("log10 reconstruction error (MSE of scaled row)")
    ax.set_ylabel("density")
    ax.set_title(f"{method}: test rows of all nodes (dashed: {line})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_roc(report: dict, results: dict[str, MethodResult]):
    """Figure: ROC curve of every method on its pooled rows, AUC in the legend, the operating point
    (the detectors' thresholds) as a dot; methods with only one class present are left out."""
    from sklearn.metrics import roc_curve

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", label="chance")
    for index, method in enumerate(report["methods"]):
        overall = report["results"][method]["overall"]
        if overall["roc_auc"] is None:
            continue
        pooled = pool(results[method])
        fpr, tpr, _ = roc_curve(pooled.anomalous, anomaly_scores(pooled.errors, pooled.threshold))
        ranked = "" if np.ndim(pooled.threshold) == 0 else ", error / node threshold"
        ax.plot(fpr, tpr, color=f"C{index}", label=f"{method} (AUC {overall['roc_auc']:.3f}{ranked})")
        ax.plot(overall["fpr"], overall["tpr"], "o", color=f"C{index}")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("ROC, test rows of all nodes (dots: thresholds)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
