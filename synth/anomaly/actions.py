"""What each ``synth anomaly`` command does, returning the lines it prints (the CLI stays thin)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from synth.anomaly.compare import run_comparison
from synth.anomaly.dataset import load_anomaly_data
from synth.anomaly.detector import Detector, load_detector, save_detector
from synth.anomaly.metrics import detection_metrics
from synth.anomaly.report import MethodResult, NodeScores, build_report, write_report
from synth.anomaly.scoring import read_rows_for
from synth.anomaly.training import train_detector
from synth.core.atomic import build_directory, check_directory_target, check_file_target, write_text
from synth.core.config import AnomalyConfig, load_config, require
from synth.federated.aggregate import rule_of

ALL_NODES = "all"


def _settings(config_file: Path):
    config = load_config(config_file)
    return config, require(config.anomaly, "anomaly", str(config_file))


def _out(out: Optional[Path], settings: AnomalyConfig, name: str) -> Path:
    return Path(out) if out else Path(settings.run_dir) / name


def train_central(config_file: Path, out: Optional[Path], force: bool, ready: Callable[[], None] = lambda: None) -> list[str]:
    """A centralised detector folder (out) and a one-line summary of its test metrics.

    ``ready`` runs once the config and the data have passed their checks (the CLI loads
    TensorFlow there, so that bad input fails in a second)."""
    config, settings = _settings(config_file)
    target = _out(out, settings, "centralised")
    check_directory_target(target, force)
    data = load_anomaly_data(config, Path(config_file).parent)
    ready()
    model, info = train_detector(data.train, data.validation, settings, config.seed, data.full_scale_g, data.rate_hz)
    info = {**info, "training": "centralised", "data_hash": data.data_hash, "seed": config.seed,
            "vocabulary": data.vocabulary, "config": config.model_dump(mode="json")}
    detector = Detector(model, info)
    metrics = detection_metrics(data.test.anomalous, detector.scores(data.test.x), detector.score_threshold)
    save_detector(model, {**info, "test_metrics": metrics}, target, force)
    return [_metrics_line("test rows", metrics), f"detector written to {target}"]


def federate_simulated(config_file: Path, nodes: Optional[int], out: Optional[Path], force: bool) -> list[str]:
    """Run the simulated federation; lines: per-node test counts, where the detector is."""
    from synth.anomaly.federated.simulate import run_federated_simulation

    _, settings = _settings(config_file)
    rule_of(settings).check(nodes or settings.nodes, "anomaly")  # before the engine starts, as the server would
    folder, run_log = run_federated_simulation(Path(config_file), nodes or settings.nodes, _out(out, settings, "federated"), force)
    lines = [f"{name}: tp {v['tp']} fp {v['fp']} tn {v['tn']} fn {v['fn']}" for name, v in sorted(run_log["evaluation"].items())]
    return lines + [f"detector in {folder / 'detector'}, round log in {folder / 'federated.json'}"]


def compare_methods(config_file: Path, nodes: Optional[int], out: Optional[Path], force: bool) -> list[str]:
    """Local-only, federated and centralised side by side; lines: overall F1 per method."""
    _, settings = _settings(config_file)
    folder, report = run_comparison(Path(config_file), nodes or settings.nodes, _out(out, settings, "compare"), force)
    return [_metrics_line(method, result["overall"]) for method, result in report["results"].items()] + \
        [f"report in {folder / 'report.md'}"]


def evaluate_detector(config_file: Path, detector_dir: Path, out: Optional[Path], force: bool) -> list[str]:
    """Report of one detector on the config's test rows."""
    config, settings = _settings(config_file)
    detector = load_detector(detector_dir)
    data = load_anomaly_data(config, Path(config_file).parent)
    scores = NodeScores(data.test.anomalous, data.test.kind, detector.scores(data.test.x), detector.score_threshold)
    method = detector.info.get("training", "centralised")
    results = {method: MethodResult({ALL_NODES: scores})}
    report = build_report(results, {**data.context(), "detector": str(detector_dir), "k": detector.info["k"]})
    target = _out(out, settings, "evaluate")
    with build_directory(target, force) as staging:
        write_report(report, results, staging)
    return [_metrics_line(method, report["results"][method]["overall"]), f"report in {target / 'report.md'}"]


def score_file(detector_dir: Path, input_path: Path, out: Optional[Path]) -> list[str]:
    """Flag the rows of a file; lines: a summary (and where the CSV of flags went)."""
    if out is not None:
        check_file_target(out)  # before the work, not after it
    detector = load_detector(detector_dir)
    rows = read_rows_for(detector, input_path)
    scores, threshold = detector.scores(rows.x), detector.score_threshold
    flags = scores > threshold
    what = "score" if detector.rule is not None else "error"  # a fault rule's score, or the reconstruction error
    lines = [f"{len(rows)} rows, {int(flags.sum())} anomalous ({what} threshold {threshold:.4g})"]
    if rows.anomalous.any():
        lines.append(_metrics_line("against the file's labels", detection_metrics(rows.anomalous, scores, threshold)))
    if out is not None:
        table = "\n".join(f"{i},{e:.9g},{int(f)}" for i, (e, f) in enumerate(zip(scores, flags)))
        write_text(out, f"row,{what},anomalous\n" + table + ("\n" if table else ""))
        lines.append(f"flags written to {out}")
    return lines


def _metrics_line(what: str, metrics: dict) -> str:
    def show(key):
        value = metrics.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    return (f"{what}: F1 {show('f1')}, TPR {show('tpr')}, FPR {show('fpr')}, precision {show('precision')}, "
            f"ROC AUC {show('roc_auc')}")
