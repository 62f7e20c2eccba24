"""The two wire formats behind one interface: samples (n, 3) int16 LSB in, bytes out, and back.

``--format binary`` frames (synth.stream.frame) carry LSB; ``--format csv`` lines
(synth.stream.csv_format) carry mg or LSB (``--units``). Both decoders return LSB, so the
receiver records and classifies the same way whatever the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synth.stream import csv_format, frame

FORMATS = ("csv", "binary")


@dataclass
class Encoder:
    """Turns batches of samples (n, 3) int16 into the bytes of ``fmt``; numbers binary frames from 0."""

    fmt: str
    units: str
    sensitivity_mg_per_lsb: float
    sequence: int = 0

    @property
    def max_batch(self) -> int:
        """Most samples per write: one frame in binary, unbounded in CSV."""
        return frame.MAX_SAMPLES if self.fmt == "binary" else 1 << 30

    def encode(self, lsb: np.ndarray) -> bytes:
        """Bytes for ``lsb`` (n, 3) int16, n <= max_batch."""
        if self.fmt == "csv":
            return csv_format.encode_lines(lsb, self.units, self.sensitivity_mg_per_lsb)
        data = frame.encode_frame(self.sequence, lsb)
        self.sequence += 1
        return data

    def bytes_per_sample(self, batch: int, min_lsb: int) -> float:
        """Worst-case link bytes per sample when writing ``batch`` samples at a time (``min_lsb``: the widest code)."""
        if self.fmt == "binary":
            return frame.bytes_per_sample(min(batch, frame.MAX_SAMPLES))
        return csv_format.max_line_bytes(min_lsb, self.units, self.sensitivity_mg_per_lsb)


@dataclass
class Decoder:
    """Turns received bytes of ``fmt`` back into samples (n, 3) int16 LSB, counting what went wrong."""

    fmt: str
    units: str
    sensitivity_mg_per_lsb: float
    frames: frame.FrameDecoder = field(default_factory=frame.FrameDecoder)
    lines: csv_format.LineParser = field(default_factory=csv_format.LineParser)

    def feed(self, chunk: bytes) -> np.ndarray:
        """Samples (n, 3) int16 completed by ``chunk``."""
        if self.fmt == "binary":
            return _stack([f.lsb for f in self.frames.feed(chunk)])
        return self._codes(self.lines.feed(chunk))

    def finish(self) -> np.ndarray:
        """End of stream: count what is left as partial; samples (n, 3) int16 decodable after it."""
        if self.fmt == "binary":
            return _stack([f.lsb for f in self.frames.finish()])
        return self._codes(self.lines.finish())

    def reconnected(self) -> None:
        """The link was reopened: a partial frame or line from before is garbage now."""
        self.finish()
        self.frames.reset_sequence()

    def _codes(self, values: np.ndarray) -> np.ndarray:
        """CSV values (n, 3) in ``units`` as int16 output codes."""
        if self.units == "mg":
            values = values / self.sensitivity_mg_per_lsb
        return np.clip(np.round(values), -32768, 32767).astype(np.int16)


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    """Concatenate (n_i, 3) int16 arrays; (0, 3) when there are none."""
    return np.concatenate(arrays) if arrays else np.zeros((0, 3), np.int16)
