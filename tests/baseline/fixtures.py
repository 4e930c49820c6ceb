"""Build pass/fail targets for shipped checks from tests/fixtures/baseline/<baseline>.yaml.

A fixture file::

    bases:
      hardened: {etc/ssh/sshd_config: "...", etc/shadow: {content: "...", mode: "0640", gid: 42}}
      router: "hostname r1\\n..."            # a string base is a file: target
    checks:
      CHECK-ID:
        pass: {base: hardened}
        fail: {base: hardened, files: {etc/ssh/sshd_config.d/50-bad.conf: "PermitRootLogin yes\\n"}}
        # for string bases: replace: {"old line": "new line"}, append: "extra text"

In ``files`` a value is the file's text, or a mapping with content/mode/uid/gid, ``link`` (a
symlink) or ``dir: true``; ``null`` removes the file from the base.

``live: true`` in a case makes the tree the root of a live target (kind ``local``): checks that read
what only a running host shows (/sys, /proc) are tested on the files they read there, through the
same code that reads them from ``/`` on the host. Commands still need a real host.

``extends: {hardened: openssh-server}`` starts a base from the same-named base of another
baseline's fixtures (for baselines that include another one), then adds or replaces files.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

from secaudit.baseline import FileTarget, OfflineTarget, Target
from secaudit.baseline.target import LocalTarget

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "baseline"


@functools.cache
def load_fixtures(baseline_id: str) -> dict[str, Any]:
    path = FIXTURES / f"{baseline_id}.yaml"
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.load(fh, Loader=yaml.CSafeLoader)
    return data


def write_tree(root: Path, files: dict[str, Any]) -> None:
    for rel, spec in sorted(files.items()):
        if spec is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, str):
            path.write_text(spec, encoding="utf-8")
            path.chmod(0o644)
            continue
        if "link" in spec:
            path.symlink_to(spec["link"])
            continue
        if spec.get("dir"):
            path.mkdir(exist_ok=True)
        else:
            path.write_text(spec.get("content", ""), encoding="utf-8")
        path.chmod(int(str(spec.get("mode", "0755" if spec.get("dir") else "0644")), 8))
        if "uid" in spec or "gid" in spec:
            os.chown(path, int(spec.get("uid", 0)), int(spec.get("gid", 0)))


def _base(data: dict[str, Any], name: str) -> Any:
    base = data.get("bases", {}).get(name)
    parent = (data.get("extends") or {}).get(name)
    if parent is None:
        return base
    return {**load_fixtures(parent)["bases"][name], **(base or {})}


class LiveRoot(OfflineTarget):
    """A live target's files (a ``local`` target reads ``/`` the same way) rooted in a test tree."""

    kind = LocalTarget.kind


def build_case(data: dict[str, Any], case: dict[str, Any], tmp: Path) -> Target:
    base = _base(data, case["base"]) if "base" in case else {}
    if isinstance(base, str):
        text = base
        for old, new in (case.get("replace") or {}).items():
            assert old in text, f"replace target {old!r} not in base {case['base']}"
            text = text.replace(old, new)
        text += case.get("append", "")
        path = tmp / "config.txt"
        path.write_text(text, encoding="utf-8")
        return FileTarget(path)
    files = dict(base or {})
    files.update(case.get("files") or {})
    root = tmp / "root"
    root.mkdir()
    write_tree(root, files)
    return LiveRoot(root) if case.get("live") else OfflineTarget(root)
