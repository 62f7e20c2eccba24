"""N-BaIoT (Meidan et al., 2018: traffic of 9 IoT devices, benign and infected by Gafgyt and Mirai) -> Rows.

Each CSV file holds the traffic of one device in one state: a header line of the 115 names in
HEADER, then one row per traffic snapshot. The features are statistics (weight = decayed count
of packets, mean, variance / std, magnitude, radius, covariance, pcc) of packet sizes in bytes
(``MI_dir`` per source MAC-IP, ``H`` per source IP, ``HH`` per channel, ``HpHp`` per socket) and
of the time between packets in seconds (``HH_jit``), over five decay windows L5 .. L0.01
(about 100 ms .. 1 min). No label column: the label comes from the file's path, in either layout:

- UCI: ``<Device>/benign_traffic.csv``, ``<Device>/gafgyt_attacks/{combo,junk,scan,tcp,udp}.csv``,
  ``<Device>/mirai_attacks/{ack,scan,syn,udp,udpplain}.csv``;
- flat mirror: ``{i}.benign.csv``, ``{i}.gafgyt.<attack>.csv``, ``{i}.mirai.<attack>.csv`` with
  ``i`` = 1 .. 9 the device's position in DEVICES.

Rows: group = the device name; benign rows are normal (kind NORMAL), attack rows anomalous with
kind ``"gafgyt.combo"``, ``"mirai.syn"`` ... Devices 3 and 7 have no Mirai files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from synth.core.errors import DataError
from synth.core.rows import NORMAL, Rows, concat_rows, make_rows
from synth.data.tabular_csv import check_header, numeric_matrix, pick_rows, read_header, read_table

DEVICES = (
    "Danmini_Doorbell", "Ecobee_Thermostat", "Ennio_Doorbell", "Philips_B120N10_Baby_Monitor",
    "Provision_PT_737E_Security_Camera", "Provision_PT_838_Security_Camera", "Samsung_SNH_1011_N_Webcam",
    "SimpleHome_XCS7_1002_WHT_Security_Camera", "SimpleHome_XCS7_1003_WHT_Security_Camera",
)
ATTACKS = {"gafgyt": ("combo", "junk", "scan", "tcp", "udp"), "mirai": ("ack", "scan", "syn", "udp", "udpplain")}
BENIGN = "benign"
KINDS = (BENIGN,) + tuple(f"{botnet}.{attack}" for botnet, names in ATTACKS.items() for attack in names)

DECAY_WINDOWS = ("L5", "L3", "L1", "L0.1", "L0.01")
_ONE_WAY = ("weight", "mean", "variance")
_TWO_WAY = ("weight", "mean", "std", "magnitude", "radius", "covariance", "pcc")  # with the reverse direction
_STREAMS = (("MI_dir", _ONE_WAY), ("H", _ONE_WAY), ("HH", _TWO_WAY), ("HH_jit", _ONE_WAY), ("HpHp", _TWO_WAY))
HEADER = tuple(f"{stream}_{window}_{stat}" for stream, stats in _STREAMS for window in DECAY_WINDOWS for stat in stats)

_FLAT_NAME = re.compile(r"^([1-9])\.(benign|(?:gafgyt|mirai)\.[a-z]+)\.csv$")
LAYOUTS = ("UCI <Device>/benign_traffic.csv, <Device>/gafgyt_attacks/<attack>.csv, <Device>/mirai_attacks/<attack>.csv",
           "flat {i}.benign.csv, {i}.gafgyt.<attack>.csv, {i}.mirai.<attack>.csv with i = 1..9")


def load_nbaiot(
    path: str | Path, devices: Optional[Sequence[str]] = None, max_rows_per_file: Optional[int] = None, seed: int = 0
) -> Rows:
    """Rows x (N, 115) float32 of the N-BaIoT files in the folder ``path`` (either layout).

    ``devices`` keeps only the named devices (default all found); ``max_rows_per_file`` keeps a
    random subset of each file's rows, drawn from ``seed`` and the file's device and kind, in
    file order. Files come in the order of DEVICES, then KINDS, whatever the layout.
    """
    folder = Path(path)
    files = _selected(dataset_files(folder), devices, folder)
    parts = []
    for device, kind in sorted(files, key=_order):
        rng = np.random.default_rng([seed, DEVICES.index(device), KINDS.index(kind)])  # the same in both layouts
        parts.append(_read_file(files[device, kind], device, kind, max_rows_per_file, rng))
    return concat_rows(parts)


def dataset_files(folder: Path) -> dict[tuple[str, str], Path]:
    """{(device, kind): file} of every N-BaIoT file found in ``folder`` in either layout;
    DataError when the folder is missing, holds none, or holds one file in both layouts."""
    if not folder.is_dir():
        raise DataError(f"N-BaIoT folder not found: {folder} (accepted layouts: {'; '.join(LAYOUTS)})")
    found: dict[tuple[str, str], Path] = {}
    for key, file in _uci_files(folder) + _flat_files(folder):
        if key in found:
            raise DataError(f"{folder}: {key[0]} {key[1]} is there twice ({found[key]} and {file}): keep one layout")
        found[key] = file
    if not found:
        raise DataError(f"no N-BaIoT files in {folder} (accepted layouts: {'; '.join(LAYOUTS)})")
    return found


def _uci_files(folder: Path) -> list[tuple[tuple[str, str], Path]]:
    """((device, kind), file) of the UCI layout: device folders inside ``folder``, or ``folder``
    itself when it is named after a device."""
    device_folders = [folder] if folder.name in DEVICES else [folder / name for name in DEVICES]
    out = []
    for device_folder in device_folders:
        candidates = {BENIGN: device_folder / "benign_traffic.csv"}
        candidates.update({f"{botnet}.{attack}": device_folder / f"{botnet}_attacks" / f"{attack}.csv"
                           for botnet, attacks in ATTACKS.items() for attack in attacks})
        out += [((device_folder.name, kind), file) for kind, file in candidates.items() if file.is_file()]
    return out


def _flat_files(folder: Path) -> list[tuple[tuple[str, str], Path]]:
    """((device, kind), file) of the flat layout's ``{i}.<kind>.csv`` files in ``folder``."""
    out = []
    for file in sorted(folder.glob("*.csv")):
        match = _FLAT_NAME.match(file.name)
        if match and match.group(2) in KINDS:
            out.append(((DEVICES[int(match.group(1)) - 1], match.group(2)), file))
    return out


