"""``synth share simulate`` on Flower's simulation engine: reproducible results, one-line refusals."""

from __future__ import annotations

import json

import pytest
from share_support import tiny_share_config, with_share
from test_cli import assert_one_line_error


def _node_files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "nodes").rglob("*.npz"))}


def test_simulation_runs_every_round_and_the_same_seed_gives_the_same_bytes(tmp_path, run_cli, write_config):
    config = write_config(tiny_share_config(tmp_path / "unused"))
    first, second = tmp_path / "first", tmp_path / "second"
    result = run_cli("share", "simulate", "--config", str(config), "--nodes", "2", "--out", str(first), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "round 1: 2/2 nodes" in result.stdout and "round 2: 2/2 nodes" in result.stdout and "node-01: held-out accuracy" in result.stdout
    # synth's own round lines only: no Ray, Flower, TensorFlow or Python-warning lines
    assert result.stderr.splitlines() == [f"round {r}: 2 of 2 nodes answered" for r in (1, 2)], result.stderr[-2000:]
    result = run_cli("share", "simulate", "--config", str(config), "--nodes", "2", "--out", str(second), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    files = _node_files(first)
    assert len(files) == 2 * 4  # gan, classifier, the other node's generator and the generator folder's weights per node
    assert files == _node_files(second)
    logs = [json.loads((folder / "share.json").read_text()) for folder in (first, second)]
    accuracy = [{n: v["accuracy"] for n, v in log["rounds"][-1]["nodes"].items()} for log in logs]
    assert accuracy[0] == accuracy[1]


@pytest.mark.parametrize("change, nodes, fragment", [
    ({}, "1", "share needs at least 2 nodes, got 1"),
    ({"node_classes": [["walking"], ["cycling"]]}, "2", "node node-01 is given class 'cycling', which the data does not hold"),
    ({"split": "one_class"}, "60", "nodes are to hold class 'running' but the data has only"),
])
def test_bad_share_settings_are_refused_in_one_line(tmp_path, run_cli, write_config, change, nodes, fragment):
    config = write_config(with_share(tiny_share_config(tmp_path / "run"), **change))
    result = run_cli("share", "simulate", "--config", str(config), "--nodes", nodes)
    assert_one_line_error(result, fragment)
    assert not (tmp_path / "run").exists()


def test_a_config_that_leaves_nodes_no_data_is_refused(tmp_path, run_cli, write_config):
    raw = tiny_share_config(tmp_path / "run")
    raw["data"]["test_groups"] = ["nothing_else"]
    raw["data"]["classes"] = {"walking": ["walking"]}
    raw["data"]["path"] = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    result = run_cli("share", "simulate", "--config", str(write_config(raw)))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_config_without_a_share_section_is_refused(tmp_path, run_cli, write_config):
    raw = tiny_share_config(tmp_path / "run")
    del raw["share"]
    assert_one_line_error(run_cli("share", "simulate", "--config", str(write_config(raw))), "the 'share' section is required")
