"""``synth stream --format csv``: one text line per sample, as the Edge Impulse data forwarder reads.

A line is ``x,y,z\\n``: three numbers separated by commas, in mg (up to 3 decimals, trailing
zeros dropped: the LSM6DSL's 0.122 mg steps stay exact) or as raw int16 output codes (LSB).
The forwarder infers the rate from how often lines arrive, so the sender paces them.

The parser is incremental: feed it bytes in chunks of any size. A line that is not three
numbers (a partial line at connect, a line garbled on the wire) is counted in ``bad_lines`` and
skipped; the next newline resynchronises it. CSV carries no sequence numbers, so lost lines
cannot be counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNITS = ("mg", "lsb")
MAX_LINE = 128  # a longer run of bytes without a newline is garbage, not a sample


def encode_lines(lsb: np.ndarray, units: str, sensitivity_mg_per_lsb: float) -> bytes:
    """Samples ``lsb`` (S, 3) int16 as ASCII lines in ``units`` ("mg" or "lsb")."""
    rows = np.asarray(lsb).tolist()
    if units == "lsb":
        return "".join("%d,%d,%d\n" % tuple(row) for row in rows).encode("ascii")
    mg = np.round(np.asarray(lsb, np.float64) * sensitivity_mg_per_lsb, 3).tolist()
    return "".join(",".join(map(mg_text, row)) + "\n" for row in mg).encode("ascii")


def mg_text(value: float) -> str:
    """``value`` with at most 3 decimals and no trailing zeros ("1036.294", "-12.2", "0")."""
    text = "%.3f" % value
    text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def max_line_bytes(min_lsb: int, units: str, sensitivity_mg_per_lsb: float) -> int:
    """The longest line a sample of a profile can make (for the link budget): bytes incl. newline."""
    field_text = str(min_lsb) if units == "lsb" else mg_text(min_lsb * sensitivity_mg_per_lsb - 0.001)
    return 3 * len(field_text) + 3


@dataclass
class LineParser:
    """Incremental parser of ``x,y,z`` lines; ``feed`` returns the samples (n, 3) float64 it completed."""

    bad_lines: int = 0
    lines: int = 0
    _pending: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> np.ndarray:
        """Samples (n, 3) float64, in the sender's units, from the complete lines so far."""
        self._pending += chunk
        end = self._pending.rfind(b"\n")
        if end < 0:
            if len(self._pending) > MAX_LINE:
                self.bad_lines += 1
                self._pending.clear()
            return np.zeros((0, 3))
        text = bytes(self._pending[:end])
        del self._pending[: end + 1]
        return self._parse(text.split(b"\n"))

    def finish(self) -> np.ndarray:
        """End of stream: a last line without its newline is counted bad (it may be cut short)."""
        if self._pending.strip():
            self.bad_lines += 1
        self._pending.clear()
        return np.zeros((0, 3))

    def _parse(self, lines: list[bytes]) -> np.ndarray:
        """Parse complete lines; count and skip those that are not three numbers."""
        rows = []
        for line in lines:
            line = line.strip()
            if not line:
                continue
            try:
                values = [float(v) for v in line.split(b",")]
            except ValueError:
                values = []
            if len(values) == 3 and all(np.isfinite(values)):
                rows.append(values)
            else:
                self.bad_lines += 1
        self.lines += len(rows)
        return np.array(rows, dtype=np.float64).reshape(-1, 3)
