"""The lab in Japanese: the catalog, Qt's translator and the Qt-free reader, the Language
menu, the CLI's --lang, fonts, and a screenshot of the main window in Japanese."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QTranslator
from PySide6.QtGui import QFont, QFontMetrics

from engine import i18n as core

ROOT = Path(__file__).resolve().parent.parent
TS = core.catalog_path("ja")
QM = core.catalog_path("ja", ".qm")
SCREENSHOT = ROOT / "docs" / "screenshots" / "main_window_ja.png"


def _tool():
    spec = importlib.util.spec_from_file_location(
        "translations_tool", ROOT / "tools" / "translations.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _messages() -> list[tuple[str, str, str]]:
    """(context, source, translation) of every entry of the Japanese .ts."""
    out = []
    for context in ET.parse(TS).getroot().iter("context"):
        for m in context.iter("message"):
            out.append((context.findtext("name"), m.findtext("source"), m.findtext("translation")))
    return out


def _env(**changes) -> dict[str, str]:
    """The environment of a subprocess: no locale variable but those in ``changes``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
    }
    env.pop("PYTHONPATH", None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(changes)
    return env


@pytest.fixture
def settings_dir(tmp_path):
    """QSettings (the remembered language) in a temporary folder, English afterwards."""
    fmt, scope = QSettings.Format.IniFormat, QSettings.Scope.UserScope
    QSettings.setPath(QSettings.Format.NativeFormat, scope, str(tmp_path))
    QSettings.setPath(fmt, scope, str(tmp_path))
    yield tmp_path
    from gui import i18n

    i18n.set_language("en")


# ----------------------------------------------------------------------------- the catalog


def test_lupdate_extracts_the_engine_call_forms(tmp_path):
    """engine.i18n's translate / QT_TRANSLATE_NOOP are names pyside6-lupdate recognises."""
    src = tmp_path / "probe.py"
    src.write_text(
        "from engine.i18n import QT_TRANSLATE_NOOP, translate\n"
        'A = QT_TRANSLATE_NOOP("ctx", "marked")\n'
        'print(translate("ctx", "translated"))\n'
        'print(i18n.translate("ctx", "through the module"))\n',
        encoding="utf-8",
    )
    ts = tmp_path / "probe.ts"
    _tool().update(ts, "ja", [src])
    found = {m.findtext("source") for m in ET.parse(ts).getroot().iter("message")}
    assert found == {"marked", "translated", "through the module"}


def test_every_entry_of_the_catalog_is_translated():
    messages = _messages()
    assert len(messages) >= 50
    assert _tool().unfinished(TS) == []
    for _, source, text in messages:
        assert text.strip(), source
        assert text != source, source


def test_catalog_holds_every_marked_string_and_the_qm_is_it_compiled():
    """lupdate over the sources adds nothing; lrelease of the .ts gives the committed .qm."""
    assert _tool().problems("ja") == []


def test_the_check_names_a_new_untranslated_string(tmp_path):
    """--check over sources with one more marked string reports it (the tree is untouched)."""
    import shutil

    (tmp_path / "gui").mkdir()
    (tmp_path / "engine").mkdir()
    for name in ("cli.py", "main.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "gui" / "probe.py").write_text(
        'from gui.i18n import translate\ntranslate("Probe", "a brand-new string")\n',
        encoding="utf-8",
    )
    before = TS.read_bytes()
    found = _tool().problems("ja", tmp_path)
    assert any("unfinished: Probe: a brand-new string" in line for line in found), found
    assert any("not up to date" in line for line in found)
    assert TS.read_bytes() == before


def test_qt_translator_and_the_qt_free_reader_agree(qapp):
    """The .qm through QTranslator and the .ts through engine.i18n give the same words."""
    translator = QTranslator()
    assert translator.load(str(QM))
    for context, source, text in _messages():
        assert translator.translate(context, source) == text, source
        assert core.translate(context, source, "ja") == text, source
        assert core.translate(context, source, "en") == source


def test_numbers_and_placeholders_survive_translation():
    for context, source, text in _messages():
        for token in ("{0}", "{1}", "6 xi_c", "Space", "Shift+", "Ctrl+", "(R)", "--debug"):
            assert (token in source) == (token in text), (context, source, token)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "C"}, "en"),
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "ja_JP"}, "ja"),
        ({"LANGUAGE": "fr:ja:en", "LANG": "en_US.UTF-8"}, "ja"),
        ({"LANG": "de_DE.UTF-8"}, "en"),  # no German catalog: English
        ({}, None),
    ],
)
def test_language_from_the_environment(env, expected):
    assert core.language_from_env(env) == expected


