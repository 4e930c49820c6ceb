"""A real Debian 12 server root, built once with debootstrap and cached outside the repository.

The cache folder is keyed by a hash of the suite, variant, mirror and package list, so changing the
list builds a fresh root and an unchanged list reuses the old one. The mirror is the one this machine's
apt sources name for the suite (a command center uses its own mirror), or SECAUDIT_TEST_DEBIAN_MIRROR. A build goes into a temporary
folder first and is renamed into place only when debootstrap succeeded, so an interrupted build
never leaves a half root behind. Run ``python -m tests.baseline.debroot`` to build it ahead of a
test run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
APT_SOURCES = Path("/etc/apt")
# The server package set of ../shared/NOTES.md, section Baselines.
PACKAGES = (
    "openssh-server",
    "sudo",
    "nginx-light",
    "auditd",
    "rsyslog",
    "nftables",
    "cron",
    "libpam-pwquality",
    "apparmor",
)
BUILD_TIMEOUT = 1800


def cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secaudit-test"


def mirror(apt: Path = APT_SOURCES) -> str:
    """The Debian mirror for SUITE: SECAUDIT_TEST_DEBIAN_MIRROR, else the first URI this machine's apt
    sources give for SUITE itself (deb822 ``*.sources`` files, then one-line ``sources.list`` entries)."""
    given = os.environ.get("SECAUDIT_TEST_DEBIAN_MIRROR")
    if given:
        return given
    for path in sorted((apt / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text(encoding="utf-8", errors="replace").split("\n\n"):
            fields: dict[str, list[str]] = {}
            for line in stanza.splitlines():
                name, colon, value = line.partition(":")
                if colon and not line.startswith(("#", " ", "\t")):
                    fields[name.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and SUITE in fields.get("suites", []) and fields.get("uris"):
                return fields["uris"][0]
    lists = [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]
    for path in lists:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = re.sub(
                r"\[[^\]]*\]", " ", line.split("#", 1)[0]
            ).split()  # options: [arch=... signed-by=...]
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1]
    raise RuntimeError(
        f"no apt source for Debian {SUITE} in {apt}: add one, or set SECAUDIT_TEST_DEBIAN_MIRROR to a mirror URL"
    )


def root_key() -> str:
    text = f"{SUITE} {VARIANT} {mirror()} {','.join(sorted(PACKAGES))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def root_path() -> Path:
    return cache_home() / f"debian12-root-{root_key()}"


def build_root() -> Path:
    """The cached root, built with debootstrap when it is not there yet."""
    final = root_path()
    if (final / "var/lib/dpkg/status").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with (final.parent / f"{final.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second test run waits for the first build
        if (final / "var/lib/dpkg/status").is_file():
            return final
        work = final.parent / f"{final.name}.building"
        if work.exists():
            shutil.rmtree(work)
        cmd = [
            shutil.which("debootstrap") or "/usr/sbin/debootstrap",
            f"--variant={VARIANT}",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(work),
            mirror(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
            raise RuntimeError(f"debootstrap failed ({proc.returncode}):\n{tail}")
        # debootstrap leaves its package cache; the tests only need the installed system
        shutil.rmtree(work / "var/cache/apt/archives", ignore_errors=True)
        (work / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
        work.rename(final)
    return final


if __name__ == "__main__":
    print(build_root())
    sys.exit(0)
