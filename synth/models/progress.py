"""One progress bar of steps done of the total, in place of Keras' "Epoch 22/5000" lines."""

from __future__ import annotations

import sys

import keras
from tqdm import tqdm

SHOWN_LOSSES = ("critic_loss", "generator_loss", "wasserstein", "classifier_ce")


class StepProgress(keras.callbacks.Callback):
    """A tqdm bar on stderr of generator steps (one Keras step each), advanced once per epoch
    (a per-batch hook would make Keras fetch the losses every step), with the latest losses.

    total: steps the run ends at; done: steps already done (a resumed run); label: what runs.
    Off a terminal it prints a line at most every 30 s instead of redrawing.
    """

    def __init__(self, total: int, done: int = 0, label: str = "training") -> None:
        super().__init__()
        self.total, self.done, self.label = total, done, label
        self.bar = None

    def on_train_begin(self, logs=None) -> None:
        terminal = sys.stderr.isatty()
        self.bar = tqdm(total=self.total, initial=self.done, unit="step", desc=self.label, file=sys.stderr,
                        mininterval=0.5 if terminal else 30.0, dynamic_ncols=True, leave=True)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        steps = self.params.get("steps") or 0
        self.bar.update(min(steps, self.total - self.bar.n))
        shown = {name: f"{float(logs[name]):.3g}" for name in SHOWN_LOSSES if logs and name in logs}
        self.bar.set_postfix(shown, refresh=False)

    def on_train_end(self, logs=None) -> None:
        if self.bar is not None:
            self.bar.close()
