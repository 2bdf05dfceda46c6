"""Train/validation/test split of the labelled frames, stratified by category.

One split is written per study (``split.json``); every ensemble member, the
QEq fit and the evaluation read the same file, so that "test" means the same
frames everywhere:

1. :func:`stratified_split` — indices by seed, stratified by the frames'
   sampling ``category`` so every category of three or more frames is in
   every split;
2. :func:`cover_elements` — frames move into train until every element of
   the dataset is in it (NequIP's per-type statistics come from the training
   frames);
3. :func:`write_split` / :func:`read_split` — the JSON file, with the seed,
   the fractions and per-category counts.

Example
-------
>>> categories = ["bulk"] * 10 + ["surface"] * 5
>>> split = stratified_split(categories, {"train": 0.6, "val": 0.2, "test": 0.2})
>>> sorted(len(v) for v in split.values())
[3, 3, 9]
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..io import atomic_path

__all__ = [
    "DEFAULT_FRACTIONS",
    "SPLITS",
    "cover_elements",
    "read_split",
    "stratified_split",
    "write_split",
]

#: Split names, in file order.
SPLITS = ("train", "val", "test")

#: Fractions of the frames in each split when the config names none.
DEFAULT_FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}


def stratified_split(
    categories: Sequence[str],
    fractions: Mapping[str, float] | None = None,
    seed: int = 0,
) -> dict[str, list[int]]:
    """Train/val/test frame indices, stratified by category, deterministic.

    Each category's frames are shuffled with a generator of its own,
    ``np.random.default_rng([seed, crc32(category)])``, so a category's split
    depends only on its own frames: adding frames of a new category (active
    learning's ``active`` frames, appended after the others) leaves every
    other category's train/val/test frames where they were, and a frame held
    out from one model is not trained on by the next. The shuffled frames are
    cut by
    ``fractions``: a category of n ≥ 3 frames puts at least one frame in
    val and one in test (when their fractions are > 0); smaller categories go
    to train first.

    Parameters
    ----------
    categories : sequence of str, length n_frames
        ``info["category"]`` of each frame.
    fractions : mapping, optional
        ``{"train": f, "val": f, "test": f}`` summing to 1; default
        :data:`DEFAULT_FRACTIONS` (0.7/0.1/0.2).
    seed : int

    Returns
    -------
    dict
        ``{"train": [...], "val": [...], "test": [...]}``, sorted indices.

    Raises
    ------
    ValueError
        Fractions that are negative, do not sum to 1, or name another split.
    """
    fractions = dict(DEFAULT_FRACTIONS if fractions is None else fractions)
    unknown = set(fractions) - set(SPLITS)
    if unknown:
        raise ValueError(f"split fractions: unknown split(s) {sorted(unknown)}")
    f = {name: float(fractions.get(name, 0.0)) for name in SPLITS}
    if any(v < 0 for v in f.values()) or abs(sum(f.values()) - 1.0) > 1e-9:
        raise ValueError(f"split fractions must be >= 0 and sum to 1, got {f}")
    if f["train"] <= 0:
        raise ValueError("split fraction of train must be > 0")
    categories = np.asarray([str(c) for c in categories])
    out: dict[str, list[int]] = {name: [] for name in SPLITS}
    for cat in sorted(set(categories.tolist())):
        idx = np.flatnonzero(categories == cat)
        rng = np.random.default_rng([int(seed), zlib.crc32(cat.encode())])
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        n_test = round(f["test"] * n)
        n_val = round(f["val"] * n)
        if n >= 3:
            n_test = max(n_test, 1 if f["test"] > 0 else 0)
            n_val = max(n_val, 1 if f["val"] > 0 else 0)
        while n_test + n_val > n - 1 and (n_test or n_val):
            if n_val >= n_test and n_val:
                n_val -= 1
            else:
                n_test -= 1
        out["test"].extend(idx[:n_test].tolist())
        out["val"].extend(idx[n_test : n_test + n_val].tolist())
        out["train"].extend(idx[n_test + n_val :].tolist())
    return {name: sorted(int(i) for i in v) for name, v in out.items()}


def cover_elements(
    split: Mapping[str, Sequence[int]], symbols: Sequence[Sequence[str]]
) -> dict[str, list[int]]:
    """Move frames into train until every element of the dataset is in it.

    NequIP's per-type statistics come from the training frames: an element
    seen only in validation or test frames gets no energy shift or scale and
    the model predicts NaN for it. For each missing element (alphabetical),
    the lowest-index val/test frame that holds it moves to train.

    Parameters
    ----------
    split : mapping of split name to frame indices
    symbols : sequence of the frames' chemical symbols

    Returns
    -------
    dict
        The new split (sorted indices), the input left unchanged.
    """
    out = {name: sorted(int(i) for i in split.get(name, ())) for name in SPLITS}
    present = {el for frame in symbols for el in frame}
    for el in sorted(present):
        if any(el in symbols[i] for i in out["train"]):
            continue
        donors = [
            (i, name) for name in ("val", "test") for i in out[name] if el in symbols[i]
        ]
        i, name = min(donors)
        out[name].remove(i)
        out["train"] = sorted([*out["train"], i])
    return out


def write_split(
    path: str | os.PathLike,
    split: Mapping[str, Sequence[int]],
    categories: Sequence[str],
    *,
    seed: int,
    fractions: Mapping[str, float] | None = None,
) -> Path:
    """Write split indices and per-category counts as JSON (atomically).

    Parameters
    ----------
    path : path
        The split file.
    split : mapping of split name to frame indices
        From :func:`stratified_split` (and :func:`cover_elements`).
    categories : sequence of str, length n_frames
        ``info["category"]`` of each frame, for the counts.
    seed : int
        The seed the split was drawn with (recorded).
    fractions : mapping, optional
        The fractions it was drawn with (recorded; default
        :data:`DEFAULT_FRACTIONS`).

    Returns
    -------
    Path
    """
    categories = [str(c) for c in categories]
    counts = {
        cat: {name: sum(categories[i] == cat for i in split[name]) for name in SPLITS}
        for cat in sorted(set(categories))
    }
    data = {
        "seed": int(seed),
        "fractions": dict(fractions or DEFAULT_FRACTIONS),
        "n_frames": len(categories),
        **{name: [int(i) for i in split[name]] for name in SPLITS},
        "counts": counts,
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    return Path(path)


def read_split(path: str | os.PathLike) -> dict[str, list[int]]:
    """Read a split file written by :func:`write_split`.

    Returns
    -------
    dict
        ``{"train": [...], "val": [...], "test": [...]}``.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, or a file without the train/val/test lists.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path}")
    data = json.loads(path.read_text())
    missing = [name for name in SPLITS if name not in data]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} indices")
    return {name: [int(i) for i in data[name]] for name in SPLITS}
