"""Send a source's samples over a link, paced at the source's rate (synthetic and file sources)."""

from __future__ import annotations

import time
from typing import Iterator, Optional

import numpy as np

from synth.stream.link import DISCONNECTS
from synth.stream.pacing import Pacer
from synth.stream.summary import StreamSummary
from synth.stream.wire import Encoder

DRAIN_QUIET_S = 1.0  # the board has answered everything once the link stays silent this long
DRAIN_LIMIT_S = 10.0  # a board that keeps talking is cut off here, so a sender always ends


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


class Replies:
    """What the board sends back while it is fed (a firmware's answer lines), as bytes.

    Reading them matters beyond showing them: a socket closed with unread bytes is reset, and
    QEMU then drops the frames it has not yet handed to the emulated UART.
    """

    def __init__(self) -> None:
        self.data = bytearray()

    def collect(self, link) -> None:
        """Take whatever has arrived, without waiting."""
        waiting = link.in_waiting
        if waiting:
            self.data += link.read(waiting)

    def drain(self, link, quiet_s: float = DRAIN_QUIET_S, limit_s: float = DRAIN_LIMIT_S) -> None:
        """Read until the link has been silent for ``quiet_s`` seconds, for at most ``limit_s`` seconds."""
        start = last = time.monotonic()
        while time.monotonic() - last < quiet_s and time.monotonic() - start < limit_s:
            chunk = link.read(max(1, link.in_waiting))  # returns empty after the link's read timeout
            if chunk:
                self.data += chunk
                last = time.monotonic()

    def lines(self) -> list[str]:
        """The replies as text lines (undecodable bytes replaced), without empty ones."""
        return [line for line in self.data.decode("utf-8", errors="replace").splitlines() if line.strip()]


def send(link, feed: SampleFeed, encoder: Encoder, pacer: Pacer, summary: StreamSummary, limit: Optional[int],
         discard_echo: bool = False, replies: Optional[Replies] = None) -> None:
    """Write paced samples until ``limit`` samples (None: until the feed ends or Ctrl-C).

    ``discard_echo``: drop what the link hands back after every write (a loop:// link that
    nobody else reads, whose 4 KiB queue would otherwise fill). ``replies``: collect what the
    board answers after every write, and drain its last answers (``Replies.drain``) before
    returning, so that closing the link loses nothing the board was still processing.

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
            elif replies is not None:
                replies.collect(link)
            summary.count(len(samples))
        link.flush()
    except DISCONNECTS as exc:
        summary.stopped_by = f"disconnect ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        return
    summary.stopped_by = "end of input" if limit is None or summary.samples < limit else "limit reached"
    if replies is not None and not discard_echo:
        try:
            replies.drain(link)
        except DISCONNECTS:
            pass  # every sample was written: a board that hangs up after answering ends the drain, not the run


def echoes_back(link) -> bool:
    """Whether ``link`` is pyserial's loop://, which hands every written byte back to the writer."""
    return type(link).__module__.endswith("protocol_loop")
