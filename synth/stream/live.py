"""Receive samples from a board (``--source live``): decode, record, classify, reconnect.

When the link drops (the board resets, the cable is pulled, the emulator restarts), the port is
reopened with exponential back-off (RECONNECT_FIRST_S doubling up to RECONNECT_MAX_S) until it
comes back or the run's time is up; the decoder forgets its partial frame and sequence number,
because the sender may have restarted.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np

from synth.stream.link import DISCONNECTS, LinkError
from synth.stream.summary import StreamSummary
from synth.stream.wire import Decoder

RECONNECT_FIRST_S = 0.1
RECONNECT_MAX_S = 5.0
READ_CHUNK = 4096  # bytes per read on links that cannot say how much is waiting (socket://)

Opener = Callable[[], object]  # opens the link (raises LinkError)
Sink = Callable[[np.ndarray], None]  # takes received samples (n, 3) int16


def receive(open_link: Opener, decoder: Decoder, summary: StreamSummary, sink: Sink,
            limit: Optional[int], deadline: Optional[float], log: Callable[[str], None]) -> None:
    """Read until ``limit`` samples or the monotonic ``deadline`` (None: until Ctrl-C).

    Every decoded batch goes to ``sink``; ``summary`` stays current, so Ctrl-C (KeyboardInterrupt,
    propagated) can print it.
    """
    link = open_link()
    try:
        while not _done(summary, limit, deadline):
            try:
                chunk = link.read(_read_size(link))
            except DISCONNECTS as exc:
                log(f"link lost ({_first_line(exc)}); reconnecting")
                _close(link)
                link = _reconnect(open_link, deadline, log)
                if link is None:
                    summary.stopped_by = "disconnect (no reconnection before the end of the run)"
                    return
                summary.reconnects += 1
                decoder.reconnected()
                continue
            _deliver(decoder.feed(chunk), summary, sink, limit)
        summary.stopped_by = "limit reached" if limit is not None and summary.samples >= limit else "time up"
    finally:
        _close(link)


def _deliver(lsb: np.ndarray, summary: StreamSummary, sink: Sink, limit: Optional[int]) -> None:
    """Pass samples on, no more than ``limit`` in all."""
    if limit is not None:
        lsb = lsb[: max(0, limit - summary.samples)]
    if len(lsb):
        sink(lsb)
        summary.count(len(lsb))


def _done(summary: StreamSummary, limit: Optional[int], deadline: Optional[float]) -> bool:
    return (limit is not None and summary.samples >= limit) or (deadline is not None and time.monotonic() >= deadline)


def _read_size(link) -> int:
    """Bytes to ask for: what is waiting (at least 1); socket:// only says 'something', so a chunk."""
    if type(link).__module__.endswith("protocol_socket"):
        return READ_CHUNK
    return max(1, link.in_waiting)


def _reconnect(open_link: Opener, deadline: Optional[float], log: Callable[[str], None]):
    """The reopened link, retrying with back-off; None when the deadline passes first."""
    delay = RECONNECT_FIRST_S
    while deadline is None or time.monotonic() + delay < deadline:
        time.sleep(delay)
        try:
            link = open_link()
        except LinkError:
            delay = min(2 * delay, RECONNECT_MAX_S)
            continue
        log("reconnected")
        return link
    return None


def _close(link) -> None:
    """Close ``link`` (None after a reconnection that never came: nothing to close)."""
    if link is None:
        return
    try:
        link.close()
    except DISCONNECTS:
        pass  # closing a port whose device is gone can fail; it is closed either way


def _first_line(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0]
