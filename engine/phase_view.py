"""The phase diagram's numbers (Qt-free): what :mod:`gui.panels.phase_diagram` draws.

Two parts, one cheap and one not:

* :func:`phase_spec` (cheap, per build): the current net's activation and parameter, where its
  init lies in the sigma_w^2 x sigma_b^2 plane (:func:`engine.meanfield_net.model_points`), the
  He and Xavier / LeCun points for comparison, and, where the plain mean-field maps do not
  describe the net (batch norm, residual connections, a constant bias, mixed activations,
  per-layer points that differ), the reason in words instead of a marker.
* :func:`phase_map` (0.1-2 s: run it off the GUI thread; cached per activation, parameter and
  range): xi_c over the plane (:func:`engine.meanfield.phase_grid`), chi_1, q*, the edge of
  chaos chi_1 = 1 (:func:`engine.meanfield.edge_of_chaos`, kept only where chi_1 = 1 holds:
  GELU and SiLU jump over 1 at small sigma_b^2) and where the region names go.

:func:`point_text` is the hover text of one point, :func:`init_values` the config fields a
click on the plane sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from engine import meanfield as mf
from engine.activations import get as get_activation
from engine.activations import param_value
from engine.config.fields import FIELDS
from engine.meanfield_net import model_points
from engine.theory_lines import not_covered

N_W, N_B = 64, 40  # grid columns (sigma_w^2) x rows (sigma_b^2)
N_EDGE = 41  # sigma_b^2 values of the edge-of-chaos curve
Y_MAX = 0.5  # sigma_b^2 range of the plot unless the current point needs more
X_MIN = 5.0  # sigma_w^2 range: at least this, or 1.5 x the edge's largest sigma_w^2
EDGE_TOL = 1e-3  # |chi_1 - 1| an edge point must meet to be drawn as chi_1 = 1
XI_CAP = 1e3  # xi_c at or beyond this takes the top colour ("edge of chaos")
REFERENCES = (("He", "he_normal"), ("Xavier", "xavier_normal"), ("LeCun", "lecun_normal"))
WORDS = {
    "ordered": "ordered: vanishing",
    "chaotic": "chaotic: exploding",
    # ReLU-like, sigma_w^2 above the edge: the length map has no fixed point, so xi_c (the
    # correlations' depth scale, infinite there) says nothing of how the net trains
    "unbounded": "unbounded: exploding",  # hover: q* = inf
}


@dataclass(frozen=True)
class PhaseSpec:
    """What the phase diagram shows for one net, short of the map itself."""

    activation: str  # "" when the hidden layers mix activations (no diagram)
    param: float  # the activation's slope / alpha (0 when it has none)
    y_max: float  # sigma_b^2 range of the plot
    marker: tuple[float, float] | None  # the init's (sigma_w^2, sigma_b^2), None: see reason
    marker_label: str  # e.g. "He normal (this net)"
    references: tuple[tuple[str, float, float], ...]  # (label, sigma_w^2, sigma_b^2)
    reason: str  # why there is no marker ("" when there is one)

    @property
    def key(self) -> tuple[str, float, float]:
        """The cache key of its :func:`phase_map`."""
        return (self.activation, self.param, self.y_max)


@dataclass(frozen=True)
class PhaseMap:
    """xi_c, chi_1 and q* over the plane, the edge of chaos and where to name the regions."""

    activation: str
    param: float
    sigma_w2: np.ndarray  # (N_W,) column centres
    sigma_b2: np.ndarray  # (N_B,) row centres
    x_max: float  # the plot spans sigma_w^2 in [0, x_max], sigma_b^2 in [0, y_max]
    y_max: float
    log_xi: np.ndarray  # (N_B, N_W) log10 xi_c, capped at log10 XI_CAP
    chi_1: np.ndarray  # (N_B, N_W)
    edge_w: np.ndarray  # (N_EDGE,) sigma_w^2 with chi_1 = 1; NaN where there is none
    edge_b: np.ndarray  # (N_EDGE,)
    labels: tuple[tuple[str, float, float], ...]  # (text, sigma_w^2, sigma_b^2) of regions


def _nice_ceil(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``x``."""
    k = 10.0 ** math.floor(math.log10(x))
    return next(m * k for m in (1.0, 2.0, 5.0, 10.0) if m * k >= x * (1 - 1e-12))


