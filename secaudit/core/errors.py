"""The one error root and the exit codes it maps to.

Libraries raise these; only the CLI turns them into an exit code (``secaudit.cli.main``).
Every error can say *where* (``location``, usually ``file:line``) and *how to fix it* (``hint``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, the same for every command."""

    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # usage or configuration error
    OPERATIONAL = 3  # operational failure or incomplete run
    INTERRUPTED = 130


class SecauditError(Exception):
    """Root of every error secaudit raises on purpose.

    ``str(error)`` reads ``location: message (hint)`` so a user sees where and what to change.
    """

    exit_code: ExitCode = ExitCode.OPERATIONAL

    def __init__(self, message: str, *, location: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(SecauditError):
    """A command was called with arguments that cannot work."""

    exit_code = ExitCode.USAGE


class ConfigError(SecauditError):
    """A profile, rule, baseline or waiver file is invalid."""

    exit_code = ExitCode.USAGE


class ScopeError(SecauditError):
    """A target lies outside the written authorization; nothing was sent."""

    exit_code = ExitCode.USAGE


class OperationalError(SecauditError):
    """Something outside the input failed: a missing tool, an unwritable folder, a dead service."""

    exit_code = ExitCode.OPERATIONAL


class HistoryError(OperationalError):
    """The history database cannot be opened, migrated or written."""


class LockedError(OperationalError):
    """Another audit holds the lock for the same history."""
