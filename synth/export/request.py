"""What ``synth export`` may be asked for, checked before TensorFlow loads (no heavy imports here)."""

from __future__ import annotations

from pathlib import Path

from synth.core.atomic import check_directory_target
from synth.core.errors import ConfigError, ModelError

KINDS = ("generator", "classifier", "autoencoder")
TARGETS = ("stm32", "pi")


def check_request(kind: str, source: str | Path, target: str, out: str | Path, force: bool = False) -> None:
    """Refuse an unknown kind or target, a missing source or an unusable ``out`` (cheap: before TensorFlow loads)."""
    if kind not in KINDS:
        raise ModelError(f"unknown model kind {kind!r} (allowed: {', '.join(KINDS)})")
    if target not in TARGETS:
        raise ConfigError(f"unknown target {target!r} (allowed: {', '.join(TARGETS)})")
    if not Path(source).exists():
        raise ModelError(f"{kind} not found: {source}")
    check_directory_target(out, force)
