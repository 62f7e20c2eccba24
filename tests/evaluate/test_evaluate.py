"""``synth evaluate``: metric functions on toy arrays, the report of a tiny dataset, the user's ST
classifiers (tiny Keras models built here), bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from synth.core.errors import ConfigError, ModelError
from synth.evaluate.evaluate_metrics import (
    DISCRIMINATORS, Budget, accuracy_scores, discriminative_score, discriminator_folds, nearest_neighbour_ratios, pca_2d,
    window_features,
)
from synth.evaluate.evaluate_realism import memorisation_check, real_halves
from synth.core.windows import Windows

TINY = Budget(steps=20, batch_size=16, seed=1, folds=2)
HELD_OUT = ["stationary_03_26Hz_4g_mg", "walking_03_26Hz_4g_mg", "running_03_26Hz_4g_mg"]


def toy_windows(n_groups: int, per_group: int, offset: float, seed: int) -> Windows:
    """One-class windows (N, 24, 3) g: a 2 Hz swing of random phase plus noise, ``offset`` g added."""
    rng = np.random.default_rng(seed)
    n = n_groups * per_group
    t = np.arange(24)[None, :, None] / 26.0
    x = np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, 2 * np.pi, (n, 1, 3))) + 0.3 * rng.standard_normal((n, 24, 3))
    groups = np.repeat([f"rec{seed}_{i}" for i in range(n_groups)], per_group)
    return Windows((x + offset).astype(np.float32), np.zeros(n, np.int64), ("walking",), 26.0, "g", groups)


@pytest.mark.parametrize("family", sorted(DISCRIMINATORS))
def test_discriminative_score_is_near_0_for_one_distribution_and_near_half_for_two(family):
    real = toy_windows(20, 20, 0.0, seed=1)
    score = partial(discriminative_score, budget=Budget(steps=150, batch_size=32, seed=0), discriminator=DISCRIMINATORS[family])
    same, different = score(real, toy_windows(1, 400, 0.0, seed=2)), score(real, toy_windows(1, 400, 1.5, seed=3))
    assert same["score"] < 0.15
    assert different["score"] > 0.4
    assert same["folds"] == 5 and same["test_windows"] == 2 * len(real)  # every real window judged once
    floor = score(*real_halves(real, seed=0))  # real vs real, both sides in folds of whole recordings
    assert floor["score"] < 0.15


def test_real_vs_real_never_puts_a_recording_on_both_sides_of_a_split():
    real = toy_windows(10, 5, 0.0, seed=1)
    halves = real_halves(real, seed=3)
    assert len(halves[0]) == len(halves[1]) == 25 and not set(halves[0].groups) & set(halves[1].groups)
    assert [h.groups.tolist() for h in halves] == [h.groups.tolist() for h in real_halves(real, seed=3)]  # seeded
    folds = discriminator_folds(real, 5, np.random.default_rng(0))
    for group in set(real.groups):  # a recording lies in one fold only, and every fold holds two
        assert len(set(folds[real.groups == group])) == 1
    assert np.bincount(folds).tolist() == [10] * 5
    synthetic = toy_windows(1, 50, 0.0, seed=2)  # one group: folds at random
    assert set(discriminator_folds(synthetic, 5, np.random.default_rng(0))) == set(range(5))


def test_memorisation_check_flags_copies_of_training_windows():
    rng = np.random.default_rng(0)
    train, held_out, fresh = (rng.standard_normal((n, 5)) for n in (500, 300, 300))
    healthy = memorisation_check({"train": train, "held_out": held_out, "synthetic": fresh})
    copied = memorisation_check({"train": train, "held_out": held_out, "synthetic": train[:300] + 1e-3})
    assert healthy["share_closer_than_real_p1"] < 0.05 and copied["share_closer_than_real_p1"] > 0.9
    for side in ("synthetic_to_train", "held_out_to_train"):
        block = healthy[side]
        assert block["windows"] == 300 and 0 < block["min"] <= block["p01"] <= block["p05"]


def test_nn_ratio_is_about_1_for_one_distribution_and_flags_collapse():
    rng = np.random.default_rng(0)
    reference, query, synthetic = (rng.standard_normal((n, 5)) for n in (600, 200, 600))
    same = nearest_neighbour_ratios(reference, query, synthetic, np.random.default_rng(1))
    assert 0.85 < same["ratio"] < 1.15 and 0.85 < same["coverage_ratio"] < 1.15
    collapsed = np.repeat(rng.standard_normal((3, 5)), 200, axis=0) + 0.01 * rng.standard_normal((600, 5))
    mode_collapse = nearest_neighbour_ratios(reference, query, collapsed, np.random.default_rng(1))
    assert mode_collapse["coverage_ratio"] > 1.5


def test_accuracy_scores_give_overall_balanced_and_per_class_recall():
    y = np.array([0, 0, 0, 1])
    scores = accuracy_scores(np.array([0, 0, 1, 1]), y, ("walking", "running"))
    assert scores["overall"] == pytest.approx(0.75)
    assert scores["balanced"] == pytest.approx((2 / 3 + 1) / 2)
    assert scores["per_class"]["walking"]["accuracy"] == pytest.approx(2 / 3)


def test_window_features_ignore_phase_and_pca_gives_two_columns():
    t = np.arange(48) / 26.0
    base = np.stack([np.sin(2 * np.pi * 2 * t)] * 3, axis=-1)
    shifted = np.roll(base, 13, axis=0)  # 2 Hz = 13 samples per period: the same window, other phase
    features = window_features(np.stack([base, shifted]), 26.0)
    assert features.shape == (2, 24)
    np.testing.assert_allclose(features[0, :6], features[1, :6], atol=1e-6)
    assert pca_2d(features, np.random.default_rng(0).standard_normal((10, 24))).shape == (2, 2)


@pytest.fixture(scope="module")
def tiny_dataset(trained_run, tmp_path_factory) -> Path:
    """A dataset of 30 windows per class (24 samples) from the session's tiny generator."""
    from synth.core.config import parse_config
    from synth.gan.generate import generate_dataset

    out = tmp_path_factory.mktemp("evaluate") / "dataset"
    config = parse_config({"seed": 5, "generate": {"generator": str(trained_run.generator_dir), "windows_per_class": 30, "csv": False}})
    generate_dataset(config, out)
    return out


