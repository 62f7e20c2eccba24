"""Seeded sensor faults injected into real accelerometer windows, for testing anomaly detectors.

Every fault is a pure function ``(x_g, rng, params, full_scale_g) -> x_g`` on a batch of windows
(N, T, 3) float32 in g. It returns a new float32 array, never changes its input, and keeps every
value it writes within +-full_scale_g (the sensor cannot report more). Its parameters are a small
frozen dataclass; the defaults make a fault plainly anomalous on ordinary motion data (a few g at
most) without being absurd. The faults, in ``FAULTS`` order, and the failures they model:

- ``stuck`` (``StuckParams``): one random axis per window holds the value it had at a random onset
  sample until the end of the window; the other axes keep updating. A sensor channel that has
  stopped updating: a hung data-ready flag, firmware re-reading a stale output register, or a
  stuck MEMS proof mass. ``min_fraction`` = 0.5: at least half of the window is stuck (and always
  at least one sample after the onset).
- ``spikes`` (``SpikesParams``): ``count`` = 3 distinct samples on one random axis jump by
  +-``amplitude_g`` = 2.0 g (random sign), clipped to full scale. Single-sample glitches: a
  corrupted bus read, ESD or supply noise. A spike that would be clipped points away from the
  nearer rail instead, so each one moves its sample by at least min(amplitude_g, full_scale_g).
- ``saturation`` (``SaturationParams``): the whole window multiplied by ``gain`` = 3.0, then
  clipped at +-full_scale_g. A wrong full-scale or sensitivity setting (e.g. +-2 g data read with
  the +-8 g scale factor) or a mechanical overload; with gravity (1 g) on some axis the default
  saturates a +-2 g sensor. Draws nothing from ``rng``.
- ``bias_drift`` (``BiasDriftParams``): a linear offset ramp on one random axis from 0 at the
  first sample to +-``drift_g`` = 0.5 g (random sign) at the last, clipped to full scale.
  Zero-g offset drift with temperature or a shifting mounting, sped up to one window.
- ``dropout`` (``DropoutParams``): a contiguous block of ``fraction`` = 0.3 of the window, at a
  random start, reads 0 g on all three axes: what ST's drivers return when an I2C/SPI read fails.
- ``noise_burst`` (``NoiseBurstParams``): a contiguous block of ``fraction`` = 0.3 of the window
  gets independent Gaussian noise of ``std_g`` = 0.3 g on all three axes, clipped to full scale.
  Electromagnetic interference, a loose mounting rattling, or a failing supply.

Block and stuck lengths are round(fraction x T) samples (at least 1). ``inject_faults`` makes one
faulted copy of every window per fault, each fault drawing from its own random stream derived
from (seed, its index in ``FAULTS``): the result is byte-identical for the same inputs, and adding
or removing a fault does not change the others.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, ClassVar, Iterable, Mapping

import numpy as np

from synth.core.errors import ConfigError, DataError
from synth.core.rows import Rows, concat_rows, make_rows

AXIS_NAMES = ("x", "y", "z")
DEFAULT_GROUP = "windows"  # the group of every faulted row when no per-window groups are given
# a fixed word mixed into every fault's seed, so fault streams do not repeat the streams other
# stages draw from np.random.default_rng([seed, small index])
_STREAM_TAG = 0x666C74


def _param(default: float, low: float, high: float, unit: str, integer: bool = False) -> Any:
    """A dataclass field with its allowed range and unit: (low, high] for numbers, [low, high] for integers."""
    return field(default=default, metadata={"low": low, "high": high, "unit": unit, "integer": integer})


class FaultParams:
    """Base of every fault's params: checks each field against its declared range when built."""

    fault: ClassVar[str]

    def __post_init__(self) -> None:
        for item in fields(self):
            _check_value(self.fault, item.name, getattr(self, item.name), item.metadata)


def _check_value(fault: str, name: str, value: Any, limits: Mapping[str, Any]) -> None:
    """ConfigError unless ``value`` is a number (an integer when required) within its range."""
    low, high, integer = limits["low"], limits["high"], limits["integer"]
    kind = numbers.Integral if integer else numbers.Real
    # bool is an int subclass, but `count: true` in a config is a mistake, not 1
    ok = isinstance(value, kind) and not isinstance(value, bool)
    ok = ok and (low <= value <= high if integer else low < value <= high)
    if not ok:
        allowed = f"an integer in [{low}, {high}]" if integer else f"a number in ({low:g}, {high:g}]"
        raise ConfigError(f"fault {fault!r}: {name} must be {allowed} ({limits['unit']}), got {value!r}")


