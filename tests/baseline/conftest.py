"""Fixtures of the baseline tests: the cached real Debian 12 root."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.baseline.debroot import build_root


@pytest.fixture(scope="session")
def debian_root() -> Path:
    """The debootstrap Debian 12 server root (built once, cached outside the repository). Read only:
    tests that change anything work on :func:`debian_copy`."""
    return build_root()


@pytest.fixture(scope="module")
def debian_copy(debian_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private ``cp -a`` copy of the root for one test module to mutate."""
    dest = tmp_path_factory.mktemp("debian12") / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(dest)], check=True)
    return dest
