"""Calculations of several runs evaluated together: batched sweeps.

Several runs of one system (replicas, potentials) can advance together on one
device: each step, one short-range model call for all their frames and one
charge solve for all their charges (:func:`constpot.qeq.batch.solve_batch`),
instead of one of each per run. Each run keeps its own
:class:`~constpot.potential.HybridCalculator` (membership, potentials,
charge predictor, reference preconditioner: everything a run checkpoints), and
its own driver in its own thread (:func:`constpot.md.batch.run_batch`); the
calculators of a :class:`BatchGroup` meet at each calculation:

- each calculator hands its request (atoms, solve) to the group and waits;
- when every member still running has handed one in, the last to arrive
  evaluates them all, the model once over the batch of frames on a GPU
  (:func:`short_range_batch`) and the charges in one
  :func:`~constpot.qeq.batch.solve_batch`, and wakes the others;
- a member that ends (its run finished or failed) leaves the group, so the
  others never wait for it.

The numbers are each run's own: a batched charge solve gives each system its
single solve's charges bit for bit; the model's batched call sums the same
per-atom terms, so energies and forces agree with single calls to float
rounding (tests). The gain is on a GPU, where one call over B frames and one
read-back of B residuals replace B of each; on a CPU core the work is the same.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from ..qeq.batch import solve_batch

__all__ = ["BatchGroup", "short_range_batch"]


def _batchable(member) -> bool:
    """Whether ``member`` is a NequIP calculator whose model takes a batch of
    frames: an eager (packaged) model, or one compiled with batch inputs (an
    ``aotinductor`` model compiled for ASE takes exactly one frame)."""
    if not (hasattr(member, "atoms_to_data") and hasattr(member, "call_model")):
        return False
    from nequip.data import AtomicDataDict

    keys = getattr(member.model, "input_keys", None)
    return keys is None or AtomicDataDict.BATCH_KEY in keys


def short_range_batch(
    members: Sequence, frames: Sequence, one_call: bool | None = None
) -> list[tuple]:
    """Mean short-range energy, forces and ensemble force deviation per frame.

    Parameters
    ----------
    members : sequence of ASE calculators
        The ensemble (as :attr:`HybridCalculator.short_range`). A NequIP
        member whose model takes batches can evaluate all frames in one
        call; any other is called frame by frame.
    frames : sequence of ase.Atoms
    one_call : bool, optional
        Whether such a member evaluates the frames in one call. Default: on a
        GPU, where one call over B frames costs about one frame's. On CPU
        cores the work grows with the atoms either way, and one call over
        four 3070-atom frames measured 1.5× slower than four calls (cache),
        so frames are evaluated one by one there.

    Returns
    -------
    list of (energy_eV, forces_eV_per_A, deviation_eV_per_A or None)
    """
    n_frames = len(frames)
    energies = np.zeros((len(members), n_frames))
    forces = [[None] * len(members) for _ in frames]
    for m, member in enumerate(members):
        together = one_call
        if together is None:
            together = getattr(getattr(member, "device", None), "type", "") == "cuda"
        if together and n_frames > 1 and _batchable(member):
            values = _nequip_batch(member, frames)
        else:
            values = [
                (
                    float(member.get_potential_energy(a)),
                    np.asarray(member.get_forces(a), dtype=float),
                )
                for a in frames
            ]
        for f, (energy, force) in enumerate(values):
            energies[m, f] = energy
            forces[f][m] = force
    out = []
    for f in range(n_frames):
        stack = np.stack(forces[f])
        mean = stack.mean(axis=0)
        deviation = None
        if len(members) > 1:
            # as HybridCalculator: max over atoms of the per-atom force
            # standard deviation's norm across members
            spread = np.sqrt(((stack - mean) ** 2).sum(axis=2).mean(axis=0))
            deviation = float(spread.max())
        out.append((float(energies[:, f].mean()), mean, deviation))
    return out


def _nequip_batch(member, frames) -> list[tuple[float, np.ndarray]]:
    """One NequIP model call over ``frames``: (energy eV, forces eV/Å) each,
    with the unit conversions of nequip's ASE calculator."""
    from nequip.data import AtomicDataDict

    data = AtomicDataDict.batched_from_list([member.atoms_to_data(a) for a in frames])
    out = member.call_model(data)
    energy = out[AtomicDataDict.TOTAL_ENERGY_KEY].detach().cpu().numpy().reshape(-1)
    force = out[AtomicDataDict.FORCE_KEY].detach().cpu().numpy()
    to_ev = member.energy_units_to_eV
    to_ev_per_a = member.energy_units_to_eV / member.length_units_to_A
    bounds = np.cumsum([0] + [len(a) for a in frames])
    return [
        (to_ev * float(energy[f]), to_ev_per_a * force[bounds[f] : bounds[f + 1]])
        for f in range(len(frames))
    ]


