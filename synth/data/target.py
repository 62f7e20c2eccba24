"""The user's own target-sensor recordings for fine-tuning: which ones train, which stay held out.

A fine-tuning run adapts a generator to a sensor from a few of the user's recordings. Given the
target windows (one group per recording) and the held-out recordings (``data.test_groups``),
this module picks the recordings that fine-tuning may see:
- ``per_class = K``: K recordings of each class, drawn with the run's seed from the recordings
  that are not held out (K = 0: none; None: every one of them);
- or an explicit list of recordings, which may not name a held-out one.
A recording's class is the class most of its windows have. Held-out recordings are never
returned, so an evaluation on them stays honest.

Captures (CSV files from ``synth stream --source live``) record their rate and sensor:
``check_captures`` refuses captures made at another data rate than the profile, or at a smaller
full scale (their clipping would be learned as the sensor's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from synth.core.errors import ConfigError, DataError
from synth.core.profiles import load_profile
from synth.core.windows import Windows
from synth.data.csv_capture import read_capture, read_metadata


@dataclass(frozen=True)
class TargetSelection:
    """The target windows fine-tuning may use.

    windows: (N, T, 3) windows of the chosen recordings only; recordings: {class: [recording]}
    chosen per class (sorted); held_out: the recordings kept for evaluation (never in windows);
    per_class: K when drawn per class (None: every training recording, or a list named them).
    """

    windows: Windows
    recordings: dict[str, list[str]]
    held_out: list[str]
    per_class: Optional[int] = None


def recording_classes(windows: Windows) -> dict[str, str]:
    """{recording: the class most of its windows have}, for every recording in ``windows``."""
    out = {}
    for group in np.unique(windows.groups):
        counts = np.bincount(windows.y[windows.groups == group], minlength=len(windows.classes))
        out[str(group)] = windows.classes[int(counts.argmax())]
    return out


def select_recordings(windows: Windows, held_out: Sequence[str], per_class: Optional[int],
                      explicit: Optional[Sequence[str]], seed: int) -> TargetSelection:
    """The recordings of ``windows`` that fine-tuning may use (see the module docstring).

    Raises ConfigError for a held-out or unknown recording in ``explicit``, for a K larger
    than the training recordings a class has, and when both K and a list are given.
    """
    if explicit is not None and per_class is not None:
        raise ConfigError("set finetune.recordings_per_class or finetune.recordings, not both")
    owners = recording_classes(windows)
    held = sorted(set(held_out) & set(owners))
    available = {name: sorted(r for r, c in owners.items() if c == name and r not in held) for name in windows.classes}
    if explicit is not None:
        chosen = _explicit(explicit, owners, held)
    else:
        chosen = _draw(available, per_class, seed, held)
    picked = {name: sorted(r for r in chosen if owners[r] == name) for name in windows.classes}
    subset = windows.subset(np.isin(windows.groups, np.asarray(sorted(chosen), dtype=str)))
    return TargetSelection(subset, picked, held, per_class if explicit is None else None)


def _explicit(names: Sequence[str], owners: dict[str, str], held: Sequence[str]) -> list[str]:
    """The recordings a user listed, checked against the data and the held-out set."""
    unknown = [n for n in names if n not in owners]
    if unknown:
        raise ConfigError(f"finetune.recordings names {', '.join(unknown)}, not among the target recordings "
                          f"(e.g. {', '.join(sorted(owners)[:3])})")
    clash = [n for n in names if n in held]
    if clash:
        raise ConfigError(f"finetune.recordings names held-out recording(s) {', '.join(clash)}: "
                          "a recording in data.test_groups is for evaluation only")
    return list(dict.fromkeys(names))


def _draw(available: dict[str, list[str]], per_class: Optional[int], seed: int, held: Sequence[str]) -> list[str]:
    """K recordings per class drawn with ``seed`` (all of them when K is None)."""
    if per_class is None:
        return [r for names in available.values() for r in names]
    short = {name: len(names) for name, names in available.items() if len(names) < per_class}
    if short:
        what = ", ".join(f"{name} {count}" for name, count in short.items())
        raise ConfigError(f"finetune.recordings_per_class is {per_class} but the target has fewer training recordings "
                          f"of {what} ({len(held)} held out in data.test_groups)")
    rng = np.random.default_rng([seed, 14])
    return [r for names in available.values() for r in rng.choice(names, size=per_class, replace=False).tolist()]


@dataclass(frozen=True)
class CaptureSettings:
    """How one capture file was made: rate_hz samples per second, and the sensor profile its
    ``sensor`` comment names (None when it names none)."""

    path: Path
    rate_hz: float
    sensor: Optional[str]


def read_capture_settings(files: Sequence[Path]) -> tuple[CaptureSettings, ...]:
    """The settings of every capture, read once (the rate from its comment or its time steps)."""
    return tuple(CaptureSettings(Path(f), read_capture(f).rate_hz, read_metadata(f).get("sensor")) for f in files)


def check_captures(captures: Sequence[CaptureSettings], rate_hz: float, full_scale_g: float, profile_name: str) -> None:
    """DataError unless every capture was made at ``rate_hz`` and a full scale of at least ``full_scale_g``.

    The full scale is that of the sensor profile a capture names (captures naming none are taken
    as made with the target profile).
    """
    for capture in captures:
        if not np.isclose(capture.rate_hz, rate_hz, rtol=1e-3):
            raise DataError(f"{capture.path}: captured at {capture.rate_hz:g} Hz but {profile_name} outputs {rate_hz:g} Hz: "
                            f"record the target at {rate_hz:g} Hz")
        if capture.sensor is None:
            continue
        captured = load_profile(capture.sensor)
        if captured.full_scale_g < full_scale_g:
            raise DataError(f"{capture.path}: captured at +-{captured.full_scale_g:g} g ({capture.sensor}), below "
                            f"{profile_name}'s +-{full_scale_g:g} g: its clipping would be learned; "
                            f"record at +-{full_scale_g:g} g or more")
