"""Small configurations for reference labelling, from bulk phases and interfaces.

Reference methods (GFN-xTB, DFT) cannot label a whole interface cell, so the
training set is made of small periodic frames (≤ ``max_atoms``) that sample
every local environment of the interface: bulk and surface Li, crystalline
and amorphous LiF/Li₂O, the anode|SEI, SEI|electrolyte and Li|electrolyte
contacts (the counter electrode, and the anode without SEI, touch the
liquid), the liquid, the Li⁺ solvation shell (with its PF₆⁻ counter-ion) and
Li deposition sites. :func:`sample_configurations` draws them with one
``np.random.default_rng(seed)``: same inputs and seed, identical frames.

Modules: :mod:`.geometry` (cutting windows, boxes, neutralisation),
:mod:`.bulk` (Li, crystalline and amorphous LiF/Li₂O), :mod:`.contacts`
(interfaces between phases, adatoms), :mod:`.liquid` (packed electrolyte),
:mod:`.clusters` (Li⁺ solvation shells), :mod:`.perturb` (rattle and
strain) and :mod:`.sampler` (:func:`sample_configurations`).

Metal frames depend on the labeller
-----------------------------------
A metal's energy per atom is consistent between cells only when the
Brillouin zone is sampled at one density (:mod:`constpot.label.kpoints`).

- **Γ-only labellers** (xtb; ``labeller=None``, the default). The Γ-point
  finite-size error depends on the cell (GFN1-xTB: up to ≈ 0.5 eV/atom
  between bcc supercells, ≈ 30 meV/atom between 4- to 7-layer films; raising
  the electronic temperature to 3000–6000 K does not remove it). So every
  frame with metallic Li has ONE lateral cell, the anode's (nx × ny bcc(100)
  cells, 4 × 4 = 14.04 × 14.04 Å in the demo), never cut: li_bulk is the
  nx × ny × nz cubic supercell (nz: :data:`LI_BULK_CELLS_Z`, or fewer to fit
  ``max_atoms``), li_surface and the Li-slab li_adatom frames the
  :data:`LI_SLAB_LAYERS`-layer (100) slab, li_sei_contact keeps the
  :data:`CONTACT_LI_LAYERS` topmost anode layers under the SEI, and
  li_electrolyte_contact is a fresh :data:`CONTACT_LI_LAYERS`-layer (100)
  slab under a layer of electrolyte. The Γ error is then the same in every
  frame of a kind, up to the perturbation. Anodes of different lateral
  cells, or an anode whose frames exceed ``max_atoms`` (the paper preset's
  9 × 5 cells, 31.59 × 17.55 Å), are refused with a ValueError.
- **Labellers with a k-point rule** (gpaw; ase with ``kpt_spacing_inv_A``),
  and the local teacher potential (teacher): ``cell_consistent`` labellers.
  Metal frames need no common cell. li_bulk is a fresh cubic supercell of
  2–4 bcc cells per edge (:data:`FRESH_LI_CELLS`, 16–128 atoms);
  li_surface, the Li-slab li_adatom frames and li_electrolyte_contact are
  fresh Li(100) slabs on 2–4 × 2–4 cells (li_surface: films of
  :data:`LI_SLAB_MIN_LAYERS` to :data:`LI_SLAB_LAYERS` layers, so that the
  model knows thin films); li_sei_contact is a periodic
  window of whole bcc cells cut from the interface: the anode's lateral cell
  if the frame fits, else one cell fewer along the longer side at a time
  (≥ :data:`MIN_WINDOW_CELLS`), then a thinner SEI. The window's boundaries
  pass between atomic planes, so the metal stays a perfect crystal across
  them; SEI units that would come closer than :data:`CUT_PAD_A` to another
  unit across a boundary are dropped, then charged units nearest the cuts
  until the frame is neutral.

Conventions
-----------
- Every frame is periodic (``pbc`` True). Slabs and windows cut from an
  interface keep z as the surface normal and get :data:`VACUUM_A` of vacuum
  along z; clusters get :data:`VACUUM_A` of vacuum along x, y and z.
- A lateral axis of an interface that fits whole is kept periodic as it is
  (the crystal stays commensurate); an axis that is cut (non-metal windows)
  gets a new periodic length = extent of the kept atoms + :data:`CUT_PAD_A`,
  so no two atoms across the new boundary are closer than :data:`CUT_PAD_A`.
- Liquid frames (category electrolyte) are fresh periodic packmol boxes
  (:func:`constpot.build.electrolyte.electrolyte_box`) of the interface
  electrolyte's composition and density, one per frame: a cube cut from the
  interface and made periodic leaves molecules face to face across the new
  boundary (GFN1-xTB energies of same-composition frames then spread by
  ≈ 20 eV per 70 atoms). packmol keeps atoms of different molecules ≥
  :data:`LIQUID_TOLERANCE_A` apart, images included.
- The liquid of a li_electrolyte_contact frame is the lowest molecules of such
  a box (the slab's lateral cell, 11 Å thick, packed against its wall as the
  interface electrolyte is), as many as fit in ``max_atoms`` with the slab,
  Li⁺ and PF₆⁻ in pairs (neutral). The layer is lowered onto the slab until
  one atom sits at its smallest height above the top Li plane:
  :data:`METAL_CONTACT_A` (heavy atoms) or :data:`METAL_CONTACT_H_A` (H),
  plus a uniform 0–0.5 Å; every atom is then at least that far from every Li
  (images included).
- Molecules are never cut: molecular atoms (``mol_id`` ≥ 0) are selected by
  the centroid of their molecule, whole. Extended phases (``mol_id`` −1) are
  selected atom by atom; the frame is then made neutral in formal charge by
  dropping the charged units (ions, molecular ions) nearest the cuts, as the
  SEI carve of :mod:`constpot.build.recipe` does.
- li_solvent_cluster frames are neutral ion pairs in vacuum: a Li⁺, 3–4
  EC/DMC and one PF₆⁻. Cut from an interface: the solvents whose O is nearest
  the Li⁺ and the nearest PF₆⁻, whole (minimum image). From the template: the
  solvents bind by their carbonyl O at 2.0 Å and the PF₆⁻ lies along the
  direction farthest from them, with 3 solvents a contact ion pair (one F
  towards the Li⁺, Li–F 1.95 Å), with 4 solvent-separated (Li–P 6.0 Å).
- ``initial_charges`` are formal charges; their sum (an integer) is
  ``info["total_charge"]``: 0 in every frame, li_solvent_cluster included (a
  neutral ion pair). Charged periodic cells are labelled under different
  net-charge (background) conventions by the reference method and by the QEq
  of the potential, which leaves a cell-dependent energy offset no local
  model can learn.
- Perturbations (:mod:`.perturb`): Gaussian displacements of width
  ``rattle_A`` per Cartesian component (truncated at 3σ; atoms of molecules
  move :data:`MOLECULE_RATTLE_SCALE` = 0.2 times as far, their bonds being
  stiff); a "hot" frame (probability ``hot_snapshots``) uses
  ``hot_factor · rattle_A`` in place of a high-temperature MD snapshot; a
  symmetric strain ε with |ε_ij| ≤ ``strain`` maps cell and positions by
  (I + ε) — all components for 3D-periodic frames, the in-plane block only for
  slabs (the vacuum stays), none for clusters. Recorded in
  ``info["perturbation"]`` ("rattle", "hot", or "thermal": a frame of
  metallic Li only, displaced by ``metal_rattle_A``), ``info["rattle_A"]`` and
  ``info["strain"]`` (Voigt order xx, yy, zz, yz, xz, xy).

Example
-------
>>> from constpot.build.recipe import build_interface
>>> iface = build_interface({"seed": 1, "sei": {"phase": "crystalline"}}, "t")
>>> frames = sample_configurations([iface], {"li_bulk": 2, "li_sei_contact": 3})
>>> [f.info["category"] for f in frames]   # doctest: +SKIP
['li_bulk', 'li_bulk', 'li_sei_contact', 'li_sei_contact', 'li_sei_contact']
>>> paper = build_interface({"preset": "paper", "seed": 1}, "p")  # doctest: +SKIP
>>> frames = sample_configurations(
...     [paper], {"li_sei_contact": 3}, labeller={"kind": "gpaw"}
... )  # doctest: +SKIP
"""

from .bulk import FRESH_LI_CELLS, LI_BULK_CELLS_Z, LI_SLAB_LAYERS, LI_SLAB_MIN_LAYERS
from .contacts import (
    CONTACT_LI_LAYERS,
    METAL_CONTACT_A,
    METAL_CONTACT_H_A,
    MIN_WINDOW_CELLS,
)
from .geometry import CUT_PAD_A, MIN_DISTANCE_A, VACUUM_A
from .liquid import LIQUID_TOLERANCE_A
from .perturb import MOLECULE_RATTLE_SCALE
from .sampler import CATEGORIES, sample_configurations

__all__ = [
    "CATEGORIES",
    "CONTACT_LI_LAYERS",
    "CUT_PAD_A",
    "FRESH_LI_CELLS",
    "LIQUID_TOLERANCE_A",
    "LI_BULK_CELLS_Z",
    "LI_SLAB_LAYERS",
    "LI_SLAB_MIN_LAYERS",
    "METAL_CONTACT_A",
    "METAL_CONTACT_H_A",
    "MIN_DISTANCE_A",
    "MIN_WINDOW_CELLS",
    "MOLECULE_RATTLE_SCALE",
    "VACUUM_A",
    "sample_configurations",
]