def _selected(
    files: dict[tuple[str, str], Path], devices: Optional[Sequence[str]], folder: Path
) -> dict[tuple[str, str], Path]:
    """The files of the requested ``devices`` (all when None); DataError for an unknown device
    name or a requested device without files."""
    if devices is None:
        return files
    if isinstance(devices, str):
        devices = [devices]
    for device in devices:
        if device not in DEVICES:
            raise DataError(f"unknown N-BaIoT device {device!r} (allowed: {', '.join(DEVICES)})")
        if not any(key[0] == device for key in files):
            raise DataError(f"no N-BaIoT files of device {device} in {folder}")
    return {key: file for key, file in files.items() if key[0] in devices}


def _order(key: tuple[str, str]) -> tuple[int, int]:
    """Sort key of a (device, kind) pair: DEVICES order, then KINDS order."""
    return DEVICES.index(key[0]), KINDS.index(key[1])


def _read_file(file: Path, device: str, kind: str, max_rows: Optional[int], rng: np.random.Generator) -> Rows:
    """The rows of one file, header checked against HEADER; benign rows normal, others anomalous."""
    check_header(file, read_header(file, "N-BaIoT file"), HEADER)
    frame = pick_rows(read_table(file, HEADER, "N-BaIoT file"), max_rows, rng)
    x = numeric_matrix(frame, HEADER, file)
    return make_rows(x, kind != BENIGN, NORMAL if kind == BENIGN else kind, device, HEADER)
