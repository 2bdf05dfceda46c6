r"""Li transport: in-plane mean-squared displacement and diffusivity per region.

User guide
----------
Positions in the trajectory are wrapped. :func:`unwrap_positions` rebuilds
continuous paths by adding, frame to frame, the minimum-image displacement
along the periodic directions — valid when no atom moves more than half a cell
length between two saved frames (always true for MD frames a few hundred fs
apart). **Unwrap before any MSD**: wrapped coordinates give a spurious plateau.

Li atoms are grouped by the builder's region (fixed for the run): ``sei`` and
``electrolyte``; when the SEI holds both F and O, SEI Li are further split by
their nearest anion in the first frame (``sei:LiF`` / ``sei:Li2O``).
:func:`windowed_msd` averages the MSD over all time origins (the FFT
algorithm of nMoldyn: Calandrini et al., Collection SFN 12, 201 (2011)).
In a slab the SEI is thin and bounded along z, so only the in-plane MSD
gives a diffusivity:

.. math:: D_{xy} = \lim_{t\to\infty} \frac{\langle |\Delta \mathbf{r}_{xy}(t)|^2
   \rangle}{4t}.

The limit is reached only once motion is diffusive. A short run sees the
ballistic regime (MSD ∝ t², slope 2 on log–log axes) or, in a solid, the
rattling plateau (slope ≈ 0); a straight-line fit there gives a number with
no meaning (a "liquid-like" D from 0.5 ps of LiF). :class:`LiDiffusion`
therefore fits log MSD_xy against log t over the window ``fit_window``
(fractions of the run, default 5–50 %: past the ballistic start, with at
least half the time origins at the longest lag) and reports D_xy only when
that slope is within ``slope_tol`` of 1; otherwise the group is ``not
diffusive`` and D_xy is NaN. The interval of D_xy is a seeded percentile
bootstrap over the group's atoms. The diffusivities of a constant-potential
run mix transport with field-driven drift and reduction; the claims check
reads D only from constant-charge runs.

Units: MSD in Å², time in fs/ps, D in cm²/s (1 Å²/fs = 0.1 cm²/s).

Example
-------
>>> run = "results/md/mosaic_amorphous/constq_none_r0"
>>> dif = LiDiffusion(f"{run}/traj.extxyz").run()             # doctest: +SKIP
>>> dif.results["table"][["group", "slope", "status", "D_xy_cm2_s"]]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import ELECTROLYTE_REGION, REGION, SEI_REGION, TIME_FS
from ._frames import load_frames
from ._stats import Interval

__all__ = ["LiDiffusion", "group_indices", "unwrap_positions", "windowed_msd"]

#: Initial regions whose Li are analysed.
GROUPS = (SEI_REGION, ELECTROLYTE_REGION)

#: 1 Å²/fs = 1e-16 cm² / 1e-15 s = 0.1 cm²/s.
_A2_PER_FS_IN_CM2_PER_S = 0.1


def unwrap_positions(frames: Sequence[Atoms]) -> np.ndarray:
    """Continuous (unwrapped) Cartesian positions of a wrapped trajectory.

    Parameters
    ----------
    frames : sequence of ase.Atoms
        Same atoms in the same order; the cell of the first frame is used.

    Returns
    -------
    (n_frames, n_atoms, 3) ndarray, Å
        Frame 0 as given; later frames displaced by the sum of minimum-image
        steps along the periodic directions.
    """
    cell = frames[0].cell.array
    inv = np.linalg.inv(cell)
    pbc = np.asarray(frames[0].pbc, bool)
    out = np.empty((len(frames), len(frames[0]), 3))
    out[0] = frames[0].positions
    for k in range(1, len(frames)):
        step = (frames[k].positions - frames[k - 1].positions) @ inv
        step[:, pbc] -= np.rint(step[:, pbc])
        out[k] = out[k - 1] + step @ cell
    return out


def group_indices(atoms: Atoms, element: str = "Li") -> dict[str, np.ndarray]:
    """Indices of ``element`` atoms per initial region (and SEI component).

    Returns
    -------
    dict of str to int ndarray
        ``"sei"``, ``"electrolyte"`` (when present) and, if the SEI holds both
        F and O, ``"sei:LiF"`` / ``"sei:Li2O"`` by the nearest anion.
    """
    region = atoms.arrays[REGION].astype(str)
    is_el = atoms.symbols == element
    groups: dict[str, np.ndarray] = {}
    for name in GROUPS:
        idx = np.flatnonzero(is_el & (region == name))
        if idx.size:
            groups[name] = idx
    sei = groups.get(SEI_REGION)
    anions = np.flatnonzero((region == SEI_REGION) & np.isin(atoms.symbols, ["F", "O"]))
    if sei is not None and {"F", "O"} <= set(atoms.symbols[anions]):
        d = atoms.get_distances  # minimum image through ASE
        nearest = np.array(
            [anions[np.argmin(d(i, anions, mic=True))] for i in sei], dtype=int
        )
        is_f = atoms.symbols[nearest] == "F"
        groups["sei:LiF"] = sei[is_f]
        groups["sei:Li2O"] = sei[~is_f]
        groups = {k: v for k, v in groups.items() if v.size}
    return groups


def windowed_msd(positions: np.ndarray) -> np.ndarray:
    """MSD of each atom and component averaged over all time origins.

    Parameters
    ----------
    positions : (n_frames, n_atoms, n_dims) ndarray, Å
        Unwrapped positions at evenly spaced times.

    Returns
    -------
    (n_frames, n_atoms, n_dims) ndarray, Å²
        Row k: ⟨(x(t₀ + k) − x(t₀))²⟩ over the n_frames − k origins t₀.

    Notes
    -----
    MSD(k) = S₁(k) − 2 S₂(k), with S₂ the autocorrelation by FFT and S₁ by
    the recursion of Calandrini et al. (2011); O(n log n) per atom instead
    of O(n²), identical to the direct average up to round-off.
    """
    x = np.asarray(positions, float)
    n = x.shape[0]
    lags = n - np.arange(n)
    spec = np.fft.rfft(x, n=2 * n, axis=0)
    s2 = np.fft.irfft(spec * spec.conj(), n=2 * n, axis=0)[:n]
    s2 /= lags.reshape(-1, *([1] * (x.ndim - 1)))
    d = x**2
    d = np.concatenate([d, np.zeros_like(d[:1])])  # d[-1] = d[n] = 0
    q = 2.0 * d[:n].sum(axis=0)
    s1 = np.empty_like(x)
    for k in range(n):
        q = q - d[k - 1] - d[n - k]
        s1[k] = q / (n - k)
    return s1 - 2.0 * s2


def _slopes(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares slopes of the rows of y (…, n) against t (n,)."""
    tc = t - t.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ tc / (tc @ tc)