def _hidden_points(model, widths) -> tuple[np.ndarray, float | None, str]:
    """(sigma_w^2 of the hidden-to-hidden layers, sigma_b^2 or None, reason)."""
    sw2, sb2, why = model_points(model, widths)
    inner = sw2[1:-1] if len(sw2) > 2 else sw2[:1]  # the layers a signal propagates through
    return inner, sb2, why


def phase_spec(model, widths, activations) -> PhaseSpec:
    """The :class:`PhaseSpec` of a ``ModelConfig`` built with ``widths`` (n_in, N_0, ..,
    N_{L-1}, n_out) and hidden ``activations`` (L,)."""
    acts = tuple(activations)
    if len(set(acts)) != 1:
        shown = ", ".join(sorted(set(acts)))
        why = f"the hidden layers mix activations ({shown}): one diagram per activation"
        return PhaseSpec("", 0.0, Y_MAX, None, "", (), why)
    act = acts[0]
    param = param_value(get_activation(act), model)
    inner, sb2, why = _hidden_points(model, widths)
    if not why and model.residual:
        why = "residual connections: the gradient grows by 1 + \u03c7 per layer, no ordered phase"
    why = why or not_covered(model, acts + ("",))
    if not why and np.ptp(inner) > 1e-12 * inner.max():
        why = "the layers' widths give each layer its own \u03c3w\u00b2: no single point"
    marker = None if why else (float(inner[0]), float(sb2))
    refs: dict[tuple[float, float], list[str]] = {}  # coinciding points share a label
    for label, init in REFERENCES:
        pts, _, _ = _hidden_points(replace(model, init=init), widths)
        point = (float(pts[0]), float(sb2 if sb2 is not None else model.sigma_b2))
        if np.ptp(pts) <= 1e-12 * pts.max() and point != marker:
            refs.setdefault(point, []).append(label)
    references = tuple((" / ".join(names), *p) for p, names in refs.items())
    y_max = Y_MAX if marker is None or marker[1] <= Y_MAX else _nice_ceil(1.25 * marker[1])
    label = "this net"
    return PhaseSpec(act, param, y_max, marker, label, references, why)


_MAPS: dict[tuple[str, float, float], PhaseMap] = {}  # the last MAX_CACHED maps
MAX_CACHED = 16


def cached_map(key: tuple[str, float, float]) -> PhaseMap | None:
    """The :func:`phase_map` of ``key`` = (activation, param, y_max) if computed, else None."""
    return _MAPS.get(key)


def phase_map(activation: str, param: float, y_max: float = Y_MAX) -> PhaseMap:
    """The :class:`PhaseMap` of one activation (slow: see the module doc; cached)."""
    key = (activation, float(param), float(y_max))
    if key not in _MAPS:
        _MAPS[key] = _compute_map(*key)
        while len(_MAPS) > MAX_CACHED:
            _MAPS.pop(next(iter(_MAPS)))
    return _MAPS[key]


