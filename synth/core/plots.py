"""PNG figures (matplotlib, headless Agg backend), written atomically, and the Markdown tables
that go beside them in reports."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from synth.core.atomic import write_bytes

AXES = ("x", "y", "z")


def spread_examples(windows: np.ndarray, count: int = 8) -> np.ndarray:
    """Up to ``count`` windows (k, T, 3) evenly spaced through ``windows`` (N, T, 3): windows are
    stored recording by recording, so spacing them out shows several recordings, not one."""
    return windows[np.linspace(0, len(windows) - 1, min(count, len(windows))).astype(int)]


def plot_real_vs_generated(real: np.ndarray, generated: np.ndarray, title: str, rate_hz: float, path: Path, units: str = "g") -> None:
    """Overlay up to 8 real and 8 generated windows (each (T, 3)) per axis, real left, generated right."""
    plt = pyplot()
    fig, grid = plt.subplots(3, 2, figsize=(10, 7), sharex=True, sharey="row")
    for col, (name, windows) in enumerate((("real", real[:8]), ("generated", generated[:8]))):
        time_s = np.arange(windows.shape[1] if len(windows) else 0) / rate_hz
        for row, axis in enumerate(AXES):
            for window in windows:
                grid[row, col].plot(time_s, window[:, row], linewidth=0.8, alpha=0.7)
            grid[row, col].set_ylabel(f"{axis} ({units})")
        grid[0, col].set_title(f"{name} ({len(windows)} windows)")
        grid[2, col].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_before_after(before: dict, after: dict, classifier: str, title: str, path: Path) -> None:
    """Two bar charts per class, before vs after: classifier accuracy and critic distance.

    before, after: {class: {"accuracy": fraction, "critic_distance": critic score gap or None}};
    a None (no target window to measure against) is drawn as an empty bar.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = list(before)
    positions = np.arange(len(classes))
    fig, grid = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((grid[0], "accuracy", f"{classifier} accuracy on generated"),
                           (grid[1], "critic_distance", "critic distance (lower is closer)")):
        ax.bar(positions - 0.2, [_bar(before[c][key]) for c in classes], 0.4, label="before")
        ax.bar(positions + 0.2, [_bar(after[c][key]) for c in classes], 0.4, label="after")
        ax.set_xticks(positions, classes)
        ax.set_title(label)
        ax.legend()
    grid[0].set_ylim(0, 1)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def _bar(value: float | None) -> float:
    """A bar's height: NaN (nothing drawn) for a figure that could not be measured."""
    return float("nan") if value is None else value


def pyplot():
    """matplotlib.pyplot on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    """Write a figure as PNG atomically, without a timestamp (same bytes for the same figure), and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    pyplot().close(fig)
    write_bytes(path, buffer.getvalue())


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
