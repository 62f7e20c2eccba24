"""``synth anomaly`` as a command: bad input in one line, scoring a file, the comparison on
Flower's real simulation engine, a window detector watching a live stream."""

from __future__ import annotations

import json

import numpy as np
import pytest
from anomaly_support import telemetry_csv, tiny_anomaly_config


@pytest.fixture
def telemetry(tmp_path):
    return telemetry_csv(tmp_path / "telemetry.csv")


def _one_line_error(result, fragment):
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and fragment in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case, fragment", [
    ("text", "column 's2', row 2: 'high' is not a number"),
    ("no_label", "no label column 'label'"),
    ("all_anomalous", "the data holds 0 normal rows"),
    ("k", "'anomaly.k': Input should be greater than 0"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, telemetry, run_cli, write_config, case, fragment):
    raw = tiny_anomaly_config(telemetry, tmp_path / "runs")
    lines = telemetry.read_text().splitlines()
    if case == "text":
        cells = lines[2].split(",")
        cells[2] = "high"
        lines[2] = ",".join(cells)
    elif case == "no_label":
        lines = [",".join(line.split(",")[:-1]) for line in lines]
    elif case == "all_anomalous":
        lines = [lines[0]] + [line[: line.rindex(",")] + ",1" for line in lines[1:]]
    else:
        raw["anomaly"]["k"] = 0
    telemetry.write_text("\n".join(lines) + "\n")
    _one_line_error(run_cli("anomaly", "train", "--config", write_config(raw)), fragment)
    assert not (tmp_path / "runs").exists()


def test_train_then_score_a_file_and_refuse_other_columns(tmp_path, telemetry, run_cli, write_config):
    config = write_config(tiny_anomaly_config(telemetry, tmp_path / "runs"))
    trained = run_cli("anomaly", "train", "--config", config, "--out", tmp_path / "det")
    assert trained.returncode == 0, trained.stderr
    assert "test rows: F1" in trained.stdout and (tmp_path / "det" / "autoencoder.json").is_file()
    scored = run_cli("anomaly", "score", "--detector", tmp_path / "det", "--input", telemetry, "--out", tmp_path / "flags.csv")
    assert scored.returncode == 0, scored.stderr
    assert scored.stdout.startswith("660 rows, ") and "against the file's labels: F1" in scored.stdout
    flags = np.loadtxt(tmp_path / "flags.csv", delimiter=",", skiprows=1)
    assert flags.shape == (660, 3) and set(np.unique(flags[:, 2])) <= {0.0, 1.0}
    narrow = telemetry_csv(tmp_path / "narrow.csv", width=5)
    _one_line_error(run_cli("anomaly", "score", "--detector", tmp_path / "det", "--input", narrow), "missing columns: s5")
    _one_line_error(run_cli("anomaly", "federate", "--config", config, "--nodes", "1"), "at least 2 nodes")


