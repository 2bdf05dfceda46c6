"""Progress lines, the opt-in wall-time limit and the stop record of training.

:class:`TrainingProgress` is a Lightning callback that ``nequip-train``
instantiates from the generated config (:func:`.nequip_config.nequip_config`). It

- prints one line every few epochs (and after the first and the last),
  flushed, so that a training log shows it live::

      epoch 8/80: train loss 0.03194, val loss 0.06558 (E MAE 42.5 meV/atom,
      F MAE 297 meV/Å); 87 s, ETA 13.0 min

  The losses are nequip's weighted sums (``train_loss_epoch/weighted_sum``,
  ``val0_epoch/weighted_sum``); the MAEs are those of the validation frames
  (short-range targets, the same errors as the totals'), eV → meV;
- stops training at the end of the first epoch that ends past ``max_minutes``
  when that is set. This is a safety for a shared machine, not part of a
  reproducible run: the number of epochs, and so the model, then depends on
  the machine's speed. A reproducible run stops on ``max_epochs`` only, and
  the demo and paper presets set no time limit. The limit acts between
  epochs, after the validation and checkpoint of the epoch, so there is
  always a best checkpoint;
- writes how training ended to a JSON file (``record``), which
  :func:`.training.train_model` reads into ``train_summary.json``::

      {"epochs": 80, "max_epochs": 80, "stopped_by": "max_epochs",
       "max_minutes": null, "seconds": 212.4}

  ``stopped_by`` is ``"max_epochs"``, ``"max_minutes"`` (with a warning
  line) or ``"interrupted"`` (anything else ended the fit early).

The time is only ever used for these lines, the limit and the record, never
for a choice inside an epoch, so a run that stops on ``max_epochs`` is the
same run on a fast and on a busy machine.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback

from ..keys import TRAINING_END_FILE

__all__ = ["STOPPED_BY", "TrainingProgress", "read_training_end"]

#: Values of ``stopped_by`` in the stop record.
STOPPED_BY = ("max_epochs", "max_minutes", "interrupted")

_TRAIN_LOSS = "train_loss_epoch/weighted_sum"
_VAL_LOSS = "val0_epoch/weighted_sum"
_VAL_E_MAE = "val0_epoch/per_atom_energy_mae"
_VAL_F_MAE = "val0_epoch/forces_mae"


class TrainingProgress(Callback):
    """Print progress, apply the opt-in time limit, record how training ended.

    Parameters
    ----------
    every : int, optional
        Print a line every ``every`` epochs; default about 20 lines per run
        (``max(1, round(max_epochs / 20))``). The first and last epochs and
        any epoch ending ``min_interval_s`` after the previous line are
        printed too.
    max_minutes : float or None
        Wall-time limit of the fit, minutes; None (default): none.
    record : path
        The stop record (JSON), relative to the working directory of
        ``nequip-train`` (the run folder).
    min_interval_s : float
        Print at least this often, s (long epochs at production size).

    Raises
    ------
    ValueError
        ``every`` < 1 or ``max_minutes`` ≤ 0.
    """

    def __init__(
        self,
        every: int | None = None,
        max_minutes: float | None = None,
        record: str | os.PathLike = TRAINING_END_FILE,
        min_interval_s: float = 300.0,
    ):
        if every is not None and int(every) < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        if max_minutes is not None and not float(max_minutes) > 0:
            raise ValueError(f"max_minutes must be > 0 or None, got {max_minutes}")
        self.every = None if every is None else int(every)
        self.max_minutes = None if max_minutes is None else float(max_minutes)
        self.record = Path(record)
        self.min_interval_s = float(min_interval_s)
        self._start = 0.0
        self._last_line = 0.0
        self._first_epoch = 0
        self._epochs = 0
        self._pending: tuple[int, float] | None = None  # (epoch, s at its end)
        self._timed_out = False

    # ------------------------------------------------------------- hooks
    def on_train_start(self, trainer, pl_module):
        self._start = self._last_line = time.perf_counter()
        self._first_epoch = self._epochs = int(trainer.current_epoch)
        self._pending = None
        self._timed_out = False
        limit = (
            "no time limit"
            if self.max_minutes is None
            else f"time limit {self.max_minutes:g} min"
        )
        _say(f"training {trainer.max_epochs} epochs ({limit})")

    def on_train_epoch_start(self, trainer, pl_module):
        # The epoch's train loss is logged by the module's own epoch-end
        # hook, which Lightning calls after this callback's: print the
        # previous epoch's line now, when every number of it is logged.
        self._flush_line(trainer)

    def on_train_epoch_end(self, trainer, pl_module):
        self._epochs = int(trainer.current_epoch) + 1
        elapsed = time.perf_counter() - self._start
        every = self.every or max(1, round(trainer.max_epochs / 20))
        if (
            self._epochs in (self._first_epoch + 1, trainer.max_epochs)
            or self._epochs % every == 0
            or time.perf_counter() - self._last_line >= self.min_interval_s
        ):
            self._pending = (self._epochs, elapsed)
        if (
            self.max_minutes is not None
            and self._epochs < trainer.max_epochs
            and elapsed >= 60.0 * self.max_minutes
        ):
            self._timed_out = True
            self._pending = (self._epochs, elapsed)
            trainer.should_stop = True

    def on_train_end(self, trainer, pl_module):
        self._flush_line(trainer)
        seconds = time.perf_counter() - self._start
        if self._timed_out:
            stopped_by = "max_minutes"
            _say(
                f"WARNING: training stopped by max_minutes={self.max_minutes:g} "
                f"after {self._epochs}/{trainer.max_epochs} epochs: the model "
                "depends on the machine's speed (not reproducible)"
            )
        elif self._epochs >= trainer.max_epochs:
            stopped_by = "max_epochs"
        else:
            stopped_by = "interrupted"
            _say(
                f"WARNING: training ended after {self._epochs}/"
                f"{trainer.max_epochs} epochs"
            )
        data = {
            "epochs": self._epochs,
            "max_epochs": int(trainer.max_epochs),
            "stopped_by": stopped_by,
            "max_minutes": self.max_minutes,
            "seconds": round(seconds, 3),
        }
        tmp = self.record.with_name(f".{self.record.name}.tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        os.replace(tmp, self.record)

    # ----------------------------------------------------------- helpers
    def _flush_line(self, trainer):
        if self._pending is None:
            return
        epoch, elapsed = self._pending
        done = epoch - self._first_epoch
        eta = elapsed / max(done, 1) * (trainer.max_epochs - epoch)
        m = trainer.callback_metrics
        _say(
            f"epoch {epoch}/{trainer.max_epochs}: "
            f"train loss {_fmt(m, _TRAIN_LOSS)}, val loss {_fmt(m, _VAL_LOSS)} "
            f"(E MAE {_fmt(m, _VAL_E_MAE, 1e3, '.1f')} meV/atom, "
            f"F MAE {_fmt(m, _VAL_F_MAE, 1e3, '.0f')} meV/Å); "
            f"{_duration(elapsed)}, ETA {_duration(eta)}"
        )
        self._pending = None
        self._last_line = time.perf_counter()


def read_training_end(path: str | os.PathLike) -> dict:
    """Read a stop record written by :class:`TrainingProgress`.

    Raises
    ------
    FileNotFoundError
        No record (``nequip-train`` ran without the callback, or failed).
    ValueError
        A record without ``stopped_by`` or with an unknown value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training stop record not found: {path}")
    data = json.loads(path.read_text())
    if data.get("stopped_by") not in STOPPED_BY:
        raise ValueError(
            f"{path}: stopped_by must be one of {', '.join(STOPPED_BY)}, "
            f"got {data.get('stopped_by')!r}"
        )
    return data


def _say(line: str) -> None:
    print(line, flush=True)


def _fmt(metrics, key: str, scale: float = 1.0, spec: str = ".4g") -> str:
    value = metrics.get(key)
    if value is None:
        return "n/a"
    value = float(value) * scale
    return format(value, spec) if math.isfinite(value) else str(value)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