def real_config(window: int = 24, test_groups: list[str] = HELD_OUT) -> dict:
    """A config naming the shipped ST HAR recordings, three of them held out."""
    return {"data": {"source": "st_har", "path": "builtin", "window": window, "test_groups": test_groups}}


def save_st_model(path: Path, input_shape: tuple = (12, 3, 1), favourite: int = 1, extra_layer=None) -> Path:
    """A tiny Keras model on ST's input that always answers output ``favourite`` of 4, saved to ``path``.

    Its kernel is zero and its bias favours one output, so every prediction is known in advance;
    ``extra_layer`` (a layer instance) goes first when given.
    """
    import keras

    inputs = keras.Input(input_shape)
    hidden = extra_layer(inputs) if extra_layer is not None else inputs
    dense = keras.layers.Dense(4, activation="softmax")
    outputs = dense(keras.layers.Flatten()(hidden))
    dense.set_weights([np.zeros((int(np.prod(input_shape)), 4), np.float32), 5.0 * np.eye(4, dtype=np.float32)[favourite]])
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.fixture(scope="module")
def st_models(tmp_path_factory) -> dict[str, Path]:
    """{name: path} of tiny models: good ones (wl 12 .h5, wl 24 .keras) and bad ones."""
    import keras

    class Unregistered(keras.layers.Layer):  # not registered with Keras, so a saved model cannot be rebuilt
        def call(self, x):
            return 2.0 * x

    folder = tmp_path_factory.mktemp("st_models")
    (folder / "corrupt.h5").write_bytes(b"\x89HDF\r\n\x1a\n but not really")
    return {
        "wl12": save_st_model(folder / "wl12.h5"),
        "wl24": save_st_model(folder / "wl24.keras", (24, 3, 1)),
        "wl48": save_st_model(folder / "wl48.h5", (48, 3, 1)),
        "flat": save_st_model(folder / "flat.h5", (24, 3)),
        "custom": save_st_model(folder / "custom.h5", extra_layer=Unregistered()),
        "corrupt": folder / "corrupt.h5",
        "missing": folder / "absent.h5",
    }