class LiDiffusion:
    """In-plane MSD and diffusivity of Li per region, once diffusive.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``region``; info ``time_fs`` (evenly spaced).
    element : str
        Default "Li".
    fit_window : (float, float)
        Lag window of the fits as fractions of the run's duration
        (0.05, 0.5).
    slope_tol : float
        Largest |slope − 1| of log MSD_xy vs log t in the window for the
        motion to count as diffusive (0.15).
    min_lags : int
        Fewest lags in the window for a fit (5).
    bootstrap : int
        Bootstrap replicates (over atoms) of the D_xy interval (1000).
    seed : int
        Seed of the bootstrap.
    confidence : float
        Coverage of the interval (0.95).

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        Per group: ``group, n_atoms, duration_ps, fit_start_ps, fit_end_ps,
        n_lags, slope, slope_z, status, D_xy_cm2_s, D_xy_lo_cm2_s,
        D_xy_hi_cm2_s, D_xy_se_cm2_s, note``. ``status`` is "diffusive",
        "not diffusive" or "too short"; D is NaN unless diffusive.
    results["msd"] : pandas.DataFrame
        ``group, dt_fs, dt_ps, msd_xy_A2, msd_z_A2, msd_A2, n_origins``.
    """

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        element: str = "Li",
        fit_window: Sequence[float] = (0.05, 0.5),
        slope_tol: float = 0.15,
        min_lags: int = 5,
        bootstrap: int = 1000,
        seed: int = 0,
        confidence: float = 0.95,
    ):
        self.frames, self.source = load_frames(trajectory, (REGION,), (TIME_FS,))
        lo, hi = (float(v) for v in fit_window)
        if not 0 <= lo < hi <= 1:
            raise ValueError(
                f"fit_window must be two fractions 0 <= start < end <= 1, "
                f"got {tuple(fit_window)}"
            )
        if not slope_tol > 0:
            raise ValueError(f"slope_tol must be > 0, got {slope_tol}")
        if not (isinstance(bootstrap, (int, np.integer)) and bootstrap >= 1):
            raise ValueError(f"bootstrap must be an integer >= 1, got {bootstrap!r}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {confidence}")
        self.element = element
        self.fit_window = (lo, hi)
        self.slope_tol = float(slope_tol)
        self.min_lags = int(min_lags)
        self.bootstrap = int(bootstrap)
        self.seed = int(seed)
        self.confidence = float(confidence)
        self.results: dict = {}

    def todict(self) -> dict:
        return {
            "element": self.element,
            "fit_window": list(self.fit_window),
            "slope_tol": self.slope_tol,
            "min_lags": self.min_lags,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "confidence": self.confidence,
        }

    def run(self):
        """Unwrap, group, MSD, slope check, fit; returns self."""
        import pandas as pd

        frames = self.frames
        times = np.array([float(a.info[TIME_FS]) for a in frames])
        duration = float(times[-1] - times[0])
        groups = group_indices(frames[0], self.element)
        rows, msd_rows = [], []
        if len(frames) >= 3:
            steps = np.diff(times)
            if not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-9):
                raise ValueError(
                    f"{self.source}: info {TIME_FS!r} must be evenly spaced for MSD"
                )
            unwrapped = unwrap_positions(frames)
            dt = np.arange(len(frames)) * float(steps[0])
        for name, idx in groups.items():
            row = {
                "group": name,
                "n_atoms": int(idx.size),
                "duration_ps": duration / 1000.0,
            }
            if len(frames) < 3:
                row.update(_empty(f"{len(frames)} frames, need >= 3"))
                rows.append(row)
                continue
            msd = windowed_msd(unwrapped[:, idx])  # (frames, atoms, 3)
            msd_xy_atoms = msd[..., 0] + msd[..., 1]
            msd_xy = msd_xy_atoms.mean(axis=1)
            msd_z = msd[..., 2].mean(axis=1)
            msd_rows.append(
                pd.DataFrame(
                    {
                        "group": name,
                        "dt_fs": dt,
                        "dt_ps": dt / 1000.0,
                        "msd_xy_A2": msd_xy,
                        "msd_z_A2": msd_z,
                        "msd_A2": msd_xy + msd_z,
                        "n_origins": len(frames) - np.arange(len(frames)),
                    }
                )
            )
            row.update(self._fit(dt, duration, msd_xy_atoms, msd_z))
            rows.append(row)
        columns = [
            "group",
            "n_atoms",
            "duration_ps",
            "fit_start_ps",
            "fit_end_ps",
            "n_lags",
            "slope",
            "slope_z",
            "status",
            "D_xy_cm2_s",
            "D_xy_lo_cm2_s",
            "D_xy_hi_cm2_s",
            "D_xy_se_cm2_s",
            "note",
        ]
        self.results["table"] = pd.DataFrame(rows, columns=columns)
        msd_columns = ["group", "dt_fs", "dt_ps", "msd_xy_A2", "msd_z_A2"]
        msd_columns += ["msd_A2", "n_origins"]
        self.results["msd"] = (
            pd.concat(msd_rows, ignore_index=True)
            if msd_rows
            else pd.DataFrame(columns=msd_columns)
        )
        return self

    def _fit(self, dt, duration, msd_xy_atoms, msd_z) -> dict:
        lo, hi = self.fit_window
        window = (dt >= lo * duration) & (dt <= hi * duration) & (dt > 0)
        out = _empty("")
        out.update(
            fit_start_ps=lo * duration / 1000.0,
            fit_end_ps=hi * duration / 1000.0,
            n_lags=int(window.sum()),
        )
        msd_xy = msd_xy_atoms.mean(axis=1)
        if window.sum() < self.min_lags:
            out["note"] = (
                f"{int(window.sum())} lags in the fit window, need {self.min_lags}"
            )
            return out
        t = dt[window]
        y = msd_xy[window]
        if not (y > 0).all():
            out["note"] = "MSD not positive in the fit window"
            return out
        slope = float(_slopes(np.log(t), np.log(y)))
        out["slope"] = slope
        z = msd_z[window]
        if (z > 0).all():
            out["slope_z"] = float(_slopes(np.log(t), np.log(z)))
        if abs(slope - 1.0) > self.slope_tol:
            out["status"] = "not diffusive"
            out["note"] = (
                f"log MSD_xy vs log t slope {slope:.2f} in "
                f"{out['fit_start_ps']:.3g}-{out['fit_end_ps']:.3g} ps, "
                f"need 1 ± {self.slope_tol:g}"
            )
            return out
        to_cm2_s = _A2_PER_FS_IN_CM2_PER_S / 4.0
        value = float(_slopes(t, y)) * to_cm2_s
        rng = np.random.default_rng(self.seed)
        n_atoms = msd_xy_atoms.shape[1]
        counts = rng.multinomial(
            n_atoms, np.full(n_atoms, 1.0 / n_atoms), size=self.bootstrap
        )
        reps = _slopes(t, counts @ msd_xy_atoms[window].T / n_atoms) * to_cm2_s
        alpha = 0.5 * (1.0 - self.confidence)
        d_lo, d_hi = np.quantile(reps, [alpha, 1.0 - alpha])
        interval = Interval(
            value,
            float(d_lo),
            float(d_hi),
            self.confidence,
            self.bootstrap,
            n_atoms,
            "cm²/s",
        )
        out.update(
            status="diffusive",
            D_xy_cm2_s=interval.value,
            D_xy_lo_cm2_s=interval.lo,
            D_xy_hi_cm2_s=interval.hi,
            D_xy_se_cm2_s=float(np.std(reps, ddof=1)) if self.bootstrap > 1 else 0.0,
        )
        return out


def _empty(note: str) -> dict:
    nan = math.nan
    return {
        "fit_start_ps": nan,
        "fit_end_ps": nan,
        "n_lags": 0,
        "slope": nan,
        "slope_z": nan,
        "status": "too short",
        "D_xy_cm2_s": nan,
        "D_xy_lo_cm2_s": nan,
        "D_xy_hi_cm2_s": nan,
        "D_xy_se_cm2_s": nan,
        "note": note,
    }