def _compute_map(activation: str, param: float, y_max: float) -> PhaseMap:
    edge_b = np.linspace(0.0, y_max, N_EDGE)
    edge_w = mf.edge_of_chaos(activation, edge_b, param)
    x_max = max(X_MIN, _nice_ceil(1.5 * np.nanmax(edge_w))) if np.any(edge_w > 0) else X_MIN
    w = (np.arange(N_W) + 0.5) * x_max / N_W
    b = (np.arange(N_B) + 0.5) * y_max / N_B
    grid = mf.phase_grid(activation, w, b, param)
    log_xi = np.log10(np.clip(grid.xi_c, 1e-12, XI_CAP))
    unbounded = ~np.isfinite(grid.q_star)
    log_xi[unbounded] = np.nan  # left blank: no fixed point, no depth scale to colour
    edge_w = _checked_edge(activation, param, edge_w, edge_b)
    labels = _region_labels(grid.chi_1, unbounded, w, b, x_max)
    return PhaseMap(
        activation, param, w, b, x_max, y_max, log_xi, grid.chi_1, edge_w, edge_b, labels
    )


def _checked_edge(activation, param, edge_w, edge_b) -> np.ndarray:
    """``edge_w`` with NaN where chi_1 at (edge_w, edge_b) is not 1 (a jump of a bistable
    length map, or no crossing at all)."""
    ok = np.isfinite(edge_w)
    if ok.any():
        q, _ = mf.q_fixed_point(activation, edge_w[ok], edge_b[ok], param)
        c = mf.chi(activation, edge_w[ok], np.where(np.isfinite(q), q, mf.Q_MAX), param)
        ok[ok] = np.abs(c - 1.0) <= EDGE_TOL
    return np.where(ok, edge_w, np.nan)


def _region_labels(chi_1, unbounded, w, b, x_max) -> tuple[tuple[str, float, float], ...]:
    """Each phase's name at the middle of its longest run of cells in the row at 3/4 of the
    height (only where the run spans a fifth of the width: the text must fit)."""
    row = int(0.75 * (len(b) - 1))
    labels = []
    free = ~unbounded[row]
    for phase, mask in (
        ("ordered", (chi_1[row] < 1.0) & free),
        ("chaotic", (chi_1[row] > 1.0) & free),
        ("unbounded", unbounded[row]),
    ):
        best, start = (0, 0), None
        for i, on in enumerate([*mask, False]):
            if on and start is None:
                start = i
            elif not on and start is not None:
                best = max(best, (i - start, start))
                start = None
        length, first = best
        if length * (w[1] - w[0]) >= 0.2 * x_max:
            labels.append((WORDS[phase], float(w[first + length // 2]), float(b[row])))
    return tuple(labels)


def point_text(activation: str, param: float, sigma_w2: float, sigma_b2: float) -> str:
    """The hover text of one point: sigma_w^2, sigma_b^2, chi_1, xi_c, q* and the phase."""
    m = mf.mean_field(activation, sigma_w2, sigma_b2, param)
    xi = "\u221e" if not math.isfinite(m.xi_c) else f"{m.xi_c:.3g}"
    q = "\u221e" if not math.isfinite(m.q_star) else f"{m.q_star:.3g}"
    return (
        f"\u03c3w\u00b2 {sigma_w2:.3f}, \u03c3b\u00b2 {sigma_b2:.3f}\n\u03c7\u2081 {m.chi_1:.3g}"
        f"\n\u03bec {xi} layers\nq* {q}\n{m.phase}"
    )


def _field_value(key: str, value: float) -> float:
    """``value`` within the field's control range, at the control's decimals."""
    f = FIELDS[key]
    lo, hi = f.view if f.view is not None else (f.lo, f.hi)
    return round(float(np.clip(value, lo, hi)), f.decimals)


def init_values(sigma_w2: float, sigma_b2: float) -> dict[str, object]:
    """The config fields a click at (sigma_w^2, sigma_b^2) sets: W ~ N(0, sigma_w^2 /
    fan_in), biases ~ N(0, sigma_b^2) -- rounded as the Experiment panel shows them."""
    return {
        "model.init": "fan_in_normal",
        "model.sigma_w2": _field_value("model.sigma_w2", sigma_w2),
        "model.bias_init": 0.0,
        "model.sigma_b2": _field_value("model.sigma_b2", sigma_b2),
    }