@pytest.fixture(scope="module")
def evaluated(tiny_dataset, st_models, tmp_path_factory) -> tuple[dict, Path]:
    """(report, report folder) of the tiny dataset, with two user classifiers that always answer output 1:
    wl12.h5 in WISDM's order (Stationary) and wl24.keras in the order Walking, Running, Stairs, Stationary."""
    from synth.evaluate.evaluate import ClassifierSpec, evaluate

    folder = tmp_path_factory.mktemp("evaluated")
    config = folder / "real.json"
    config.write_text(json.dumps(real_config()))
    specs = [ClassifierSpec(st_models["wl12"]), ClassifierSpec(st_models["wl24"], ("Walking", "Running", "Stairs", "Stationary"))]
    return evaluate(config, tiny_dataset, folder / "report", budget=TINY, classifiers=specs), folder / "report"


def test_report_holds_every_metric_beside_its_reference(evaluated):
    report, folder = evaluated
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["embedding.png", "examples_running.png", "examples_stationary.png", "examples_walking.png",
                     "report.json", "report.md", "spectra.png"]
    saved = json.loads((folder / "report.json").read_text())
    assert saved["inputs"]["held_out_recordings"] == sorted(HELD_OUT)
    for key in ("tstr", "trtr", "trts"):
        assert 0.0 <= saved[key]["overall"] <= 1.0 and set(saved[key]["per_class"]) == {"stationary", "walking", "running"}
    classes = {"stationary", "walking", "running"}
    assert set(saved["discriminative"]) == set(DISCRIMINATORS)
    for family in saved["discriminative"].values():
        scores = [family["overall"]["score"], family["real_vs_real"]["overall"],
                  *family["per_class"].values(), *family["real_vs_real"]["per_class"].values()]
        assert set(family["per_class"]) == set(family["real_vs_real"]["per_class"]) == classes
        assert all(0.0 <= score <= 0.5 for score in scores), family
        assert 0.0 <= family["overall"]["accuracy"] <= 1.0 and family["overall"]["test_windows"] > 0
    assert "skipped" in saved["st_classifier"]  # 24-sample windows are shorter than the BSD-3 model's 26
    walking = saved["per_class"]["walking"]
    assert {"real", "generated", "psd_distance_db", "psd_distance_db_real_reference", "nearest_neighbour"} <= set(walking)
    assert {"min_g", "max_g", "mean_g", "std_g"} <= set(walking["generated"])
    assert walking["nearest_neighbour"]["ratio"] > 0
    orientation = walking["orientation"]
    assert all(sum(shares.values()) == pytest.approx(1.0) for shares in orientation["coverage"].values())
    assert all(0.0 <= gap <= 1.0 for gap in orientation["largest_gap"].values())
    assert set(walking["window_statistics"]) == {"std_magnitude_g", "motion_rms_g", "peak_magnitude_g"}
    for statistic in walking["window_statistics"].values():
        assert all(list(q.values()) == sorted(q.values()) for q in statistic["quantiles"].values())
        assert all(r > 0 for r in statistic["median_ratio"].values())
    memorisation = walking["memorisation"]
    assert memorisation["synthetic_to_train"]["windows"] == 30 and 0.0 <= memorisation["share_closer_than_real_p1"] <= 1.0
    markdown = (folder / "report.md").read_text()
    assert "| TSTR vs TRTR accuracy (held-out real) |" in markdown and report["tstr_over_trtr"] is not None
    for heading in ("Discriminative score", "Orientation", "Per-window statistics", "PSD distance", "Memorisation"):
        assert f"### {heading}" in markdown
    assert "| walking | std of magnitude (g) |" in markdown