def test_compare_runs_local_federated_and_centralised_on_flower(tmp_path, telemetry, run_cli, write_config):
    config = write_config(tiny_anomaly_config(telemetry, tmp_path / "runs", nodes=2))
    result = run_cli("anomaly", "compare", "--config", config, "--out", tmp_path / "cmp", timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    # synth's own round lines only: no Ray, Flower, TensorFlow or Python-warning lines
    assert result.stderr.splitlines() == [f"round {r}: 2 update(s) aggregated (fedavg)" for r in (1, 2)], result.stderr[-2000:]
    report = json.loads((tmp_path / "cmp" / "report.json").read_text())
    assert report["methods"] == ["local", "federated", "centralised"]
    for method in report["methods"]:
        overall = report["results"][method]["overall"]
        assert overall["rows"] == 180 and overall["anomalies"] == 60 and overall["f1"] > 0.5
        assert sorted(report["results"][method]["per_node"]) == ["node-01", "node-02"]
    assert report["results"]["federated"]["extra"]["rounds"] == 2
    names = {p.name for p in (tmp_path / "cmp").iterdir()}
    assert {"report.md", "roc.png", "errors_federated.png", "centralised", "federated"} <= names
    log = json.loads((tmp_path / "cmp" / "federated" / "federated.json").read_text())
    assert log["status"] == "completed" and sorted(log["evaluation"]) == ["node-01", "node-02"]
    evaluated = run_cli("anomaly", "evaluate", "--config", config, "--detector", tmp_path / "cmp" / "federated" / "detector",
                        "--out", tmp_path / "eval")
    assert evaluated.returncode == 0 and "federated: F1" in evaluated.stdout, evaluated.stderr
    assert (tmp_path / "eval" / "report.md").is_file()
    scored = run_cli("anomaly", "score", "--detector", tmp_path / "cmp" / "federated" / "detector", "--input", telemetry)
    assert scored.returncode == 0 and scored.stdout.startswith("660 rows, "), scored.stderr


def test_a_window_detector_flags_live_windows(tmp_path):
    from synth.anomaly.dataset import load_anomaly_data
    from synth.anomaly.detector import save_detector
    from synth.anomaly.training import train_detector
    from synth.core.config import parse_config
    from synth.core.errors import ModelError
    from synth.stream.monitor import build_monitor

    raw = {"seed": 2, "profile": "lsm6dsl_4g", "data": {"source": "st_har", "path": "builtin", "window": 24, "stride": 24},
           "anomaly": {"source": "windows", "epochs": 2, "filters": 4, "latent": 8}}
    config = parse_config(raw)
    data = load_anomaly_data(config, tmp_path)
    model, info = train_detector(data.train, data.validation, config.anomaly, 2, data.full_scale_g, data.rate_hz)
    folder = save_detector(model, {**info, "config": raw}, tmp_path / "det")
    lines = []
    monitor = build_monitor(None, folder, 26.0, 4.0, 0.122, lines.append)
    saturated = np.full((48, 3), 32767, np.int16)  # every axis stuck at +full scale
    monitor.feed(saturated)
    assert len(lines) == 2 and all("ANOMALOUS" in line for line in lines)
    features = tmp_path / "features"
    save_detector(model, {**info, "input": "features"}, features)
    with pytest.raises(ModelError, match="is a detector of feature rows"):
        build_monitor(None, features, 26.0, 4.0, 0.122, lines.append)


def test_edge_iiotset_detector_scores_new_files_with_its_training_vocabulary(tmp_path, run_cli, write_config):
    from tabular_fixtures import edge_row, write_edge

    rng = np.random.default_rng(0)
    normal = [edge_row(tcp_len=f"{v:.1f}", http_request_method=m) for v, m in zip(rng.uniform(0, 20, 60), ["GET", "POST"] * 30)]
    attacks = [edge_row(tcp_len="900", Attack_label="1", Attack_type="DDoS_UDP") for _ in range(5)]
    train_file = write_edge(tmp_path / "ML-EdgeIIoT-dataset.csv", normal + attacks)
    raw = {"seed": 1, "anomaly": {"source": "edge_iiotset", "path": str(train_file), "epochs": 2, "hidden": [8, 4]}}
    trained = run_cli("anomaly", "train", "--config", write_config(raw), "--out", tmp_path / "det")
    assert trained.returncode == 0, trained.stderr
    info = json.loads((tmp_path / "det" / "autoencoder.json").read_text())
    assert info["vocabulary"]["http.request.method"] == ["0", "GET", "POST"]  # attacks leave the field empty
    new_file = write_edge(tmp_path / "new.csv", [edge_row(tcp_len="3", http_request_method="PUT")] * 3)
    scored = run_cli("anomaly", "score", "--detector", tmp_path / "det", "--input", new_file)
    assert scored.returncode == 0 and scored.stdout.startswith("3 rows, "), scored.stderr
