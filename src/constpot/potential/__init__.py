"""The hybrid potential: NequIP short range + QEq electrostatics (DESIGN §5)."""

from .calculator import HybridCalculator
from .settings import QEqSettings

__all__ = ["HybridCalculator", "QEqSettings"]