def test_user_classifiers_are_scored_per_class_on_real_and_synthetic_in_their_class_order(evaluated):
    report, folder = evaluated
    saved = json.loads((folder / "report.json").read_text())
    wisdm, custom = saved["classifiers"]
    assert (wisdm["classifier"], wisdm["window"], custom["classifier"], custom["window"]) == ("wl12.h5", 12, "wl24.keras", 24)
    assert saved["inputs"]["classifiers"][1]["classes"] == ["Walking", "Running", "Stairs", "Stationary"]
    # output 1 is Stationary in WISDM's order and Running in the second one (running == Jogging by alias)
    for block, right in ((wisdm, "stationary"), (custom, "running")):
        for side in ("synthetic", "real"):
            per_class = block[side]["per_class"]
            assert {name: v["accuracy"] for name, v in per_class.items()} == {c: float(c == right) for c in per_class}
            assert per_class["walking"]["predicted"] == {right: per_class["walking"]["windows"]}
        assert block["synthetic"]["overall"] == pytest.approx(1 / 3)  # 30 synthetic windows per class
        held_out = saved["inputs"]["windows"]["real_held_out"]
        assert block["real"]["overall"] == pytest.approx(held_out[right] / sum(held_out.values()))
    markdown = (folder / "report.md").read_text()
    assert "| ST classifier accuracy (wl12.h5) | 0.333 |" in markdown
    assert "## Your ST classifiers per class" in markdown and "| wl24.keras | synthetic | 0.000 | 0.000 | 1.000 | 0.333 |" in markdown


def rewrite_dataset(source: Path, target: Path, **changes) -> Path:
    """A copy of a dataset folder's dataset.npz with some arrays replaced."""
    from synth.gan.generate import DATASET_FILE
    from synth.core.npz import load_npz, save_npz

    target.mkdir()
    save_npz(target / DATASET_FILE, {**load_npz(source / DATASET_FILE), **changes})
    return target


def test_cli_writes_a_report_and_refuses_a_non_empty_folder(tiny_dataset, write_config, run_cli, existing_output):
    config = write_config(real_config())
    done = run_cli("evaluate", "--real", config, "--synthetic", tiny_dataset, "--out", "report", "--steps", "5", "--folds", "2")
    assert done.returncode == 0, done.stderr
    assert "TSTR" in done.stdout and (config.parent / "report" / "report.json").is_file()
    refused = run_cli("evaluate", "--real", config, "--synthetic", tiny_dataset, "--out", existing_output)
    assert refused.returncode == 2 and "not empty" in refused.stderr
    assert (existing_output / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize("case, message", [
    ("missing", "dataset.npz: not found (expected a 'synth generate' folder)"),
    ("classes", "classes the real data lacks: cycling"),
    ("rate", "is at 52 Hz but the real data is at 26 Hz"),
    ("window", "24-sample windows but the real windows have 48"),
    ("groups", "names recordings with no windows: nope"),
])
def test_bad_input_is_one_line_and_exit_2(case, message, tiny_dataset, write_config, run_cli, tmp_path):
    dataset, raw = tiny_dataset, real_config()
    if case == "missing":
        dataset = tmp_path / "no_such_dataset"
    elif case == "classes":
        dataset = rewrite_dataset(tiny_dataset, tmp_path / "d", classes=np.array(["stationary", "walking", "cycling"]))
    elif case == "rate":
        dataset = rewrite_dataset(tiny_dataset, tmp_path / "d", rate_hz=np.float64(52.0))
    elif case == "window":
        raw = real_config(window=48)
    else:
        raw = real_config(test_groups=["nope"])
    done = run_cli("evaluate", "--real", write_config(raw), "--synthetic", dataset, "--out", tmp_path / "report")
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "report").exists()


