"""Python values as C source literals, for the headers ``synth export-c`` renders."""

from __future__ import annotations

import numpy as np


def c_string(text: str) -> str:
    """``text`` escaped for the inside of a C string literal (backslashes and double quotes)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def c_float(value) -> str:
    """A float32 value as a C float literal that parses back to exactly that value."""
    return f"{float(np.float32(value))!r}f"
