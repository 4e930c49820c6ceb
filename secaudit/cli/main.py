"""The ``secaudit`` command: the root group, and the one place errors become exit codes."""

from __future__ import annotations

import sys
import traceback

import click
from rich.markup import escape

from secaudit import __version__
from secaudit.cli.audit import audit
from secaudit.cli.baseline import baseline
from secaudit.cli.common import CliState, ExitWith, make_console
from secaudit.cli.discover import discover
from secaudit.cli.es import es_check_command, ingest_command
from secaudit.cli.history import history, report
from secaudit.cli.kev import kev
from secaudit.cli.logs import logs
from secaudit.cli.profile import profile
from secaudit.cli.rules import rules
from secaudit.cli.scan import scan, scope
from secaudit.cli.schedule import schedule
from secaudit.core.errors import ExitCode, SecauditError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@click.group(context_settings=CONTEXT)
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


for command in (audit, baseline, discover, history, kev, logs, profile, report, rules, scan, schedule, scope):
    cli.add_command(command)
logs.add_command(ingest_command)  # `secaudit logs ingest` and `logs es-check`: Elasticsearch
logs.add_command(es_check_command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the code of what happened (see ExitCode)."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error is mapped here and nowhere else."""
    err = make_console(stderr=True)
    verbose = 0
    try:
        with cli.make_context("secaudit", list(sys.argv[1:] if argv is None else argv)) as ctx:
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
