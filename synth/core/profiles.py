"""Sensor profiles: what a target accelerometer outputs, loaded from sensor_profiles/*.json.

A profile is data, not code. Each JSON file holds exactly these keys:

- ``name`` (str): the profile's name, also its file name without ``.json`` (e.g. "lsm6dsl_4g").
- ``sensor``, ``board`` (str): the part ("LSM6DSL") and the board it sits on.
- ``full_scale_g`` (number): the range in g the data is clipped to (+-full_scale_g).
- ``register_full_scale_g`` (number): the full scale set in the sensor's register; larger than
  ``full_scale_g`` only when the sensor has no such range and the clip is done in software.
- ``fs_xl_code`` (int): the register code of that setting (LSM6DSL CTRL1_XL.FS_XL).
- ``sensitivity_mg_per_lsb`` (number): the weight of one output code at the register setting.
- ``odr_hz`` (number): the default output data rate; ``allowed_odr_hz`` (list): every rate the part offers.
- ``output`` ({"dtype": "int16", "byte_order": "little" | "big"}): the raw sample format, per axis.
- ``noise_density_ug_per_sqrt_hz``, ``zero_g_offset_mg`` (number): typical noise and offset,
  used only when a run asks for them.
- ``mounting`` (3x3 list): the rotation from the body (device) frame to the sensor frame.
- ``software_clip`` (bool): true when ``full_scale_g`` is below the register setting.
- ``note`` (str): a sentence every dataset card made with the profile copies.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from synth.core.errors import ProfileError
from synth.core.shipped import shipped_folder

PROFILE_DIR = shipped_folder("sensor_profiles")
AXES = 3
_INT16 = np.iinfo(np.int16)
_BYTE_ORDERS = {"little": "<", "big": ">"}


@dataclass(frozen=True)
class OutputFormat:
    """Raw sample format of one axis: an integer dtype name and a byte order."""

    dtype: str
    byte_order: str


@dataclass(frozen=True)
class SensorProfile:
    """One sensor setting; the fields are the JSON keys described in the module docstring."""

    name: str
    sensor: str
    board: str
    full_scale_g: float
    register_full_scale_g: float
    fs_xl_code: int
    sensitivity_mg_per_lsb: float
    odr_hz: float
    allowed_odr_hz: tuple[float, ...]
    output: OutputFormat
    noise_density_ug_per_sqrt_hz: float
    zero_g_offset_mg: float
    mounting: tuple[tuple[float, ...], ...]
    software_clip: bool
    note: str

    def __post_init__(self) -> None:
        _check_values(self)

    @property
    def lsb_per_g(self) -> float:
        """Output codes per g at the register setting (1000 / sensitivity)."""
        return 1000.0 / self.sensitivity_mg_per_lsb

    @property
    def max_lsb(self) -> int:
        """The largest output code within the full scale (and within int16)."""
        return code_range(self.sensitivity_mg_per_lsb, self.full_scale_g)[1]

    @property
    def min_lsb(self) -> int:
        """The smallest output code within the full scale (and within int16)."""
        return code_range(self.sensitivity_mg_per_lsb, self.full_scale_g)[0]

    @property
    def numpy_dtype(self) -> np.dtype:
        """The raw dtype with its byte order, e.g. '<i2': use it with ``.astype(...).tobytes()``."""
        return np.dtype(self.output.dtype).newbyteorder(_BYTE_ORDERS[self.output.byte_order])

    @property
    def bytes_per_sample(self) -> int:
        """Bytes of one raw 3-axis sample (6 for int16)."""
        return AXES * self.numpy_dtype.itemsize

    @property
    def mounting_matrix(self) -> np.ndarray:
        """The mounting rotation as a (3, 3) float64 array (sensor = matrix @ body)."""
        return np.array(self.mounting, dtype=np.float64)

    def card(self) -> dict[str, Any]:
        """What a dataset card records about the profile (JSON-ready, note included)."""
        card = asdict(self)
        del card["allowed_odr_hz"]  # the chosen odr_hz is what the data has
        card["mounting"] = [list(row) for row in self.mounting]
        card.update(min_lsb=self.min_lsb, max_lsb=self.max_lsb, bytes_per_sample=self.bytes_per_sample)
        return card


def code_range(sensitivity_mg_per_lsb: float, full_scale_g: float) -> tuple[int, int]:
    """(min, max) output codes of a +-full_scale_g range, saturated to the int16 range.

    The hardware ranges span a little more than int16 (4 g / 0.122 mg = 32787 codes), so they
    saturate at -32768 and 32767 like the part itself; a software clip (6 g) is symmetric.
    """
    # the epsilon keeps an exact multiple (e.g. 2000 / 0.0625) from flooring one code too low
    codes = math.floor(full_scale_g * 1000.0 / sensitivity_mg_per_lsb + 1e-9)
    return max(-codes, int(_INT16.min)), min(codes, int(_INT16.max))


def list_profiles() -> list[str]:
    """Names of the profiles shipped in sensor_profiles/, sorted."""
    return sorted(path.stem for path in PROFILE_DIR.glob("*.json"))


def load_profile(name_or_path: str | Path, odr_hz: float | None = None) -> SensorProfile:
    """Load a shipped profile by name (e.g. "lsm6dsl_4g") or any profile from a .json path.

    ``odr_hz`` overrides the profile's default rate; it must be one of ``allowed_odr_hz``.
    """
    path = _resolve(name_or_path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"cannot read sensor profile {path}: {exc}") from None
    profile = profile_from_dict(raw, source=str(path))
    return profile if odr_hz is None else replace(profile, odr_hz=float(odr_hz))


def profile_from_dict(raw: Any, source: str = "sensor profile") -> SensorProfile:
    """Build a SensorProfile from parsed JSON; ``source`` names it in error messages."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{source}: expected a JSON object, got {type(raw).__name__}")
    expected = [f.name for f in fields(SensorProfile)]
    missing = [key for key in expected if key not in raw]
    extra = sorted(set(raw) - set(expected))
    if missing or extra:
        raise ProfileError(
            f"{source}: missing keys {missing}, unknown keys {extra} (expected: {', '.join(expected)})"
        )
    return SensorProfile(**{key: _convert(key, raw[key], source) for key in expected})


