"""Probes: typed readers of one kind of configuration. Importing this package registers them all."""

from secaudit.baseline.probes import accounts, debian, files, ios, live, nginx, services, sshd
from secaudit.baseline.probes.base import REGISTRY, Param, ProbeSpec

__all__ = [
    "REGISTRY",
    "Param",
    "ProbeSpec",
    "accounts",
    "debian",
    "files",
    "ios",
    "live",
    "nginx",
    "services",
    "sshd",
]
