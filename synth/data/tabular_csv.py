"""Tabular CSV telemetry -> ``synth.core.rows.Rows``, and the CSV helpers the table loaders share.

Format (UTF-8, an optional byte-order mark, comma-separated, ``"`` quotes allowed)::

    temp_c,vibration_g,current_a,label
    21.5,0.013,1.92,0
    22.0,0.410,3.75,bearing_fault

- One header line, then one row per line. Header names may be quoted and padded with spaces.
- Every column except the label column is a numeric feature (or only the ``feature_columns``
  asked for, in that order), in whatever unit the user recorded; no empty cells.
- The optional label column says whether a row is normal: a value listed in ``normal_labels``
  or a number equal to 0 is normal; anything else is anomalous. An anomalous row's kind is its
  label when that is a name (an attack or fault), else ``"anomaly"``.
- Without a label column every row is normal (training data of a detector).

Row numbers in messages count data rows from 1 (the header is not a row).
``load_shuttle`` reads the NASA Statlog Shuttle set in this format, as shipped by PyPI ``river``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from synth.core.errors import ConfigError, DataError, first_line
from synth.core.rows import NORMAL, Rows, make_rows
from synth.data.recordings import first_non_number

NORMAL_LABELS = ("0", "normal", "benign", "Normal", "BENIGN", "false", "False")
ANOMALY = "anomaly"  # kind of an anomalous row whose label is a number or a truth value
SHUTTLE_COLUMNS = tuple(f"f{i}" for i in range(1, 10)) + ("anomaly",)
SHUTTLE_FILE = ("datasets", "shuttle.csv.gz")  # inside the installed river package


def load_csv_rows(
    path: str | Path,
    label_column: Optional[str] = None,
    feature_columns: Optional[Sequence[str]] = None,
    group: Optional[str] = None,
    normal_labels: Sequence[str] = NORMAL_LABELS,
) -> Rows:
    """Rows x (N, F) float32 of the numeric feature columns of one CSV file (see the module
    docstring), labelled from ``label_column`` when given; group = ``group`` or the file stem."""
    path = Path(path)
    columns = read_header(path, "CSV file")
    features = _feature_columns(path, columns, label_column, feature_columns)
    label = [] if label_column is None else [label_column]
    frame = read_table(path, columns, "CSV file", usecols=features + label, text_columns=label)
    x = numeric_matrix(frame, features, path)
    anomalous, kind = (False, NORMAL) if label_column is None else label_kinds(
        text_values(frame, label_column, path), normal_labels
    )
    return make_rows(x, anomalous, kind, path.stem if group is None else group, features)


def _feature_columns(
    path: Path, columns: list[str], label_column: Optional[str], feature_columns: Optional[Sequence[str]]
) -> list[str]:
    """The feature columns to read, checked against the header ``columns``."""
    if label_column is not None and label_column not in columns:
        raise DataError(f"{path}: no label column {label_column!r}; columns found: {name_list(columns)}")
    if feature_columns is None:
        features = [name for name in columns if name != label_column]
    else:
        features = [str(name) for name in feature_columns]
        missing = [name for name in features if name not in columns]
        if missing:
            raise DataError(f"{path}: missing columns: {name_list(missing)} (columns found: {name_list(columns)})")
    if label_column in features or not features:
        raise DataError(f"{path}: need at least one feature column other than the label column {label_column!r}")
    return features


def label_kinds(labels: np.ndarray, normal_labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(anomalous (N,) bool, kind (N,) str) of stripped label strings (N,): normal when listed in
    ``normal_labels`` or a number equal to 0; kind NORMAL, ANOMALY (a number or 'true'), or the label."""
    numbers = pd.to_numeric(pd.Series(labels), errors="coerce").to_numpy(np.float64)
    is_number = ~np.isnan(numbers)
    normal = np.isin(labels, [str(name) for name in normal_labels]) | (is_number & (numbers == 0))
    generic = is_number | (np.char.lower(labels.astype(str)) == "true")
    return ~normal, np.where(normal, NORMAL, np.where(generic, ANOMALY, labels))


def load_shuttle(path: Optional[str | Path] = None) -> Rows:
    """The NASA Statlog Shuttle anomaly set: 49,097 rows x 9 integer sensor features f1..f9
    (units undocumented), 3,511 anomalous; group "shuttle". ``path`` defaults to river's copy."""
    path = river_shuttle_path() if path is None else Path(path)
    check_header(path, read_header(path, "Statlog Shuttle file"), SHUTTLE_COLUMNS)
    return load_csv_rows(path, label_column="anomaly", group="shuttle")


