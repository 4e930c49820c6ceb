"""Probes: typed readers of one kind of configuration.

Each probe registers itself with ``@probe`` (``secaudit.baseline.probes.base``) in its own module;
importing this package imports every module in it, so a new probe module needs no other edit.
"""

import importlib
import pkgutil
from pathlib import Path

from secaudit.baseline.probes.base import REGISTRY, Param, ProbeSpec

for _module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["REGISTRY", "Param", "ProbeSpec"]
