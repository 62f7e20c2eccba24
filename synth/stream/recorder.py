"""Record received samples as a capture CSV (written as they arrive) and a capture NPZ (at the end).

The CSV is the format synth.data.csv_capture loads (``time_s,x_mg,y_mg,z_mg``, rate in the
comment line). It is never left corrupt: every batch of lines goes to the file in one
``os.write`` of whole lines (a crash lands between batches, never inside a line), and the file
is fsynced every FSYNC_EVERY_S seconds and at the end, so a power cut loses at most that much.
The NPZ (``lsb`` (S, 3) int16, ``mg`` (S, 3) float32, ``rate_hz``, ``sensitivity_mg_per_lsb``)
is written atomically when the recording ends. time_s counts the samples received (sample k at
k / rate_hz): frames lost on the link are not filled in; the summary says how many there were.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Mapping

import numpy as np

from synth.core.errors import OutputError
from synth.core.npz import save_npz
from synth.stream.csv_format import mg_text

FSYNC_EVERY_S = 1.0


class CaptureRecorder:
    """Appends samples (n, 3) int16 LSB to ``path`` (CSV in mg) and writes ``path``.npz on ``close``."""

    def __init__(self, path: Path, rate_hz: float, sensitivity_mg_per_lsb: float, metadata: Mapping[str, str]) -> None:
        self.path = Path(path)
        self.npz_path = self.path.with_suffix(".npz")
        self.rate_hz = rate_hz
        self.sensitivity = sensitivity_mg_per_lsb
        self._parts: list[np.ndarray] = []
        self._count = 0
        self._synced = time.monotonic()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        except OSError as exc:
            raise OutputError(f"cannot write the recording {self.path}: {exc.strerror}") from None
        pairs = " ".join(f"{k}={v}" for k, v in {"rate_hz": f"{rate_hz:g}", **metadata}.items())
        self._write(f"# {pairs}\ntime_s,x_mg,y_mg,z_mg\n".encode("ascii"))
        os.fsync(self._fd)

    def append(self, lsb: np.ndarray) -> None:
        """Write samples (n, 3) int16 as whole CSV lines; fsync when FSYNC_EVERY_S has passed."""
        if len(lsb) == 0:
            return
        times = (self._count + np.arange(len(lsb))) / self.rate_hz
        mg = np.asarray(lsb, np.float64) * self.sensitivity
        # mg to 3 decimals: exact for the LSM6DSL's sensitivities (0.061 .. 0.488 mg/LSB)
        text = "".join("%.6f,%s\n" % (t, ",".join(map(mg_text, row))) for t, row in zip(times.tolist(), mg.tolist()))
        self._write(text.encode("ascii"))
        self._parts.append(np.array(lsb, np.int16))
        self._count += len(lsb)
        if time.monotonic() - self._synced >= FSYNC_EVERY_S:
            os.fsync(self._fd)
            self._synced = time.monotonic()

    def close(self) -> int:
        """Fsync and close the CSV, write the NPZ atomically; returns the number of samples."""
        os.fsync(self._fd)
        os.close(self._fd)
        lsb = np.concatenate(self._parts) if self._parts else np.zeros((0, 3), np.int16)
        save_npz(self.npz_path, {"lsb": lsb, "mg": (lsb * np.float32(self.sensitivity)).astype(np.float32),
                                 "rate_hz": np.float64(self.rate_hz), "sensitivity_mg_per_lsb": np.float64(self.sensitivity)})
        return self._count

    def _write(self, data: bytes) -> None:
        """Write all of ``data`` (os.write may write less than asked, e.g. on a nearly full disk)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
