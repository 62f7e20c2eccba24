"""Pure signal transforms on arrays of accelerometer samples.

Every function takes and returns NumPy arrays and never changes its input. Shapes: a recording
is (S, C) (S samples, C axes); a batch of windows is (N, T, C). The time axis is always the
second-to-last one, and the axes (x, y, z) the last; values are in g unless a name says otherwise.

The sensor chain, in the order ``apply_profile`` runs it:
rotate (mounting) -> zero-g offset -> noise -> clip to full scale -> quantise to int16 codes.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numpy.typing import DTypeLike
from scipy import signal

from synth.core.profiles import SensorProfile, code_range

STANDARD_GRAVITY = 9.80665  # m/s^2 per g


def resample(samples: np.ndarray, from_hz: float, to_hz: float, max_denominator: int = 1000) -> np.ndarray:
    """Resample along the time axis with a polyphase anti-aliasing FIR (scipy.signal.resample_poly).

    samples: (..., S, C) float; returns (..., S * to_hz / from_hz, C) float64. The rate ratio is
    approximated by a fraction with a denominator of at most ``max_denominator`` (100 Hz -> 26 Hz
    is exactly 13/50). A Kaiser-windowed low-pass at the lower Nyquist rate removes aliasing.
    """
    if from_hz <= 0 or to_hz <= 0:
        raise ValueError(f"rates must be positive, got {from_hz} and {to_hz}")
    ratio = Fraction(to_hz / from_hz).limit_denominator(max_denominator)
    if ratio == 1:
        return np.asarray(samples, dtype=np.float64).copy()
    return signal.resample_poly(samples, ratio.numerator, ratio.denominator, axis=-2)


def ms2_to_g(values: np.ndarray) -> np.ndarray:
    """Convert m/s^2 to g (1 g = 9.80665 m/s^2)."""
    return np.asarray(values) / STANDARD_GRAVITY


def g_to_ms2(values: np.ndarray) -> np.ndarray:
    """Convert g to m/s^2 (1 g = 9.80665 m/s^2)."""
    return np.asarray(values) * STANDARD_GRAVITY


def g_to_mg(values: np.ndarray) -> np.ndarray:
    """Convert g to mg."""
    return np.asarray(values) * 1000.0


def mg_to_g(values: np.ndarray) -> np.ndarray:
    """Convert mg to g."""
    return np.asarray(values) / 1000.0


def lsb_to_mg(lsb: np.ndarray, sensitivity_mg_per_lsb: float, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Convert output codes (any int dtype) to mg: code * sensitivity, as ``dtype``."""
    return np.asarray(lsb, dtype=dtype) * np.dtype(dtype).type(sensitivity_mg_per_lsb)


def lsb_to_g(lsb: np.ndarray, sensitivity_mg_per_lsb: float, dtype: DTypeLike = np.float64) -> np.ndarray:
    """Convert output codes (any int dtype) to g: code * sensitivity / 1000, as ``dtype``.

    Every int16 code is exact in float32, so float32 results still quantise back to the same code.
    """
    return lsb_to_mg(lsb, sensitivity_mg_per_lsb / 1000.0, dtype)


