"""``vglab``: run, compare and check Vanishing Gradient Lab experiments without the GUI.

    vglab run seed000_deep_activations --epochs 10
    vglab compare my_experiment.toml --vary model.activation=sigmoid,relu --steps 500
    vglab check my_experiment.toml
    vglab sweep trainable_depth --grid model.sigma_w2=1:4:7 --grid model.depth=10:60:6
    vglab presets

Exit codes: 0 ok, 1 runtime failure, 2 invalid config or arguments, 3 a run diverged
(everything recorded up to the divergence is still written), 130 interrupted (Ctrl-C: what
was done is written; a sweep writes the nets that finished).  Qt is imported only to draw
the plots, at the very end.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

from engine.i18n import (
    LANGUAGES,
    QT_TRANSLATE_NOOP,
    language,
    requested,
    set_language,
    translate,
)
from engine.i18n import language_from_env as _env_language
from engine.io import safe_name
from engine.report import ProgressReporter, describe_data, describe_model

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
PROG = "vglab"


def version() -> str:
    """The installed package version, or the source tree's when not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _version

    try:
        return _version("vanishing-gradient-lab")
    except PackageNotFoundError:
        return "0.1.0"


class UsageError(Exception):
    """Bad command-line usage found after parsing (exit code 2)."""

    def __repr__(self) -> str:
        return f"UsageError({str(self)!r})"


# ----------------------------------------------------------------------------- progress


def _reporter(quiet: bool):
    stream = sys.stderr
    mode = "off" if quiet else ("bar" if stream.isatty() else "log")
    return ProgressReporter(stream, mode)


# ----------------------------------------------------------------------------- helpers


def _say(args, *lines: str) -> None:
    """Informational output (stdout), silenced by --quiet."""
    if not getattr(args, "quiet", False):
        for line in lines:
            print(line)


