"""Typed configuration: strict keys and types, every problem reported at once, in one line."""

import pytest

from synth.core.config import Config, load_config, parse_config, require
from synth.core.errors import ConfigError


def config_error(raw: object) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return str(caught.value)


def test_defaults_fill_missing_sections():
    config = parse_config({"data": {"source": "st_har", "path": "builtin"}})
    assert config.seed == 0 and config.data.window == 24 and config.train.n_critic == 5
    assert config.generate is None


def test_every_problem_is_reported_in_one_line():
    message = config_error({
        "seed": "7", "bogus": 1,
        "data": {"source": "st_har", "path": "builtin", "window": 24.5, "colour": "red"},
        "train": {"stepz": 3},
    })
    assert "\n" not in message
    for fragment in ("'seed'", "'data.window'", "unknown key 'bogus'", "unknown key 'data.colour'", "unknown key 'train.stepz'"):
        assert fragment in message


def test_unknown_keys_list_the_allowed_keys_of_their_section():
    message = config_error({"data": {"source": "st_har", "path": "builtin", "colour": 1}, "bogus": 1})
    assert "allowed: accelerometer, classes, imu, max_gap_s, path, source, stride, test_groups, window" in message
    assert "allowed: anomaly, autoencoder, classifier, data, finetune, generate, model, profile, seed, share, train" in message


@pytest.mark.parametrize("train", [{"steps": "100"}, {"steps": 1.5}, {"learning_rate": "fast"}, {"steps": 0}])
def test_wrong_types_and_ranges_are_not_coerced(train):
    assert "'train." in config_error({"train": train})


def test_unknown_source_names_the_allowed_ones():
    message = config_error({"data": {"source": "kaggle", "path": "x"}})
    assert "'data.source'" in message and "st_har" in message and "pamap2" in message


def test_missing_required_key_is_named():
    assert "missing key 'data.path'" in config_error({"data": {"source": "st_har"}})


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*nope.json"):
        load_config(tmp_path / "nope.json")


def test_bad_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "seed": 1,\n  "profile": \n}\n')
    with pytest.raises(ConfigError, match=r"bad.json: invalid JSON at line 4 column 1"):
        load_config(path)


def test_load_config_prefixes_errors_with_the_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"sed": 1}')
    with pytest.raises(ConfigError, match=r"c.json: unknown key 'sed'"):
        load_config(path)


def test_require_names_the_missing_section():
    with pytest.raises(ConfigError, match="'generate' section is required"):
        require(Config().generate, "generate")