@dataclass(frozen=True)
class StuckParams(FaultParams):
    """``stuck``: min_fraction is the smallest part of the window (0 < f <= 1) an axis is stuck for."""

    fault: ClassVar[str] = "stuck"
    min_fraction: float = _param(0.5, 0.0, 1.0, "fraction of the window")


@dataclass(frozen=True)
class SpikesParams(FaultParams):
    """``spikes``: count distinct samples (1..10000, at most T) jump by +-amplitude_g g (0 < a <= 32)."""

    fault: ClassVar[str] = "spikes"
    count: int = _param(3, 1, 10_000, "samples per window", integer=True)
    amplitude_g: float = _param(2.0, 0.0, 32.0, "g")


@dataclass(frozen=True)
class SaturationParams(FaultParams):
    """``saturation``: the window is multiplied by gain (1 < gain <= 100) before clipping."""

    fault: ClassVar[str] = "saturation"
    gain: float = _param(3.0, 1.0, 100.0, "times the signal")


@dataclass(frozen=True)
class BiasDriftParams(FaultParams):
    """``bias_drift``: the offset reaches drift_g g (0 < d <= 32) at the window's last sample."""

    fault: ClassVar[str] = "bias_drift"
    drift_g: float = _param(0.5, 0.0, 32.0, "g")


@dataclass(frozen=True)
class DropoutParams(FaultParams):
    """``dropout``: fraction of the window (0 < f <= 1) reads zero on all axes."""

    fault: ClassVar[str] = "dropout"
    fraction: float = _param(0.3, 0.0, 1.0, "fraction of the window")


@dataclass(frozen=True)
class NoiseBurstParams(FaultParams):
    """``noise_burst``: fraction of the window (0 < f <= 1) gets noise of std_g g (0 < s <= 32)."""

    fault: ClassVar[str] = "noise_burst"
    fraction: float = _param(0.3, 0.0, 1.0, "fraction of the window")
    std_g: float = _param(0.3, 0.0, 32.0, "g")


# --- shared pieces -------------------------------------------------------------------------


def _checked_windows(x_g: np.ndarray, full_scale_g: float) -> np.ndarray:
    """x_g as (N, T, 3) float32 (not copied: callers build new arrays); errors for bad shapes or scale."""
    x = np.asarray(x_g, dtype=np.float32)
    if x.ndim != 3 or x.shape[2] != 3:
        raise DataError(f"faults need windows of shape (N, T, 3) in g, got {x.shape}")
    if x.shape[1] < 2:
        raise DataError(f"faults need windows of at least 2 samples, got {x.shape[1]}")
    if isinstance(full_scale_g, bool) or not isinstance(full_scale_g, numbers.Real) or not full_scale_g > 0:
        raise ConfigError(f"full_scale_g must be a number > 0 (g), got {full_scale_g!r}")
    return x


def _block_length(fraction: float, t: int) -> int:
    """Samples in a block covering ``fraction`` of a T-sample window: round(fraction x T), at least 1."""
    return min(t, max(1, round(fraction * t)))


def _block_mask(starts: np.ndarray, stops: np.ndarray, t: int) -> np.ndarray:
    """(N, T) bool: True for samples starts[i] <= s < stops[i] of window i."""
    samples = np.arange(t)[None, :]
    return (samples >= starts[:, None]) & (samples < stops[:, None])


def _random_block(rng: np.random.Generator, n: int, t: int, length: int) -> np.ndarray:
    """(N, T) bool: one contiguous block of ``length`` samples per window, at a uniform random start."""
    starts = rng.integers(0, t - length + 1, size=n)
    return _block_mask(starts, starts + length, t)


