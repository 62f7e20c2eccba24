"""The end-of-stream summary: samples sent or received, losses, achieved rate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional

from synth.stream.frame import FrameStats


@dataclass
class StreamSummary:
    """Counts of one ``synth stream`` run; ``role`` is "sent" or "received".

    ``frames`` holds the binary decoder's counts (None for CSV or when sending); ``bad_lines``
    the CSV parser's skipped lines; times are monotonic seconds.
    """

    role: str
    target_rate_hz: float
    samples: int = 0
    frames: Optional[FrameStats] = None
    bad_lines: Optional[int] = None
    reconnects: int = 0
    stopped_by: str = "end"
    started: float = field(default_factory=time.monotonic)
    first_sample: Optional[float] = None
    last_sample: Optional[float] = None
    first_count: int = 0

    def count(self, samples: int) -> None:
        """Record ``samples`` more samples sent or received now."""
        now = time.monotonic()
        if self.first_sample is None:
            self.first_sample, self.first_count = now, samples
        self.last_sample = now
        self.samples += samples

    @property
    def elapsed_s(self) -> float:
        """Seconds from the first to the last sample (0 before two batches)."""
        if self.first_sample is None or self.last_sample is None:
            return 0.0
        return self.last_sample - self.first_sample

    @property
    def achieved_rate_hz(self) -> float:
        """Samples per second after the first batch (its arrival starts the clock, so its samples are not counted)."""
        return 0.0 if self.elapsed_s <= 0 else (self.samples - self.first_count) / self.elapsed_s

    def lines(self) -> list[str]:
        """The summary as short lines for the terminal."""
        head = (f"{self.role} {self.samples:,} samples in {self.elapsed_s:.2f} s: {self.achieved_rate_hz:,.1f} samples/s "
                f"(target {self.target_rate_hz:g}); stopped by {self.stopped_by}")
        out = [head]
        if self.frames is not None:
            f = self.frames
            out.append(f"frames {f.frames:,} ok, lost {f.lost}, corrupted {f.corrupted}, duplicated {f.duplicated}, "
                       f"partial {f.partial}, garbage {f.garbage_bytes} bytes")
        if self.bad_lines is not None:
            out.append(f"bad or partial lines {self.bad_lines} (CSV has no sequence numbers: lost lines are not counted)")
        if self.reconnects:
            out.append(f"reconnects {self.reconnects}")
        return out
