"""Human-readable lines from a share round log (synth.share.server's share.json)."""

from __future__ import annotations

import numpy as np


def summary_lines(run_log: dict) -> list[str]:
    """One line per round (nodes answered, accuracy over nodes, bytes per node) and one per node at the end."""
    lines = [f"mode {run_log['mode']}, classes {', '.join(run_log['classes'])}"]
    for entry in run_log["rounds"]:
        nodes = entry["nodes"].values()
        accuracy = [n["accuracy"] for n in nodes if "accuracy" in n]
        up = [n.get("bytes_up", 0) for n in nodes]
        acc_text = f"accuracy mean {np.mean(accuracy):.3f} min {np.min(accuracy):.3f}" if accuracy else "no held-out data"
        up_text = f", {np.mean(up) / 1024:.1f} KiB sent per node" if up else ""
        lines.append(f"round {entry['round']}: {entry['answered']}/{entry['asked']} nodes, {acc_text}{up_text}, {entry['seconds']:.1f} s")
    if run_log["rounds"]:
        for name, node in sorted(run_log["rounds"][-1]["nodes"].items()):
            per_class = ", ".join(f"{k.split('/', 1)[1]} {v:.2f}" for k, v in sorted(node.items()) if k.startswith("accuracy/"))
            if "accuracy" in node:
                lines.append(f"  {name}: held-out accuracy {node['accuracy']:.3f} ({per_class})")
    return lines
