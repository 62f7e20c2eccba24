"""Sensor profiles: the shipped LSM6DSL data, loading, validation and the dataset-card record."""

import json
from dataclasses import replace

import numpy as np
import pytest

from synth.core.errors import ProfileError
from synth.core.profiles import PROFILE_DIR, SensorProfile, code_range, list_profiles, load_profile

# LSM6DSL datasheet: (range, register range, CTRL1_XL.FS_XL, mg/LSB) per profile
DATASHEET = {
    "lsm6dsl_2g": (2, 2, 0, 0.061),
    "lsm6dsl_4g": (4, 4, 2, 0.122),
    "lsm6dsl_6g": (6, 8, 3, 0.244),
    "lsm6dsl_8g": (8, 8, 3, 0.244),
    "lsm6dsl_16g": (16, 16, 1, 0.488),
}
LSM6DSL_ODRS = (12.5, 26, 52, 104, 208, 416, 833, 1660, 3330, 6660)


def _raw(name: str = "lsm6dsl_4g") -> dict:
    return json.loads((PROFILE_DIR / f"{name}.json").read_text())


def _write(tmp_path, raw: dict):
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(raw))
    return path


def test_every_shipped_profile_is_listed():
    assert list_profiles() == sorted(DATASHEET)


@pytest.mark.parametrize("name", sorted(DATASHEET))
def test_datasheet_numbers(name):
    profile = load_profile(name)
    full_scale, register, code, sensitivity = DATASHEET[name]
    assert profile.name == name and profile.sensor == "LSM6DSL" and profile.board == "B-L475E-IOT01A"
    assert (profile.full_scale_g, profile.register_full_scale_g) == (full_scale, register)
    assert (profile.fs_xl_code, profile.sensitivity_mg_per_lsb) == (code, sensitivity)
    assert profile.odr_hz == 26 and profile.allowed_odr_hz == LSM6DSL_ODRS
    assert (profile.noise_density_ug_per_sqrt_hz, profile.zero_g_offset_mg) == (90, 40)
    assert profile.output.dtype == "int16" and profile.output.byte_order == "little"
    assert profile.bytes_per_sample == 6 and profile.numpy_dtype == np.dtype("<i2")
    np.testing.assert_array_equal(profile.mounting_matrix, np.eye(3))
    assert profile.lsb_per_g == pytest.approx(1000 / sensitivity)


@pytest.mark.parametrize("name", ["lsm6dsl_2g", "lsm6dsl_4g", "lsm6dsl_8g", "lsm6dsl_16g"])
def test_hardware_ranges_use_the_whole_int16_range(name):
    profile = load_profile(name)
    assert not profile.software_clip
    assert (profile.min_lsb, profile.max_lsb) == (-32768, 32767)


def test_6g_is_a_software_clip_on_the_8g_setting():
    profile = load_profile("lsm6dsl_6g")
    eight = load_profile("lsm6dsl_8g")
    assert profile.software_clip and profile.full_scale_g == 6
    assert profile.register_full_scale_g == 8 and profile.fs_xl_code == eight.fs_xl_code
    assert profile.sensitivity_mg_per_lsb == eight.sensitivity_mg_per_lsb
    assert profile.max_lsb == 24590 and profile.min_lsb == -24590  # floor(6000 / 0.244)
    assert "no +-6 g range" in profile.note and "+-8 g" in profile.note


def test_card_records_the_note_and_format():
    card = load_profile("lsm6dsl_6g").card()
    assert card["note"] == load_profile("lsm6dsl_6g").note
    assert card["software_clip"] is True and card["register_full_scale_g"] == 8
    assert card["output"] == {"dtype": "int16", "byte_order": "little"}
    assert card["max_lsb"] == 24590 and card["bytes_per_sample"] == 6
    json.dumps(card)  # a card is written as JSON


def test_code_range_floors_to_the_last_whole_code():
    assert code_range(0.244, 6) == (-24590, 24590)
    assert code_range(0.0625, 2) == (-32000, 32000)  # exact multiple stays exact
    assert code_range(0.122, 4) == (-32768, 32767)


def test_odr_override():
    assert load_profile("lsm6dsl_4g", odr_hz=104).odr_hz == 104
    assert load_profile("lsm6dsl_4g", odr_hz=12.5).odr_hz == 12.5


def test_bad_odr_lists_the_allowed_rates():
    with pytest.raises(ProfileError, match=r"odr_hz 25 is not allowed \(allowed: 12\.5, 26, 52, .*6660\)"):
        load_profile("lsm6dsl_4g", odr_hz=25)


def test_unknown_name_lists_the_available_profiles():
    with pytest.raises(ProfileError) as error:
        load_profile("lsm6dsl_6")
    message = str(error.value)
    assert "'lsm6dsl_6'" in message and "\n" not in message
    assert all(name in message for name in DATASHEET)


def test_load_from_a_path(tmp_path):
    raw = _raw()
    raw["name"] = "my_board_4g"
    assert load_profile(_write(tmp_path, raw)).name == "my_board_4g"
    assert load_profile(str(_write(tmp_path, raw))).name == "my_board_4g"


def test_missing_file_and_bad_json(tmp_path):
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(broken)


def test_missing_and_extra_keys_are_named(tmp_path):
    raw = _raw()
    del raw["odr_hz"]
    raw["gain"] = 2
    with pytest.raises(ProfileError, match=r"missing keys \['odr_hz'\], unknown keys \['gain'\]"):
        load_profile(_write(tmp_path, raw))


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("mounting", [[1, 0], [0, 1]], "bad value for 'mounting'"),
        ("mounting", [[1, 0, 0], [0, 1, 0], [0, 0, -1]], "rotation matrix"),  # a mirror
        ("mounting", [[2, 0, 0], [0, 1, 0], [0, 0, 1]], "rotation matrix"),
        ("full_scale_g", "4", "bad value for 'full_scale_g'"),
        ("software_clip", True, "software_clip must be true exactly"),
        ("sensitivity_mg_per_lsb", 0.244, "does not fit register_full_scale_g 4"),
        ("output", {"dtype": "int8", "byte_order": "little"}, "output dtype must be int16"),
        ("output", {"dtype": "int16"}, "bad value for 'output'"),
        ("full_scale_g", 6, "at most register_full_scale_g"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path, key, value, message):
    raw = _raw()
    raw[key] = value
    with pytest.raises(ProfileError, match=message) as error:
        load_profile(_write(tmp_path, raw))
    assert "\n" not in str(error.value)


def test_profiles_are_frozen_and_validated_on_replace():
    profile = load_profile("lsm6dsl_4g")
    with pytest.raises(AttributeError):
        profile.odr_hz = 52  # type: ignore[misc]
    with pytest.raises(ProfileError, match="odr_hz"):
        replace(profile, odr_hz=30.0)
    assert isinstance(hash(profile), int)  # usable as a cache key
    assert isinstance(profile, SensorProfile)