def river_shuttle_path() -> Path:
    """``river/datasets/shuttle.csv.gz`` of the installed river package, found without importing
    river (a heavy import); DataError when river is not installed."""
    spec = importlib.util.find_spec("river")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the Statlog Shuttle set ships with the Python package river: pip install river, "
                        "or pass the path of shuttle.csv.gz")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*SHUTTLE_FILE)
    if not path.is_file():
        raise DataError(f"river is installed but {path} is missing: reinstall river or pass the path of shuttle.csv.gz")
    return path


def name_list(names: Sequence[str], limit: int = 20) -> str:
    """``names`` joined by ", ", the first ``limit`` of them and a count of the rest."""
    shown = ", ".join(str(name) for name in names[:limit])
    return shown + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def read_header(path: Path, what: str) -> list[str]:
    """The column names of a CSV file (.csv or compressed, e.g. .csv.gz), stripped of quotes,
    spaces and a byte-order mark; DataError naming ``what`` when it is missing, empty or unreadable."""
    if not path.is_file():
        raise DataError(f"{what} not found: {path}")
    try:
        frame = pd.read_csv(path, nrows=0, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} is empty: {path} (expected a header line, then one row a line)") from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError) as exc:  # UnicodeDecodeError is a ValueError
        raise DataError(f"cannot read {what} {path}: {first_line(exc, 200)}") from None
    return [str(name).strip() for name in frame.columns]


def check_header(path: Path, found: Sequence[str], expected: Sequence[str], ordered: bool = True) -> None:
    """DataError naming the first few missing and unexpected columns of ``found`` (or, when
    ``ordered``, that the order differs) compared with the ``expected`` header."""
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    if missing or unexpected or len(found) != len(expected):
        raise DataError(f"{path}: unexpected header: missing columns: {name_list(missing, 5) or 'none'}; "
                        f"unexpected columns: {name_list(unexpected, 5) or 'none'} (expected {len(expected)} columns "
                        f"{name_list(list(expected), 3)})")
    if ordered and list(found) != list(expected):
        first = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
        raise DataError(f"{path}: columns out of order: column {first + 1} is {found[first]!r}, "
                        f"expected {expected[first]!r}")


def read_table(
    path: Path,
    names: Sequence[str],
    what: str,
    usecols: Optional[Sequence[str]] = None,
    text_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """The data rows of a CSV file under the (stripped) header ``names``: the ``usecols`` columns
    (default all), ``text_columns`` as str with "" for empty cells, other columns as parsed by
    pandas with empty cells NaN. DataError for a malformed file or one without data rows."""
    numeric = [name for name in (usecols or names) if name not in text_columns]
    try:
        frame = pd.read_csv(
            path, header=0, names=list(names), usecols=usecols, encoding="utf-8-sig", skipinitialspace=True,
            dtype={name: str for name in text_columns}, keep_default_na=False,
            na_values={name: [""] for name in numeric},
            low_memory=False,  # whole-column type inference, no mixed-type chunks
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        raise DataError(f"cannot read {what} {path}: {first_line(exc, 200)}") from None
    if len(frame) == 0:
        raise DataError(f"{what} {path} has a header but no data rows")
    return frame


def text_values(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray:
    """(N,) str values of a text column, stripped; DataError when any cell is empty."""
    values = frame[column].fillna("").astype(str).str.strip()
    empty = int((values == "").sum())
    if empty:
        raise DataError(f"{path}: column {column!r} has {empty} empty cell(s) (every row needs a value)")
    return values.to_numpy(str)


def numeric_matrix(frame: pd.DataFrame, columns: Sequence[str], path: Path) -> np.ndarray:
    """(N, len(columns)) float32 of numeric columns; DataError naming the column, data row and
    value of the first text cell, or the count of empty / non-finite cells of a column."""
    for name in columns:
        row = first_non_number(frame[name])
        if row is not None:
            position = frame.index.get_loc(row)
            raise DataError(f"{path}: column {name!r}, row {row + 1}: {frame[name].iloc[position]!r} is not a number "
                            "(the column must hold numbers only)")
    x = np.empty((len(frame), len(columns)), np.float64)
    for index, name in enumerate(columns):  # column by column: no copy of the whole table
        x[:, index] = pd.to_numeric(frame[name]).to_numpy(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        column = int(np.argmax(bad.any(axis=0)))
        raise DataError(f"{path}: column {columns[column]!r} has {int(bad[:, column].sum())} empty or non-finite "
                        "cell(s) (the column needs a finite number in every row)")
    return x.astype(np.float32)


def pick_rows(frame: pd.DataFrame, max_rows: Optional[int], rng: np.random.Generator) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame`` drawn at random by ``rng``, in file order (all rows
    when None); the index keeps the file's row numbers for messages."""
    if max_rows is not None and not (isinstance(max_rows, (int, np.integer)) and max_rows > 0):
        raise ConfigError(f"max rows must be a positive whole number or None, got {max_rows!r}")
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), size=int(max_rows), replace=False))]
