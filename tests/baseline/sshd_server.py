"""A real OpenSSH server on 127.0.0.1 for the ssh target tests: throw-away host and user keys in a
temporary folder, ``sshd -D -f CONFIG`` on a free port, key authentication only."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    folder: Path
    config: Path
    host_pub: str  # "ssh-ed25519 AAAA..."
    user_key: Path
    known_hosts: Path
    log: Path
    pid: int

    def spec(self, host: str = "127.0.0.1", **options: str | None) -> str:
        """The target text; options override the defaults (our key and known_hosts), None drops one."""
        opts: dict[str, str | None] = {"key": str(self.user_key), "known_hosts": str(self.known_hosts)}
        opts.update(options)
        query = "&".join(f"{k}={v}" for k, v in opts.items() if v is not None)
        return f"ssh://{self.user}@{host}:{self.port}?{query}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "secaudit-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return Path(f"{path}.pub").read_text().strip()


CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {folder}/host_key
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
MaxAuthTries 3
LoginGraceTime 30
ClientAliveInterval 300
X11Forwarding no
LogLevel VERBOSE
Subsystem sftp internal-sftp
"""


@contextmanager
def running_sshd(folder: Path) -> Iterator[Sshd]:
    """Start sshd in the foreground on a free loopback port; stop it on exit."""
    folder.mkdir(parents=True, exist_ok=True)
    host_pub = " ".join(keygen(folder / "host_key").split()[:2])
    user_pub = keygen(folder / "user_key")
    (folder / "authorized_keys").write_text(user_pub + "\n")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    port = _free_port()
    config = folder / "sshd_config"
    config.write_text(CONFIG.format(port=port, folder=folder))
    known = folder / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    log = folder / "sshd.log"
    proc = subprocess.Popen([SSHD, "-D", "-f", str(config), "-E", str(log)], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"sshd did not start: {log.read_text() if log.exists() else ''}"
                    ) from None
                time.sleep(0.05)
        yield Sshd(
            port=port,
            user=getpass.getuser(),
            folder=folder,
            config=config,
            host_pub=host_pub,
            user_key=folder / "user_key",
            known_hosts=known,
            log=log,
            pid=proc.pid,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, 9)
            proc.wait()