def _resolve(name_or_path: str | Path) -> Path:
    """The file of a profile name, or the given path when it looks like one."""
    text = str(name_or_path)
    if text.endswith(".json") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise ProfileError(f"sensor profile file not found: {path}")
        return path
    path = PROFILE_DIR / f"{text}.json"
    if not path.is_file():
        raise ProfileError(f"unknown sensor profile {text!r} (available: {', '.join(list_profiles())})")
    return path


def _convert(key: str, value: Any, source: str) -> Any:
    """The JSON value of ``key`` as the dataclass field type; a wrong type is a ProfileError."""
    try:
        return _CONVERTERS[key](value)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{source}: bad value for {key!r}: {exc}") from None


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _number(value: Any) -> float:
    # bool is an int subclass in Python, but true/false is never a valid number in a profile
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _numbers(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of numbers, got {value!r}")
    return tuple(_number(item) for item in value)


def _matrix(value: Any) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, list) or len(value) != AXES:
        raise ValueError(f"expected a 3x3 list of numbers, got {value!r}")
    rows = tuple(_numbers(row) for row in value)
    if any(len(row) != AXES for row in rows):
        raise ValueError(f"expected a 3x3 list of numbers, got {value!r}")
    return rows


def _output(value: Any) -> OutputFormat:
    if not isinstance(value, dict) or sorted(value) != ["byte_order", "dtype"]:
        raise ValueError(f'expected {{"dtype": "int16", "byte_order": "little"}}, got {value!r}')
    return OutputFormat(dtype=_string(value["dtype"]), byte_order=_string(value["byte_order"]))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "name": _string, "sensor": _string, "board": _string, "note": _string,
    "full_scale_g": _number, "register_full_scale_g": _number, "sensitivity_mg_per_lsb": _number,
    "odr_hz": _number, "noise_density_ug_per_sqrt_hz": _number, "zero_g_offset_mg": _number,
    "fs_xl_code": _integer, "software_clip": _boolean,
    "allowed_odr_hz": _numbers, "output": _output, "mounting": _matrix,
}


def _check_values(p: SensorProfile) -> None:
    """Raise one ProfileError line naming every value that is out of range or inconsistent."""
    problems = _problems(p)
    if problems:
        raise ProfileError(f"sensor profile {p.name!r}: {'; '.join(problems)}")


def _problems(p: SensorProfile) -> list[str]:
    """Every inconsistency in a profile, as short phrases (empty when it is valid)."""
    allowed = ", ".join(f"{rate:g}" for rate in p.allowed_odr_hz)
    checks = [
        (p.odr_hz in p.allowed_odr_hz, f"odr_hz {p.odr_hz:g} is not allowed (allowed: {allowed})"),
        (p.sensitivity_mg_per_lsb > 0, "sensitivity_mg_per_lsb must be > 0"),
        (0 < p.full_scale_g <= p.register_full_scale_g,
         "full_scale_g must be > 0 and at most register_full_scale_g"),
        (p.software_clip == (p.full_scale_g < p.register_full_scale_g),
         "software_clip must be true exactly when full_scale_g < register_full_scale_g"),
        (_fits_16_bits(p), f"sensitivity_mg_per_lsb {p.sensitivity_mg_per_lsb:g} does not fit "
         f"register_full_scale_g {p.register_full_scale_g:g} on a 16-bit output"),
        (p.output.dtype == "int16", f"output dtype must be int16, got {p.output.dtype!r}"),
        (p.output.byte_order in _BYTE_ORDERS, f"output byte_order must be little or big, got {p.output.byte_order!r}"),
        (p.noise_density_ug_per_sqrt_hz >= 0 and p.zero_g_offset_mg >= 0,
         "noise_density_ug_per_sqrt_hz and zero_g_offset_mg must be >= 0"),
        (_is_rotation(p.mounting), "mounting must be a 3x3 rotation matrix (orthonormal, determinant +1)"),
    ]
    return [message for ok, message in checks if not ok]


def _fits_16_bits(p: SensorProfile) -> bool:
    """True when the register full scale spans about 2^15 codes (catches a swapped sensitivity)."""
    if p.sensitivity_mg_per_lsb <= 0:
        return True  # reported by its own check
    codes = p.register_full_scale_g * 1000.0 / p.sensitivity_mg_per_lsb
    return abs(codes / 2**15 - 1.0) < 0.02


def _is_rotation(mounting: tuple[tuple[float, ...], ...]) -> bool:
    """True for an orthonormal 3x3 matrix with determinant +1 (no mirror: a part is not flipped)."""
    matrix = np.array(mounting, dtype=np.float64)
    return bool(np.allclose(matrix @ matrix.T, np.eye(AXES), atol=1e-6) and np.linalg.det(matrix) > 0)
