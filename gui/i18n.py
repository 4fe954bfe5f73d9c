"""The app in English or Japanese, switched at run time: Qt's own translation system.

The catalog is ``engine/translations/vglab_ja.ts`` (one for the GUI, the CLI and the engine);
its compiled ``vglab_ja.qm`` ships in the package and is loaded here by a ``QTranslator``,
together with Qt's own ``qtbase_ja.qm`` (the standard dialogs' buttons).  The Qt-free code
(:mod:`engine.i18n`) reads the same ``.ts``; :func:`set_language` switches both.

Which language the app starts in (:func:`startup_language`), first that applies:

1. ``python main.py --lang ja`` (or ``en``);
2. the choice last made in the Language menu (``QSettings``: organisation ``vglab``,
   application ``Vanishing Gradient Lab``, key ``language``);
3. the environment: ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (``ja_JP.UTF-8``);
4. the system's UI languages (``QLocale.system()``: Windows, macOS), else English.

The pattern every window, dialog and panel follows (:class:`Retranslatable`)::

    class MyPanel(Retranslatable, QWidget):       # the mixin first, the Qt class last
        def __init__(self):
            super().__init__()
            self.title = QLabel()
            self.retranslate_ui()                 # the texts are set in one place...

        def retranslate_ui(self) -> None:         # ...and again on every language change
            self.title.setText(translate("MyPanel", "Gradient per layer"))

Installing or removing a translator makes Qt send ``QEvent.LanguageChange`` to every
widget; the mixin's ``changeEvent`` calls ``retranslate_ui``.  QActions are no widgets:
the window that owns them re-sets their texts in its own ``retranslate_ui``.  A text built
from numbers (the status readout) keeps its last numbers and redraws them.  Tables of
strings are marked with ``QT_TRANSLATE_NOOP("Ctx", "text")`` and passed through
``translate("Ctx", row_text)`` when shown.  Qt-free modules (the engine, the CLI,
``gui.adapter``, ``gui.frame_view``) call :func:`engine.i18n.translate` the same way; it
follows the language set here.  lupdate copies a ``#:`` comment into the ``.ts`` as a note
for the translator of the next marked string.  After marking strings, run
``python tools/translations.py``, translate the new ``type="unfinished"`` entries in the
``.ts`` and run it again (README, "Language / 言語").
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QSettings, QTranslator
from PySide6.QtGui import QAction, QActionGroup, QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QMenu

from engine import i18n as core
from engine.i18n import LANGUAGES, QT_TRANSLATE_NOOP, SOURCE_LANGUAGE, catalog_path

__all__ = [
    "LANGUAGES",
    "QT_TRANSLATE_NOOP",
    "LanguageMenu",
    "Retranslatable",
    "cjk_family",
    "current",
    "set_language",
    "startup_language",
    "translate",
]

SETTINGS_KEY = "language"
# families that draw Japanese (kana and kanji with Japanese glyph shapes), best first;
# Debian's fonts-noto-cjk provides the first
CJK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "Source Han Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "Yu Gothic UI",
    "Meiryo",
    "Hiragino Sans",
    "Noto Sans CJK SC",
    "Droid Sans Fallback",
)
_translators: list[QTranslator] = []


def translate(context: str, text: str) -> str:
    """``text`` in the app's language (``QCoreApplication.translate``; lupdate extracts it)."""
    return QCoreApplication.translate(context, text)


def settings() -> QSettings:
    """Where the Language menu's choice is remembered (independent of the app's names)."""
    return QSettings("vglab", "Vanishing Gradient Lab")


def current() -> str:
    """The language in use (``en`` or ``ja``)."""
    return core.language()


def startup_language(requested: str | None = None) -> str:
    """The language to start in: ``--lang``, else the remembered choice, else the
    environment, else the system's UI languages, else English (module docstring)."""
    for choice in (requested, settings().value(SETTINGS_KEY, "", str)):
        if core.normalize(choice):
            return core.normalize(choice)
    from_env = core.language_from_env()
    if from_env:
        return from_env
    ui = (core.normalize(name) for name in QLocale.system().uiLanguages())
    return next((code for code in ui if code), SOURCE_LANGUAGE)


def _load(translator: QTranslator, path: str) -> bool:
    return bool(path) and translator.load(path)


def set_language(lang: str, remember: bool = False) -> str:
    """Switch the whole app to ``lang`` now; returns the code in use.

    Removes the previous translators, installs the new ones (which makes Qt send
    ``LanguageChange`` to every widget), switches the Qt-free :mod:`engine.i18n` and the
    fonts.  ``remember`` stores the choice for the next start.
    """
    app = QCoreApplication.instance()
    lang = core.set_language(lang)
    for old in _translators:
        app.removeTranslator(old)
    _translators.clear()
    if lang != SOURCE_LANGUAGE:
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        for path in (str(catalog_path(lang, ".qm")), f"{qt_dir}/qtbase_{lang}.qm"):
            translator = QTranslator(app)
            if _load(translator, path):
                app.installTranslator(translator)
                _translators.append(translator)
    if isinstance(app, QApplication):
        use_fonts(app, lang)
    if remember:
        settings().setValue(SETTINGS_KEY, lang)
    return lang


def cjk_family(families: list[str] | None = None) -> str | None:
    """The first of :data:`CJK_FAMILIES` installed here (None: Japanese would be tofu)."""
    installed = set(QFontDatabase.families() if families is None else families)
    return next((f for f in CJK_FAMILIES if f in installed), None)


_default_font: QFont | None = None


def use_fonts(app: QApplication, lang: str) -> None:
    """Japanese: the app font falls back to a Japanese family (after the usual one, so
    Latin letters and digits look as before); pyqtgraph's labels and exports use the app
    font, so the PNG/SVG figures get it too.  English: the font the app started with."""
    global _default_font
    if _default_font is None:
        _default_font = QFont(app.font())
    font = QFont(_default_font)
    family = cjk_family() if lang == "ja" else None
    if family is not None:
        font.setFamilies([_default_font.family(), family])
    elif lang == "ja":  # every Japanese character would be a box: say which package helps
        print(
            "vglab: no Japanese font found: install fonts-noto-cjk (README, System packages)",
            file=sys.stderr,
        )
    app.setFont(font)


class Retranslatable:
    """Mixin: ``retranslate_ui()`` runs on every ``QEvent.LanguageChange`` (module docstring).

    Put it before the Qt base class (``class W(Retranslatable, QWidget)``) and set every
    user-visible text in ``retranslate_ui`` (called once by ``__init__`` too).
    """

    def retranslate_ui(self) -> None:
        """Set every text of the widget in the current language (override)."""

    def changeEvent(self, event) -> None:  # Qt's name
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)


class LanguageMenu(Retranslatable, QMenu):
    """Language: English / 日本語, each named in its own language; a choice applies at
    once (no restart) and is remembered."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("Language")  # found by this name whatever the title's language
        self.group = QActionGroup(self)
        self.actions_by_lang: dict[str, QAction] = {}
        for code, name in LANGUAGES.items():
            action = self.addAction(name)
            action.setCheckable(True)
            action.setData(code)
            self.group.addAction(action)
            self.actions_by_lang[code] = action
        self.group.triggered.connect(lambda a: set_language(a.data(), remember=True))
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        self.setTitle(translate("LanguageMenu", "Lan&guage"))
        self.setToolTipsVisible(True)
        for code, action in self.actions_by_lang.items():
            action.setChecked(code == current())
            action.setStatusTip(translate("LanguageMenu", "Show the lab in this language"))
