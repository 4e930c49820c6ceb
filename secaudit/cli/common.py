"""What every command shares: the console, -q/-v/--json, progress bars, and the one
place where errors become exit codes.

Conventions for command modules:
- take ``state: CliState`` with ``@pass_state``; print through ``state.out`` (results) and
  ``state.err`` (messages), never ``print``;
- add ``@json_option`` where a command has machine output, and emit it with ``state.emit_json``;
- raise :class:`~secaudit.core.errors.SecauditError` subclasses; never ``sys.exit`` —
  return an ``ExitCode`` with ``raise ExitWith(code)`` only for result-dependent codes.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from secaudit.core.errors import ExitCode
from secaudit.core.model import Severity
from secaudit.core.profile import THAI_ERAS
from secaudit.core.redact import redact, redact_data
from secaudit.core.registry import Registry
from secaudit.report.text import terminal_safe

if TYPE_CHECKING:  # rich's console and progress load on first use: `--version` and `--help` need neither
    from rich.console import Console
    from rich.progress import TaskID

    from secaudit.core.report import ProgressCallback, ProgressEvent

F = TypeVar("F", bound=Callable[..., Any])
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class RegistryChoice(click.Choice[str]):
    """A choice among the names in an extension registry, read when the option is used (help,
    completion, validation), so a format a plugin registered after import is offered too."""

    def __init__(self, registry: Registry[Any]) -> None:
        self._registry = registry
        super().__init__((), case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:
        return self._registry.names()

    @choices.setter
    def choices(self, _: Any) -> None:
        pass


class ExitWith(Exception):
    """Raised by a command to end with a result-dependent exit code (e.g. findings found)."""

    def __init__(self, code: ExitCode) -> None:
        super().__init__(int(code))
        self.code = code


@dataclass
class CliState:
    quiet: bool = False
    verbose: int = 0
    json: bool = False
    out: Console = field(default_factory=lambda: make_console(stderr=False))
    err: Console = field(default_factory=lambda: make_console(stderr=True))

    def info(self, message: str) -> None:
        """A message for people; silent under -q and --json."""
        if not self.quiet and not self.json:
            self.err.print(message, highlight=False)

    def debug(self, message: str) -> None:
        if self.verbose:
            self.err.print(f"[dim]{message}[/dim]", highlight=False)

    def emit_json(self, data: Any) -> None:
        text = json.dumps(redact_data(data), indent=2, sort_keys=True, ensure_ascii=False, default=str)
        # json escapes C0 controls itself; C1 controls and bidi overrides act on a terminal too
        sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self) -> Iterator[ProgressCallback]:
        """A progress callback drawing rich bars on stderr; silent when quiet, --json or not a terminal."""
        if self.quiet or self.json or not self.err.is_terminal:
            yield lambda event: None
            return
        from rich.progress import (  # noqa: PLC0415 (start-up: only commands with progress need it)
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        tasks: dict[str, TaskID] = {}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as bar:

            def update(event: ProgressEvent) -> None:
                label = f"{event.task} {event.message}".strip()
                if event.task not in tasks:
                    tasks[event.task] = bar.add_task(label, total=event.total)
                bar.update(tasks[event.task], completed=event.done, total=event.total, description=label)

            yield update


@functools.cache
def _safe_console() -> type[Console]:
    """The console class, made on first use (rich loads only when something is printed)."""
    from rich.console import Console  # noqa: PLC0415 (start-up: `--version` and `--help` print no console)
    from rich.text import Text  # noqa: PLC0415

    class SafeConsole(Console):
        """A rich console that never lets data act on the terminal or show a secret.

        Every string it renders (messages, markup, table cells) has its control characters shown
        as ``\\xNN`` (escape sequences from log fields or rule titles could clear the screen, set
        the window title or write the clipboard) and its secrets masked (see core.redact). Text
        built as ``rich.text.Text`` by hand bypasses this: build it from :func:`terminal_safe` text.
        """

        def render_str(self, text: str, **kwargs: Any) -> Text:
            return super().render_str(redact(terminal_safe(text)), **kwargs)

    return SafeConsole


def make_console(*, stderr: bool) -> Console:
    """A rich console; NO_COLOR (any value) turns colour off, as https://no-color.org asks."""
    no_color = "NO_COLOR" in os.environ
    return _safe_console()(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=not stderr)


pass_state = click.make_pass_decorator(CliState, ensure=True)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(CliState).json = True
    return value


def thai_era_option(func: F) -> F:
    """``--thai-era``: year numbering of the Thai report (overrides the profile's report.thai_era)."""
    return click.option(
        "--thai-era",
        type=click.Choice(THAI_ERAS),
        help="Years in the Thai report: gregorian, or buddhist (B.E./พ.ศ., as Thai government "
        "documents date). Default: the profile's report.thai_era.",
    )(func)


def json_option(func: F) -> F:
    """``--json``: print machine-readable JSON on stdout instead of tables."""
    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        is_eager=True,
        help="Print machine-readable JSON on stdout.",
    )(func)


SEVERITY_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


# --fail-on reads the same words in every command (docs/cli.md): a severity, Sigma's "informational"
# for info, or "none" (never fail on findings).
FAIL_ON_CHOICES = (*Severity.names(), "informational", "none")


def fail_on_option(help_text: str) -> Callable[[F], F]:
    return click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES, case_sensitive=False), help=help_text)


def fail_on_severity(value: str | None) -> Severity | None:
    """The gate of a --fail-on value: None for no gate ("none" or not given)."""
    if value is None or value.lower() in ("", "none"):
        return None
    return Severity.parse(value)
