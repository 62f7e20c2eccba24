"""The microcontroller interpreter: PyPI's tflite-micro, installed with the ``export`` extra."""

from __future__ import annotations

from synth.core.errors import ConfigError

MISSING = ("the microcontroller interpreter (tflite-micro) is not installed; exports for --runtime tflm and "
           "their verification need it: pip install 'synth[export]'")


def micro_runtime():
    """tflite-micro's ``runtime`` module (Interpreter.from_bytes ...); one-line ConfigError when absent."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise ConfigError(MISSING) from None
    return runtime
