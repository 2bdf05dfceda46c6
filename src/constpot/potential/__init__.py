"""The hybrid potential: NequIP short range + QEq electrostatics (DESIGN §5)."""

from .settings import QEqSettings

__all__ = ["QEqSettings"]
