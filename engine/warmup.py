"""Warm-up: compile every kernel a config needs before the first real step.

On a cold Numba cache the first step would wait ~20 s; :func:`warm_up` runs each kernel once
on a throwaway 1-layer net instead, and compiles the many-step kernel in the background.
The app does not wait at all: it trains on the NumPy backend while another process compiles
(:mod:`engine.precompile`), then calls :func:`warm_up` to load what that process cached.
The recurrent kernels (:mod:`engine.recurrent`, no NumPy path) have :func:`warm_up_recurrent`.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from engine.config import ExperimentConfig

COMPILE_NOTICE = "compiling kernels (first run only) ..."
_warmed: set[tuple] = set()
#: warm key -> set once train_steps is compiled for it in the background (warm_up starts it)
_many_step: dict[tuple, threading.Event] = {}
_loading: set[tuple] = set()  # keys whose train_steps a thread compiles or loads
_recurrent_warmed: set[str] = set()  # dtypes whose recurrent kernels are loaded here


def warm_key(config: ExperimentConfig, dataset) -> tuple:
    """What the compiled kernels depend on: the dtype and the arrays' writeable flags."""
    return (config.model.dtype, dataset.X_train.flags.writeable, dataset.X_test.flags.writeable)


def is_warm(config: ExperimentConfig, dataset) -> bool:
    """True when :func:`warm_up` has nothing left to do for ``config`` on ``dataset``."""
    return warm_key(config, dataset) in _warmed


def many_step_ready(config: ExperimentConfig, dataset) -> bool:
    """False while :func:`engine.kernels.train_steps` compiles in the background for this
    dtype and data layout (``Session.run`` takes single steps meanwhile); True once it is
    compiled, or when nothing compiles it in the background (the first run compiles it)."""
    ready = _many_step.get(warm_key(config, dataset))
    return ready is None or ready.is_set()


def tiny_config(config: ExperimentConfig) -> ExperimentConfig:
    """A 1-layer, 2-unit version of ``config``: what the warm-up runs, in milliseconds."""
    from engine.config import updated

    return updated(
        config,
        **{
            "model.depth": 1,
            "model.width": 2,
            "model.hidden": (),
            "model.residual": False,
            "training.eval_every": 0,
        },
    )


def defer_many_step(config: ExperimentConfig, dataset) -> None:
    """Sessions on ``config``'s key take single steps until :func:`load_many_step` (the many-
    step kernel is still compiling in another process)."""
    _many_step.setdefault(warm_key(config, dataset), threading.Event())


def load_many_step(config: ExperimentConfig, dataset) -> None:
    """Load (or compile) train_steps for ``config``'s key in a thread, once."""
    _compile_many_step(tiny_config(config), dataset, force=True)


def _compile_many_step(tiny: ExperimentConfig, dataset, force: bool = False) -> None:
    """Compile (or load from the cache) train_steps in a thread: on a cold cache it takes
    as long again as every other kernel, and nothing needs it for the first frame.  Not a
    daemon: the interpreter waits for it rather than exiting mid-compile.  ``force``: also
    when :func:`defer_many_step` put it off."""
    key = warm_key(tiny, dataset)
    if key in _many_step and not (force and key not in _loading):
        return
    _loading.add(key)
    ready = _many_step.setdefault(key, threading.Event())

    def work() -> None:
        try:
            from engine.session import Session

            Session(tiny, dataset)._run_chunk(2, None)
        finally:
            ready.set()

    threading.Thread(target=work, name="vglab-compile-many-step").start()


def warm_up(
    config: ExperimentConfig, dataset, notice=None, after: float = 3.0, many_step: bool = True
) -> float:
    """Compile every kernel ``config`` needs (or load it from Numba's on-disk cache).

    Runs each kernel once on a throwaway 1-layer net of the same dtype and data layout, so
    the first real step is not the one that waits ~20 s on a cold cache; then starts
    compiling the many-step kernel in the background (:func:`many_step_ready`).  ``notice`` (a
    callable taking one line) is told :data:`COMPILE_NOTICE` once if this takes longer than
    ``after`` seconds, i.e. when it compiles rather than loads.  ``many_step=False``: leave
    the many-step kernel to :func:`load_many_step`.  Returns the seconds spent; 0 when these
    kernels are already loaded in this process.
    """
    from engine.session import Session

    if is_warm(config, dataset):
        return 0.0
    timer = threading.Timer(after, notice, (COMPILE_NOTICE,)) if notice else None
    t0 = time.perf_counter()
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        tiny = tiny_config(config)
        s = Session(tiny, dataset)
        s.step()
        s.step_phase()
        while s.next_phase() != ("forward", 0):
            s.step_phase()
        if len(dataset.X_test):
            s.evaluate("test")
        s.predict(np.asarray(dataset.X_train[:2]))
        _warmed.add(warm_key(config, dataset))
        if many_step:
            _compile_many_step(tiny, dataset)
        else:
            defer_many_step(config, dataset)
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - t0


def recurrent_warm(dtype: str) -> bool:
    """True when the recurrent kernels of ``dtype`` are loaded in this process."""
    return dtype in _recurrent_warmed


def warm_up_recurrent(dtype: str) -> float:
    """Compile (or load from the cache) every recurrent kernel of ``dtype``: one step, one
    step-through and one evaluation of a throwaway 2-layer, 2-unit GRU on 3 time steps.
    The cell is an argument of the kernels, not a type, so one cell compiles all three.
    ~90 s on a cold cache, a few seconds from the cache; 0 when already loaded here."""
    from engine.config import updated
    from engine.recurrent import RecurrentSession

    if recurrent_warm(dtype):
        return 0.0
    t0 = time.perf_counter()
    tiny = updated(
        ExperimentConfig(name="warm-up"),
        **{
            "recurrent.cell": "gru",
            "recurrent.seq_len": 3,
            "model.loss": "mse",
            "model.depth": 2,
            "model.width": 2,
            "model.dtype": dtype,
            "data.n_samples": 16,
            "training.batch_size": 4,
            "training.eval_every": 0,
        },
    )
    s = RecurrentSession(tiny)
    s.step()
    s.step_phase()
    while s.next_phase() != ("forward", 0):
        s.step_phase()
    s.evaluate("test")
    _recurrent_warmed.add(dtype)
    return time.perf_counter() - t0
