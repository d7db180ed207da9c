"""Warning signals: the registry, the catalogue and the builder (Ibis on DuckDB or Spark)."""

from churnkit.signals import catalogue as _catalogue  # noqa: F401  (registers the signals)
from churnkit.signals.registry import SIGNALS, Settings, Signal, family_of

__all__ = ["SIGNALS", "Settings", "Signal", "family_of"]
