"""Run identity: control modes, potential labels, run folders and the MD sweep.

One MD run is named by four labels, ``system, mode, potential, replica``, and
lives in ``results/md/{system}/{mode}_{potential}_r{replica}/`` (a variant's
runs under ``results/variants/{variant}/md/``). The workflow
(``workflow/rules/common.smk``), the ``constpot md`` command and the analysis
all name runs through this module, so a run folder written by one is parsed
by the others.

- ``mode`` is ``constp`` (electrode potentials held, charges follow) or
  ``constq`` (total charge held, the constant-charge control).
- ``potential`` is the applied anode potential as Python prints the float,
  then ``V`` (``-6.0V``, ``-2.25V``, never ``-0.0V``), or ``none`` in constq.
- ``replica`` is 0, 1, ...; replicas differ only in their thermostat seed
  (:func:`run_seed`).

Example
-------
>>> [r.name for r in md_sweep({"anode_potentials_V": [-6], "replicas": 1,
...                            "constq": True}, ["no_sei"])]
['constp_-6.0V_r0', 'constq_none_r0']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CONSTP",
    "CONSTQ",
    "LABEL_COLUMNS",
    "MODES",
    "RunLabels",
    "md_batches",
    "md_sweep",
    "parse_potential",
    "potential_label",
    "run_seed",
]

#: Constant electrode potentials (charges follow the applied ψ).
CONSTP = "constp"
#: Constant total charge (the control: no potential applied).
CONSTQ = "constq"
#: Control modes.
MODES = (CONSTP, CONSTQ)
#: The run labels, in the order they lead every per-run table.
LABEL_COLUMNS = ("system", "mode", "potential", "replica")

_RUN_NAME = re.compile(
    rf"^(?P<mode>{CONSTP}|{CONSTQ})_(?P<potential>[^/]+)_r(?P<replica>\d+)$"
)


def potential_label(mode: str, anode_potential_V: float | None) -> str:
    """Run-name part for the applied anode potential: ``"-6.0V"`` or ``"none"``.

    Parameters
    ----------
    mode : {"constp", "constq"}
    anode_potential_V : float or None, V

    Examples
    --------
    >>> potential_label("constp", -6), potential_label("constq", None)
    ('-6.0V', 'none')
    """
    if mode == CONSTQ:
        return "none"
    return f"{float(anode_potential_V) + 0.0}V"


def parse_potential(label: str | None, mode: str) -> float | None:
    """Anode potential (V) from a run-name label: ``"-6.0V"``, ``"-6"``, ``"none"``.

    Raises
    ------
    ValueError
        A number in constq, ``none`` in constp, or an unreadable label.
    """
    if label is None or label.strip().lower() == "none":
        if mode == CONSTP:
            raise ValueError(
                "--potential: constp needs an anode potential (e.g. -6.0V)"
            )
        return None
    text = label.strip()
    if text.upper().endswith("V"):
        text = text[:-1]
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"--potential: expected volts like -6.0V or 'none', got {label!r}"
        ) from None
    if mode == CONSTQ:
        raise ValueError(
            f"--potential: constq applies no potential; use 'none', got {label!r}"
        )
    return value


def run_seed(base_seed: int, replica: int) -> int:
    """Thermostat seed of a replica: independent streams per (seed, replica)."""
    if base_seed < 0 or replica < 0:
        raise ValueError(f"seed and replica must be >= 0, got {base_seed}, {replica}")
    return int(np.random.SeedSequence([base_seed, replica]).generate_state(1)[0])


@dataclass(frozen=True)
class RunLabels:
    """Identity of one MD run: ``results/md/{system}/{mode}_{potential}_r{replica}``.

    Parameters
    ----------
    system : str
        Interface name (config ``systems:``).
    mode : {"constp", "constq"}
        Constant potential or constant charge.
    potential : str
        Potential label of the folder, e.g. ``"-6.0V"``, or ``"none"`` (constq).
    replica : int
    """

    system: str
    mode: str
    potential: str
    replica: int

    @classmethod
    def from_path(cls, run_dir: str | Path) -> RunLabels:
        """Parse ``.../{system}/{mode}_{potential}_r{replica}`` (folder or file in it).

        Raises
        ------
        ValueError
            When the folder name does not follow the pattern.
        """
        path = Path(run_dir)
        if path.suffix and not _RUN_NAME.match(path.name):  # a file in the run folder
            path = path.parent
        try:
            return cls.from_name(path.name, path.parent.name)
        except ValueError as err:
            raise ValueError(f"{run_dir}: {err}") from None

    @classmethod
    def from_name(cls, name: str, system: str = "") -> RunLabels:
        """Parse a run folder's name ``{mode}_{potential}_r{replica}``.

        Raises
        ------
        ValueError
            When the name does not follow the pattern.
        """
        match = _RUN_NAME.match(name)
        if match is None:
            raise ValueError(
                f"run folder name {name!r} is not "
                "{mode}_{potential}_r{replica} (mode constp or constq)"
            )
        return cls(
            system=system,
            mode=match["mode"],
            potential=match["potential"],
            replica=int(match["replica"]),
        )

    @property
    def name(self) -> str:
        """Folder name ``{mode}_{potential}_r{replica}``."""
        return f"{self.mode}_{self.potential}_r{self.replica}"

    def todict(self) -> dict:
        return asdict(self)


def md_sweep(md: Mapping, systems: Iterable[str]) -> list[RunLabels]:
    """The runs of one ``md:`` config section, in the workflow's order.

    For each system (``md.systems`` when given, else ``systems``) and replica
    ``0 .. md.replicas - 1``: one constp run per ``md.anode_potentials_V``,
    then, with ``md.constq`` (default true), one constq control.

    Parameters
    ----------
    md : mapping
        The resolved ``md:`` section (a variant's, with its overrides).
    systems : iterable of str
        Every configured interface (config ``systems:``).
    """
    runs = []
    for system in md.get("systems") or list(systems):
        for replica in range(int(md["replicas"])):
            for psi in md["anode_potentials_V"]:
                label = potential_label(CONSTP, psi)
                runs.append(RunLabels(system, CONSTP, label, replica))
            if md.get("constq", True):
                runs.append(RunLabels(system, CONSTQ, "none", replica))
    return runs


def md_batches(md: Mapping, systems: Iterable[str]) -> list[list[RunLabels]]:
    """The runs of :func:`md_sweep` in batches of ``md.batch`` runs of one system.

    Each system's runs, in the sweep's order, cut into consecutive groups of
    ``md.batch`` (default 1: every run alone; the last group may be smaller).
    A batch is one ``constpot md-batch`` job (:mod:`constpot.md.batch`).
    """
    size = int(md.get("batch", 1))
    if size < 1:
        raise ValueError(f"md.batch must be >= 1, got {size}")
    by_system: dict[str, list[RunLabels]] = {}
    for run in md_sweep(md, systems):
        by_system.setdefault(run.system, []).append(run)
    return [
        runs[k : k + size]
        for runs in by_system.values()
        for k in range(0, len(runs), size)
    ]
