"""Edge-IIoTset (Ferrag et al., 2022: IIoT network traffic, normal and 14 attacks) -> Rows.

Format: ``DNN-EdgeIIoT-dataset.csv`` / ``ML-EdgeIIoT-dataset.csv``, a header line of the 63
names in HEADER (61 packet fields as tshark names them, then ``Attack_label`` and
``Attack_type``), then one row per packet. The header may carry a byte-order mark, quotes and
spaces around names; the order of the columns does not matter.

- DROPPED identifier and free-text fields (time stamps, addresses, ports, payloads) are not read.
- CATEGORICAL fields are one-hot encoded: one feature ``"<column>=<value>"`` per value of the
  vocabulary. Values are read as text and stripped; "0.0" and empty cells read "0" (empty fields
  of the capture tool come out as 0 or 0.0). A value the vocabulary lacks encodes as all zeros.
- Every other packet field is a numeric feature in the unit tshark reports (bytes, counts, flags
  as numbers, seconds for udp.time_delta).
- ``Attack_label`` (0/1) gives ``anomalous``; ``Attack_type`` gives ``kind`` ("Normal" -> NORMAL,
  attacks keep their name). Neither is a feature. group = the file stem.

Features: the numeric fields in HEADER order, then the one-hot columns in CATEGORICAL order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from synth.core.errors import DataError
from synth.core.rows import NORMAL, Rows, make_rows
from synth.data.tabular_csv import (
    check_header, name_list, numeric_matrix, pick_rows, read_header, read_table, text_values,
)

HEADER = tuple(
    "frame.time,ip.src_host,ip.dst_host,arp.dst.proto_ipv4,arp.opcode,arp.hw.size,arp.src.proto_ipv4,icmp.checksum,"
    "icmp.seq_le,icmp.transmit_timestamp,icmp.unused,http.file_data,http.content_length,http.request.uri.query,"
    "http.request.method,http.referer,http.request.full_uri,http.request.version,http.response,http.tls_port,tcp.ack,"
    "tcp.ack_raw,tcp.checksum,tcp.connection.fin,tcp.connection.rst,tcp.connection.syn,tcp.connection.synack,"
    "tcp.dstport,tcp.flags,tcp.flags.ack,tcp.len,tcp.options,tcp.payload,tcp.seq,tcp.srcport,udp.port,udp.stream,"
    "udp.time_delta,dns.qry.name,dns.qry.name.len,dns.qry.qu,dns.qry.type,dns.retransmission,dns.retransmit_request,"
    "dns.retransmit_request_in,mqtt.conack.flags,mqtt.conflag.cleansess,mqtt.conflags,mqtt.hdrflags,mqtt.len,"
    "mqtt.msg_decoded_as,mqtt.msg,mqtt.msgtype,mqtt.proto_len,mqtt.protoname,mqtt.topic,mqtt.topic_len,mqtt.ver,"
    "mbtcp.len,mbtcp.trans_id,mbtcp.unit_id,Attack_label,Attack_type".split(",")
)
LABEL, TYPE = "Attack_label", "Attack_type"
NORMAL_TYPE = "Normal"
DROPPED = (
    "frame.time", "ip.src_host", "ip.dst_host", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "http.file_data",
    "http.request.full_uri", "icmp.transmit_timestamp", "http.request.uri.query", "tcp.options", "tcp.payload",
    "tcp.srcport", "tcp.dstport", "udp.port", "mqtt.msg",
)
CATEGORICAL = (
    "http.request.method", "http.referer", "http.request.version", "dns.qry.name.len", "mqtt.conack.flags",
    "mqtt.protoname", "mqtt.topic",
)
NUMERIC = tuple(name for name in HEADER if name not in DROPPED + CATEGORICAL + (LABEL, TYPE))
_EMPTY_VALUES = {"": "0", "0.0": "0"}  # the spellings of an empty field


def load_edge_iiotset(
    path: str | Path, vocabulary: Optional[Mapping[str, Sequence[str]]] = None, max_rows: Optional[int] = None,
    seed: int = 0,
) -> tuple[Rows, dict[str, list[str]]]:
    """(Rows x (N, len(NUMERIC) + one-hot width) float32, vocabulary) of one Edge-IIoTset file.

    ``vocabulary`` ({categorical column: values}, the one returned when the training rows were
    loaded) fixes the one-hot columns; None builds it from the rows loaded (sorted values).
    ``max_rows`` keeps a random subset of the rows drawn from ``seed``, in file order.
    """
    path = Path(path)
    names = read_header(path, "Edge-IIoTset file")
    check_header(path, names, HEADER, ordered=False)
    frame = read_table(path, names, "Edge-IIoTset file", usecols=NUMERIC + CATEGORICAL + (LABEL, TYPE),
                       text_columns=CATEGORICAL + (TYPE,))
    frame = pick_rows(frame, max_rows, np.random.default_rng(seed))
    categories = {name: categorical_values(frame[name]) for name in CATEGORICAL}
    vocabulary = build_vocabulary(categories) if vocabulary is None else checked_vocabulary(vocabulary)
    one_hot, one_hot_names = one_hot_encode(categories, vocabulary)
    x = np.concatenate([numeric_matrix(frame, NUMERIC, path), one_hot], axis=1)
    anomalous, kind = _labels(frame, path)
    return make_rows(x, anomalous, kind, path.stem, NUMERIC + one_hot_names), vocabulary


def categorical_values(column: pd.Series) -> np.ndarray:
    """(N,) str category of each cell: stripped, with "" and "0.0" read as "0"."""
    values = column.fillna("").astype(str).str.strip()
    return values.replace(_EMPTY_VALUES).to_numpy(str)


def build_vocabulary(categories: Mapping[str, np.ndarray]) -> dict[str, list[str]]:
    """{column: sorted distinct values} of the CATEGORICAL columns."""
    return {name: sorted(set(categories[name].tolist())) for name in CATEGORICAL}


def checked_vocabulary(vocabulary: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """A stored vocabulary as {column: [str values]} in CATEGORICAL order; DataError when its
    columns are not exactly CATEGORICAL or a column repeats a value."""
    if set(vocabulary) != set(CATEGORICAL):
        raise DataError(f"Edge-IIoTset vocabulary must list exactly the columns {', '.join(CATEGORICAL)}; "
                        f"got {name_list(sorted(map(str, vocabulary)))}")
    checked = {name: [str(value) for value in vocabulary[name]] for name in CATEGORICAL}
    for name, values in checked.items():
        if len(set(values)) != len(values):
            raise DataError(f"Edge-IIoTset vocabulary of column {name} repeats a value: each value may appear once")
    return checked


def one_hot_encode(
    categories: Mapping[str, np.ndarray], vocabulary: Mapping[str, Sequence[str]]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(N, sum of vocabulary sizes) float32 of 0/1, one column per vocabulary value in
    CATEGORICAL order, and the names "<column>=<value>"; unseen values give a row of zeros."""
    blocks, names = [], []
    for name in CATEGORICAL:
        codes = pd.Index(list(vocabulary[name]), dtype=object).get_indexer(categories[name])  # -1: not in vocabulary
        block = np.zeros((len(codes), len(vocabulary[name])), np.float32)
        seen = codes >= 0
        block[np.flatnonzero(seen), codes[seen]] = 1.0
        blocks.append(block)
        names += [f"{name}={value}" for value in vocabulary[name]]
    return np.concatenate(blocks, axis=1), tuple(names)


def _labels(frame: pd.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(anomalous (N,) bool from Attack_label 0/1, kind (N,) str from Attack_type)."""
    label = numeric_matrix(frame, [LABEL], path)[:, 0]
    bad = ~np.isin(label, (0.0, 1.0))
    if bad.any():
        row = int(frame.index[np.argmax(bad)])
        raise DataError(f"{path}: column {LABEL}, row {row + 1}: {label[np.argmax(bad)]:g} is not 0 or 1")
    kind = text_values(frame, TYPE, path)
    return label == 1.0, np.where(kind == NORMAL_TYPE, NORMAL, kind)
