"""Before/after table of fine-tuned generators, read from their finetune.json.

Usage:
  .venv/bin/python benchmarks/bench_finetune.py [FOLDER ...]

FOLDER: a ``synth finetune`` output (``run_dir/<profile>``) or a shipped generator folder that
holds its finetune.json; default: every synth/assets/generators/*_finetuned. For each, per
class: the feedback classifier's accuracy on generated windows through the profile, and the
critic distance (score gap real - generated of a fresh evaluation critic, the same training for
the base and the fine-tuned generator; lower is closer). To re-measure from scratch, run
``synth finetune --config configs/finetune_st_har.json --profile NAME`` and point this at its
output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = "finetune.json"


def distance(value) -> str:
    """A critic distance, or '-' where there was no target window to measure it against (K = 0)."""
    return "-" if value is None else f"{value:.2f}"


def rows(report: dict) -> list[list[str]]:
    """[class, accuracy before, after, critic distance before, after] per class, then overall."""
    before, after = report["before"], report["after"]
    table = [[name, f"{before['per_class'][name]['accuracy']:.3f}", f"{after['per_class'][name]['accuracy']:.3f}",
              distance(before['per_class'][name]['critic_distance']), distance(after['per_class'][name]['critic_distance'])]
             for name in before["per_class"]]
    table.append(["overall", f"{before['accuracy']:.3f}", f"{after['accuracy']:.3f}",
                  distance(before['critic_distance']), distance(after['critic_distance'])])
    return table


def main() -> None:
    folders = [Path(a) for a in sys.argv[1:]] or sorted((ROOT / "synth" / "assets" / "generators").glob("*_finetuned"))
    for folder in folders:
        report = json.loads((folder / REPORT).read_text())
        print(f"{folder.name}: profile {report['profile']['name']}, classifier {report['classifier']['name']}, "
              f"{report['config']['train']['steps']} steps, seed {report['seed']}")
        header = ["class", "accuracy before", "after", "critic distance before", "after"]
        table = [header, *rows(report)]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for row in table:
            print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        print()


if __name__ == "__main__":
    main()