def _random_axes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(N,) int: one uniformly chosen axis (0, 1, 2 = x, y, z) per window."""
    return rng.integers(0, 3, size=n)


def _random_signs(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """+1.0 or -1.0 float32 with equal probability, of the given shape."""
    return np.where(rng.random(shape) < 0.5, np.float32(-1.0), np.float32(1.0))


def _axis_column(x: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """(N, T) copy of axis[i] of window i, from x (N, T, 3)."""
    return x[np.arange(len(x)), :, axis]


def _with_axis(x: np.ndarray, axis: np.ndarray, column: np.ndarray) -> np.ndarray:
    """A copy of x (N, T, 3) with axis[i] of window i replaced by column[i] (N, T)."""
    out = x.copy()
    out[np.arange(len(x)), :, axis] = column
    return out


def _clip(values: np.ndarray, full_scale_g: float) -> np.ndarray:
    """Values saturated to +-full_scale_g, as float32."""
    return np.clip(values, -full_scale_g, full_scale_g).astype(np.float32, copy=False)


# --- the faults ----------------------------------------------------------------------------


def stuck(x_g: np.ndarray, rng: np.random.Generator, params: StuckParams, full_scale_g: float) -> np.ndarray:
    """One random axis per window holds its onset-sample value to the end; (N, T, 3) float32 g in and out.

    The onset is uniform over the samples that leave at least round(min_fraction x T) samples
    stuck, and at least 2 (the onset sample itself is unchanged, so one more must follow it).
    """
    x = _checked_windows(x_g, full_scale_g)
    n, t = x.shape[:2]
    axis = _random_axes(rng, n)
    last_onset = min(t - _block_length(params.min_fraction, t), t - 2)
    onset = rng.integers(0, last_onset + 1, size=n)
    column = _axis_column(x, axis)
    held = column[np.arange(n), onset][:, None]
    stuck_part = _block_mask(onset, np.full(n, t), t)
    return _with_axis(x, axis, np.where(stuck_part, held, column))


def spikes(x_g: np.ndarray, rng: np.random.Generator, params: SpikesParams, full_scale_g: float) -> np.ndarray:
    """``count`` distinct samples on one random axis per window jump by +-amplitude_g; (N, T, 3) float32 g.

    Results are clipped to +-full_scale_g; a spike that would be clipped points away from the
    nearer rail instead, so every spiked sample changes (see the module docstring).
    """
    x = _checked_windows(x_g, full_scale_g)
    n, t = x.shape[:2]
    if params.count > t:
        raise ConfigError(f"fault 'spikes': count {params.count} is more than the {t} samples of a window")
    axis = _random_axes(rng, n)
    at = np.argsort(rng.random((n, t)), axis=1)[:, : params.count]  # distinct samples per window
    sign = _random_signs(rng, (n, params.count))
    rows = np.arange(n)[:, None]
    column = _axis_column(x, axis)
    before = column[rows, at]
    away = np.where(before > 0, np.float32(-1.0), np.float32(1.0))
    sign = np.where(sign * before > full_scale_g - params.amplitude_g, away, sign)
    column[rows, at] = _clip(before + sign * np.float32(params.amplitude_g), full_scale_g)
    return _with_axis(x, axis, column)


def saturation(x_g: np.ndarray, rng: np.random.Generator, params: SaturationParams, full_scale_g: float) -> np.ndarray:
    """Every window multiplied by ``gain`` and clipped to +-full_scale_g; (N, T, 3) float32 g in and out.

    Deterministic: ``rng`` is accepted for the common fault signature and not drawn from.
    """
    x = _checked_windows(x_g, full_scale_g)
    return _clip(x * np.float32(params.gain), full_scale_g)


def bias_drift(x_g: np.ndarray, rng: np.random.Generator, params: BiasDriftParams, full_scale_g: float) -> np.ndarray:
    """A 0 -> +-drift_g linear offset ramp on one random axis per window; (N, T, 3) float32 g in and out.

    The ramp is 0 at the first sample and exactly +-drift_g at the last; the axis is clipped to
    +-full_scale_g afterwards.
    """
    x = _checked_windows(x_g, full_scale_g)
    n, t = x.shape[:2]
    axis = _random_axes(rng, n)
    end = _random_signs(rng, n) * np.float32(params.drift_g)
    ramp = np.linspace(0.0, 1.0, t, dtype=np.float32)
    column = _axis_column(x, axis) + end[:, None] * ramp[None, :]
    return _with_axis(x, axis, _clip(column, full_scale_g))


def dropout(x_g: np.ndarray, rng: np.random.Generator, params: DropoutParams, full_scale_g: float) -> np.ndarray:
    """A random contiguous block of round(fraction x T) samples reads 0 g on all axes; (N, T, 3) float32 g."""
    x = _checked_windows(x_g, full_scale_g)
    n, t = x.shape[:2]
    block = _random_block(rng, n, t, _block_length(params.fraction, t))
    out = x.copy()
    out[block] = 0.0
    return out


def noise_burst(x_g: np.ndarray, rng: np.random.Generator, params: NoiseBurstParams, full_scale_g: float) -> np.ndarray:
    """Gaussian noise of std_g g on all axes of a random contiguous block; (N, T, 3) float32 g in and out.

    The block has round(fraction x T) samples; the noisy values are clipped to +-full_scale_g.
    """
    x = _checked_windows(x_g, full_scale_g)
    n, t = x.shape[:2]
    block = _random_block(rng, n, t, _block_length(params.fraction, t))
    # noise only for the block's samples: a fraction of the draws a full-size array would need
    noise = rng.standard_normal((int(block.sum()), 3), dtype=np.float32) * np.float32(params.std_g)
    out = x.copy()
    out[block] = _clip(x[block] + noise, full_scale_g)
    return out


FaultFunction = Callable[[np.ndarray, np.random.Generator, Any, float], np.ndarray]

_REGISTRY: dict[str, tuple[type, FaultFunction]] = {
    params.fault: (params, function)
    for params, function in (
        (StuckParams, stuck), (SpikesParams, spikes), (SaturationParams, saturation),
        (BiasDriftParams, bias_drift), (DropoutParams, dropout), (NoiseBurstParams, noise_burst),
    )
}
# new faults go at the end: a fault's index seeds its stream, so inserting one would reseed the rest
FAULTS: tuple[str, ...] = tuple(_REGISTRY)


# --- building params and injecting ---------------------------------------------------------


def _check_fault_name(name: Any) -> str:
    """``name`` if it is one of FAULTS, else ConfigError listing them."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ConfigError(f"unknown fault {name!r} (allowed: {', '.join(FAULTS)})")
    return name


