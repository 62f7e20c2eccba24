"""Keep libraries' own chatter off the user's terminal.

TensorFlow, its converter and the TFLite interpreters write log lines straight to file
descriptors 1 and 2 from C++ ("fully_quantize: 0 ...", "Created TensorFlow Lite XNNPACK
delegate ...") and through Python loggers ("Assets written to ...", tf.function retracing
warnings). None of it is for synth's users; ``synth --debug`` turns muting off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Iterator

_settings = {"muted": True}


def set_muting(muted: bool) -> None:
    """Mute library output (the default), or let it through (``--debug``)."""
    _settings["muted"] = muted


@contextlib.contextmanager
def library_output_muted() -> Iterator[None]:
    """Inside the block, whatever is written to fds 1 and 2 goes nowhere (synth's own lines are
    printed outside such blocks)."""
    if not _settings["muted"]:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            yield
            sys.stdout.flush()
            sys.stderr.flush()
    finally:
        for fd, copy in zip((1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)


def quiet_tensorflow_loggers() -> None:
    """Only errors from TensorFlow's and absl's Python loggers (call after importing TensorFlow)."""
    if _settings["muted"]:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
