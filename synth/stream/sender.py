"""Send a source's samples over a link, paced at the source's rate (synthetic and file sources)."""

from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

from synth.stream.link import DISCONNECTS
from synth.stream.pacing import Pacer
from synth.stream.summary import StreamSummary
from synth.stream.wire import Encoder


class SampleFeed:
    """Hands out exactly n samples at a time from an iterator of (m, 3) int16 chunks."""

    def __init__(self, chunks: Iterator[np.ndarray]) -> None:
        self._chunks = chunks
        self._held = np.zeros((0, 3), np.int16)

    def prime(self) -> None:
        """Fetch the first chunk now (a generator's first call compiles), so pacing starts with data in hand."""
        chunk = next(self._chunks, None)
        if chunk is not None:
            self._held = np.concatenate([self._held, np.asarray(chunk, np.int16).reshape(-1, 3)])

    def take(self, count: int) -> np.ndarray:
        """The next ``count`` samples (n, 3) int16; fewer only when the chunks have run out."""
        parts, have = [self._held], len(self._held)
        while have < count:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(np.asarray(chunk, np.int16).reshape(-1, 3))
            have += len(parts[-1])
        samples = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self._held = samples[count:]
        return samples[:count]


def send(link, feed: SampleFeed, encoder: Encoder, pacer: Pacer, summary: StreamSummary, limit: Optional[int],
         discard_echo: bool = False) -> None:
    """Write paced samples until ``limit`` samples (None: until the feed ends or Ctrl-C).

    ``discard_echo``: drop what the link hands back after every write (a loop:// link that
    nobody else reads, whose 4 KiB queue would otherwise fill).

    A disconnect ends the run cleanly: ``summary.stopped_by`` says so. Ctrl-C propagates
    (KeyboardInterrupt) with ``summary`` up to date.
    """
    pacer.max_batch = encoder.max_batch
    feed.prime()
    try:
        while limit is None or summary.samples < limit:
            left = None if limit is None else limit - summary.samples
            samples = feed.take(pacer.next_batch(left))
            if len(samples) == 0:
                break
            link.write(encoder.encode(samples))
            if discard_echo:
                link.reset_input_buffer()
            summary.count(len(samples))
        link.flush()
    except DISCONNECTS as exc:
        summary.stopped_by = f"disconnect ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        return
    summary.stopped_by = "end of input" if limit is None or summary.samples < limit else "limit reached"


def echoes_back(link) -> bool:
    """Whether ``link`` is pyserial's loop://, which hands every written byte back to the writer."""
    return type(link).__module__.endswith("protocol_loop")
