"""What ``synth stream`` sends: samples made on the fly by a generator, or replayed from a file.

A source yields chunks of samples (n, 3) int16 raw output codes (LSB) at ``rate_hz`` samples
per second; ``sensitivity_mg_per_lsb`` converts them to mg. TensorFlow is imported only by the
synthetic source, SciPy and pandas only by the sources that need them, so that a sender starts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import numpy as np

from synth.core.errors import DataError
from synth.core.npz import load_npz
from synth.core.profiles import load_profile
from synth.models.artifact import load_generator
from synth.models.sampling import sample_windows

WINDOWS_PER_CALL = 64  # generator batch: at 26 Hz and 48-sample windows, two minutes of data per call


@dataclass
class Source:
    """Samples to send: ``chunks()`` yields (n, 3) int16 LSB; ``total`` is None when endless."""

    rate_hz: float
    sensitivity_mg_per_lsb: float
    min_lsb: int
    chunks: Callable[[], Iterator[np.ndarray]]
    total: Optional[int]
    description: str


def array_source(lsb: np.ndarray, rate_hz: float, sensitivity_mg_per_lsb: float, description: str) -> Source:
    """A finite source replaying ``lsb`` (S, 3) int16 in chunks of about a second."""
    lsb = np.ascontiguousarray(lsb, dtype=np.int16).reshape(-1, 3)
    step = max(1, int(rate_hz))
    widest = -int(np.abs(lsb.astype(np.int32)).max()) if len(lsb) else 0  # the longest text a value makes
    return Source(rate_hz, sensitivity_mg_per_lsb, widest,
                  lambda: (lsb[i : i + step] for i in range(0, len(lsb), step)), len(lsb), description)


def synthetic_source(generator_dir: Path, profile_name: str, classes: Sequence[str], seed: int) -> Source:
    """Windows from the generator at ``generator_dir`` through the profile, classes drawn at random, endless.

    The profile's data rate becomes the generator's (the windows are made at that rate).
    """
    load_profile(profile_name)  # a bad name fails before the model loads
    generator, info = load_generator(generator_dir)
    profile = load_profile(profile_name, odr_hz=info.rate_hz)
    wanted = np.array([info.class_index(name) for name in (classes or info.classes)])

    def chunks() -> Iterator[np.ndarray]:
        from synth.core.transforms import apply_profile  # SciPy

        rng = np.random.default_rng([seed, 2])
        for round_index in range(1 << 31):
            labels = rng.choice(wanted, WINDOWS_PER_CALL)
            windows_g = sample_windows(generator, labels, info.noise_dim, len(info.classes), seed=seed + (round_index << 32))
            _, lsb = apply_profile(windows_g, profile, rng)
            yield from lsb

    names = ", ".join(info.classes[i] for i in wanted)
    return Source(profile.odr_hz, profile.sensitivity_mg_per_lsb, profile.min_lsb, chunks, None,
                  f"generator {generator_dir} ({names}) through {profile.name}")


def file_source(path: Path, profile_name: str, classes: Sequence[str]) -> Source:
    """Replay a ``synth generate`` dataset folder (or its dataset.npz), a capture .csv or a capture .npz."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"--input {path} not found")
    if path.is_dir() or path.name == "dataset.npz":
        return _dataset_source(path if path.is_dir() else path.parent, classes)
    if path.suffix == ".npz":
        return _capture_npz_source(path)
    if path.suffix == ".csv":
        return _capture_csv_source(path, profile_name)
    raise DataError(f"--input {path}: expected a 'synth generate' dataset folder, a capture .csv or a capture .npz")


def _dataset_source(folder: Path, classes: Sequence[str]) -> Source:
    """The windows of a generated dataset, in file order, optionally only some classes."""
    from synth.gan.generate import load_dataset  # pydantic, SciPy and pandas (through the realism filter)

    arrays = load_dataset(folder)
    names = [str(name) for name in arrays["classes"]]
    unknown = [name for name in classes if name not in names]
    if unknown:
        raise DataError(f"class {unknown[0]!r} is not in {folder} (classes: {', '.join(names)})")
    keep = np.isin(arrays["y"], [names.index(name) for name in classes]) if classes else slice(None)
    return array_source(arrays["lsb"][keep], float(arrays["rate_hz"]), float(arrays["sensitivity_mg_per_lsb"]),
                        f"dataset {folder}")


def _capture_npz_source(path: Path) -> Source:
    """A capture .npz written by ``synth stream --source live --record`` (``lsb``, ``rate_hz``, sensitivity)."""
    try:
        arrays = load_npz(path)
        return array_source(arrays["lsb"], float(arrays["rate_hz"]), float(arrays["sensitivity_mg_per_lsb"]), f"capture {path}")
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"--input {path}: not a capture .npz (lsb, rate_hz, sensitivity_mg_per_lsb): {exc}") from None


def _capture_csv_source(path: Path, profile_name: str) -> Source:
    """A capture CSV (mg) as the profile's output codes, at the capture's rate."""
    from synth.data.csv_capture import read_capture  # pandas

    profile = load_profile(profile_name)
    capture = read_capture(path)
    lsb = np.clip(np.round(capture.samples_mg / profile.sensitivity_mg_per_lsb), profile.min_lsb, profile.max_lsb)
    return array_source(lsb.astype(np.int16), capture.rate_hz, profile.sensitivity_mg_per_lsb, f"capture {path}")
