"""User-facing errors.

Every mistake a user can make (bad config, missing file, corrupt data, unknown profile ...)
raises a SynthError subclass. The CLI turns it into one readable line and exit code 2; only
``--debug`` shows the traceback. Programming errors stay ordinary exceptions.
"""


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
