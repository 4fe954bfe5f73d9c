"""The Jacobian spectrum panel's numbers, Qt-free: when the worker computes J, and what the
panel draws from it.

Worker side: the window says whether the panel is on screen (:class:`JacobianRequest`, a
flag the GUI thread sets); the frame packer asks :class:`JacobianSampler` for the spectrum
of each frame, which computes it (engine.jacobian, in the worker thread) only while wanted,
once per new step at most, and while playing no more often than every
:data:`JACOBIAN_INTERVAL` seconds nor than keeps it under :data:`COST_SHARE` of the
worker's time.  GUI side: :func:`spectrum_view` turns a frame's :class:`JacobianSpectrum`
into histogram bins, the prediction's line and band, and the words.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from engine.i18n import QT_TRANSLATE_NOOP, translate
from engine.jacobian import JacobianSample
from engine.jacobian_theory import LABEL, JacobianSpectrum, SpectrumPrediction, session_spectrum

#: seconds between two computations while playing (at least)
JACOBIAN_INTERVAL = 0.4
#: largest share of the worker's time the computations may take while playing
COST_SHARE = 0.1
#: singular values below this times the largest are "zero" (no place on a log axis)
ZERO = 1e-12
TITLE = QT_TRANSLATE_NOOP("Plots", "Singular values of d a_L-1 / d a_0")


class JacobianRequest:
    """Whether the spectrum is wanted (the panel is on screen): set by the GUI thread, read
    by the worker (a bool attribute: atomic under the GIL)."""

    def __init__(self):
        self.wanted = False

    def __repr__(self) -> str:
        return f"JacobianRequest(wanted={self.wanted})"


class JacobianSampler:
    """Computes the spectrum of a session when due (see the module doc).  ``computed``
    counts computations, ``threads`` records the threads they ran in (tests)."""

    def __init__(self, request: JacobianRequest | None = None):
        self.request = request if request is not None else JacobianRequest()
        self.last: JacobianSpectrum | None = None
        self._step = -1
        self._time = -math.inf
        self.computed = 0
        self.threads: set[int] = set()

    def __repr__(self) -> str:
        return f"JacobianSampler(computed={self.computed}, step={self._step})"

    def latest(self, session, now: float, playing: bool) -> JacobianSpectrum | None:
        """The spectrum to show at ``now``: a fresh one when due, else the last one."""
        if not self.request.wanted or self._step == session.step_count:
            return self.last
        seconds = self.last.seconds if self.last is not None else 0.0
        wait = max(JACOBIAN_INTERVAL, seconds / COST_SHARE)
        if playing and self.last is not None and now - self._time < wait:
            return self.last
        self.last = session_spectrum(session)
        self._step, self._time = session.step_count, now
        self.computed += 1
        self.threads.add(threading.get_ident())
        return self.last


# --- what the panel draws ----------------------------------------------------------------------
@dataclass(frozen=True)
class SpectrumView:
    """The panel's ``set_data`` arguments (``edges`` None: nothing to draw, ``text`` says why)."""

    title: str
    edges: np.ndarray | None  # (bins + 1,) log-spaced singular-value bin edges
    counts: np.ndarray | None  # (bins,)
    rms: float  # predicted sqrt(E[sigma^2]) (NaN: no prediction)
    band: tuple[float, float]  # predicted sigma range sqrt(E[s^2] -+ sd[s^2]) (NaN: none)
    text: str  # measured vs predicted moments, and where the prediction does not apply


def _fmt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.3g}"


def _bins(sv: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(edges, counts, n_zero): log bins of the singular values above ZERO x the largest."""
    top = float(sv.max()) if sv.size else 0.0
    keep = sv[sv > ZERO * top] if top > 0 else sv[:0]
    if keep.size == 0:
        return np.logspace(-1, 1, bins + 1), np.zeros(bins), int(sv.size)
    lo, hi = math.log10(keep.min()), math.log10(keep.max())
    pad = max(0.05 * (hi - lo), 0.1)
    edges = np.logspace(lo - pad, hi + pad, bins + 1)
    return edges, np.histogram(keep, bins=edges)[0].astype(np.float64), int(sv.size - keep.size)


def _moments(sample: JacobianSample, p: SpectrumPrediction | None) -> list[str]:
    lam = sample.sv**2
    mean, sd = float(lam.mean()), float(np.sqrt(np.mean(lam.var(axis=1))))
    pm, ps = (p.mean, p.sd) if p is not None else (math.nan, math.nan)
    return [
        f"measured E[\u03c3\u00b2] {_fmt(mean)}, sd {_fmt(sd)}; predicted {_fmt(pm)}, sd {_fmt(ps)}"
    ]


def spectrum_view(spectrum: JacobianSpectrum | None, bins: int = 40) -> SpectrumView:
    """The histogram of J's singular values (all sampled examples), the prediction and the
    words; an empty view with the reason when there is nothing to draw."""
    nan2 = (math.nan, math.nan)
    if spectrum is None:
        shown = translate("Plots", "computed while this is shown")
        return SpectrumView(translate("Plots", TITLE), None, None, math.nan, nan2, shown)
    s, p = spectrum.sample, spectrum.prediction
    if s.reason:
        why = translate("Plots", "J not computed: {0}").format(s.reason)
        return SpectrumView(translate("Plots", TITLE), None, None, math.nan, nan2, why)
    edges, counts, n_zero = _bins(s.sv.ravel(), bins)
    title = translate("Plots", "{0} \u00b7 step {1}").format(translate("Plots", TITLE), s.step)
    count = f"J = d a_L-1 / d a_0 of {s.n_examples} example{'s' * (s.n_examples > 1)}"
    lines = [count] + _moments(s, p) + ([spectrum.mode] if spectrum.mode else [])
    if n_zero:
        lines.append(
            f"{n_zero} of {s.sv.size} \u03c3 < {ZERO:g} x the largest: numerically 0, not drawn"
        )
    rms, band = math.nan, nan2
    if p is None or p.reason:
        lines.append(f"no prediction: {p.reason if p is not None else 'no sample'}")
    else:
        rms = math.sqrt(p.mean)
        band = (math.sqrt(max(p.mean - p.sd, 0.0)), math.sqrt(p.mean + p.sd))
        lines.append(
            f"dashed line (RMS \u03c3), band (\u00b11 sd of \u03c3\u00b2): {LABEL}; "
            f"{p.weights} weights"
        )
        lines.extend(p.notes)
    return SpectrumView(title, edges, counts, rms, band, "\n".join(lines))
