"""Loaders of tabular anomaly data (generic CSV, Statlog Shuttle, N-BaIoT, Edge-IIoTset) on small
fixtures written in the real formats: header lines come from /work/shared/data/headers/ when it
exists, else from the loaders' own constants (which are compared with those files when present)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from synth.core.rows import NORMAL
from synth.data import edge_iiotset, nbaiot
from synth.data.edge_iiotset import load_edge_iiotset
from synth.data.nbaiot import load_nbaiot
from synth.data.tabular_csv import load_csv_rows, load_shuttle
from synth.core.errors import DataError
from tabular_fixtures import EDGE_HEADER, HEADERS, NBAIOT_HEADER, edge_row, write_edge


def assert_one_line(exc: pytest.ExceptionInfo, *parts: str) -> str:
    message = str(exc.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message
    return message


@pytest.mark.skipif(not HEADERS.is_dir(), reason="/work/shared/data/headers not present: nothing to compare with")
def test_header_constants_equal_the_real_header_lines():
    assert nbaiot.HEADER == NBAIOT_HEADER and len(nbaiot.HEADER) == 115
    assert edge_iiotset.HEADER == EDGE_HEADER and len(edge_iiotset.HEADER) == 63


# ---------------------------------------------------------------- N-BaIoT

CONTENT = {  # (device number, kind): rows
    (1, "benign"): 6, (1, "gafgyt.combo"): 5, (1, "mirai.syn"): 4, (3, "benign"): 7, (3, "gafgyt.scan"): 3,
}


def nbaiot_values(device: int, kind: str, rows: int) -> np.ndarray:
    """(rows, 115) distinct values per file: what the row, file and device was is readable back."""
    base = device * 1000 + nbaiot.KINDS.index(kind) * 100 + np.arange(rows)[:, None]
    return base + np.arange(115)[None, :] / 1000


def write_nbaiot_file(path: Path, values: np.ndarray, header=NBAIOT_HEADER) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(f"{v:.10g}" for v in row) for row in values]
    path.write_text("\n".join(lines) + "\n")


def uci_path(root: Path, device: int, kind: str) -> Path:
    folder = root / nbaiot.DEVICES[device - 1]
    if kind == "benign":
        return folder / "benign_traffic.csv"
    botnet, attack = kind.split(".")
    return folder / f"{botnet}_attacks" / f"{attack}.csv"


@pytest.fixture
def nbaiot_folders(tmp_path) -> tuple[Path, Path]:
    """The same content in the UCI layout and in the flat mirror layout."""
    uci, flat = tmp_path / "uci", tmp_path / "flat"
    for (device, kind), rows in CONTENT.items():
        values = nbaiot_values(device, kind, rows)
        write_nbaiot_file(uci_path(uci, device, kind), values)
        write_nbaiot_file(flat / f"{device}.{kind}.csv", values)
    return uci, flat


def assert_same_rows(a, b) -> None:
    np.testing.assert_array_equal(a.x, b.x)
    for name in ("anomalous", "kind", "group"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.feature_names == b.feature_names


def test_nbaiot_layouts_give_identical_rows_labelled_from_the_path(nbaiot_folders):
    uci, flat = nbaiot_folders
    rows = load_nbaiot(uci)
    assert_same_rows(rows, load_nbaiot(flat))
    assert rows.x.dtype == np.float32 and rows.x.shape == (sum(CONTENT.values()), 115)
    assert rows.feature_names == NBAIOT_HEADER
    order = [(nbaiot.DEVICES[d - 1], NORMAL if k == "benign" else k) for d, k in CONTENT for _ in range(CONTENT[d, k])]
    assert list(zip(rows.group, rows.kind)) == order
    np.testing.assert_array_equal(rows.anomalous, rows.kind != NORMAL)
    first_mirai = list(rows.kind).index("mirai.syn")
    np.testing.assert_allclose(rows.x[first_mirai], nbaiot_values(1, "mirai.syn", 1)[0], rtol=1e-6)


def test_nbaiot_devices_filter_and_unknown_device(nbaiot_folders):
    uci, _ = nbaiot_folders
    rows = load_nbaiot(uci, devices=["Ennio_Doorbell"])
    assert set(rows.group) == {"Ennio_Doorbell"} and len(rows) == 10
    with pytest.raises(DataError) as exc:
        load_nbaiot(uci, devices=["Doorbell"])
    assert_one_line(exc, "'Doorbell'", "Danmini_Doorbell", "SimpleHome_XCS7_1003_WHT_Security_Camera")


def test_nbaiot_max_rows_per_file_is_a_seeded_subset_in_file_order(nbaiot_folders):
    uci, flat = nbaiot_folders
    rows = load_nbaiot(uci, max_rows_per_file=4, seed=7)
    assert_same_rows(rows, load_nbaiot(uci, max_rows_per_file=4, seed=7))
    assert_same_rows(rows, load_nbaiot(flat, max_rows_per_file=4, seed=7))
    assert len(rows) == 4 + 4 + 4 + 4 + 3
    assert not np.array_equal(rows.x, load_nbaiot(uci, max_rows_per_file=4, seed=8).x)
    benign = rows.x[(rows.group == "Danmini_Doorbell") & (rows.kind == NORMAL), 0]
    assert np.all(np.diff(benign) > 0) and set(benign) <= set(nbaiot_values(1, "benign", 6)[:, 0])


def test_nbaiot_wrong_column_names_the_file_and_columns(nbaiot_folders):
    uci, _ = nbaiot_folders
    header = list(NBAIOT_HEADER)
    header[3] = "MI_dir_L3_wieght"
    bad = uci_path(uci, 3, "benign")
    write_nbaiot_file(bad, nbaiot_values(3, "benign", 2), header)
    with pytest.raises(DataError) as exc:
        load_nbaiot(uci)
    assert_one_line(exc, str(bad), "missing columns: MI_dir_L3_weight", "unexpected columns: MI_dir_L3_wieght")


def test_nbaiot_folder_without_files_names_both_layouts(tmp_path):
    (tmp_path / "notes.csv").write_text("a\n1\n")
    with pytest.raises(DataError) as exc:
        load_nbaiot(tmp_path)
    assert_one_line(exc, "no N-BaIoT files", "benign_traffic.csv", "{i}.benign.csv")


# ---------------------------------------------------------------- Edge-IIoTset


EDGE_ROWS = [
    edge_row(tcp_len="12", http_request_method="GET", mqtt_topic="Temperature_and_Humidity"),
    edge_row(tcp_len="0", http_request_method="0.0", dns_qry_name_len="1.0"),
    edge_row(tcp_len="7.5", http_request_method="", Attack_label="1", Attack_type="SQL_injection"),
    edge_row(tcp_len="3", http_request_method="POST", Attack_label="1", Attack_type="DDoS_UDP"),
]


def test_edge_one_hot_with_fitted_vocabulary_labels_apart_identifiers_dropped(tmp_path):
    rows, vocabulary = load_edge_iiotset(write_edge(tmp_path / "ML-EdgeIIoT-dataset.csv", EDGE_ROWS))
    assert vocabulary["http.request.method"] == ["0", "GET", "POST"]
    assert vocabulary["mqtt.topic"] == ["0", "Temperature_and_Humidity"]
    assert vocabulary["dns.qry.name.len"] == ["0", "1.0"]
    assert list(vocabulary) == list(edge_iiotset.CATEGORICAL)
    names = rows.feature_names
    method = [names.index(f"http.request.method={v}") for v in ("0", "GET", "POST")]
    np.testing.assert_array_equal(rows.x[:, method], [[0, 1, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(rows.x[:, names.index("tcp.len")], [12, 0, 7.5, 3])
    assert not set(names) & set(edge_iiotset.DROPPED + edge_iiotset.CATEGORICAL + ("Attack_label", "Attack_type"))
    assert len(names) == 61 - 15 - 7 + sum(len(v) for v in vocabulary.values())
    np.testing.assert_array_equal(rows.anomalous, [False, False, True, True])
    assert list(rows.kind) == [NORMAL, NORMAL, "SQL_injection", "DDoS_UDP"]
    assert set(rows.group) == {"ML-EdgeIIoT-dataset"} and rows.x.dtype == np.float32


def test_edge_reused_vocabulary_keeps_width_and_zeroes_unseen_values(tmp_path):
    train, vocabulary = load_edge_iiotset(write_edge(tmp_path / "train.csv", EDGE_ROWS))
    unseen = [edge_row(http_request_method="PUT", mqtt_topic="Temperature_and_Humidity")]
    test, same = load_edge_iiotset(write_edge(tmp_path / "test.csv", unseen), vocabulary=vocabulary)
    assert same == vocabulary and test.feature_names == train.feature_names
    method = [i for i, name in enumerate(test.feature_names) if name.startswith("http.request.method=")]
    assert np.all(test.x[0, method] == 0)
    assert test.x[0, test.feature_names.index("mqtt.topic=Temperature_and_Humidity")] == 1
    with pytest.raises(DataError) as exc:
        load_edge_iiotset(tmp_path / "test.csv", vocabulary={"mqtt.topic": ["0"]})
    assert_one_line(exc, "vocabulary", "http.request.method")


def test_edge_lenient_about_bom_spaces_and_quotes(tmp_path):
    plain, _ = load_edge_iiotset(write_edge(tmp_path / "plain.csv", EDGE_ROWS))
    padded = tmp_path / "padded.csv"
    lines = [",".join(f'" {name} "' for name in EDGE_HEADER)]
    with (tmp_path / "rows.csv").open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(EDGE_ROWS)
    padded.write_text("\ufeff" + "\n".join(lines) + "\n" + (tmp_path / "rows.csv").read_text(), encoding="utf-8")
    rows, _ = load_edge_iiotset(padded)
    np.testing.assert_array_equal(rows.x, plain.x)
    assert rows.feature_names == plain.feature_names and list(rows.kind) == list(plain.kind)


def test_edge_bad_number_and_wrong_columns(tmp_path):
    with pytest.raises(DataError) as exc:
        load_edge_iiotset(write_edge(tmp_path / "bad.csv", EDGE_ROWS + [edge_row(tcp_len="abc")]))
    assert_one_line(exc, "'tcp.len'", "row 5", "'abc'")
    header = [name for name in EDGE_HEADER if name != "tcp.len"] + ["tcp.length"]
    with pytest.raises(DataError) as exc:
        load_edge_iiotset(write_edge(tmp_path / "renamed.csv", [], header))
    assert_one_line(exc, "missing columns: tcp.len", "unexpected columns: tcp.length")


# ---------------------------------------------------------------- generic CSV


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_with_label_column(tmp_path):
    path = write_text(tmp_path / "pump.csv", "temp_c,label,current_a\n21.5,0,1.9\n22,bearing_fault,3.7\n"
                                             "23,1,2.0\n20,normal,1.8\n24,0.0,2.1\n")
    rows = load_csv_rows(path, label_column="label")
    assert rows.feature_names == ("temp_c", "current_a") and rows.x.dtype == np.float32
    np.testing.assert_allclose(rows.x[1], [22, 3.7], rtol=1e-6)
    np.testing.assert_array_equal(rows.anomalous, [False, True, True, False, False])
    assert list(rows.kind) == [NORMAL, "bearing_fault", "anomaly", NORMAL, NORMAL]
    assert set(rows.group) == {"pump"}
    chosen = load_csv_rows(path, label_column="label", feature_columns=["current_a", "temp_c"], group="p1")
    assert chosen.feature_names == ("current_a", "temp_c") and set(chosen.group) == {"p1"}


def test_csv_without_label_column_is_all_normal(tmp_path):
    rows = load_csv_rows(write_text(tmp_path / "t.csv", "a,b\n1,2\n3,4\n"))
    assert rows.x.shape == (2, 2) and not rows.anomalous.any() and set(rows.kind) == {NORMAL}


def test_csv_errors_are_one_line_and_name_the_problem(tmp_path):
    path = write_text(tmp_path / "t.csv", "a,b,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(DataError) as exc:
        load_csv_rows(path, label_column="label")
    assert_one_line(exc, "'b'", "row 2", "'oops'")
    with pytest.raises(DataError) as exc:
        load_csv_rows(path, label_column="label", feature_columns=["a", "x", "y"])
    assert_one_line(exc, "missing columns: x, y")
    with pytest.raises(DataError) as exc:
        load_csv_rows(path, label_column="class")
    assert_one_line(exc, "'class'", "a, b, label")
    with pytest.raises(DataError) as exc:
        load_csv_rows(write_text(tmp_path / "gaps.csv", "a,b\n1,\n2,\n3,4\n"))
    assert_one_line(exc, "'b'", "2 empty")
    with pytest.raises(DataError) as exc:
        load_csv_rows(write_text(tmp_path / "empty.csv", ""))
    assert_one_line(exc, "empty")
    with pytest.raises(DataError) as exc:
        load_csv_rows(tmp_path / "absent.csv")
    assert_one_line(exc, "not found")


@pytest.mark.skipif(importlib.util.find_spec("river") is None,
                    reason="PyPI river (which ships shuttle.csv.gz) is not installed")
def test_shuttle_loads_from_the_installed_river():
    rows = load_shuttle()
    assert rows.x.shape == (49_097, 9) and int(rows.anomalous.sum()) == 3_511
    assert rows.feature_names == tuple(f"f{i}" for i in range(1, 10)) and set(rows.group) == {"shuttle"}


def test_shuttle_rejects_another_header(tmp_path):
    with pytest.raises(DataError) as exc:
        load_shuttle(write_text(tmp_path / "s.csv", "f1,f2,anomaly\n1,2,0\n"))
    assert_one_line(exc, "missing columns: f3")
