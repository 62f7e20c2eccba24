"""Test support for commands run as child processes and stopped with Ctrl-C."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """In a child before exec: SIGINT with its default disposition and unblocked, as in a terminal
    (a test runner started in the background may have it ignored or blocked, and children inherit both)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
