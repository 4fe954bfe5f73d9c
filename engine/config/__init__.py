"""Typed experiment configuration: the single source of truth for an experiment.

An :class:`ExperimentConfig` is a frozen tree of dataclasses (data, model, training,
logging).  ``validate`` reports every problem at once, each one naming the full field
path (``model.hidden[3].width: must be >= 1, got 0``).

Configs live in TOML or JSON files with one table per section::

    name = "deep-sigmoid"
    [model]
    depth = 10
    activation = "sigmoid"
    hidden = [{ width = 128 }, { width = 64, activation = "relu" }]   # optional

:func:`load` / :func:`save` read and write them (``load(save(c)) == c``), :func:`from_dict`
checks a parsed document (unknown keys, types, ranges: every error at once) and
:func:`apply_overrides` applies command-line ``key=value`` settings.

This module is the package's public face and the file I/O; the parts live in
:mod:`engine.config.types` (the dataclasses), :mod:`engine.config.choices` and
:mod:`engine.config.fields` (what each field accepts and how it is shown),
:mod:`engine.config.check` (``validate``), :mod:`engine.config.parse` (documents and
overrides) and :mod:`engine.config.text` (a config in words).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import tomli_w

# The public face of the config modules: ``from engine.config import X`` works for every
# name in their ``__all__`` (the choices, the types, validate, from_dict, apply_overrides, ...).
from engine.config import fields  # noqa: F401 -- the field table, as a submodule
from engine.config.check import *  # noqa: F403
from engine.config.choices import *  # noqa: F403
from engine.config.parse import *  # noqa: F403
from engine.config.parse import from_dict, parse_document
from engine.config.types import *  # noqa: F403
from engine.config.types import ConfigError, ExperimentConfig, to_dict
from engine.io import clean_stale_temps, write_atomic  # noqa: F401 -- re-exported

# ----------------------------------------------------------------------------- files


def loads_toml(text: str, source: str = "") -> ExperimentConfig:
    """Parse and check a TOML document (see :func:`from_dict`)."""
    return from_dict(parse_document(text, ".toml", source), source)


def dumps_toml(config: ExperimentConfig) -> str:
    """The TOML text of ``config``; every field is written, so the file is self-contained."""
    return tomli_w.dumps(to_dict(config))


def dumps_json(config: ExperimentConfig) -> str:
    """The JSON text of ``config`` (indented, UTF-8)."""
    return json.dumps(to_dict(config), indent=2, ensure_ascii=False) + "\n"


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(
            [f"unsupported file type {suffix or '(none)'!r}; expected .toml or .json"], str(path)
        )
    return suffix


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a data or config file, or None if it can.

    Refuses folders and non-regular files up front: reading a FIFO would block forever and a
    device (``/dev/zero``) would never end.  The caller adds what it expected.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    except ValueError:
        return "not a valid file name"
    if stat.S_ISDIR(mode):
        return "is a folder"
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, device or socket)"
    return None


#: largest config document read (a real one is a few kB; a 100000-layer hidden list ~3 MB)
MAX_DOCUMENT_BYTES = 16 * 1024**2


def read_document(path: str | os.PathLike) -> dict:
    """The parsed (unchecked) top-level table of a ``.toml`` / ``.json`` file.

    Every failure (missing file, unreadable, bad syntax) is a :class:`ConfigError` whose
    source is the file name.
    """
    path = Path(path)
    if not str(path).strip():
        raise ConfigError(["empty CONFIG: expected a .toml / .json file or a preset name"])
    suffix = _suffix(path)
    problem = file_problem(path)
    if problem is None and path.stat().st_size > MAX_DOCUMENT_BYTES:
        problem = f"larger than {MAX_DOCUMENT_BYTES // 1024**2} MiB, too large for a config file"
    if problem:
        expected = (
            ", expected a .toml or .json file"
            if problem.startswith(("is a folder", "not a regular"))
            else ""
        )
        raise ConfigError([problem + expected], str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(["not a UTF-8 text file"], str(path)) from None
    except OSError as e:
        raise ConfigError([f"cannot read: {e.strerror or e}"], str(path)) from None
    return parse_document(text, suffix, str(path))


def load(path: str | os.PathLike) -> ExperimentConfig:
    """The config in a ``.toml`` or ``.json`` file; errors are prefixed by the file name."""
    return from_dict(read_document(path), str(path))


def save(config: ExperimentConfig, path: str | os.PathLike) -> Path:
    """Write ``config`` as TOML or JSON (by suffix), atomically.  Returns the path."""
    path = Path(path)
    text = dumps_json(config) if _suffix(path) == ".json" else dumps_toml(config)
    return write_atomic(path, text)
