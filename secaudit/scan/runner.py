"""The nmap adapters: they run the binary with checked arguments and return its raw XML.

:class:`ProcessNmapRunner` (the default) runs nmap itself and reads its XML as nmap writes it:
nmap flushes each finished host group, so when the run is stopped (timeout, end of the
authorization, Ctrl-C) the hosts already scanned are kept. It stops nmap with SIGKILL, which
ends it between two packets: nothing is sent after the stop.

:class:`PythonNmapRunner` goes through python-nmap (kept for comparison in bench/): it loses
every result on timeout, so the scan stage does not use it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Sequence
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
    stopped: bool = False  # nmap was killed (timeout or interrupt); ``xml`` holds what it had written
    interrupted: bool = False  # the stop was a Ctrl-C (KeyboardInterrupt) of ours


#: How often a running nmap's XML so far is handed to ``on_output`` (when it grew).
OUTPUT_EVERY_S = 1.0

OutputCallback = Callable[[bytes], None]


class NmapRunner(Protocol):
    """Runs nmap with already-checked arguments. Injected so tests and benchmarks can time it."""

    def run(
        self, args: Sequence[str], *, timeout_s: float, on_output: OutputCallback | None = None
    ) -> NmapOutput:
        """Run nmap; stop it after ``timeout_s`` seconds and return what it wrote by then.

        ``on_output``, when the runner can, is called from the calling thread with the XML
        written so far, each time it grew (at most every :data:`OUTPUT_EVERY_S`), so a caller
        can keep finished hosts before nmap ends. An exception it raises stops nmap."""
        ...


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

    def run(
        self, args: Sequence[str], *, timeout_s: float, on_output: OutputCallback | None = None
    ) -> NmapOutput:
        """python-nmap returns the XML only at the end: ``on_output`` is never called."""
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
                result = self._scanner.scan(hosts="", arguments=text, timeout=int(timeout_s))
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


class ProcessNmapRunner:
    """Runs the nmap binary in its own session and collects its XML as it comes."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = find_nmap(binary)
        # nmap runs in its own session (a Ctrl-C is ours to handle), so it would outlive a
        # secaudit killed with SIGKILL and go on sending after the authorization ends. Started
        # through util-linux's setpriv with a parent-death signal, it is killed with us.
        setpriv = shutil.which("setpriv")
        self._prefix: tuple[str, ...] = (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopping = threading.Event()

    def stop_all(self) -> None:
        """Stop every nmap this runner has running (their output so far is returned as
        interrupted); runs started afterwards stop at once."""
        self._stopping.set()
        with self._lock:
            running = list(self._running)
        for proc in running:
            if proc.poll() is None:
                _kill(proc)

    def version(self) -> str:
        try:
            done = subprocess.run(
                [self.binary, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise OperationalError(f"nmap at {self.binary} does not run: {e}", hint=INSTALL_HINT) from e
        words = done.stdout.split()
        return words[2] if len(words) > 2 and words[:2] == ["Nmap", "version"] else "unknown"

    def run(
        self, args: Sequence[str], *, timeout_s: float, on_output: OutputCallback | None = None
    ) -> NmapOutput:
        check_args(args)
        argv = (*self._prefix, self.binary, "-oX", "-", *args)
        started = time.monotonic()
        if timeout_s <= 0:
            return NmapOutput(
                argv=argv, xml=b"", duration_s=0.0, error="no time left to run nmap", stopped=True
            )
        try:
            # Own session: a Ctrl-C at the terminal reaches us, and we stop nmap ourselves
            # after taking what it wrote.
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as e:
            raise OperationalError(f"cannot start nmap: {e}", hint=INSTALL_HINT) from e
        with self._lock:
            self._running.add(proc)
        if self._stopping.is_set():
            _kill(proc)
        out: list[bytes] = []
        err: list[bytes] = []
        readers = [
            threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True),
        ]
        for reader in readers:
            reader.start()
        error = ""
        stopped = interrupted = False
        try:
            _wait(proc, started + timeout_s, out, on_output)
        except subprocess.TimeoutExpired:
            _kill(proc)
            stopped = True
            error = f"nmap did not finish within {timeout_s:.0f} s and was stopped"
        except KeyboardInterrupt:
            _kill(proc)
            stopped = interrupted = True
            error = "interrupted (Ctrl-C or SIGTERM): nmap was stopped"
        finally:
            if proc.poll() is None:  # any other exception: never leave nmap running
                _kill(proc)
            with self._lock:
                self._running.discard(proc)
        if self._stopping.is_set() and not interrupted:  # stopped by stop_all (Ctrl-C elsewhere)
            stopped = interrupted = True
            error = "interrupted (Ctrl-C or SIGTERM): nmap was stopped"
        for reader in readers:
            reader.join(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        duration = time.monotonic() - started
        stderr = tuple(
            line.strip() for line in b"".join(err).decode("utf-8", "replace").splitlines() if line.strip()
        )
        if not stopped and proc.returncode != 0:
            error = f"nmap failed (exit {proc.returncode}): {' '.join(stderr)[:500] or 'no message'}"
        return NmapOutput(
            argv=argv,
            xml=b"".join(out),
            duration_s=duration,
            stderr_lines=stderr,
            error=error,
            stopped=stopped,
            interrupted=interrupted,
        )


def _wait(
    proc: subprocess.Popen[bytes], deadline: float, out: list[bytes], on_output: OutputCallback | None
) -> None:
    """Wait for nmap until ``deadline`` (monotonic; :class:`subprocess.TimeoutExpired` then),
    handing its output so far to ``on_output`` whenever it grew."""
    if on_output is None:
        proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        return
    told = 0
    while True:
        left = deadline - time.monotonic()
        try:
            proc.wait(timeout=max(0.0, min(OUTPUT_EVERY_S, left)))
            return
        except subprocess.TimeoutExpired:
            if left <= OUTPUT_EVERY_S:
                raise
        chunks = list(out)  # the reader thread only appends
        if len(chunks) > told:
            told = len(chunks)
            on_output(b"".join(chunks))


def _drain(stream: object, into: list[bytes]) -> None:
    read = getattr(stream, "read1", None) or stream.read  # type: ignore[attr-defined]
    while True:
        chunk = read(65536)
        if not chunk:
            return
        into.append(chunk)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL nmap's whole session (nmap and any helper), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
