"""Small files in the formats of the tabular anomaly data sets (Edge-IIoTset, N-BaIoT): their
header lines come from /work/shared/data/headers/ when it exists, else from the loaders' own
constants."""

from __future__ import annotations

import csv
from pathlib import Path

from synth.data import edge_iiotset, nbaiot

HEADERS = Path("/work/shared/data/headers")


def real_header(name: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    """The real header line of ``name`` when the shared folder is there, else ``fallback``."""
    path = HEADERS / name
    return tuple(path.read_text(encoding="utf-8-sig").strip().split(",")) if path.is_file() else fallback


NBAIOT_HEADER = real_header("nbaiot_header.csv", nbaiot.HEADER)
EDGE_HEADER = real_header("edgeiiotset_header.csv", edge_iiotset.HEADER)


def edge_row(**values: str) -> list[str]:
    """One row in the real format: text in the identifier fields, "0" elsewhere, ``values`` on top
    (keys use "_" for "." in column names)."""
    row = {name: "0" for name in EDGE_HEADER}
    row.update({"frame.time": " 2021 11:44:10.081753000 ", "ip.src_host": "192.168.0.128",
                "ip.dst_host": "192.168.0.101", "tcp.options": "020405b40402", "mqtt.msg": "hello, world",
                "http.request.full_uri": "http://192.168.0.128/DVWA/?id=1", "Attack_type": "Normal"})
    row.update({name.replace("_", ".") if name not in ("Attack_label", "Attack_type") else name: value
                for name, value in values.items()})
    return [row[name] for name in EDGE_HEADER]


def write_edge(path: Path, rows, header=EDGE_HEADER, bom: bool = False) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path