def test_classifier_class_lists_pair_one_each_or_one_for_all():
    from synth.evaluate.evaluate import ClassifierSpec, classifier_specs

    paths = [Path("a.h5"), Path("b.tflite")]
    assert classifier_specs(paths) == [ClassifierSpec(p) for p in paths]  # WISDM's order by default
    assert [s.classes for s in classifier_specs(paths, ["walking, running"])] == [("walking", "running")] * 2
    assert [s.classes for s in classifier_specs(paths, ["a,b", "c,d"])] == [("a", "b"), ("c", "d")]
    for paths, lists, message in (([], ["a,b"], "needs a --classifier"), (paths * 2, ["a", "b"], "2 --classifier-classes for 4"),
                                  (paths, ["a,,b"], "empty class name"), (paths, ["Jogging,running"], "one activity twice")):
        with pytest.raises(ConfigError, match=message):
            classifier_specs(paths, lists)


@pytest.mark.parametrize("model, classes, fragments", [
    ("missing", None, ["classifier file not found"]),
    ("corrupt", None, ["corrupt.h5: cannot load it as a Keras model"]),
    ("custom", None, ["cannot load it as a Keras model (Unknown layer: 'Unregistered'"]),
    ("flat", None, ["input shape (None, 24, 3) is not ST's (batch, window, 3, 1)"]),
    ("wl48", None, ["takes windows of 48 samples, longer than the 24-sample windows"]),
    ("wl12", ("Walking", "Running", "Stationary"), ["4 outputs but 3 class names"]),
    ("wl12", ("Jogging", "Stationary", "Stairs", "Cycling"),
     ["has no class for walking of", "(its classes: Jogging, Stationary, Stairs, Cycling;"]),
])
def test_a_classifier_that_does_not_fit_is_refused_before_anything_is_written(
        model, classes, fragments, st_models, tiny_dataset, write_config, tmp_path):
    from synth.evaluate.evaluate import ClassifierSpec, evaluate

    spec = ClassifierSpec(st_models[model], *([classes] if classes else []))
    with pytest.raises(ModelError) as refused:
        evaluate(write_config(real_config()), tiny_dataset, tmp_path / "report", budget=TINY, classifiers=[spec])
    assert all(fragment in str(refused.value) for fragment in fragments), refused.value
    assert "\n" not in str(refused.value) and not (tmp_path / "report").exists()


def data_at_52_hz(tiny_dataset: Path, folder: Path) -> tuple[dict, Path]:
    """(real config, dataset) both at 52 Hz: a copy of the 4 g profile at 52 Hz and the dataset relabelled."""
    profile = json.loads((Path(__file__).resolve().parents[2] / "sensor_profiles" / "lsm6dsl_4g.json").read_text())
    (folder / "lsm6dsl_4g_52hz.json").write_text(json.dumps({**profile, "name": "lsm6dsl_4g_52hz", "odr_hz": 52}))
    dataset = rewrite_dataset(tiny_dataset, folder / "d52", rate_hz=np.float64(52.0))
    return {**real_config(), "profile": str(folder / "lsm6dsl_4g_52hz.json")}, dataset


@pytest.mark.parametrize("case, message", [
    ("rate", "is at 52 Hz but ST's classifiers (--classifier) take 26 Hz windows"),
    ("custom", "cannot load it as a Keras model (Unknown layer: 'Unregistered'"),
])
def test_cli_refuses_a_bad_classifier_in_one_line_and_exit_2(case, message, st_models, tiny_dataset, write_config, run_cli, tmp_path):
    raw, dataset = data_at_52_hz(tiny_dataset, tmp_path) if case == "rate" else (real_config(), tiny_dataset)
    done = run_cli("evaluate", "--real", write_config(raw), "--synthetic", dataset, "--out", tmp_path / "report",
                   "--classifier", st_models["wl12" if case == "rate" else case])
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "report").exists()
