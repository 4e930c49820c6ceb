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


def test_app_has_no_import_cycle_and_the_contract_is_live(tmp_path: Path) -> None:
    """app.audit imports the stages, which import app.scan: app.scan importing app.audit back (as it
    once did, inside a function) is a cycle the contract refuses."""
    import shutil

    assert (
        "No import cycle inside the application layer KEPT"
        in subprocess.run(
            [str(Path(sys.executable).with_name("lint-imports"))],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    )
    shutil.copytree(REPO / "secaudit", tmp_path / "secaudit")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    scan = tmp_path / "secaudit" / "app" / "scan.py"
    scan.write_text(
        scan.read_text() + "\n\ndef _back() -> None:\n    from secaudit.app import audit  # noqa\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode != 0
    assert "No import cycle inside the application layer BROKEN" in proc.stdout


def _core_imports(folder: Path) -> dict[str, set[str]]:
    import ast

    out: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        out[path.name] = names
    return out


def _outside_stdlib(imports: dict[str, set[str]]) -> dict[str, set[str]]:
    allowed = set(sys.stdlib_module_names) | {"secaudit", "__future__"}
    return {name: bad for name, mods in imports.items() if (bad := mods - allowed)}


def test_core_imports_the_standard_library_only() -> None:
    """An allow-list (the import-linter contract lists forbidden packages; this admits only the
    standard library and secaudit itself, so `import orjson` in core fails here)."""
    assert _outside_stdlib(_core_imports(REPO / "secaudit" / "core")) == {}


def test_core_allow_list_is_live(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "secaudit" / "core", tmp_path / "core")
    (tmp_path / "core" / "fast.py").write_text("import orjson\nfrom re2 import compile\nimport json\n")
    assert _outside_stdlib(_core_imports(tmp_path / "core")) == {"fast.py": {"orjson", "re2"}}