def rotate(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Express (..., 3) vectors in another frame: each sample v becomes matrix @ v.

    matrix: (3, 3), e.g. a profile's mounting rotation from the body frame to the sensor frame.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (3, 3):
        raise ValueError(f"rotation matrix must be 3x3, got shape {matrix.shape}")
    x = np.asarray(x)
    if np.array_equal(matrix, np.eye(3)):
        return x  # the usual mounting: nothing to do, and no copy of a large batch
    # samples are row vectors, so v' = M v becomes x' = x M^T; one (S, 3) x (3, 3) product is a
    # single BLAS call, while broadcasting over (N, T, 3) would run N tiny products
    flat = x.reshape(-1, 3) @ matrix.T.astype(np.result_type(x, np.float32))
    return flat.reshape(x.shape)


def random_orientations(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Windows (N, T, 3) each turned by its own uniformly random rotation (Haar measure on SO(3)).

    The same motion with the sensor held another way: gravity and motion turn together, so the
    window stays physically possible. Returns float32 (N, T, 3).
    """
    from scipy.spatial.transform import Rotation

    matrices = Rotation.random(len(x), random_state=rng).as_matrix().astype(np.float32)  # (N, 3, 3)
    return np.einsum("ntj,nij->nti", np.asarray(x, np.float32), matrices)


def add_gravity(x: np.ndarray, direction: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Add 1 g along ``direction`` (normalised to a unit vector) to every (..., 3) sample in g.

    The default (0, 0, 1) is a device lying flat, face up: an accelerometer at rest reads +1 g on z.
    """
    unit = np.asarray(direction, dtype=np.float64)
    norm = np.linalg.norm(unit)
    if unit.shape != (3,) or norm == 0:
        raise ValueError(f"gravity direction must be a non-zero 3-vector, got {direction!r}")
    return np.asarray(x) + (unit / norm).astype(np.result_type(x, np.float32))


def noise_sigma_g(noise_density_ug_per_sqrt_hz: float, odr_hz: float) -> float:
    """Standard deviation in g of white noise with this density, sampled at ``odr_hz``.

    Assumes the noise is white and the sensor's bandwidth is the Nyquist band, ODR / 2 (the
    LSM6DSL's default digital filter path): sigma = density * sqrt(ODR / 2). A narrower low-pass
    filter (e.g. ODR / 4 with LPF2) would lower it by sqrt(2).
    """
    return noise_density_ug_per_sqrt_hz * 1e-6 * float(np.sqrt(odr_hz / 2.0))


def add_noise(
    x: np.ndarray, noise_density_ug_per_sqrt_hz: float, odr_hz: float, rng: np.random.Generator
) -> np.ndarray:
    """Add independent Gaussian white noise (sigma from ``noise_sigma_g``) to every value of x in g."""
    x = np.asarray(x)
    sigma = noise_sigma_g(noise_density_ug_per_sqrt_hz, odr_hz)
    # float32 draws are about twice as fast and far finer than one output code
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    noise *= sigma
    return x + noise


def add_zero_g_offset(x: np.ndarray, max_offset_mg: float, rng: np.random.Generator) -> np.ndarray:
    """Add one constant offset per window and axis, uniform in +-max_offset_mg, to x (..., T, 3) in g.

    A part's zero-g offset does not change within a few seconds, so each window gets a single
    draw per axis (shape (..., 1, 3)) rather than a new value per sample.
    """
    x = np.asarray(x)
    shape = x.shape[:-2] + (1, x.shape[-1])
    offset = mg_to_g(rng.uniform(-max_offset_mg, max_offset_mg, size=shape))
    return x + offset.astype(np.result_type(x, np.float32))


def clip_full_scale(x: np.ndarray, full_scale_g: float) -> np.ndarray:
    """Saturate values in g to +-full_scale_g, like a sensor at the end of its range."""
    return np.clip(x, -full_scale_g, full_scale_g)


def quantise_lsb(x_g: np.ndarray, sensitivity_mg_per_lsb: float, full_scale_g: float) -> np.ndarray:
    """Convert values in g to int16 output codes: round(x / sensitivity), saturated.

    Rounds to the nearest code, ties to even (np.rint), so +-0.5 LSB errors do not bias the mean.
    Codes saturate at the full-scale code and at the int16 range (see profiles.code_range).
    NaN is rejected: it has no code.
    """
    x_g = np.asarray(x_g)
    if np.isnan(x_g).any():
        raise ValueError("cannot quantise NaN values")
    low, high = code_range(sensitivity_mg_per_lsb, full_scale_g)
    # computed in the input's precision: float32 is off by < 0.01 LSB even at code 32767
    codes = x_g * np.result_type(x_g, np.float32).type(1000.0 / sensitivity_mg_per_lsb)
    np.rint(codes, out=codes)
    np.clip(codes, low, high, out=codes)
    return codes.astype(np.int16)


def apply_profile(
    x_g: np.ndarray,
    profile: SensorProfile,
    rng: np.random.Generator | None = None,
    add_noise: bool = False,
    add_offset: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Make body-frame windows (..., T, 3) in g look like the profile's sensor output.

    Returns (x_g float32: the quantised values in g, lsb int16: the output codes), both (..., T, 3).
    Order and why: rotate first, because mounting changes which sensor axis feels the motion;
    then the zero-g offset and the noise, because they arise in the sensor's own axes and are
    present when its output saturates; then clip (a software clip such as 6 g cuts exactly at
    the full scale); quantise last, as the output register does. Gravity is not added: the
    input is expected to contain it, as real recordings do. ``rng`` is needed only for noise
    or offset.
    """
    x = rotate(x_g, profile.mounting_matrix)
    if add_offset:
        x = add_zero_g_offset(x, profile.zero_g_offset_mg, _need(rng))
    if add_noise:
        x = _noise(x, profile.noise_density_ug_per_sqrt_hz, profile.odr_hz, _need(rng))
    x = clip_full_scale(x, profile.full_scale_g)
    lsb = quantise_lsb(x, profile.sensitivity_mg_per_lsb, profile.full_scale_g)
    return lsb_to_g(lsb, profile.sensitivity_mg_per_lsb, np.float32), lsb


_noise = add_noise  # apply_profile's ``add_noise`` flag hides the function inside it


def _need(rng: np.random.Generator | None) -> np.random.Generator:
    """The generator, or a ValueError when a random step was asked for without one."""
    if rng is None:
        raise ValueError("apply_profile needs an rng (np.random.default_rng(seed)) for noise or offset")
    return rng
