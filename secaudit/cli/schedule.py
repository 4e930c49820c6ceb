"""``secaudit schedule``: print a systemd service + timer, or a crontab line, for recurring audits."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from secaudit.app.schedule import PRESETS, Schedule, crontab_line, systemd_units
from secaudit.catalog.profile import load_profile
from secaudit.cli.common import CliState, pass_state
from secaudit.core.errors import OperationalError


@click.command()
@click.option("--profile", "profile_path", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--systemd", "kind", flag_value="systemd", help="Print a systemd service and timer.")
@click.option("--cron", "kind", flag_value="cron", help="Print a crontab line.")
@click.option("--every", type=click.Choice(list(PRESETS)), default="daily", show_default=True)
@click.option("--name", default="secaudit-audit", show_default=True, help="systemd unit name.")
@click.option(
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --systemd: write NAME.service and NAME.timer into this folder, ready to install.",
)
@pass_state
def schedule(
    state: CliState, profile_path: Path, kind: str | None, every: str, name: str, output_dir: Path | None
) -> None:
    """Print a ready-to-install schedule for `secaudit audit --profile FILE`.

    The profile is validated first. Overlapping runs are impossible: the audit takes a lock.

    \b
    Examples:
      secaudit schedule --systemd --profile /etc/secaudit/city.yaml > /tmp/units.txt
      secaudit schedule --systemd --profile /etc/secaudit/city.yaml --output-dir /etc/systemd/system
      secaudit schedule --cron --every weekly --profile /etc/secaudit/city.yaml
    """
    if kind is None:
        raise click.UsageError("choose --systemd or --cron")
    if output_dir is not None and kind != "systemd":
        raise click.UsageError("--output-dir writes unit files: use it with --systemd")
    profile = load_profile(profile_path)
    exe = shutil.which("secaudit") or str(Path(sys.argv[0]).resolve())
    plan = Schedule(
        profile=Path(profile.path).resolve(),
        executable=exe,
        every=every,
        workdir=Path.cwd().resolve(),
    )
    if kind == "cron":
        state.out.print(crontab_line(plan), markup=False, highlight=False, soft_wrap=True)
        return
    units = systemd_units(plan, name=name)
    if output_dir is not None:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
            for filename, text in units.items():
                (output_dir / filename).write_text(text, encoding="utf-8")
        except OSError as e:
            raise OperationalError(f"cannot write the units: {e.strerror}", location=str(output_dir)) from e
        state.info(f"wrote {', '.join(units)} in {output_dir}")
        state.info(f"then: systemctl daemon-reload && systemctl enable --now {name}.timer")
        return
    for filename, text in units.items():
        state.out.print(f"# /etc/systemd/system/{filename}", markup=False, highlight=False)
        state.out.print(text, markup=False, highlight=False, soft_wrap=True)
    state.info(f"# then: systemctl daemon-reload && systemctl enable --now {name}.timer")
