"""The autoencoder realism filter: threshold, acceptance of real windows, rejection of wrong ones,
``synth generate --filter`` counts and reproducibility, and mismatch errors."""

import json
import shutil

import numpy as np
import pytest

from synth.core.config import parse_config
from synth.core.errors import ModelError
from synth.gan.generate import generate_dataset, load_dataset
from synth.realism.filter import INFO_FILE, load_realism_filter, run_autoencoder_training, threshold_of

WINDOW = 24  # the session's tiny generator makes windows of 24 samples
HELD_OUT = ["stationary_03_26Hz_4g_mg", "stationary_13_26Hz_4g_mg", "walking_03_26Hz_4g_mg",
            "walking_13_26Hz_4g_mg", "running_03_26Hz_4g_mg", "running_13_26Hz_4g_mg"]


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory):
    """A small autoencoder trained once on the shipped ST HAR windows of 24 samples (read it, never change it)."""
    folder = tmp_path_factory.mktemp("autoencoder") / "run"
    raw = {"seed": 1, "profile": "lsm6dsl_4g",
           "data": {"source": "st_har", "path": "builtin", "window": WINDOW, "stride": 12, "test_groups": HELD_OUT},
           "autoencoder": {"epochs": 15, "run_dir": str(folder)}}
    return run_autoencoder_training(parse_config(raw))


@pytest.fixture
def edited_autoencoder(autoencoder, tmp_path):
    """edited_autoencoder(**info) -> a copy of the autoencoder folder with those metadata values."""

    def edit(**info):
        folder = tmp_path / "edited"
        shutil.copytree(autoencoder, folder)
        meta = folder / INFO_FILE
        meta.write_text(json.dumps({**json.loads(meta.read_text()), **info}))
        return folder

    return edit


def test_threshold_is_mean_plus_k_std():
    errors = np.array([1.0, 2.0, 3.0, 6.0])  # mean 3, population std sqrt(3.5)
    stats = threshold_of(errors, 3.0)
    assert stats["mean"] == 3.0 and stats["std"] == pytest.approx(np.sqrt(3.5))
    assert stats["threshold"] == pytest.approx(3.0 + 3.0 * np.sqrt(3.5))


def test_held_out_real_windows_are_mostly_accepted(autoencoder):
    info = json.loads((autoencoder / INFO_FILE).read_text())
    # Cantelli: whatever the errors' distribution, at most 1 / (1 + k^2) = 10 % exceed mean + 3 std
    assert 0.0 < info["held_out_false_rejection_rate"] <= 1.0 / (1.0 + info["k"] ** 2)
    assert info["held_out_windows"] > 100 and info["window"] == WINDOW and info["full_scale_g"] == 4.0
    assert info["threshold"] == pytest.approx(info["mean"] + 3.0 * info["std"])


@pytest.mark.parametrize("wrong", ["constant_3g", "white_noise_1g"])
def test_obviously_wrong_windows_are_rejected(autoencoder, wrong):
    realism = load_realism_filter(autoencoder)
    rng = np.random.default_rng(0)
    windows = {"constant_3g": np.full((200, WINDOW, 3), 3.0), "white_noise_1g": rng.normal(0.0, 1.0, (200, WINDOW, 3))}[wrong]
    assert realism.accepts(windows).mean() <= 0.05


def test_generate_with_filter_keeps_counts_records_them_and_is_reproducible(autoencoder, generate_config, tmp_path, folder_bytes):
    config = parse_config(generate_config(windows_per_class=4, filter=str(autoencoder)))
    card = generate_dataset(config, tmp_path / "a")
    generate_dataset(config, tmp_path / "b")
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")
    assert card["counts"] == {"stationary": 4, "walking": 4, "running": 4}
    assert np.bincount(load_dataset(tmp_path / "a")["y"]).tolist() == [4, 4, 4]
    entry = card["filter"]
    assert entry["threshold_g2"] == load_realism_filter(autoencoder).threshold and len(entry["autoencoder_sha256"]) == 64
    for counts in entry["per_class"].values():
        assert counts["kept"] == 4 and counts["generated"] >= counts["kept"] + counts["rejected"]
    assert entry["rejected_total"] == sum(c["rejected"] for c in entry["per_class"].values())


def test_generate_cli_filter_option_reports_drops(autoencoder, run_cli, write_config, generate_config, tmp_path):
    result = run_cli("generate", "--config", write_config(generate_config()), "--out", "out", "--filter", autoencoder)
    assert result.returncode == 0, result.stderr
    card = json.loads((tmp_path / "out" / "card.json").read_text())
    assert f"realism filter dropped {card['filter']['rejected_total']} generated windows" in result.stdout
    assert card["filter"]["autoencoder"] == str(autoencoder.resolve())


@pytest.mark.parametrize("info, message", [({"window": 48}, "window 48"), ({"rate_hz": 52.0}, "rate_hz 52.0"),
                                           ({"full_scale_g": 2.0}, "full_scale_g 2.0")])
def test_mismatched_autoencoder_is_one_clear_error(edited_autoencoder, generate_config, tmp_path, info, message):
    config = parse_config(generate_config(filter=str(edited_autoencoder(**info))))
    with pytest.raises(ModelError, match=f"does not fit the generated windows: it was trained with {message}"):
        generate_dataset(config, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_filter_rejecting_everything_is_a_clear_error(edited_autoencoder, generate_config, tmp_path):
    config = parse_config(generate_config(filter=str(edited_autoencoder(threshold=-1.0))))
    with pytest.raises(ModelError, match="rejected nearly every generated window: after 6 rounds it kept only stationary 0 of 3"):
        generate_dataset(config, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_autoencoder_folder(generate_config, tmp_path):
    with pytest.raises(ModelError, match="not an autoencoder folder"):
        generate_dataset(parse_config(generate_config(filter=str(tmp_path / "nope"))), tmp_path / "out")
