"""The package a non-editable install gets: its package list, the shipped folders, optional extras."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from synth.core.errors import ConfigError
from synth.export import arena
from synth.export.micro_runtime import micro_runtime
from synth.core.shipped import SHIPPED_FOLDERS, shipped_folder

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_the_package_list_names_every_python_package_and_the_shipped_folders():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "synth").rglob("__init__.py")}
    listed = set(_setuptools()["packages"])
    assert listed == on_disk | {f"synth.{name}" for name in SHIPPED_FOLDERS}
    assert _setuptools()["package-dir"] == {f"synth.{name}": name for name in SHIPPED_FOLDERS}


def test_a_checkout_reads_its_own_top_level_folders():
    assert shipped_folder("sensor_profiles") == ROOT / "sensor_profiles"
    assert shipped_folder("firmware_export") == ROOT / "firmware_export"
    with pytest.raises(ValueError):
        shipped_folder("configs")


def test_the_wheel_carries_every_profile_and_firmware_file_inside_the_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("synth-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in SHIPPED_FOLDERS:
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        assert files
        missing = [str(p.relative_to(ROOT)) for p in files if f"synth/{p.relative_to(ROOT).as_posix()}" not in names]
        assert not missing, f"not in the wheel: {missing}"


def test_without_the_export_extra_the_microcontroller_interpreter_is_named_in_one_line(monkeypatch):
    for name in ["tflite_micro", *[n for n in sys.modules if n.startswith("tflite_micro.")]]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it (or any part of it) now fails as when it is absent
    with pytest.raises(ConfigError, match=r"pip install 'synth\[export\]'") as error:
        micro_runtime()
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="tflite-micro"):
        arena.probe_arena(b"not a model")


def test_without_the_simulation_extra_flowers_engine_is_named_in_one_line(monkeypatch):
    from synth.federated import simulate

    real_find_spec = simulate.importlib.util.find_spec
    monkeypatch.setattr(simulate.importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find_spec(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'synth\[simulation\]'") as error:
        simulate.run_engine(None, None, 2)
    assert "\n" not in str(error.value)
