"""Ready-to-install schedules for recurring audits: a systemd service + timer, or a crontab line."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from secaudit.core.errors import UsageError

# systemd OnCalendar and cron forms of the presets we offer.
PRESETS = {
    "hourly": ("hourly", "0 * * * *"),
    "daily": ("*-*-* 02:00:00", "0 2 * * *"),
    "weekly": ("Mon *-*-* 02:00:00", "0 2 * * 1"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    profile: Path
    executable: str
    every: str = "daily"
    workdir: Path
    extra_args: tuple[str, ...] = ()

    def command(self) -> str:
        argv = [self.executable, "-q", "audit", "--profile", str(self.profile), *self.extra_args]
        return shlex.join(argv)


def _check(schedule: Schedule) -> tuple[str, str]:
    if schedule.every not in PRESETS:
        raise UsageError(f"unknown schedule '{schedule.every}'", hint=f"use one of: {', '.join(PRESETS)}")
    for text in (str(schedule.profile), str(schedule.workdir), schedule.executable):
        if "\n" in text or "%" in text:
            raise UsageError(
                f"path {text!r} cannot go into a unit file", hint="rename it without % or newlines"
            )
    return PRESETS[schedule.every]


def systemd_units(schedule: Schedule, *, name: str = "secaudit-audit") -> dict[str, str]:
    """``{"NAME.service": text, "NAME.timer": text}``; install under /etc/systemd/system."""
    calendar, _ = _check(schedule)
    service = f"""[Unit]
Description=secaudit scheduled audit ({schedule.profile.name})
# secaudit has no man page: `secaudit audit --help` and its README describe the audit and exit codes.
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={schedule.workdir}
ExecStart={schedule.command()}
# exit 1 means findings at or above fail_on: the audit itself worked.
SuccessExitStatus=1
Nice=10
IOSchedulingClass=idle
"""
    timer = f"""[Unit]
Description=Run secaudit audit {schedule.every} ({schedule.profile.name})

[Timer]
OnCalendar={calendar}
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
"""
    return {f"{name}.service": service, f"{name}.timer": timer}


def crontab_line(schedule: Schedule) -> str:
    """One crontab line; secaudit's own lock keeps runs from overlapping."""
    _, cron = _check(schedule)
    return f"{cron} cd {shlex.quote(str(schedule.workdir))} && {schedule.command()}"
