"""A user's CSV file: one example per row, numeric features and one label column.

Delimiters are sniffed, a header row is recognised, and a bad cell is reported by file,
line and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np

from engine.config import cut, file_problem, shown
from engine.datasets.common import MISSING_TOKENS, DataError, as_features, data_byte_limit

__all__ = ["load_csv"]


def _is_number(text: str) -> bool:
    """True if ``float`` accepts the field."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _sniff_delimiter(text: str) -> str:
    """The most frequent of , tab ; on the first non-blank line (ties: that order)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return max((",", "\t", ";"), key=first.count)


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank record of a text CSV file."""
    from engine.limits import format_bytes

    problem = file_problem(path)
    if problem == "no such file":
        raise DataError(f"{path}: file not found")
    if problem:
        raise DataError(f"{path}: {problem}, expected a CSV file")
    limit = data_byte_limit() // 2  # parsed text takes ~30x the file's size at its peak
    if path.stat().st_size > limit:
        raise DataError(
            f"{path}: {format_bytes(path.stat().st_size)}, more than the limit of "
            f"{format_bytes(limit)} for a CSV file"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: drop a spreadsheet's BOM
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file, expected CSV") from None
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text))
    rows = []
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                rows.append((reader.line_num, [f.strip() for f in fields]))
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: {e}") from None
    if not rows:
        raise DataError(f"{path}: file is empty, expected numeric feature columns and a label")
    return rows


def _label_index(path: Path, label_column: str | int, header: list[str] | None, n_cols: int) -> int:
    """0-based index of the label column, given by name (needs a header) or integer index."""
    text = str(label_column).strip()
    if re.fullmatch(r"[+-]?\d{1,18}", text):  # longer digit strings are out of range anyway
        i = int(text)
        if not -n_cols <= i < n_cols:
            raise DataError(
                f"{path}: label column {i} is out of range for {n_cols} columns "
                f"(use 0..{n_cols - 1} or -{n_cols}..-1)"
            )
        return i % n_cols
    if header is None:
        raise DataError(
            f"{path}: label column {shown(text)} is a name, but the file has no header "
            "row (line 1 is numeric); give an integer index such as -1"
        )
    if text not in header:
        raise DataError(
            f"{path}: unknown label column {shown(text)}; columns are "
            + cut(", ".join(repr(h) for h in header), 300)
        )
    return header.index(text)


def _column_name(header: list[str] | None, c: int) -> str:
    """Header name of column c, or 'column <c+1>' when there is no header."""
    if header is not None and header[c]:
        return header[c] if len(header[c]) <= 80 else header[c][:79] + "…"
    return f"column {c + 1}"


def _where(path: Path, line: int, header: list[str] | None, c: int) -> str:
    """'file: line L, column C ('name')' with 1-based line and column numbers."""
    return f"{path}: line {line}, column {c + 1} ({_column_name(header, c)!r})"


def _parse_features(
    path: Path, rows: list[tuple[int, list[str]]], header: list[str] | None, cols: list[int]
) -> np.ndarray:
    """(n, len(cols)) float64 from the given columns; DataError at the first bad cell."""
    cells = [[fields[c] for c in cols] for _, fields in rows]
    try:
        X = np.array(cells, dtype=str).astype(np.float64)  # fast path for clean files
        if np.isfinite(X).all():
            return as_features(X)
    except ValueError:
        pass
    for line, fields in rows:  # slow path: find the first offending cell and say where it is
        for c in cols:
            value = fields[c]
            if value.lower() in MISSING_TOKENS:
                raise DataError(
                    f"{_where(path, line, header, c)}: missing value {shown(value)}, "
                    "expected a number"
                )
            if not _is_number(value):
                raise DataError(
                    f"{_where(path, line, header, c)}: non-numeric value "
                    f"{shown(value)}, expected a number"
                )
            if not math.isfinite(float(value)):
                raise DataError(
                    f"{_where(path, line, header, c)}: non-finite value "
                    f"{shown(value)}, expected a finite number"
                )
    # Every cell is fine for Python's float (which accepts a little more than NumPy's parser).
    return as_features([[float(fields[c]) for c in cols] for _, fields in rows])


def _parse_labels(
    path: Path, rows: list[tuple[int, list[str]]], header: list[str] | None, c: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels -> (n,) int64 in 0..K-1 (sorted: numerically if all numbers) and class names."""
    values = [fields[c] for _, fields in rows]
    for (line, _), v in zip(rows, values, strict=True):
        if v.lower() in MISSING_TOKENS:
            raise DataError(f"{_where(path, line, header, c)}: missing label {shown(v)}")
    if all(_is_number(v) for v in values):
        for (line, _), v in zip(rows, values, strict=True):
            if not float(v).is_integer():
                raise DataError(
                    f"{_where(path, line, header, c)}: label {shown(v)} is not a whole "
                    "number; expected class labels (integers or names)"
                )
        keys = [int(float(v)) for v in values]
    else:
        keys = values
    classes = sorted(set(keys))
    if len(classes) < 2:
        raise DataError(
            f"{path}: label column {c + 1} ({_column_name(header, c)!r}) has only "
            f"one class ({shown(classes[0])}); expected at least two"
        )
    index = {k: i for i, k in enumerate(classes)}
    y = np.array([index[k] for k in keys], dtype=np.int64)
    return y, tuple(str(k) for k in classes)


def _is_header(fields: list[str]) -> bool:
    """True if a first row names columns rather than holding an example.

    A row without any number is a header (a data row may hold a text label).  So is a row of
    column numbers, 0, 1, 2, ... or 1, 2, 3, ... (pandas writes integer column names that
    way): an example whose features and label count up exactly like that is not worth the
    wrong guess the other way.
    """
    if not any(_is_number(f) for f in fields):
        return True
    if len(fields) < 3 or not all(re.fullmatch(r"\d{1,9}", f) for f in fields):
        return False
    numbers = [int(f) for f in fields]
    return numbers[0] in (0, 1) and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def load_csv(
    path: str | Path, label_column: str | int = "-1"
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """A classification CSV file -> (X (n, d) float64, y (n,) int64, feature_names, class_names).

    The delimiter (comma, tab or semicolon) is sniffed from the first line.  The first row
    is a header when none of its fields is a number, or when it numbers the columns
    0, 1, 2, ... or 1, 2, 3, ... (see :func:`_is_header`).  ``label_column`` is a header name or a
    Python-style integer index ("-1" = last column); every other column must be numeric.
    Labels may be integers or strings and are mapped to 0..K-1 in sorted order.  Errors name
    the file, the 1-based line and column, and what was expected.
    """
    path = Path(path)
    rows = _read_rows(path)
    header = None
    first_line = rows[0][0]  # the line every row must match in field count
    if _is_header(rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
    n_cols = len(header) if header is not None else len(rows[0][1])
    if n_cols < 2:
        raise DataError(
            f"{path}: found {n_cols} column, expected numeric feature columns "
            "and a label column (delimiter , tab or ;)"
        )
    label = _label_index(path, label_column, header, n_cols)
    if not rows:
        raise DataError(f"{path}: no data rows after the header line")
    for line, fields in rows:
        if len(fields) != n_cols:
            raise DataError(
                f"{path}: line {line}: expected {n_cols} fields (like line "
                f"{first_line}), found {len(fields)}"
            )
    cols = [c for c in range(n_cols) if c != label]
    X = _parse_features(path, rows, header, cols)
    y, class_names = _parse_labels(path, rows, header, label)
    return X, y, tuple(_column_name(header, c) for c in cols), class_names
