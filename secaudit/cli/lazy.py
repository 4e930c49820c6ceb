"""Commands loaded on first use, so that `secaudit --help`, `--version` and light commands start fast.

Each command lives in its own module; importing it pulls in what the command needs (the Sigma engine,
the Elasticsearch client, scapy, nmap, jinja2). The root group knows the commands only by name, where
they live and their one-line summary, and imports a command's module when that command runs or asks
for its own help. tests/cli/test_lazy.py holds each summary equal to the command's own help text.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives (``module:attribute``), its summary, and commands it gains from elsewhere."""

    target: str
    summary: str
    extra: tuple[str, ...] = ()

    def short_help(self, limit: int) -> str:
        """The summary as click shortens a command's help for a listing ``limit`` columns wide."""
        return click.Command(None, help=self.summary).get_short_help_str(limit)

    def load(self) -> click.Command:
        command = _resolve(self.target)
        if self.extra and isinstance(command, click.Group):
            for target in self.extra:
                sub = _resolve(target)
                if sub.name not in command.commands:
                    command.add_command(sub)
        return command


def _resolve(target: str) -> click.Command:
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A click group whose commands are imported when used, listed in its help from their summaries."""

    def __init__(self, *args: object, lazy: dict[str, LazyCommand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                rows.append((name, self.lazy[name].short_help(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
