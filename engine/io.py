"""Files written whole or not at all: the one atomic writer and the one CSV writer.

Everything the CLI and the app write (configs, metrics, summaries, figures, tables) goes
through :func:`write_atomic`: a temporary file in the same folder, then ``os.replace``, so a
reader or a crash never sees half a file and a failed write leaves the old file as it was.
No Qt here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


def _alive(pid: int) -> bool:
    """True if process ``pid`` exists (or may: another user's)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


#: the name :func:`_write_replace` gives its temporary file: ``.<name>.<pid>.<8 hex>.tmp``
_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.tmp")


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files of :func:`write_atomic` calls whose process was killed.

    The temporary name carries the writer's pid (``.metrics.csv.<pid>.<hex>.tmp``), so a
    file of a process still alive (a concurrent writer) is never touched.
    """
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        match = _TEMP_NAME.fullmatch(tmp.name)  # exactly ours: other programs' files stay
        if match and not _alive(int(match["pid"])):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and ``os.replace``.

    Readers (and a crash half-way) never see a half-written file: the rename is atomic, and
    a failed write (disk full) removes its temporary file, leaving the old file intact.
    Temporary files left by killed writers in the same folder are removed first.  A new file
    gets the permissions ``open()`` would give (created with 0o666, the kernel applies the
    umask: the process umask is never read or changed), a rewritten one keeps its old
    permissions.  Raises OSError whose ``filename`` is ``path``.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "is a folder, not a file", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path.parent)
        _write_replace(path, raw)
    except OSError as e:
        if e.filename == str(path):
            raise
        raise OSError(e.errno, e.strerror or str(e), str(path)) from e
    return path


def _write_replace(path: Path, raw: bytes) -> None:
    try:
        old_mode = path.stat().st_mode & 0o777
    except OSError:
        old_mode = None
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it the file
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def csv_cell(value) -> str:
    """One CSV cell: floats at full precision (shortest exact repr: ``0.1``, ``1e-300``,
    ``nan``, ``inf``), integers (NumPy ones too) as integers, anything else as its text."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A CSV table as text: ``header`` then ``rows`` (cells through :func:`csv_cell`)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def write_csv(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write a CSV table (``header`` then ``rows``) atomically; floats keep full precision."""
    return write_atomic(path, csv_text(header, rows))


#: longest file-name part made from a run name (file systems allow 255 bytes per name)
MAX_NAME = 100


def safe_name(text: str) -> str:
    """A file-name-safe version of a run / variant name, at most MAX_NAME characters.

    A cut name ends in a short hash of the whole, so two long names stay apart.
    """
    name = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", text).strip("_.") or "run"
    if len(name) > MAX_NAME:
        digest = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}-{digest}"
    return name
