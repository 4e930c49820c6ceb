"""The ``secaudit`` command: the root group, and the one place errors become exit codes."""

from __future__ import annotations

import os
import signal
import sys
import traceback
from typing import Any

import click
from rich.markup import escape

from secaudit import __version__
from secaudit.cli.common import CliState, ExitWith, make_console
from secaudit.cli.lazy import LazyCommand, LazyGroup
from secaudit.core.errors import ExitCode, SecauditError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}

# Every command, by name: where it lives and its summary (the first paragraph of its help; a test
# holds the two equal). A command's module is imported only when that command runs.
COMMANDS: dict[str, LazyCommand] = {
    "audit": LazyCommand(
        "secaudit.cli.audit:audit",
        "Run every stage of an audit profile, record the run in history, write the report.",
    ),
    "baseline": LazyCommand(
        "secaudit.cli.baseline:baseline",
        "Configuration baselines: CIS-style checks of servers, routers and web fronts.",
    ),
    "discover": LazyCommand(
        "secaudit.cli.discover:discover",
        "Discover hosts passively from captures, or actively with an ARP sweep.",
    ),
    "history": LazyCommand(
        "secaudit.cli.history:history",
        "Earlier runs and their findings, from the history database.",
    ),
    "kev": LazyCommand(
        "secaudit.cli.kev:kev",
        "CISA's Known Exploited Vulnerabilities (KEV) catalogue, which the risk model reads.",
    ),
    "logs": LazyCommand(
        "secaudit.cli.logs:logs",
        "Hunt in Windows, Linux, network-device, web and Zeek logs with Sigma rules.",
        # `logs ingest` and `logs es-check` (Elasticsearch) live beside the hunt's Elasticsearch options
        extra=("secaudit.cli.es:ingest_command", "secaudit.cli.es:es_check_command"),
    ),
    "profile": LazyCommand(
        "secaudit.cli.profile:profile",
        "Audit profiles: the authorization, segments, inventory and targets of an audit.",
    ),
    "report": LazyCommand(
        "secaudit.cli.history:report",
        "Write the report of a recorded run (default: the latest) again from history.",
    ),
    "rules": LazyCommand(
        "secaudit.cli.rules:rules",
        "Sigma rules: validate them before a hunt or in CI.",
    ),
    "scan": LazyCommand(
        "secaudit.cli.scan:scan",
        "Scan the profile's segments with nmap, each with its scan profile, and report exposures.",
    ),
    "schedule": LazyCommand(
        "secaudit.cli.schedule:schedule",
        "Print a ready-to-install schedule for `secaudit audit --profile FILE`.",
    ),
    "scope": LazyCommand(
        "secaudit.cli.scan:scope",
        "The scope guard: which targets the written authorization covers.",
    ),
    "vuln": LazyCommand(
        "secaudit.cli.vuln:vuln",
        "Known-vulnerability feeds, kept in a local store that the audit's vuln stage matches against.",
    ),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="secaudit")
@click.option("-q", "--quiet", is_flag=True, help="Print only results and errors.")
@click.option("-v", "--verbose", count=True, help="More detail; -vv adds tracebacks of unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """secaudit: security posture audits for smart-city command-center infrastructure.

    It scans authorized network segments, checks configurations against baselines, and ranks
    what it finds into one prioritized report. Colour follows NO_COLOR.

    \b
    Examples:
      secaudit profile validate samples/phuket-demo.yaml
      secaudit audit --profile samples/phuket-demo.yaml
      secaudit history runs --json
    """
    state = ctx.ensure_object(CliState)
    state.quiet = quiet
    state.verbose = verbose


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the code of what happened (see ExitCode)."""
    sys.exit(run(argv))


GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "-vv", "-vvv", "--verbose"})


def hoist_global_flags(argv: list[str]) -> list[str]:
    """-q and -v work anywhere on the line (docs/cli.md): they are moved before the command, as click
    wants them; nothing after a ``--`` is touched."""
    flags: list[str] = []
    rest: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            rest.extend(argv[i:])
            break
        (flags if arg in GLOBAL_FLAGS else rest).append(arg)
    return flags + rest


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error is mapped here and nowhere else."""
    err = make_console(stderr=True)
    args = hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    verbose = _verbosity(args)
    previous = _terminate_as_interrupt()
    try:
        with cli.make_context("secaudit", args) as ctx:
            cli.invoke(ctx)
        _flush_stdout()
        return ExitCode.OK
    except ExitWith as e:
        _flush_stdout()
        return e.code
    except BrokenPipeError:
        return _stdout_closed()
    except SecauditError as e:
        # the message may quote input: bound it, and let the console mask secrets and controls
        err.print(f"[bold red]error:[/bold red] {escape(_bounded(str(e)))}", highlight=False, soft_wrap=True)
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        err.print("interrupted")
        return ExitCode.INTERRUPTED
    except click.ClickException as e:
        e.show()
        return ExitCode.USAGE
    except Exception as e:
        err.print(
            f"[bold red]internal error:[/bold red] {type(e).__name__}: {escape(_bounded(str(e)))}",
            highlight=False,
        )
        if verbose >= 2:
            err.print(_bounded(traceback.format_exc(), 20_000), markup=False, highlight=False)
        else:
            err.print("run again with -vv for a traceback, and please report it", highlight=False)
        return ExitCode.OPERATIONAL
    finally:
        signal.signal(signal.SIGTERM, previous)


_MESSAGE_LIMIT = 2_000


def _bounded(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """An error message cut to ``limit`` characters: it may quote input of any size."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters not shown)"


def _verbosity(args: list[str]) -> int:
    """How many -v the root group was given, read before parsing so a failure in parsing or in
    the command's setup still honours -vv (the group's own callback may never have run)."""
    count = 0
    for arg in args:
        if not arg.startswith("-") or arg == "--":
            break  # options after the command name belong to the command
        if arg == "--verbose":
            count += 1
        elif not arg.startswith("--") and set(arg[1:]) <= {"v", "q"}:
            count += arg.count("v")
    return count


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so a stopped run is marked interrupted the same way."""


def _terminate_as_interrupt() -> Any:
    owner = os.getpid()

    def handler(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            # a forked child (the rule loader's helper process) inherits this handler: it must die
            # of SIGTERM as it would by default (the hunt's workers reset SIGTERM themselves)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise _Terminated()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        return signal.getsignal(signal.SIGTERM)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_closed()


def _stdout_closed() -> int:
    """The reader of stdout went away (``| head``): end quietly, as other Unix tools do."""
    # Python would report the broken pipe again when it flushes stdout at exit: point stdout at
    # /dev/null first.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return ExitCode.OK
