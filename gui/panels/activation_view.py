"""The activation f, its derivative f' and where the layer's pre-activations z actually fall."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from engine.activations import ACTIVATIONS
from gui import theme
from gui.i18n import QT_TRANSLATE_NOOP, translate

Z_MAX = 6.0
N_GRID = 1201  # 0.01 spacing: kinks (ReLU at 0) and the GELU bump are resolved
N_BINS = 60
HIST_HEIGHT = 0.4  # tallest histogram bar, as a fraction of the visible y range
Y_CAP = 3.0  # unbounded f (ReLU, identity) is cut here so f' stays readable
FLAT = 0.01  # |f'| <= 1% of max |f'| counts as flat (engine's "saturated" metric)


#: the title before an activation is known
ACTIVATION = QT_TRANSLATE_NOOP("Plots", "Activation")


class ActivationView(theme.PlotPanel):
    """f(z) and f'(z) over z in [-6, 6], the maximum |f'| as a dashed line, and a scaled,
    translucent histogram of the layer's pre-activations behind them.

    The histogram shares the plot (normalised so its tallest bar is 40% of the height): the
    point is to see how much of z sits where f' is flat.  The title reports that share.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        item = self.plot_item
        item.showGrid(x=True, y=True, alpha=0.15)
        self.style_plot(ACTIVATION, QT_TRANSLATE_NOOP("Plots", "pre-activation z"), "f(z), f'(z)")
        # translucent and outline-free: the histogram is backdrop, the curves are the subject
        fill = pg.mkColor("#8c8c8c")
        fill.setAlpha(80)
        self.hist = pg.PlotDataItem(stepMode="center", fillLevel=0.0, brush=fill, pen=None)
        self.f_curve = pg.PlotDataItem(pen=theme.mkpen(theme.color(0), 2.5))
        self.df_curve = pg.PlotDataItem(pen=theme.mkpen(theme.color(1), 2.5))
        self.max_line = pg.InfiniteLine(
            pos=1.0,
            angle=0,
            movable=False,
            pen=theme.mkpen(theme.foreground(), 1.2, "dash"),
            label="max |f'| = {value:.3g}",
            labelOpts={"position": 0.03, "color": theme.foreground(), "anchors": [(0, 1), (0, 1)]},
        )
        for z, it in enumerate((self.hist, self.f_curve, self.df_curve)):
            it.setZValue(z)
            item.addItem(it)
        item.addItem(self.max_line)
        self.legend = theme.add_legend(item, columns=3)
        self.legend.addItem(self.f_curve, "f(z)")
        self.legend.addItem(self.df_curve, "f'(z)")
        self._hist_sample = theme.FillSample(self.hist)
        self.legend.addItem(self._hist_sample, translate("Plots", "z of this layer"))
        self.legend.setVisible(True)
        self._item = item
        self._z = np.linspace(-Z_MAX, Z_MAX, N_GRID)
        self._abs_df = np.zeros(N_GRID)
        self._edges = np.linspace(-Z_MAX, Z_MAX, N_BINS + 1)
        self._key: tuple[str, float] | None = None
        self._y = (-0.1, 1.1)
        self._max_grad = 1.0
        self.flat_fraction = float("nan")
        self._zdata: np.ndarray | None = None
        self.set_title(ACTIVATION)

    def __repr__(self) -> str:
        return f"ActivationView({self._key})"

    def retranslate_ui(self) -> None:
        super().retranslate_ui()
        for sample, label in self.legend.items:
            if sample is self._hist_sample:
                label.setText(translate("Plots", "z of this layer"))

    @property
    def y_range(self) -> tuple[float, float]:
        """The y range shown: the activation and f' with a margin."""
        return self._y

    def set_activation(self, name: str, param: float = 0.0) -> None:
        """Plot activation ``name`` (a key of engine.activations.ACTIVATIONS) with ``param``."""
        key = (name, float(param))
        if key == self._key:
            return  # called every frame: recompute only on a change
        if name not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {name!r}; expected one of {', '.join(sorted(ACTIVATIONS))}"
            )
        act = ACTIVATIONS[name]
        z = self._z
        with np.errstate(all="ignore"):
            f = np.asarray(act.f(z, float(param)), dtype=np.float64)
            df = np.asarray(act.df(z, float(param)), dtype=np.float64)
        np.abs(df, out=self._abs_df)
        # the registry's max over [-8, 8] (e.g. softplus approaches 1 only beyond z = 6);
        # the same reference the engine's "saturated" metric uses
        self._max_grad = act.max_grad(float(param))
        lo = max(min(float(np.min(f)), float(np.min(df)), 0.0), -Y_CAP)
        hi = min(max(float(np.max(f)), float(np.max(df)), 1.0), Y_CAP)
        pad = 0.08 * (hi - lo)
        self._y = (lo - pad, hi + pad)
        self.f_curve.setData(z, f)
        self.df_curve.setData(z, df)
        self.max_line.setValue(self._max_grad)
        self._key = key
        self._item.setXRange(-Z_MAX, Z_MAX, padding=0.0)
        self._item.setYRange(*self._y, padding=0.0)
        self.hist.setFillLevel(self._y[0])
        self._title_for(act.display, act.formula)
        if self._zdata is not None:
            self.set_preactivations(self._zdata)

    def set_preactivations(self, z: np.ndarray | None) -> None:
        """Histogram of the layer's pre-activations (None hides it)."""
        if z is None:
            self._zdata = None
            self.hist.clear()
            self.flat_fraction = float("nan")
            if self._key is not None:
                act = ACTIVATIONS[self._key[0]]
                self._title_for(act.display, act.formula)
            return
        v = np.asarray(z, dtype=np.float64).ravel()
        v = v[np.isfinite(v)]
        self._zdata = v
        if v.size == 0 or self._key is None:
            self.hist.clear()
            return
        # values beyond +-6 go into the edge bins: they are as flat as the edges, or flatter
        counts, _ = np.histogram(np.clip(v, -Z_MAX, Z_MAX), bins=self._edges)
        lo, hi = self._y
        scale = HIST_HEIGHT * (hi - lo) / max(int(counts.max()), 1)
        self.hist.setData(self._edges, lo + counts * scale)
        flat = np.interp(v, self._z, self._abs_df) <= FLAT * self._max_grad
        self.flat_fraction = float(np.mean(flat))
        act = ACTIVATIONS[self._key[0]]
        pct = 100.0 * self.flat_fraction
        self.set_title(
            lambda: translate("Plots", "{0}: {1}% of z where |f'| \u2264 1% of max").format(
                act.display, f"{pct:.0f}"
            )
        )

    def reset(self) -> None:
        """Forget the activation and the pre-activations."""
        self._key = None
        self._zdata = None
        self.flat_fraction = float("nan")
        self.f_curve.clear()
        self.df_curve.clear()
        self.hist.clear()
        self.set_title(ACTIVATION)

    def _title_for(self, display: str, formula: str) -> None:
        self.set_title(f"{display}: {formula}")
