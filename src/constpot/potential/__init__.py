"""The hybrid potential: NequIP short range + QEq electrostatics (docs/design.md §5)."""

from .calculator import HybridCalculator
from .evaluate import evaluate_models, metrics_table, prediction_table
from .fit import QEqFit, fit_qeq
from .nequip_config import nequip_config
from .nequip_io import load_calculator, model_qeq_settings
from .settings import QEqSettings
from .split import cover_elements, read_split, stratified_split, write_split
from .targets import qeq_targets, read_targets, write_targets
from .training import package_model, train_model

__all__ = [
    "HybridCalculator",
    "QEqFit",
    "QEqSettings",
    "cover_elements",
    "evaluate_models",
    "fit_qeq",
    "load_calculator",
    "metrics_table",
    "model_qeq_settings",
    "nequip_config",
    "package_model",
    "prediction_table",
    "qeq_targets",
    "read_split",
    "read_targets",
    "stratified_split",
    "train_model",
    "write_split",
    "write_targets",
]
