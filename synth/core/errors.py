"""User-facing errors.

Every mistake a user can make (bad config, missing file, corrupt data, unknown profile ...)
raises a SynthError subclass. The CLI turns it into one readable line and exit code 2; only
``--debug`` shows the traceback. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations


def first_line(exc: Exception, limit: int | None = None) -> str:
    """The first non-empty line of an exception's message, cut to ``limit`` characters.

    Keras and the TFLite converter raise messages that run to pages; one line of them is what
    belongs in a one-line user error. An empty message gives the exception's type name.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:limit] if lines else type(exc).__name__


class SynthError(Exception):
    """A user error: the message names the thing that was wrong and what is allowed."""


class ConfigError(SynthError):
    """A configuration file or option is missing, malformed or out of range."""


class DataError(SynthError):
    """Input data is missing, corrupt, truncated or in an unexpected format."""


class ProfileError(SynthError):
    """A sensor profile is unknown or invalid."""


class ModelError(SynthError):
    """A model file is missing, unreadable, or does not fit the request (e.g. unknown class)."""


class OutputError(SynthError):
    """An output location cannot be written (exists and is not empty, not writable ...)."""


class FetchError(SynthError):
    """A download failed: offline, HTTP error, or a checksum mismatch."""


class TargetError(SynthError):
    """A target (a board in QEMU, a board on a serial port) does not answer, answers garbage, or
    computes other outputs than the reference."""
