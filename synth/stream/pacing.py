"""Drift-free pacing: sample k is due at t0 + k / rate on the monotonic clock.

Each wait sleeps until an absolute due time computed from the sample index, never for a
relative interval, so sleep overshoot and send time do not accumulate. At high rates one wake-up
releases a batch of the samples that have come due (a sensor's FIFO does the same), because the
operating system cannot wake a process 6,660 times a second cheaply.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

MIN_WAKE_S = 0.005  # shortest sleep between batches: 5 ms (about 33 samples at 6,660 Hz)


@dataclass
class Pacer:
    """Releases samples at ``rate_hz`` (samples per second) from the first call of ``next_batch``.

    ``max_batch`` caps one batch (e.g. the frame size); ``clock`` and ``sleep`` are injectable for tests.
    """

    rate_hz: float
    max_batch: int = 1 << 30
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    released: int = 0
    t0: float | None = field(default=None)

    @property
    def batch(self) -> int:
        """Samples released per wake-up: one at low rates, about MIN_WAKE_S worth at high rates."""
        return max(1, min(self.max_batch, math.ceil(self.rate_hz * MIN_WAKE_S)))

    def due(self, index: int) -> float:
        """Monotonic time (s) at which sample ``index`` (0-based) is due."""
        return self.t0 + index / self.rate_hz

    def next_batch(self, limit: int | None = None) -> int:
        """Sleep until the next batch is due; return how many samples (>= 1) may be sent now.

        ``limit`` caps the count (e.g. the samples left to send).
        """
        if self.t0 is None:
            self.t0 = self.clock()
        cap = self.max_batch if limit is None else min(self.max_batch, limit)
        last_wanted = self.released + min(self.batch, cap) - 1
        delay = self.due(last_wanted) - self.clock()
        if delay > 0:
            self.sleep(delay)
        # everything due by now goes out (more than one batch if the process was descheduled)
        ready = math.floor((self.clock() - self.t0) * self.rate_hz) + 1 - self.released
        count = max(1, min(cap, ready))
        self.released += count
        return count

    def lateness(self) -> float:
        """Seconds by which the last released sample is behind its due time (negative: early)."""
        return self.clock() - self.due(self.released - 1)
