"""The paper-claims check: each claim of docs/design.md §7 as a number with an interval.

User guide
----------
:func:`evaluate_claims` takes one row per analysed run
(:func:`~constpot.analysis.summary.run_headline`), the events of those runs
(``events.csv``) and the training predictions, and returns one
:class:`ClaimResult` per claim: the figure that shows it, the criterion, every
number with a seeded percentile bootstrap interval, and a verdict.

Verdicts are ``supported``, ``not supported`` or ``not testable``
(:func:`~constpot.analysis._stats.verdict`). *Not testable* is the answer
whenever the data cannot decide: runs of the needed kind are missing, fewer
than ``min_replicas`` replicas per group, fewer than ``min_events`` events,
an MSD that is not yet diffusive, or an interval that holds zero. A verdict is
never read off a difference of means without its spread. Runs that did not
complete (MD status "stopped", or fewer steps than planned) are left out and
listed.

The bootstrap unit is what is independent: replicas (runs of the same
setting, resampled within each group) for rates, capacitances and drops; runs
and then events within runs for the co-location of claim 3; atoms within runs
for diffusivities (each run's interval from :class:`LiDiffusion`); frames for
model errors. Rates are per lateral area and time: Li per nm² per ns.

Criteria (thresholds in :data:`CLAIM_CRITERIA`, config ``analysis.claims``):

1. ConstP deposits more than ConstQ: rate(most negative ψ) − rate(ConstQ) > 0,
   per system.
2. Deposition grows with −ψ: least-squares slope of the rate against −ψ
   over the ConstP potentials > 0, per system.
3. (a) Deposits land on earlier SEI Li aggregates beyond chance: the excess
   mean(hit − p_random) of :func:`~constpot.analysis.lateral.colocation` over
   the deposition events of amorphous-SEI runs > 0, and an interval that
   reaches ``colocation_min_excess``; (b) Li aggregates more in amorphous
   than in crystalline SEI: aggregation rate (new aggregated Li after t = 0)
   amorphous − crystalline > 0 at their most negative common ψ. Both parts
   must hold (a part whose runs are absent is skipped).
4. (a) Positive differential capacitance dQ_anode/dψ > 0 per system;
   (b) the Poisson drop across the cell (minus the system's ConstQ drop)
   over the imposed ψ_counter − ψ_anode lies within 1 ± ``potential_drop_rtol``.
5. Test RMSE of energy, force and charge at most their limits: the numbers
   of the training summary (the ensemble's mean prediction;
   :func:`constpot.potential.evaluate.model_accuracy`).
6. D_xy of SEI Li from constant-charge runs, once diffusive: amorphous −
   crystalline > 0.

Per-system results of claims 1, 2 and 4a are pooled: any system not
supported → not supported, else any supported → supported.

Example
-------
>>> runs = pd.DataFrame([run_headline(d) for d in run_dirs])  # doctest: +SKIP
>>> claims = evaluate_claims(runs, phases, events=events, seed=0)  # doctest: +SKIP
>>> claims[2].verdict, claims[2].intervals                   # doctest: +SKIP

Layout: :mod:`._common` (:class:`ClaimResult`, :data:`CLAIM_CRITERIA`, the
bootstrap), one module per topic (:mod:`.deposition`: claims 1–2,
:mod:`.aggregation`: 3, :mod:`.electrode`: 4, :mod:`.accuracy`: 5,
:mod:`.diffusion`: 6) and :mod:`.check` (:func:`evaluate_claims`).
"""

from ._common import CLAIM_CRITERIA, NOT_SUPPORTED, NOT_TESTABLE, SUPPORTED, ClaimResult
from .check import evaluate_claims, incomplete

__all__ = [
    "CLAIM_CRITERIA",
    "NOT_SUPPORTED",
    "NOT_TESTABLE",
    "SUPPORTED",
    "ClaimResult",
    "evaluate_claims",
    "incomplete",
]
