"""The ``secaudit`` command: the root group, and the one place errors become exit codes."""

from __future__ import annotations

import sys
import traceback

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
    verbose = 0
    try:
        args = hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
        with cli.make_context("secaudit", args) as ctx:
            verbose = ctx.ensure_object(CliState).verbose
            cli.invoke(ctx)
        return ExitCode.OK
    except ExitWith as e:
        return e.code
    except SecauditError as e:
        err.print(f"[bold red]error:[/bold red] {escape(str(e))}", highlight=False, soft_wrap=True)
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        err.print("interrupted")
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        err.print("interrupted")
        return ExitCode.INTERRUPTED
    except click.ClickException as e:
        e.show()
        return ExitCode.USAGE
    except Exception as e:
        err.print(
            f"[bold red]internal error:[/bold red] {type(e).__name__}: {escape(str(e))}", highlight=False
        )
        if verbose >= 2:
            err.print(traceback.format_exc(), markup=False, highlight=False)
        else:
            err.print("run again with -vv for a traceback, and please report it", highlight=False)
        return ExitCode.OPERATIONAL
