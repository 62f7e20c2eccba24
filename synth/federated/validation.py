"""Checks on every model received from another node, before any of it is used.

A received model must have exactly the expected array names, each with the wire format's dtype
and the expected shape, every value finite, and the whole within an L2-norm bound (a blown-up or
poisoned model is refused rather than averaged or sampled). The sender's description must name
only classes of the federation. Anything else raises Rejected with a reason that fits one log line.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from flwr.app import ArrayRecord

from synth.federated.wire import SCALE_SUFFIX, Holding, decoded_weights


class Rejected(Exception):
    """A received model or description that must not be used; the message says why."""


def checked_weights(
    record: ArrayRecord, expected: dict[str, tuple[int, ...]], wire_dtype: str, max_norm: float
) -> dict[str, np.ndarray]:
    """Named float32 weights decoded from ``record`` once every check passes; Rejected otherwise.

    ``expected`` maps each weight name to its shape (the receiver's own architecture).
    """
    wanted = _wire_shapes(expected, wire_dtype)
    _check_names(set(record.keys()), set(wanted))
    for name, (dtype, shape) in wanted.items():
        try:
            value = record[name].numpy()
        except Exception as exc:  # a malformed payload: whatever numpy says, it is the sender's fault
            raise Rejected(f"array {name!r} cannot be read: {exc}") from None
        if value.dtype != np.dtype(dtype) or tuple(value.shape) != shape:
            raise Rejected(f"array {name!r} is {value.dtype}{list(value.shape)}, expected {dtype}{list(shape)}")
        if not np.all(np.isfinite(value)):
            raise Rejected(f"array {name!r} holds non-finite values")
    weights = decoded_weights(record)
    norm = float(np.sqrt(sum(np.sum(np.square(w, dtype=np.float64)) for w in weights.values())))
    if not norm <= max_norm:
        raise Rejected(f"weight norm {norm:.4g} exceeds the bound {max_norm:.4g}")
    return weights


def check_holding(holding: Holding, federation_classes: Sequence[str]) -> None:
    """Rejected when the sender claims classes the federation does not have."""
    unknown = [c for c in holding.counts if c not in federation_classes]
    if unknown:
        raise Rejected(f"it claims class {unknown[0]!r}, which is not one of {', '.join(federation_classes)}")


def _wire_shapes(expected: dict[str, tuple[int, ...]], wire_dtype: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Name -> (dtype, shape) of every array a well-formed record in ``wire_dtype`` carries."""
    if wire_dtype != "int8":
        return {name: (wire_dtype, tuple(shape)) for name, shape in expected.items()}
    wanted = {name: ("int8", tuple(shape)) for name, shape in expected.items()}
    wanted.update({name + SCALE_SUFFIX: ("float32", (1,)) for name in expected})
    return wanted


def _check_names(got: set[str], wanted: set[str]) -> None:
    """Rejected naming the first unexpected or missing array."""
    extra, missing = sorted(got - wanted), sorted(wanted - got)
    if extra:
        raise Rejected(f"unexpected array {extra[0]!r} ({len(extra)} unexpected in all)")
    if missing:
        raise Rejected(f"missing array {missing[0]!r} ({len(missing)} missing in all)")
