"""Claim 6: Li moves faster through amorphous than through crystalline SEI.

In-plane D_xy of SEI Li from constant-charge runs only, and only where the
MSD is diffusive (log–log slope within tolerance of 1): D_xy(amorphous) −
D_xy(crystalline) > 0, runs resampled per phase and each run's D drawn from
its bootstrap over atoms (:class:`~constpot.analysis.diffusion.LiDiffusion`).
"""

from __future__ import annotations

import numpy as np

from .._stats import Interval, verdict
from ..catalogue import FIGURES
from ._common import Bootstrap, ClaimResult, fmt, rows_where

__all__ = ["claim6"]


def claim6(runs, phases, crit, boot: Bootstrap) -> ClaimResult:
    """Claim 6: D_xy of SEI Li, amorphous minus crystalline (ConstQ runs)."""
    result = ClaimResult(
        6,
        "Li transport in the SEI components (MSD and diffusivity); tested here "
        "as: Li moves faster through amorphous than through crystalline SEI, "
        "the mobility behind Li aggregation in amorphous SEI (our reading).",
        FIGURES["li_msd"],
        "In-plane D_xy of SEI Li from constant-charge runs only, and only "
        "where the MSD is diffusive (log–log slope within tolerance of 1): "
        "D_xy(amorphous) − D_xy(crystalline) above zero; runs resampled per "
        "phase and each run's D drawn from its bootstrap over atoms.",
    )
    constq = rows_where(runs, mode="constq")
    phase = constq["system"].map(lambda s: phases.get(s, "unknown"))
    samples, reasons = {}, []
    for name in ("amorphous", "crystalline"):
        sub = constq[phase == name]
        if sub.empty:
            result.reason = (
                f"needs a complete constant-charge run of a {name}-SEI system"
            )
            return result
        ok = sub[sub["D_xy_sei_status"] == "diffusive"]
        result.numbers[name] = {
            "runs": len(sub),
            "diffusive_runs": len(ok),
            "slopes": [float(s) for s in sub["D_xy_sei_slope"]],
        }
        if ok.empty:
            slopes = ", ".join(fmt(float(s), 2) for s in sub["D_xy_sei_slope"])
            reasons.append(
                f"{name}: MSD of SEI Li not diffusive (log–log slope {slopes})"
            )
            continue
        samples[name] = ok[["D_xy_sei_cm2_s", "D_xy_sei_se_cm2_s"]].to_numpy(float)
        d = result.add(
            f"D_xy SEI {name}",
            Interval(
                float(ok["D_xy_sei_cm2_s"].mean()),
                float(ok["D_xy_sei_lo_cm2_s"].min()),
                float(ok["D_xy_sei_hi_cm2_s"].max()),
                boot.confidence,
                boot.n,
                len(ok),
                "cm²/s",
            ),
        )
        reasons.append(f"{name}: D_xy {d.text()}")
    if len(samples) < 2:
        result.reason = "; ".join(reasons)
        return result
    rng = np.random.default_rng(boot.seed)

    def draw(rows: np.ndarray) -> float:
        pick = rows[rng.integers(0, len(rows), len(rows))]
        noise = np.nan_to_num(pick[:, 1]) * rng.normal(size=len(pick))
        return float(np.mean(pick[:, 0] + noise))

    a, c = samples["amorphous"], samples["crystalline"]
    reps = np.array([draw(a) - draw(c) for _ in range(boot.n)])
    alpha = 0.5 * (1.0 - boot.confidence)
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    interval = result.add(
        "D_xy SEI amorphous − crystalline",
        Interval(
            float(a[:, 0].mean() - c[:, 0].mean()),
            float(lo),
            float(hi),
            boot.confidence,
            boot.n,
            len(a) + len(c),
            "cm²/s",
        ),
    )
    result.verdict = verdict(interval)
    result.parts["D amorphous − crystalline"] = result.verdict
    result.reason = "; ".join([*reasons, f"difference {interval.text()}"])
    return result
