"""Detection metrics and the anomaly report: hand-computed confusion counts, rates and AUCs, the
report.json structure of a tiny 2-node 3-method comparison, and the files write_report makes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synth.anomaly.metrics import detection_metrics, per_kind
from synth.anomaly.report import MethodResult, NodeScores, build_report, write_report
from synth.core.errors import DataError

F, T = False, True
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_plain(value) -> None:
    """Every leaf is a plain int, float, str or None (what json.dumps writes without help)."""
    if isinstance(value, dict):
        for item in value.values():
            _assert_plain(item)
    elif isinstance(value, list):
        for item in value:
            _assert_plain(item)
    else:
        assert value is None or type(value) in (int, float, str, bool), (value, type(value))


def test_detection_metrics_hand_computed():
    # flags [F F T | F T T]: tp 2 (0.7, 0.9), fp 1 (0.6), fn 1 (0.4), tn 2
    m = detection_metrics(np.array([F, F, F, T, T, T]), np.array([0.1, 0.2, 0.6, 0.4, 0.7, 0.9]), 0.5)
    assert (m["rows"], m["anomalies"], m["tp"], m["fp"], m["tn"], m["fn"]) == (6, 3, 2, 1, 2, 1)
    assert m["tpr"] == pytest.approx(2 / 3) and m["fpr"] == pytest.approx(1 / 3)
    assert m["precision"] == pytest.approx(2 / 3) and m["f1"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["roc_auc"] == pytest.approx(8 / 9)  # 0.4 beats two of three normals, 0.7 and 0.9 all
    assert m["threshold"] == 0.5
    _assert_plain(m)


def test_error_equal_to_threshold_is_not_flagged():
    m = detection_metrics(np.array([F, T]), np.array([0.5, 0.5]), 0.5)
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (0, 0, 1, 1)
    assert m["roc_auc"] == 0.5  # tied scores


def test_degenerate_cases():
    no_anomalies = detection_metrics(np.array([F, F]), np.array([0.1, 0.9]), 0.5)
    assert no_anomalies["tpr"] is None and no_anomalies["f1"] is None and no_anomalies["roc_auc"] is None
    assert no_anomalies["fpr"] == 0.5 and no_anomalies["precision"] == 0.0

    nothing_flagged = detection_metrics(np.array([F, T]), np.array([0.1, 0.2]), 0.5)
    assert nothing_flagged["precision"] == 0.0  # tp + fp == 0
    assert (nothing_flagged["tpr"], nothing_flagged["fpr"], nothing_flagged["f1"]) == (0.0, 0.0, 0.0)
    assert nothing_flagged["roc_auc"] == 1.0  # the ranking is perfect even if the threshold is too high

    all_anomalous = detection_metrics(np.array([T, T]), np.array([0.1, 0.9]), 0.5)
    assert all_anomalous["fpr"] is None and all_anomalous["roc_auc"] is None and all_anomalous["tpr"] == 0.5

    empty = detection_metrics(np.array([], bool), np.array([]), 0.5)
    assert empty["rows"] == 0 and empty["accuracy"] is None and empty["precision"] == 0.0
    assert empty["tpr"] is None and empty["fpr"] is None and empty["f1"] is None and empty["roc_auc"] is None


def test_per_row_thresholds_rank_by_error_over_threshold():
    # two detectors on different scales: raw errors would give AUC 3/4, error / threshold gives 1
    anomalous, errors = np.array([F, T, F, T]), np.array([1.0, 2.0, 10.0, 20.0])
    m = detection_metrics(anomalous, errors, np.array([1.5, 1.5, 15.0, 15.0]))
    assert (m["tp"], m["fp"], m["tn"], m["fn"]) == (2, 0, 2, 0)
    assert m["roc_auc"] == 1.0 and m["threshold"] is None
    assert detection_metrics(anomalous, errors, 1.5)["roc_auc"] == 0.75


@pytest.mark.parametrize("errors, threshold", [
    ([0.1, np.nan], 0.5), ([0.1, 0.2], np.inf), ([0.1, 0.2, 0.3], 0.5), ([0.1, 0.2], [0.5, 0.0]), ([0.1, 0.2], [0.5, 0.5, 0.5]),
])
def test_bad_inputs_raise(errors, threshold):
    with pytest.raises(DataError):
        detection_metrics(np.array([F, T]), np.array(errors), np.asarray(threshold))


def test_per_kind():
    rates = per_kind(np.array([F, F, T, T, T]), np.array(["normal", "normal", "spike", "drift", "drift"]),
                     np.array([0.1, 0.9, 0.7, 0.8, 0.2]), 0.5)
    assert list(rates) == ["normal", "drift", "spike"]
    assert rates["normal"] == {"rows": 2, "detected": 1, "rate": 0.5}  # false-alarm rate
    assert rates["drift"] == {"rows": 2, "detected": 1, "rate": 0.5}
    assert rates["spike"] == {"rows": 1, "detected": 1, "rate": 1.0}
    _assert_plain(rates)


def test_per_kind_rejects_kinds_that_contradict_the_labels():
    with pytest.raises(DataError):
        per_kind(np.array([F, T]), np.array(["normal", "normal"]), np.array([0.1, 0.9]), 0.5)


def _node(anomalous, kind, errors, threshold) -> NodeScores:
    return NodeScores(np.array(anomalous), np.array(kind), np.array(errors, np.float64), threshold)


A_TRUTH, A_KIND = [F, F, T, T], ["normal", "normal", "drift", "spike"]
B_TRUTH, B_KIND = [F, T], ["normal", "drift"]


def tiny_results() -> dict[str, MethodResult]:
    """Two nodes, three methods, given in reverse order (the report puts them in METHODS order)."""
    return {
        # one shared threshold 1.0: flags a [F F F T], b [F F]
        "centralised": MethodResult({"a": _node(A_TRUTH, A_KIND, [0.5, 0.5, 0.5, 2.0], 1.0),
                                     "b": _node(B_TRUTH, B_KIND, [0.5, 0.5], 1.0)}),
        # one shared threshold 0.4: flags a [F F T T], b [F T] (perfect)
        "federated": MethodResult({"a": _node(A_TRUTH, A_KIND, [0.1, 0.2, 0.5, 0.6], 0.4),
                                   "b": _node(B_TRUTH, B_KIND, [0.3, 0.9], 0.4)}, extra={"rounds": 3, "bytes_per_round": 1200}),
        # own thresholds: flags a [F T T F] (0.25), b [F T] (2.0); binary fractions keep error / threshold exact
        "local": MethodResult({"a": _node(A_TRUTH, A_KIND, [0.125, 0.375, 0.625, 0.1875], 0.25),
                               "b": _node(B_TRUTH, B_KIND, [1.0, 3.0], 2.0)}),
    }


CONTEXT = {"source": "synthetic", "seed": 7, "k": 3.0, "config": {"epochs": 2}, "data_hash": "abc"}


def test_build_report_numbers():
    report = build_report(tiny_results(), CONTEXT)
    assert report["methods"] == ["local", "federated", "centralised"] and report["context"] == CONTEXT
    _assert_plain(report)

    local = report["results"]["local"]
    assert local["nodes"] == ["a", "b"]
    assert local["per_node"]["a"]["f1"] == pytest.approx(0.5) and local["per_node"]["b"]["f1"] == 1.0
    assert local["mean_node_f1"] == pytest.approx(0.75)
    overall = local["overall"]
    assert (overall["tp"], overall["fp"], overall["tn"], overall["fn"]) == (2, 1, 2, 1)
    assert overall["threshold"] == [0.25, 2.0]
    # error / own threshold: normals 0.5 1.5 0.5, anomalies 2.5 0.75 1.5 -> (3 + 2 + 2.5) / 9
    assert overall["roc_auc"] == pytest.approx(7.5 / 9)
    assert local["per_kind"] == {"normal": {"rows": 3, "detected": 1, "rate": pytest.approx(1 / 3)},
                                 "drift": {"rows": 2, "detected": 2, "rate": 1.0},
                                 "spike": {"rows": 1, "detected": 0, "rate": 0.0}}

    federated = report["results"]["federated"]
    assert federated["overall"]["f1"] == 1.0 and federated["overall"]["roc_auc"] == 1.0
    assert federated["overall"]["threshold"] == 0.4 and federated["extra"] == {"rounds": 3, "bytes_per_round": 1200}

    centralised = report["results"]["centralised"]
    assert (centralised["overall"]["tp"], centralised["overall"]["fn"], centralised["overall"]["fp"]) == (1, 2, 0)
    assert centralised["overall"]["f1"] == pytest.approx(0.5) and centralised["overall"]["precision"] == 1.0
    assert centralised["overall"]["roc_auc"] == pytest.approx(6 / 9)  # 2.0 beats all, the 0.5s tie
    assert centralised["per_node"]["a"]["f1"] == pytest.approx(2 / 3) and centralised["per_node"]["b"]["f1"] == 0.0
    assert centralised["mean_node_f1"] == pytest.approx(1 / 3)


def test_mean_node_f1_skips_nodes_without_anomalies():
    result = MethodResult({"a": _node([F, T], ["normal", "drift"], [0.1, 0.9], 0.5),
                           "b": _node([F, F], ["normal", "normal"], [0.1, 0.9], 0.5)})
    block = build_report({"federated": result}, {})["results"]["federated"]
    assert block["per_node"]["b"]["f1"] is None and block["mean_node_f1"] == 1.0


def test_build_report_rejects_unknown_methods_and_empty_results():
    with pytest.raises(ValueError):
        build_report({"gossip": tiny_results()["local"]}, {})
    with pytest.raises(ValueError):
        build_report({"local": MethodResult({})}, {})


def test_write_report_files(tmp_path):
    results = tiny_results()
    report = build_report(results, CONTEXT)
    out = tmp_path / "anomaly"
    paths = write_report(report, results, out)
    names = ["report.json", "report.md", "errors_local.png", "errors_federated.png", "errors_centralised.png", "roc.png"]
    assert [p.name for p in paths] == names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temporary files left behind
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(report))
    markdown = (out / "report.md").read_text()
    assert "| method | rows | anomalies | TPR | FPR | precision | F1 | accuracy | ROC AUC | threshold | mean node F1 |" in markdown
    assert "| local | 6 | 3 | 0.667 | 0.333 | 0.667 | 0.667 | 0.667 | 0.833 | 0.25 to 2 (2 nodes) | 0.750 |" in markdown
    assert "| node | metric | local | federated | centralised |" in markdown
    assert "| a | F1 | 0.500 | 1.000 | 0.667 |" in markdown
    assert "| normal (false alarms) | 0.333 (1/3) | 0.000 (0/3) | 0.000 (0/3) |" in markdown
    assert "| spike | 0.000 (0/1) | 1.000 (1/1) | 1.000 (1/1) |" in markdown
    assert '- federated: {"bytes_per_round": 1200, "rounds": 3}' in markdown and "- local:" not in markdown
    for name in names[2:]:
        assert (out / name).read_bytes().startswith(PNG_MAGIC)


def test_write_report_with_one_class_and_zero_errors(tmp_path):
    # no anomalies: no ROC curve, no anomalous histogram; an error of 0 must still plot
    results = {"centralised": MethodResult({"a": _node([F, F, F], ["normal"] * 3, [0.0, 0.1, 0.2], 0.15)})}
    report = build_report(results, {})
    paths = write_report(report, results, tmp_path)
    assert report["results"]["centralised"]["overall"]["roc_auc"] is None
    markdown = (tmp_path / "report.md").read_text()
    assert "| centralised | 3 | 0 | - | 0.333 |" in markdown and "## Training" not in markdown
    assert all(p.read_bytes() for p in paths)
