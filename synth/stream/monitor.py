"""Live checks on received windows: the class a trained classifier reads, and the realism filter's verdict.

Windows are non-overlapping, ``window`` samples long, cut from the received stream in order;
each model keeps its own buffer because its window length may differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from synth.anomaly.detector import Detector
from synth.classify.train_classifier import load_trained_classifier
from synth.core.errors import ModelError
from synth.core.transforms import lsb_to_g
from synth.realism.filter import load_realism_filter


@dataclass
class WindowCheck:
    """Calls ``describe`` on every full window (1, window, 3) in g; it returns the text to print."""

    window: int
    describe: Callable[[np.ndarray], str]
    _held: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    done: int = 0

    def feed(self, x_g: np.ndarray) -> list[str]:
        """Text of every window completed by samples ``x_g`` (n, 3) in g."""
        self._held = np.concatenate([self._held, x_g])
        out = []
        while len(self._held) >= self.window:
            out.append(f"window {self.done} ({self.done * self.window} ..): {self.describe(self._held[None, : self.window])}")
            self._held = self._held[self.window :]
            self.done += 1
        return out


def classifier_check(folder: Path, rate_hz: float) -> WindowCheck:
    """Print the predicted class (and its score) of a ``synth train-classifier`` folder's model."""
    classifier = load_trained_classifier(folder)
    if not np.isclose(classifier.rate_hz, rate_hz):
        raise ModelError(f"the classifier in {folder} reads {classifier.rate_hz:g} Hz windows; the stream is {rate_hz:g} Hz")

    def describe(x_g: np.ndarray) -> str:
        scores = classifier.predict_proba(x_g)[0]
        return f"class {classifier.classes[int(scores.argmax())]} ({scores.max():.2f})"

    return WindowCheck(classifier.window, describe)


def autoencoder_check(folder: Path, rate_hz: float, full_scale_g: float) -> WindowCheck:
    """Flag windows a window autoencoder rejects: the realism filter (``synth train-autoencoder``)
    or a window anomaly detector (``synth anomaly``, trained centrally or federated)."""
    realism = load_realism_filter(folder)
    if realism.info.get("input") == "features":
        raise ModelError(f"{folder} is a detector of feature rows; --autoencoder takes a window autoencoder "
                         "(synth train-autoencoder, or synth anomaly with anomaly.source windows)")
    window = int(realism.info["window"])
    realism.check_matches(window, rate_hz, full_scale_g)

    if realism.info.get("fault_rule"):
        return WindowCheck(window, _fault_rule_verdict(Detector(realism.model, realism.info)))

    def describe(x_g: np.ndarray) -> str:
        error = float(realism.errors(x_g)[0])
        verdict = "ANOMALOUS" if error > realism.threshold else "normal"
        return f"{verdict} (reconstruction error {error:.4g} g^2, threshold {realism.threshold:.4g})"

    return WindowCheck(window, describe)


def _fault_rule_verdict(detector: Detector) -> Callable[[np.ndarray], str]:
    """The line for one window (1, T, 3) g of a window anomaly detector with a fault rule: the verdict
    and the statistics that fired."""
    def describe(x_g: np.ndarray) -> str:
        fired = detector.fired(x_g)[0]
        return f"ANOMALOUS ({', '.join(fired)} above threshold)" if fired else "normal (every fault statistic within its threshold)"

    return describe


class Monitor:
    """Runs the window checks on received samples and prints their lines with ``echo``."""

    def __init__(self, checks: list[WindowCheck], sensitivity_mg_per_lsb: float, echo: Callable[[str], None]) -> None:
        self.checks = checks
        self.sensitivity = sensitivity_mg_per_lsb
        self.echo = echo

    def feed(self, lsb: np.ndarray) -> None:
        """Check samples (n, 3) int16 LSB."""
        if not self.checks or len(lsb) == 0:
            return
        x_g = lsb_to_g(lsb, self.sensitivity)
        for check in self.checks:
            for line in check.feed(x_g):
                self.echo(line)


def build_monitor(classifier: Optional[Path], autoencoder: Optional[Path], rate_hz: float, full_scale_g: float,
                  sensitivity_mg_per_lsb: float, echo: Callable[[str], None]) -> Monitor:
    """A Monitor with the checks asked for (none: a monitor that does nothing)."""
    checks = []
    if classifier is not None:
        checks.append(classifier_check(classifier, rate_hz))
    if autoencoder is not None:
        checks.append(autoencoder_check(autoencoder, rate_hz, full_scale_g))
    return Monitor(checks, sensitivity_mg_per_lsb, echo)