class _Request:
    """One calculator's calculation, waiting for its round."""

    def __init__(self, frame, job):
        self.frame, self.job = frame, job
        self.short = None  # (energy, forces, deviation)
        self.charges = None  # ChargeResult or exception
        self.error: BaseException | None = None
        self.done = False


class BatchGroup:
    """Calculators that evaluate their calculations together (module doc).

    Parameters
    ----------
    members : int
        How many calculators take part; each calls :meth:`leave` when its
        run ends (the context manager of :func:`constpot.md.batch.run_batch`
        does).
    short_range : sequence of ASE calculators
        The shared short-range model(s): every calculator of the group uses
        these same objects.

    Attributes
    ----------
    rounds : int
        Rounds evaluated so far.
    sizes : list of int
        The number of calculations each round evaluated together.
    """

    def __init__(self, members: int, short_range: Sequence = ()):
        if members < 1:
            raise ValueError(f"a batch group needs members >= 1, got {members}")
        self.members = members
        self.short_range = list(short_range)
        self.rounds = 0
        self.sizes: list[int] = []
        self._pending: list[_Request] = []
        self._cond = threading.Condition()

    def evaluate(self, frame, job):
        """Hand in a calculation and wait for its round.

        Parameters
        ----------
        frame : ase.Atoms
            The atoms of the calculation (for the short-range model).
        job : (ChargeSolver, dict) or None
            The charge solve (:func:`~constpot.qeq.batch.solve_batch`'s job).

        Returns
        -------
        (short, charges)
            ``short_range_batch``'s tuple for the frame and the
            :class:`~constpot.qeq.ChargeResult` (None without a job).

        Raises
        ------
        Exception
            The charge solve's error for this calculation, or the round's
            error when the model failed.
        """
        request = _Request(frame, job)
        with self._cond:
            self._pending.append(request)
            self._run_if_complete()
            while not request.done:
                self._cond.wait()
        if request.error is not None:
            raise request.error
        if isinstance(request.charges, Exception):
            raise request.charges
        return request.short, request.charges

    def leave(self) -> None:
        """A member's run has ended: rounds no longer wait for it."""
        with self._cond:
            self.members -= 1
            self._run_if_complete()

    def _run_if_complete(self) -> None:
        """Evaluate the round when every member has handed in (lock held)."""
        if not self._pending or len(self._pending) < self.members:
            return
        batch, self._pending = self._pending, []
        try:
            shorts = (
                short_range_batch(self.short_range, [r.frame for r in batch])
                if self.short_range
                else [None] * len(batch)
            )
            slots = [k for k, r in enumerate(batch) if r.job is not None]
            results = solve_batch([batch[k].job for k in slots], errors="return")
            for r, short in zip(batch, shorts, strict=True):
                r.short = short
            for k, res in zip(slots, results, strict=True):
                batch[k].charges = res
        except BaseException as err:  # the model failed: every request fails
            for r in batch:
                r.error = err
        for r in batch:
            r.done = True
        self.rounds += 1
        self.sizes.append(len(batch))
        self._cond.notify_all()
