"""Update the translation catalogs from the sources and compile them for Qt.

    python tools/translations.py            # lupdate -> engine/translations/vglab_ja.ts,
                                            # then lrelease -> engine/translations/vglab_ja.qm
    python tools/translations.py --check    # change nothing; exit 1 when a marked string
                                            # is missing from a .ts, a translation is
                                            # unfinished, or a .qm is not the .ts compiled

``pyside6-lupdate`` scans every ``.py`` of ``gui/`` and ``engine/`` plus ``cli.py`` and
``main.py`` for ``QCoreApplication.translate("ctx", "text")``, ``translate("ctx", "text")``
and ``QT_TRANSLATE_NOOP("ctx", "text")``; new strings arrive as ``type="unfinished"``.
Translate them in the ``.ts`` (a text editor or Qt Linguist), run this script again, and
commit both the ``.ts`` and the ``.qm`` (an install needs no Qt tools).  Locations are not
stored, so editing code elsewhere never changes the catalog.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.i18n import LANGUAGES, SOURCE_LANGUAGE, catalog_path  # noqa: E402

SCANNED = ("gui", "engine")
SCANNED_FILES = ("cli.py", "main.py")


def sources(root: Path = ROOT) -> list[Path]:
    """Every Python file whose strings belong in the catalogs (sorted: stable output)."""
    found = [p for d in SCANNED for p in (root / d).rglob("*.py")]
    found += [root / name for name in SCANNED_FILES]
    return sorted(p for p in found if "__pycache__" not in p.parts)


def tool(name: str) -> str:
    """The path of a Qt Linguist tool of PySide6 (``pyside6-lupdate``), or exit naming it."""
    path = shutil.which(f"pyside6-{name}")
    if path is None:
        sys.exit(f"translations: pyside6-{name} not found (it comes with PySide6-Essentials)")
    return path


def update(ts: Path, lang: str, files: list[Path]) -> None:
    """Merge the marked strings of ``files`` into ``ts`` (created if missing)."""
    cmd = [tool("lupdate"), "-silent", "-no-obsolete", "-locations", "none"]
    cmd += ["-source-language", SOURCE_LANGUAGE, "-target-language", lang]
    subprocess.run([*cmd, *map(str, files), "-ts", str(ts)], check=True)


def release(ts: Path, qm: Path) -> None:
    """Compile ``ts`` into the binary ``qm`` that ``QTranslator`` loads."""
    subprocess.run([tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True)


def unfinished(ts: Path) -> list[str]:
    """``context: source`` of every entry without a finished, non-empty translation."""
    bad = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            node = message.find("translation")
            if node is None or node.get("type") or not (node.text or "").strip():
                bad.append(f"{name}: {message.findtext('source', '')}")
    return bad


def messages(ts: Path) -> set[tuple[str, str]]:
    """(context, source) of every entry of ``ts``."""
    root = ET.parse(ts).getroot()
    return {
        (c.findtext("name", ""), m.findtext("source", ""))
        for c in root.iter("context")
        for m in c.iter("message")
    }


def problems(lang: str, root: Path = ROOT) -> list[str]:
    """What ``--check`` reports for ``lang``: strings the .ts lacks, unfinished entries,
    a stale .qm (each worked out in a temporary folder; nothing in the tree changes)."""
    ts, qm = catalog_path(lang), catalog_path(lang, ".qm")
    if not ts.is_file():
        return [f"{ts} is missing: run python tools/translations.py"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh_ts, fresh_qm = Path(tmp) / ts.name, Path(tmp) / qm.name
        shutil.copy(ts, fresh_ts)
        update(fresh_ts, lang, sources(root))
        out = [f"{ts.name}: unfinished: {m}" for m in unfinished(fresh_ts)]
        # the messages, not the bytes: a code comment lupdate copies in (it reads "#:"
        # comments as notes for the translator) must not fail the check
        if messages(fresh_ts) != messages(ts):
            out.append(f"{ts.name} is not up to date with the sources: run the script")
        release(ts, fresh_qm)
        if not qm.is_file() or not filecmp.cmp(fresh_qm, qm, shallow=False):
            out.append(f"{qm.name} is not {ts.name} compiled: run the script")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report problems, change nothing")
    args = parser.parse_args(argv)
    langs = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
    if args.check:
        found = [p for lang in langs for p in problems(lang)]
        print("\n".join(found) or "translations: up to date, every entry translated")
        return 1 if found else 0
    for lang in langs:
        ts = catalog_path(lang)
        ts.parent.mkdir(parents=True, exist_ok=True)
        update(ts, lang, sources())
        release(ts, catalog_path(lang, ".qm"))
        todo = unfinished(ts)
        print(f"{ts.relative_to(ROOT)}: {len(todo)} unfinished")
        for line in todo:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
