"""Where an audit keeps its things: the history database and the default rules. One place, light to
import (``profile validate`` reads it without loading any stage)."""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path

from secaudit.core.profile import Profile

DEFAULT_OUTPUT_DIR = Path("reports")


def history_location(profile: Profile | None, output_dir: Path | None, override: Path | None) -> Path:
    """The one rule for where history lives, for every command that reads or writes it: --history,
    else $SECAUDIT_HISTORY, else the profile's ``history``, else ``history.sqlite`` in the output folder
    (given, else the profile's report.output_dir, else ``reports``)."""
    if override is not None:
        return override
    env = os.environ.get("SECAUDIT_HISTORY")
    if env:
        return Path(env)
    if profile is not None and profile.history_path:
        return Path(profile.history_path)
    folder = output_dir or (Path(profile.report.output_dir) if profile is not None else DEFAULT_OUTPUT_DIR)
    return folder / "history.sqlite"


def history_scope(profile: Profile) -> str:
    """Findings are tracked per profile file: one audited estate per profile."""
    return str(Path(profile.path).resolve())


def default_rules_dir() -> Path:
    """Our own Sigma rules: ``rules/sigma`` in a checkout, ``secaudit/_content/rules/sigma`` installed."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "rules" / "sigma"
    return checkout if checkout.is_dir() else here.parents[1] / "_content" / "rules" / "sigma"


def new_run_id(moment: datetime, folder: Path | None = None) -> str:
    """Sortable and unique: UTC time to the second plus 8 random hex digits, drawn again while
    ``folder`` already holds a run of that id (two audits started in one second, into one place)."""
    while True:
        run_id = f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"
        if folder is None or not (folder / run_id).exists():
            return run_id
