"""The serial link: open any pyserial URL, and check that the data fits through it.

A UART sends 10 bits per byte (8N1: start, 8 data, stop), so ``baud`` carries baud / 10 bytes
per second. pty, socket:// and loop:// links ignore the baud rate, but the board's ST-LINK
virtual COM port does not, so the budget is checked against ``--baud`` whatever the URL.
"""

from __future__ import annotations

import errno
import logging
import queue

import serial
import serial.tools.list_ports

from synth.core.errors import SynthError

log = logging.getLogger(__name__)
BITS_PER_BYTE = 10  # 8N1
READ_TIMEOUT_S = 0.1  # short, so that Ctrl-C and stop conditions are noticed quickly
WRITE_TIMEOUT_S = 5.0  # a receiver that stops reading for this long counts as gone
# what a read or write raises when the other end goes (queue.Full: loop:// whose reader stopped)
DISCONNECTS = (serial.SerialException, OSError, queue.Full)


class LinkError(SynthError):
    """A port cannot be opened, or the data rate does not fit the link (with --strict)."""


def open_link(url: str, baud: int, exclusive: bool = True) -> serial.SerialBase:
    """Open ``url`` (/dev/ttyACM0, COM5, loop://, socket://host:port, spy://...) at ``baud``.

    A missing or busy port raises LinkError: one line naming it and listing the ports that exist.
    """
    try:
        return serial.serial_for_url(
            url, baudrate=baud, timeout=READ_TIMEOUT_S, write_timeout=WRITE_TIMEOUT_S, exclusive=exclusive
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise LinkError(f"cannot open port {url}: {_reason(exc)} (ports found: {available_ports()})") from None


def _reason(exc: Exception) -> str:
    """The short cause of an open failure (pyserial repeats the path inside its messages)."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT:
        return "no such port"
    if code in (errno.EBUSY, errno.EAGAIN) or "lock" in text.lower():
        return "busy (another program has it open)"
    if code == errno.EACCES:
        return "permission denied (is your user in the dialout group?)"
    return (text.strip() or type(exc).__name__).splitlines()[0]


def available_ports() -> str:
    """The serial ports on this machine, comma-separated, or 'none'."""
    ports = sorted(port.device for port in serial.tools.list_ports.comports())
    return ", ".join(ports) or "none"


def check_budget(rate_hz: float, bytes_per_sample: float, baud: int, strict: bool, what: str) -> str | None:
    """A warning line when rate x bytes per sample exceeds baud / 10 B/s (LinkError with ``strict``).

    ``what`` names the format in the message. Returns None when the data fits.
    """
    needed = rate_hz * bytes_per_sample
    capacity = baud / BITS_PER_BYTE
    if needed <= capacity:
        return None
    message = (
        f"{rate_hz:g} samples/s x {bytes_per_sample:.1f} bytes ({what}) = {needed:,.0f} B/s exceeds "
        f"{baud} baud / 10 = {capacity:,.0f} B/s: raise --baud, use --format binary or a lower rate"
    )
    if strict:
        raise LinkError(message)
    return message
