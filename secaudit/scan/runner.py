"""The nmap adapter: python-nmap runs the binary; we keep its raw XML and parse it ourselves.

Everything python-specific about python-nmap stays here: its warnings (which it emits through
``warnings.warn``), its exceptions and its habit of dropping output on timeout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import nmap

from secaudit.core.errors import OperationalError
from secaudit.scan.profiles import args_string, check_args

INSTALL_HINT = "install nmap: apt-get install -y nmap (secaudit calls it, never bundles it)"


@dataclass(frozen=True, slots=True, kw_only=True)
class NmapOutput:
    """What one nmap invocation produced. ``xml`` may be partial or empty when ``error`` is set."""

    argv: tuple[str, ...]  # the exact command line that ran
    xml: bytes
    duration_s: float
    stderr_lines: tuple[str, ...] = ()
    error: str = ""


class NmapRunner(Protocol):
    """Runs nmap with already-checked arguments. Injected so tests and benchmarks can time it."""

    def run(self, args: Sequence[str], *, timeout_s: int) -> NmapOutput: ...


def find_nmap(path: str | None = None) -> str:
    """The nmap binary to use; :class:`OperationalError` (exit 3) with the install hint if absent."""
    found = shutil.which(path or "nmap")
    if found is None:
        raise OperationalError(f"nmap not found ({path or 'nmap'} is not on PATH)", hint=INSTALL_HINT)
    return found


def is_privileged() -> bool:
    """Raw-packet scans (-sS, -sU, -O) need root here; capabilities alone also need --privileged."""
    return os.geteuid() == 0


class PythonNmapRunner:
    """Runs nmap through python-nmap's ``PortScanner`` and returns its raw XML."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = find_nmap(binary)
        try:
            self._scanner = nmap.PortScanner(nmap_search_path=(self.binary,))
        except nmap.PortScannerError as e:
            raise OperationalError(f"nmap at {self.binary} does not run: {e}", hint=INSTALL_HINT) from e

    def version(self) -> str:
        major, minor = self._scanner.nmap_version()
        return f"{major}.{minor}"

    def run(self, args: Sequence[str], *, timeout_s: int) -> NmapOutput:
        check_args(args)
        text = args_string(args)
        # python-nmap builds [nmap, -oX, -] + hosts + shlex.split(arguments); we pass no hosts
        # (targets come through -iL) so this is exactly what runs.
        argv = (self.binary, "-oX", "-", *shlex.split(text))
        started = time.monotonic()
        error = ""
        stderr: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = self._scanner.scan(hosts="", arguments=text, timeout=timeout_s)
            except nmap.PortScannerTimeout:
                error = f"nmap did not finish within {timeout_s} s and was stopped"
                result = {}
            except nmap.PortScannerError as e:  # output was not XML (nmap refused its arguments)
                error = f"nmap failed: {str(e).strip()[:500]}"
                result = {}
        stderr.extend(str(w.message).strip() for w in caught)
        duration = time.monotonic() - started
        raw = self._scanner.get_nmap_last_output() if not error.startswith("nmap did not finish") else b""
        xml = raw.encode("utf-8", "replace") if isinstance(raw, str) else bytes(raw or b"")
        info = result.get("nmap", {}).get("scaninfo", {}) if isinstance(result, dict) else {}
        if isinstance(info, dict) and info.get("error"):
            stderr.extend(str(line).strip() for line in info["error"] if str(line).strip())
        return NmapOutput(
            argv=argv, xml=xml, duration_s=duration, stderr_lines=tuple(s for s in stderr if s), error=error
        )
