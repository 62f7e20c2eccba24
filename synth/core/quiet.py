"""Keep libraries' own chatter off the user's terminal.

TensorFlow, its converter and the TFLite interpreters write log lines straight to file
descriptors 1 and 2 from C++ ("fully_quantize: 0 ...", "Created TensorFlow Lite XNNPACK
delegate ...") and through Python loggers ("Assets written to ...", tf.function retracing
warnings); Flower's simulation engine adds Ray's and its own start-up and deprecation lines. None
of it is for synth's users; ``synth --debug`` turns muting off. synth's own log lines (the
``synth`` logger: rounds, rejected updates, failed nodes) reach the terminal even inside a muted
block, so a long simulation still shows its progress.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import Iterator

_settings = {"muted": True, "terminal": None}  # terminal: the real standard error while fd 2 is muted


def set_muting(muted: bool) -> None:
    """Mute library output (the default), or let it through (``--debug``)."""
    _settings["muted"] = muted


class _TerminalHandler(logging.Handler):
    """Writes synth's log lines to standard error, or to the terminal's while fd 2 is muted."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = _settings["terminal"] or sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001  (logging's own contract: report, never raise)
            self.handleError(record)


def _drop_warning(*_args, **_kwargs) -> None:
    """A ``warnings.showwarning`` that shows nothing."""


def show_synth_log(debug: bool) -> None:
    """synth's own log lines at INFO on standard error, libraries' Python warnings dropped; with
    ``debug``, every library's log lines at DEBUG and their warnings too
    (libraries log to the root logger, e.g. alembic's 'setup plugin' lines at INFO)."""
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(message)s")
        return
    # synth warns through its log, never through Python warnings: those are the libraries'
    # (Keras, NumPy, Ray), and Ray and Flower re-enable them when they start, hence showwarning too
    warnings.simplefilter("ignore")
    warnings.showwarning = _drop_warning
    logger = logging.getLogger("synth")
    if not any(isinstance(h, _TerminalHandler) for h in logger.handlers):
        handler = _TerminalHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


@contextlib.contextmanager
def library_output_muted() -> Iterator[None]:
    """Inside the block, whatever is written to fds 1 and 2 goes nowhere, processes started in it
    included, except synth's own log lines (printed lines belong outside such blocks)."""
    if not _settings["muted"]:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    outer = _settings["terminal"]
    try:
        with open(os.devnull, "w") as devnull, os.fdopen(os.dup(saved[1]), "w") as terminal:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            _settings["terminal"] = outer or terminal
            yield
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        _settings["terminal"] = outer
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def quiet_tensorflow_loggers() -> None:
    """Only errors from TensorFlow's and absl's Python loggers (call after importing TensorFlow)."""
    if _settings["muted"]:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
