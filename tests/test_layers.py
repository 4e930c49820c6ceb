"""The import contract of STYLE.md (cli > app > report|risk|history > producers > scope|catalog > core) holds."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_layers_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint_imports)], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Layers point down only KEPT" in proc.stdout
    assert "The core uses the standard library only KEPT" in proc.stdout


def test_contract_catches_an_upward_import(tmp_path: Path) -> None:
    """The contract is live: a copy of the package with core importing cli breaks it."""
    import shutil

    shutil.copytree(REPO / "secaudit", tmp_path / "secaudit")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    bad = tmp_path / "secaudit" / "core" / "upward.py"
    bad.write_text("from secaudit.cli import main\n")
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [str(lint_imports)], cwd=tmp_path, capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode != 0
    assert "secaudit.core.upward -> secaudit.cli" in proc.stdout