# ----------------------------------------------------------------------------- the app


def test_app_starts_in_japanese_under_LANG(tmp_path):
    """What gui.app.main does before the window exists, in a fresh process under
    LANG=ja_JP.UTF-8 with nothing remembered; the Lessons menu joins the same Tools menu."""
    script = (
        "import json\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gui import i18n, teaching\n"
        "from gui.main_window import MainWindow\n"
        "i18n.set_language(i18n.startup_language(None))\n"
        "w = MainWindow(start=False)\n"
        "teaching.install(w)\n"
        "print(json.dumps([a.text() for a in w.menuBar().actions()]))\n"
    )
    env = _env(LANG="ja_JP.UTF-8", XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    titles = json.loads(proc.stdout.strip().splitlines()[-1])
    ja = {
        s: core.translate("MainWindow", s, "ja") for s in ("&File", "&Tools", "&Lessons", "&Help")
    }
    for source, text in ja.items():
        assert titles.count(text) == 1, (source, titles)
    assert core.translate("LanguageMenu", "Lan&guage", "ja") in titles


def test_startup_language_precedence(qapp, settings_dir, monkeypatch):
    from gui import i18n

    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    assert i18n.startup_language(None) == "ja"  # the environment
    i18n.settings().setValue(i18n.SETTINGS_KEY, "en")
    assert i18n.startup_language(None) == "en"  # the remembered choice beats it
    assert i18n.startup_language("ja") == "ja"  # --lang beats both


def _slice_texts(w) -> dict[str, str]:
    bar = [a.text() for a in w.menuBar().actions()]
    return {
        "menus": " ".join(bar),
        "step": w.act_step.text(),
        "step tip": w.act_step.toolTip(),
        "play": w.act_play.text(),
        "readout": w.readout.text(),
        "readout tip": w.readout.labels["loss"].toolTip(),
        "hint": w.keys_hint.text(),
    }


def test_language_menu_switches_without_restart(qtbot, settings_dir):
    """Choosing 日本語 then English in the Language menu retranslates the slice at once,
    and the choice is remembered."""
    from gui import i18n
    from gui.main_window import TRANSPORT_TIPS, MainWindow

    w = MainWindow(start=False)
    qtbot.addWidget(w)
    english = _slice_texts(w)
    assert english["step"] == "&Step"
    assert "&File" in english["menus"]

    w.language_menu.actions_by_lang["ja"].trigger()
    file_ja = core.translate("MainWindow", "&File", "ja")
    qtbot.waitUntil(lambda: w.menuBar().actions()[0].text() == file_ja)
    japanese = _slice_texts(w)
    for key, text in japanese.items():
        assert text != english[key], key  # every part of the slice changed
    assert japanese["step"] == core.translate("Transport", "&Step", "ja")
    assert "ステップ" in japanese["readout"]
    tip = core.translate("MainWindow", TRANSPORT_TIPS["act_step"], "ja")
    assert japanese["step tip"] == tip
    assert w.language_menu.actions_by_lang["ja"].isChecked()
    assert i18n.settings().value(i18n.SETTINGS_KEY) == "ja"

    w.language_menu.actions_by_lang["en"].trigger()
    qtbot.waitUntil(lambda: w.menuBar().actions()[0].text() == "&File")
    assert _slice_texts(w) == english
    assert i18n.settings().value(i18n.SETTINGS_KEY) == "en"


def _main_window_texts(w) -> dict[str, str]:
    """A sample of every area of the main window a user reads (issue 12's main-window
    part): a dock title, the View menu, a group title, a field label and a choice of the
    Experiment panel, an inspector row, a plot title and axis label, the network header,
    a menu item and the banner."""
    from PySide6.QtWidgets import QLabel

    controls = w.controls
    form, lr = controls._rows["training.learning_rate"]
    init = controls._rows["model.init"][1]
    loss_axis = w.loss_plot.plot_item.getAxis("bottom")
    return {
        "dock": w.docks["gradients"].windowTitle(),
        "view menu": w.docks["controls"].toggleViewAction().text(),
        "group": controls._groups[0][0].title(),
        "label": form.labelForField(lr).text(),
        "tooltip": lr.toolTip(),
        "choice": init.itemText(init.findData("he_normal")),
        "inspector": " | ".join(lbl.text() for lbl in w.inspector.findChildren(QLabel)),
        "plot title": w.loss_plot.title,
        "axis": loss_axis.labelText,
        "heatmap title": w.heatmap.title,
        "network": w.diagram.title.text(),
        "menu item": w.act_open.text(),
        "banner": w.banner.title.text(),
    }


def test_language_menu_retranslates_the_whole_main_window(qtbot, settings_dir):
    """日本語 in the Language menu puts each area of the main window in Japanese (the
    texts the Qt-free reader of the .ts gives), and English puts it back as it was."""
    from types import SimpleNamespace

    from gui.main_window import MainWindow

    w = MainWindow(start=False)
    qtbot.addWidget(w)
    w._on_diverged(SimpleNamespace(message="loss is NaN at step 3", advice="Lower the rate."))
    english = _main_window_texts(w)
    assert english["dock"] == "Gradient per layer"
    assert english["label"] == "learning rate (live)"
    assert english["plot title"] == "Loss"
    assert english["axis"] == "training step"
    assert english["banner"] == "<b>The run diverged</b>"

    w.language_menu.actions_by_lang["ja"].trigger()
    qtbot.waitUntil(lambda: w.docks["gradients"].windowTitle() != "Gradient per layer")
    japanese = _main_window_texts(w)
    for key, text in japanese.items():
        assert text != english[key], key
    ja = lambda ctx, text: core.translate(ctx, text, "ja")  # noqa: E731
    assert japanese["dock"] == ja("Docks", "Gradient per layer") == "層ごとの勾配"
    assert japanese["view menu"] == ja("Docks", "Experiment settings")
    assert japanese["group"] == ja("Controls", "Data")
    assert japanese["label"] == ja("ConfigField", "learning rate") + ja("Controls", " (live)")
    assert "学習率" in japanese["label"]
    assert japanese["choice"] == ja("ConfigField", "He (Kaiming) normal")
    assert ja("Inspector", "size of this layer's weights") in japanese["inspector"]
    assert japanese["plot title"] == ja("Plots", "Loss") == "損失"
    assert japanese["axis"] == ja("Plots", "training step")
    assert japanese["banner"] == f"<b>{ja('MainWindow', 'The run diverged')}</b>"
    assert "loss is NaN at step 3" in w.banner.body.text()  # the numbers stay

    w.language_menu.actions_by_lang["en"].trigger()
    qtbot.waitUntil(lambda: w.docks["gradients"].windowTitle() == "Gradient per layer")
    assert _main_window_texts(w) == english


def test_the_experiment_panel_words_are_listed_from_the_field_table():
    """gui/config_strings.py (lupdate's view of engine.config.fields) is the table's words
    now: run tools/translations.py after changing a label, tooltip or choice name."""
    generated = (ROOT / "gui" / "config_strings.py").read_text(encoding="utf-8")
    assert generated == _tool().field_strings()


def test_exported_plot_carries_the_language_shown(qtbot, settings_dir, tmp_path):
    """A plot exported while the app is in Japanese has the Japanese title in its SVG."""
    from gui import i18n
    from gui.export import export_plot
    from gui.panels.curves import CurvePlot

    i18n.set_language("ja")
    plot = CurvePlot("Loss", "loss")
    qtbot.addWidget(plot)
    plot.resize(500, 300)
    assert plot.title == core.translate("Plots", "Loss", "ja") == "損失"
    svg = export_plot(plot, tmp_path / "loss.svg")
    text = Path(svg).read_text(encoding="utf-8")
    assert "損失" in text
    assert "ステップ" in text  # the axis label ("学習ステップ", in two text runs)


def test_play_label_follows_language_and_state(qtbot, settings_dir):
    from gui import i18n
    from gui.main_window import MainWindow
    from gui.window_parts import show_running

    w = MainWindow(start=False)
    qtbot.addWidget(w)
    show_running(w.act_play, True)
    i18n.set_language("ja")
    qtbot.waitUntil(lambda: w.act_play.text() == core.translate("Transport", "&Pause", "ja"))
    show_running(w.act_play, False)
    assert w.act_play.text() == core.translate("Transport", "&Play", "ja")


# ----------------------------------------------------------------------------- fonts


def test_a_japanese_font_covers_every_translation(qapp):
    """No tofu: the family the app picks for Japanese (README: fonts-noto-cjk) has a glyph
    for every character of every translation."""
    from gui import i18n

    family = i18n.cjk_family()
    assert family is not None, "no Japanese font: apt-get install fonts-noto-cjk"
    metrics = QFontMetrics(QFont(family))
    chars = {c for _, _, text in _messages() for c in text if not c.isspace()}
    missing = sorted(c for c in chars if not metrics.inFontUcs4(ord(c)))
    assert missing == []


def test_exported_figure_names_the_japanese_font(qapp, settings_dir, tmp_path):
    """An SVG export's text asks for the Japanese family (a viewer needs it by name); the
    PNG is drawn with it (tests/test_i18n.py's figure was looked at)."""
    import numpy as np
    import pyqtgraph as pg

    from gui import i18n, theme
    from gui.export import export_plot

    i18n.set_language("ja")
    w = pg.PlotWidget()
    w.plot(np.arange(10.0), np.exp(-np.arange(10.0)))
    theme.set_axis_label(w.getPlotItem(), "bottom", "層 (誤差逆伝播の向き)")
    theme.set_title(w.getPlotItem(), "層ごとの勾配ノルム (勾配消失)")
    w.resize(800, 500)
    export_plot(w, tmp_path / "ja.png")
    export_plot(w, tmp_path / "ja.svg")
    svg = (tmp_path / "ja.svg").read_text(encoding="utf-8")
    assert "誤差逆伝播" in svg
    assert i18n.cjk_family() in svg
    assert (tmp_path / "ja.png").stat().st_size > 10_000


# ----------------------------------------------------------------------------- CLI


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


BAD = ("check", "seed000_deep_activations", "--set", "model.depth=0")


@pytest.mark.parametrize(
    ("args", "env", "lang"),
    [
        (("--lang", "ja", *BAD, "--set", "training.learning_rate=-1"), {}, "ja"),
        ((*BAD, "--set", "training.learning_rate=-1"), {"LANG": "ja_JP.UTF-8"}, "ja"),
        (
            ("--lang", "en", *BAD, "--set", "training.learning_rate=-1"),
            {"LANG": "ja_JP.UTF-8"},
            "en",
        ),
    ],
)
def test_cli_config_errors_in_the_chosen_language(args, env, lang):
    proc = _cli(*args, **env)
    assert proc.returncode == 2, proc.stderr
    head = core.translate("cli", "error: {0} problems:", lang).format(2)
    assert proc.stderr.splitlines()[0] == f"vglab: {head}"
    # the field messages keep their field names and numbers
    assert "model.depth: must be >= 1, got 0" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_single_error_after_the_command_takes_lang_too():
    proc = _cli(*BAD, "--lang", "ja")
    assert proc.returncode == 2
    expected = core.translate("cli", "error: {0}", "ja").format("--set: model.depth")
    assert proc.stderr.startswith(f"vglab: {expected}")


def test_cli_help_top_lines_in_japanese():
    proc = _cli("--lang", "ja", "--help")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(core.translate("cli", "usage: ", "ja") + "vglab")
    description = "Vanishing Gradient Lab: watch gradients shrink layer by layer."
    assert core.translate("cli", description, "ja") in proc.stdout
    assert "勾配" in proc.stdout
    for summary in ("train one experiment", "validate a config"):
        assert core.translate("cli", summary, "ja") in proc.stdout
    assert "vglab check my_experiment.toml" in proc.stdout  # commands stay as they are
    english = _cli("--help").stdout
    assert english.startswith("usage: vglab")
    assert "勾配" not in english


# ----------------------------------------------------------------------------- screenshot


def test_main_window_in_japanese_screenshot(qtbot, settings_dir, tmp_path):
    """The main window in Japanese after one epoch renders (docs/screenshots/main_window_ja.png,
    a real X11 window, is looked at: menus, toolbar, status bar in Japanese, nothing clipped,
    no tofu; the test writes into tmp_path, never into the repo)."""
    from gui import i18n, teaching, theme
    from gui.controller import default_config
    from gui.main_window import MainWindow

    theme.configure_pyqtgraph(light=True)  # as gui.app.main does
    i18n.set_language("ja")
    w = MainWindow(config=default_config())
    qtbot.addWidget(w)
    teaching.install(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitUntil(lambda: w.frames_drawn > 0, timeout=60_000)
    w.controller.run_epoch()
    qtbot.waitUntil(lambda: w.controller.latest.snapshot.step > 0, timeout=60_000)
    qtbot.waitUntil(lambda: not w.controller.running, timeout=60_000)
    steps = w.controller.latest.snapshot.step
    w.controller.step()  # one single step: every layer's gradient is in the last frame
    qtbot.waitUntil(lambda: w.controller.latest.snapshot.step > steps, timeout=10_000)
    qtbot.waitUntil(lambda: w.drawn_serial == w.controller.latest.serial, timeout=10_000)
    qtbot.wait(300)
    assert "エポック 1" in w.readout.text()
    shot = tmp_path / SCREENSHOT.name
    assert w.grab().save(str(shot))
    assert shot.stat().st_size > 50_000