def _warn(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _notice(args):
    """Where the engine says it is compiling kernels: stderr, unless --quiet."""
    return None if getattr(args, "quiet", False) else (lambda line: _warn(line))


def _positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _load(args):
    """(config, vary, source) from the CONFIG|PRESET argument and the --set options."""
    from engine.config import apply_overrides
    from engine.presets import resolve

    config, vary = resolve(args.target)
    if args.set:
        config = apply_overrides(config, args.set)
    return config, vary


def _out_dir(args, name: str) -> Path:
    """--out, or a fresh ``runs/<name>-<timestamp>`` (suffixed if that exists already).

    The folder is made (and found writable) before anything runs; a mistake is a UsageError
    naming --out, not an OS error after the training.
    """
    from engine.io import clean_stale_temps

    what = "--out" if args.out else "output folder"
    if args.out:
        out = Path(args.out)
    else:
        base = Path("runs") / f"{safe_name(name)}-{time.strftime('%Y%m%d-%H%M%S')}"
        out, n = base, 1
        while out.exists():
            n += 1
            out = base.with_name(f"{base.name}-{n}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"{what}: {out} exists and is not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{what}: cannot create folder {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: folder {out} is not writable")
    clean_stale_temps(out)
    return out


def _ensure_display() -> None:
    """Headless Linux: draw offscreen (must happen before Qt is imported)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def write_plots(results: Mapping, out_dir: Path, lengths=None) -> list[Path]:
    """PNG + SVG figures of ``results`` (and ``lengths``' curve) via gui.figures (Qt lazily)."""
    _ensure_display()
    from PySide6.QtWidgets import QApplication

    from gui.figures import FigureData, build_figures, jacobian_figure, save_figures
    from gui.panels.length_curve import length_figure

    _app = QApplication.instance() or QApplication([PROG])  # widgets need one alive
    recurrent = all(hasattr(r, "figure_data") for r in results.values())
    runs = {
        name: r.figure_data() if recurrent else FigureData.from_snapshot(name, r.snapshot)
        for name, r in results.items()
    }
    figures = build_figures(runs)
    if recurrent:  # the "layers" of a recurrent run's figures are its time steps
        _through_time(figures, list(results))
    if lengths:  # test metric vs sequence length, one line per cell
        figures["length_curve"] = length_figure(lengths, next(iter(results.values())).config)
    spectra = [r.extra["jacobian"] for r in results.values() if "jacobian" in r.extra]
    if len(results) == 1 and spectra and not spectra[0].sample.reason:
        figures["jacobian_spectrum"] = jacobian_figure(spectra[0])
    return list(save_figures(figures, out_dir, formats=("png", "svg")))


def _through_time(figures: Mapping, names: list[str]) -> None:
    """Titles and axes of recurrent runs' figures: ||dL/dh_t|| over the time steps."""
    from gui import theme
    from gui.figures import file_stem

    by_stem = {f"heatmap_{file_stem(n)}": f"{n}: " for n in names} | {"heatmap": ""}
    grad = "||dL/dh_t||"
    for stem, fig in figures.items():
        item = fig.plot.getPlotItem()
        if stem == "gradient_norms":
            fig.set_title(f"{grad} through time at the end of training (top layer)")
            fig.set_y_label(grad)
            theme.set_axis_label(item, "bottom", "time step t (the loss reads t = T)")
        elif stem in by_stem:
            fig.set_title(f"{by_stem[stem]}{grad} per time step over training (top layer)")
            theme.set_axis_label(item, "left", "time step t")
            fig.bar.getAxis("right").setLabel(
                f"log\u2081\u2080 {grad}",
                **{"font-size": f"{theme.LABEL_PT}pt", "color": theme.foreground()},
            )


def _plots(args, results: Mapping, out_dir: Path, lengths=None) -> int:
    """Write the plots unless --no-plots; EXIT_OK, or EXIT_FAILURE if drawing failed."""
    return EXIT_OK if args.no_plots else _guarded(lambda: write_plots(results, out_dir, lengths))


def _report_divergence(results: Mapping) -> int:
    """Say where every diverged run diverged; EXIT_DIVERGED if any did."""
    code = EXIT_OK
    for name, r in results.items():
        if r.diverged:
            # the message names step, phase, layer and quantity
            _warn(f"{name}: {r.divergence.message}")
            _warn(f"{name}: {r.divergence.advice}")
            code = EXIT_DIVERGED
    return code


# ----------------------------------------------------------------------------- commands


def cmd_run(args) -> int:
    """Train one experiment and write config.toml, metrics.csv, summary.json and plots."""
    from engine.config import save
    from engine.datasets import load_dataset
    from engine.experiments import (
        run_experiment,
        summary_table,
        with_length,
        write_metrics_csv,
        write_summary_json,
    )
    from engine.variants import expand

    config, vary = _load(args)
    config = with_length(config, args.steps, args.epochs)
    if vary:
        expand(config, vary)  # a broken [compare] table is an error even when not used
    if config.recurrent.cell != "none":
        from engine.recurrent.experiment import describe, load_data

        dataset = load_data(config)
        data_line, model_line = describe(config, dataset)
    else:
        dataset = load_dataset(config.data, config.model.dtype)
        data_line, model_line = describe_data(dataset), describe_model(config, dataset)
    if vary and not args.quiet:
        _warn(
            f"note: {args.target} is a comparison; `{PROG} compare {args.target}` runs all "
            f"of its variants"
        )
    out = _out_dir(args, config.name)
    _say(
        args,
        f"{config.name}: {data_line}",
        f"  model {model_line}",
        f"  output {out}",
    )
    reporter = _reporter(args.quiet)
    try:
        result = run_experiment(
            config,
            progress=reporter,
            dataset=dataset,
            notice=_notice(args),
            jacobian=not args.no_plots,
        )
    finally:
        reporter.end()
    save(config, out / "config.toml")
    write_metrics_csv(result, out / "metrics.csv")
    write_summary_json(result, out / "summary.json")
    code = _plots(args, {config.name: result}, out)
    _say(args, "", summary_table(result), "", f"wrote {out}")
    if result.interrupted:
        _warn("interrupted: results so far written")
        return EXIT_INTERRUPTED
    return _report_divergence({config.name: result}) or code


def cmd_compare(args) -> int:
    """Run every variant and write per-variant metrics, summary.csv/json and joint plots."""
    import tomli_w

    from engine.config import dumps_toml
    from engine.datasets import describe_scaling
    from engine.experiments import (
        compare,
        summary_table,
        with_length,
        write_metrics_csv,
        write_summary_csv,
        write_summary_json,
    )
    from engine.io import write_atomic
    from engine.recurrent.lengths import write_length_csv
    from engine.variants import expand

    config, preset_vary = _load(args)
    vary = args.vary or preset_vary
    if not vary:
        raise UsageError(
            f"compare needs at least one --vary key=v1,v2 ({args.target} has no "
            f"[compare] vary list)"
        )
    config = with_length(config, args.steps, args.epochs)
    todo = expand(config, vary)  # every variant checked before anything runs
    out = _out_dir(args, config.name)
    r = config.recurrent
    data_line = (
        f"{r.task}, {r.seq_len} steps"
        if r.cell != "none"
        else f"{config.data.name}, scaling "
        f"{describe_scaling(config.data.name, config.data.scaling)}"
    )
    _say(
        args,
        f"{config.name}: {len(todo)} variants of {', '.join(vary)}",
        f"  data {data_line}",
        f"  output {out}",
    )
    reporter = _reporter(args.quiet)
    try:
        results = compare(config, vary, progress=_ending(reporter), notice=_notice(args))
    finally:
        reporter.end()
    write_atomic(
        out / "config.toml",
        dumps_toml(config) + "\n" + tomli_w.dumps({"compare": {"vary": list(vary)}}),
    )
    for name, r in results.items():
        write_metrics_csv(r, out / f"metrics_{safe_name(name)}.csv")
    write_summary_csv(results, out / "summary.csv")
    write_summary_json(results, out / "summary.json")
    lengths = write_length_csv(results, vary, out / "length_curve.csv")  # None: T not varied
    code = _plots(args, results, out, lengths)
    _say(args, "", summary_table(results), "", f"wrote {out}")
    if any(r.interrupted for r in results.values()):
        _warn("interrupted: results so far written")
        return EXIT_INTERRUPTED
    return _report_divergence(results) or code


def _ending(reporter: ProgressReporter):
    """A progress callback that closes the bar line whenever a new variant starts."""
    state = {"index": None}

    def callback(p) -> None:
        if state["index"] is not None and p.index != state["index"]:
            reporter.end()
        state["index"] = p.index
        reporter(p)

    return callback


def cmd_sweep(args) -> int:
    """Train a grid of networks (two --grid fields, e.g. sigma_w2 x depth) for a fixed number
    of steps on every core; write sweep.csv, the heatmap with the mean-field boundary
    6 xi_c, and the agreement between the two.  A diverged net is a result (named here)."""
    from engine.experiments import with_length
    from engine.sweep import plan_sweep, run_sweep
    from engine.sweep_theory import agreement, agreement_text, write_sweep_csv

    config, _ = _load(args)
    if len(args.grid) != 2:
        raise UsageError(
            f"--grid: a sweep needs two (key=v1,v2 or key=lo:hi:n), got {len(args.grid)}"
        )
    plan = plan_sweep(with_length(config, args.steps, args.epochs), args.grid, args.steps)
    out = _out_dir(args, f"{config.name}-sweep")
    (nx, ny), (kx, ky) = plan.shape, plan.grid.keys
    _say(
        args,
        f"{config.name}: {nx} x {ny} = {nx * ny} nets ({kx} x {ky}), {plan.steps} steps each",
        f"  trainable: train accuracy >= {plan.threshold:.3f} (chance {plan.chance:.3f})",
        f"  output {out}",
    )
    reporter = _reporter(args.quiet)
    try:  # a cold cache is filled by one compile process, not by every worker (notice)
        result = run_sweep(plan, progress=reporter, notice=_notice(args))
    finally:
        reporter.end()
    write_sweep_csv(result, out / "sweep.csv")
    code = EXIT_OK if args.no_plots else _guarded(lambda: write_sweep_plots(result, out))
    for p in result.diverged():
        _warn(f"{p.name}: {p.status}: {p.message}")
    _say(args, agreement_text(agreement(result)), f"wrote {out}")
    if result.failure:
        _warn(f"{result.failure}: sweep.csv holds those nets, 'not run' for the others")
        return EXIT_FAILURE
    if result.cancelled:
        _warn(f"interrupted: {len(result.points)} of {nx * ny} nets written")
        return EXIT_INTERRUPTED
    return code


def write_sweep_plots(result, out_dir: Path) -> list[Path]:
    """``sweep.png`` / ``sweep.svg``: the heatmap with 6 xi_c (Qt imported here, lazily)."""
    _ensure_display()
    from gui.figures import ensure_app, save_figures
    from gui.panels.sweep_map import sweep_figure

    ensure_app()
    return list(save_figures({"sweep": sweep_figure(result)}, out_dir))


def _guarded(write) -> int:
    """Run a plot writer: EXIT_OK, or EXIT_FAILURE (reported) if drawing failed."""
    try:
        write()
    except ImportError as e:
        _warn(f"plots skipped: {e}")
    except Exception as e:  # noqa: BLE001 -- data files are written; report and go on
        _warn(f"writing the plots failed: {type(e).__name__}: {e}")
        return EXIT_FAILURE
    return EXIT_OK


def cmd_check(args) -> int:
    """Validate a config (and its data set and network) without training."""
    from engine.experiments import planned_steps
    from engine.limits import estimate_memory, format_bytes, memory_limit
    from engine.session import Session
    from engine.variants import expand

    config, vary = _load(args)
    todo = expand(config, vary) if vary else {}  # counted and checked before any build
    if config.recurrent.cell != "none":
        return _check_recurrent(config, vary, todo)
    session = Session(config)
    data = session.dataset
    memory = estimate_memory(
        config, (len(data.X_train) + len(data.X_test), data.n_features, session.net.specs[-1].n_out)
    )
    total = planned_steps(config, session.steps_per_epoch)
    t = config.training
    print(f"OK  {config.name}")
    print(f"  data      {describe_data(session.dataset)}")
    print(
        f"  model     {describe_model(config, session.dataset)}, "
        f"{session.net.n_params:,} parameters"
    )
    print(
        f"  training  {t.optimizer} lr {t.learning_rate:g}, batch {session.batch_size}, "
        f"{total} steps ({session.steps_per_epoch} per epoch)"
    )
    auto = " (auto: test examples <= 10% of training examples)" if t.eval_every == "auto" else ""
    every = session.eval_every
    print(f"  evaluate  {f'every {every} steps' if every else 'never'}{auto}")
    print(f"  memory    about {format_bytes(memory.total)} (limit {format_bytes(memory_limit())})")
    if todo:
        print(f"  compare   {', '.join(vary)} ({len(todo)} variants)")
    return EXIT_OK


def _check_recurrent(config, vary, todo) -> int:
    """``vglab check`` of a recurrent config: build it, say what would run."""
    from engine.experiments import planned_steps
    from engine.recurrent import RecurrentSession
    from engine.recurrent.experiment import describe

    session = RecurrentSession(config)
    data_line, model_line = describe(config, session.data)
    t = config.training
    print(f"OK  {config.name}")
    print(f"  data      {data_line}")
    print(f"  model     {model_line}, {session.net.n_params:,} parameters")
    print(
        f"  training  {t.optimizer} lr {t.learning_rate:g}, batch {session.batch_size}, "
        f"{planned_steps(config, session.steps_per_epoch)} steps "
        f"({session.steps_per_epoch} per epoch), backpropagation through {session.seq_len} steps"
    )
    if todo:
        print(f"  compare   {', '.join(vary)} ({len(todo)} variants)")
    return EXIT_OK


def cmd_presets(args) -> int:
    """List the presets, or show one in full."""
    from engine.presets import get_preset, list_presets

    width = min(100, max(60, _terminal_width()))
    if args.name:
        p = get_preset(args.name)
        print(f"{p.name}: {p.title}\n  file: {p.path}")
        if p.vary:
            print(f"  compare: {' '.join('--vary ' + v for v in p.vary)}")
        print(textwrap.fill(p.description, width, initial_indent="  ", subsequent_indent="  "))
        return EXIT_OK
    for p in list_presets():
        kind = f"compare: {'; '.join(p.vary)}" if p.vary else "single run"
        print(f"{p.name}\n  {p.title}  [{kind}]")
        if args.long:
            print(textwrap.fill(p.description, width, initial_indent="  ", subsequent_indent="  "))
        print()
    print(
        f"`{PROG} presets NAME` shows a preset's description; `{PROG} run NAME` / "
        f"`{PROG} compare NAME` runs it."
    )
    return EXIT_OK


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((88, 24)).columns


# ----------------------------------------------------------------------------- parser

RUN_EXAMPLES = """\
examples:
  vglab run seed000_deep_activations --epochs 10
  vglab run my_experiment.toml --set model.depth=5 --set training.learning_rate=0.01
  vglab run seed004_breast_cancer --set model.hidden=[128,64,32] --out runs/bc3
  vglab run seed002_depth_16_units --set data.name=mnist --set data.path=~/data/mnist
"""
COMPARE_EXAMPLES = """\
examples:
  vglab compare seed000_deep_activations                 (uses the preset's own --vary)
  vglab compare my.toml --vary model.activation=sigmoid,tanh,relu --steps 500
  vglab compare my.toml --vary model.activation=relu,tanh --vary model.init=he_normal,xavier_normal
  vglab compare my.toml --vary "model.hidden=[16],[16,16],[16,16,16]"
"""
CHECK_EXAMPLES = """\
examples:
  vglab check my_experiment.toml
  vglab check seed000_deep_activations --set model.depth=0     (exit code 2: names the field)
"""
SWEEP_EXAMPLES = """\
examples:
  vglab sweep trainable_depth --grid model.sigma_w2=1,1.5,2,3 --grid model.depth=10,20,40
  vglab sweep my.toml --grid model.sigma_w2=1:4:7 --grid depth=10:60:6 --steps 300

--grid key=v1,v2,... or key=lo:hi:n (n evenly spaced values, ends included).  A net is
trainable when its training accuracy is at least half-way from chance to 1.  A diverged
net is a result (status "diverged" in sweep.csv, named on stderr), not an error.
exit codes: 0 ok, 1 runtime failure (a worker process died, e.g. out of memory: sweep.csv
holds the nets that finished), 2 invalid config or --grid, 130 interrupted (Ctrl-C: sweep.csv
holds the nets that finished, "not run" for the others)
"""
PRESETS_EXAMPLES = """\
examples:
  vglab presets
  vglab presets --long
  vglab presets dying_relu
"""
# (no backslash after the opening quotes: lupdate would keep the newline it escapes)
MAIN_EPILOG = QT_TRANSLATE_NOOP(
    "cli",
    """commands:
  run      train one experiment, write its metrics, summary and plots
  compare  run variants side by side (cartesian product of --vary options)
  check    validate a config file or preset without training
  sweep    train a grid of nets (e.g. sigma_w2 x depth), compare with 6 xi_c
  presets  list the bundled presets

CONFIG is a .toml/.json file or a preset name (see `vglab presets`).  --set key=value
overrides any field; values are TOML literals (5, 0.01, true, "text", [16, 16]).

exit codes: 0 ok, 1 runtime failure, 2 invalid config or arguments, 3 a run diverged,
130 interrupted

examples:
  vglab run seed000_deep_activations --epochs 10
  vglab compare seed002_depth_16_units --steps 300
  vglab check my_experiment.toml
""",
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout, with its "usage: " in the language in use."""

    def add_usage(self, usage, actions, groups, prefix=None):
        prefix = translate("cli", "usage: ") if prefix is None else prefix
        super().add_usage(usage, actions, groups, prefix)


def _localize(p: argparse.ArgumentParser, top: bool) -> None:
    """argparse's own words (group titles, -h) and --lang, in the language in use; the
    subcommands' --lang does not override the one given before the command."""
    p._positionals.title = translate("cli", "positional arguments")
    p._optionals.title = translate("cli", "options")
    p.add_argument(
        "-h", "--help", action="help", help=translate("cli", "show this help message and exit")
    )
    p.add_argument(
        "--lang",
        choices=sorted(LANGUAGES),
        default=None if top else argparse.SUPPRESS,
        help=translate("cli", "language of the messages (default: from LANG, e.g. ja_JP.UTF-8)"),
    )


def requested_language(argv: list[str]) -> str:
    """--lang anywhere in ``argv`` (the parser checks its value), else the environment's
    (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else English."""
    return requested(argv) or _env_language() or "en"


def _common(p: argparse.ArgumentParser, length: bool = True) -> None:
    """CONFIG|PRESET, --set and (for training commands) --steps/--epochs, --out, --quiet."""
    p.add_argument(
        "target", metavar="CONFIG|PRESET", help="a .toml / .json config file, or a preset name"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. model.depth=5 (repeatable)",
    )
    if not length:
        return
    group = p.add_mutually_exclusive_group()
    group.add_argument("--steps", type=_positive, metavar="N", help="train N mini-batch steps")
    group.add_argument("--epochs", type=_positive, metavar="E", help="train E epochs")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/<name>-<timestamp>)")
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no progress or summary output (errors only)"
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG/SVG figures")


#: command -> (flag, metavar, help) of its repeatable list option
LISTS = {
    "compare": (
        "--vary",
        "KEY=V1,V2",
        "values to compare (repeatable: every combination runs); default: the preset's "
        "[compare] vary",
    ),
    "sweep": (
        "--grid",
        "KEY=V1,V2|LO:HI:N",
        "a grid axis: give exactly two (the depth axis is drawn as y)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The ``vglab`` argument parser with its subcommands."""
    fmt = _Formatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=fmt,
        epilog=translate("cli", MAIN_EPILOG),
        description=translate(
            "cli", "Vanishing Gradient Lab: watch gradients shrink layer by layer."
        ),
        add_help=False,
    )
    _localize(parser, top=True)
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {version()}",
        help=translate("cli", "show the version and exit"),
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help=translate("cli", "show a traceback for runtime failures"),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.title = translate("cli", "positional arguments")
    commands = (
        ("run", QT_TRANSLATE_NOOP("cli", "train one experiment"), RUN_EXAMPLES, cmd_run),
        (
            "compare",
            QT_TRANSLATE_NOOP("cli", "run variants side by side"),
            COMPARE_EXAMPLES,
            cmd_compare,
        ),
        ("check", QT_TRANSLATE_NOOP("cli", "validate a config"), CHECK_EXAMPLES, cmd_check),
        (
            "sweep",
            QT_TRANSLATE_NOOP("cli", "train a grid of nets, compare with 6 xi_c"),
            SWEEP_EXAMPLES,
            cmd_sweep,
        ),
        ("presets", QT_TRANSLATE_NOOP("cli", "list the presets"), PRESETS_EXAMPLES, cmd_presets),
    )
    for name, summary, examples, func in commands:
        p = sub.add_parser(
            name,
            help=translate("cli", summary),
            formatter_class=fmt,
            epilog=examples,
            description=func.__doc__,
            add_help=False,
        )
        _localize(p, top=False)
        p.set_defaults(func=func)
        if name == "presets":
            p.add_argument("name", nargs="?", metavar="NAME", help="show this preset in full")
            p.add_argument("--long", "-l", action="store_true", help="include the descriptions")
        else:
            _common(p, length=name != "check")
        if name in LISTS:  # --vary / --grid: repeatable key=v1,v2 options
            flag, metavar, text = LISTS[name]
            p.add_argument(flag, action="append", default=[], metavar=metavar, help=text)
    return parser


def _print_invalid(e: ValueError) -> None:
    """One readable message for a ConfigError / DataError: no traceback."""
    lines = getattr(e, "messages", None) or str(e).splitlines() or [type(e).__name__]
    if len(lines) == 1:
        _warn(translate("cli", "error: {0}").format(lines[0]))
    else:
        _warn(translate("cli", "error: {0} problems:").format(len(lines)))
        for line in lines:
            print(f"  {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit code (never raises SystemExit).

    Messages are in the language of ``--lang``, else of LANG & co (engine.i18n); the
    language in use before the call is restored after it.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    previous = language()
    set_language(requested_language(argv))
    try:
        return _main(argv)
    finally:
        set_language(previous)


def _main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help / --version (0) and usage errors (2)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    from engine.config import ConfigError
    from engine.datasets import DataError

    try:
        return args.func(args)
    except (ConfigError, DataError) as e:
        _print_invalid(e)
        return EXIT_USAGE
    except UsageError as e:
        _warn(translate("cli", "error: {0}").format(e))
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head`: nothing left to tell
        return EXIT_FAILURE
    except OSError as e:  # e.g. disk full while writing: write_atomic names the file
        if args.debug:
            raise
        where = f"{e.filename}: " if e.filename else ""
        _warn(translate("cli", "error: {0}").format(f"{where}{e.strerror or e}"))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _warn(translate("cli", "interrupted"))
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 -- the command line's last line of defence
        if args.debug:
            raise
        _warn(
            translate("cli", "runtime failure: {0}: {1} (--debug shows the traceback)").format(
                type(e).__name__, e
            )
        )
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
