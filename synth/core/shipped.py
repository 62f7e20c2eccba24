"""Folders synth ships beside its code: sensor_profiles/ and firmware_export/.

In the repository they sit at the top level, beside synth/. A wheel (``pip install .``, what a
Raspberry Pi gets) carries them inside the package, as synth/sensor_profiles and
synth/firmware_export (pyproject.toml maps them there), so an installed synth finds them through
importlib.resources wherever it runs; an editable install reads the repository's own folders.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SHIPPED_FOLDERS = ("sensor_profiles", "firmware_export")


def shipped_folder(name: str) -> Path:
    """The folder ``name`` (one of SHIPPED_FOLDERS): inside the installed package, else beside synth/."""
    if name not in SHIPPED_FOLDERS:
        raise ValueError(f"{name!r} is not one of the shipped folders {SHIPPED_FOLDERS}")
    packaged = Path(str(files("synth").joinpath(name)))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name