def fault_params(name: str, overrides: Mapping[str, Any] | None = None) -> FaultParams:
    """The params of fault ``name``: its defaults with ``overrides`` (parameter -> value) applied.

    ConfigError for an unknown fault, an unknown parameter (the message lists the allowed ones)
    or a value out of its range.
    """
    params_class = _REGISTRY[_check_fault_name(name)][0]
    allowed = [item.name for item in fields(params_class)]
    unknown = sorted(set(overrides or {}) - set(allowed))
    if unknown:
        raise ConfigError(f"fault {name!r} has no parameter {', '.join(map(str, unknown))} "
                          f"(allowed: {', '.join(allowed)})")
    return replace(params_class(), **dict(overrides or {}))


def _check_names(names: str | Iterable[str]) -> tuple[str, ...]:
    """The fault names as a tuple (a single string is one name); ConfigError if empty, unknown or repeated."""
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise ConfigError(f"no faults to inject (allowed: {', '.join(FAULTS)})")
    for name in names:
        _check_fault_name(name)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"faults listed more than once: {', '.join(repeated)} (each gives the same rows every time)")
    return names


def _check_overrides(params: Mapping[str, Mapping[str, Any]] | None, names: tuple[str, ...]) -> dict[str, FaultParams]:
    """Params for each of ``names``, built from the per-fault overrides in ``params``."""
    params = dict(params or {})
    stray = sorted(set(params) - set(names), key=str)
    if stray:
        raise ConfigError(f"parameters given for faults not injected: {', '.join(map(str, stray))} "
                          f"(injected: {', '.join(names)})")
    return {name: fault_params(name, params.get(name)) for name in names}


def _check_seed(seed: Any) -> int:
    """``seed`` as an int; ConfigError unless it is a non-negative integer (what SeedSequence takes)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _check_groups(group: Any, n: int) -> Any:
    """The per-row group: DEFAULT_GROUP for None, a single name, or an (N,) array of names."""
    if group is None:
        return DEFAULT_GROUP
    if isinstance(group, str):
        return group
    group = np.asarray(group)
    if group.shape != (n,):
        raise DataError(f"groups must have shape ({n},), one per window, got {group.shape}")
    return group


def fault_stream(seed: int, name: str) -> np.random.Generator:
    """The random stream of fault ``name``: derived from (seed, its index in FAULTS) only."""
    return np.random.default_rng([_check_seed(seed), _STREAM_TAG, FAULTS.index(_check_fault_name(name))])


def inject_faults(
    x_g: np.ndarray,
    names: str | Iterable[str],
    seed: int,
    full_scale_g: float,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    group: Any = None,
) -> Rows:
    """One faulted copy of every window per fault in ``names``, as anomalous Rows.

    x_g: (N, T, 3) float32 in g (not changed); names: fault names from FAULTS, in the order their
    rows appear; seed: integer >= 0; full_scale_g: the sensor's range in g; params: per-fault
    overrides, e.g. {"spikes": {"count": 5}}; group: (N,) per-window groups or None for
    "windows". Returns Rows with x (len(names) x N, T, 3) float32, anomalous True, kind = the
    fault name, group repeated per fault and feature_names ("x", "y", "z").
    """
    x = _checked_windows(x_g, full_scale_g)
    names = _check_names(names)
    built = _check_overrides(params, names)
    groups = _check_groups(group, len(x))
    seed = _check_seed(seed)
    parts = []
    for name in names:
        faulted = _REGISTRY[name][1](x, fault_stream(seed, name), built[name], full_scale_g)
        parts.append(make_rows(faulted, True, name, groups, AXIS_NAMES))
    return concat_rows(parts)
