"""``secaudit rules``: work with Sigma rules; ``check`` validates them offline."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from secaudit.cli.common import CliState, ExitWith, json_option, pass_state
from secaudit.core.errors import ExitCode
from secaudit.detect.lint import default_rules_path, lint_paths


@click.group()
def rules() -> None:
    """Sigma rules: validate them before a hunt or in CI."""


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option
@pass_state
def check(state: CliState, paths: tuple[Path, ...]) -> None:
    """Validate Sigma rule files offline and print each problem as file:line: message (hint).

    PATHS are rule files or folders (searched for *.yml and *.yaml); without any, the project's own
    rules (rules/sigma). Checked: YAML syntax and duplicate keys, required fields (title, id as a UUID,
    status, level, logsource, detection and condition), tag syntax (attack.tNNNN, attack.<tactic>,
    cve.YYYY-NNNN...), value modifiers, selections a condition names but the detection lacks,
    pySigma's parse errors and offline validators, duplicate ids and names across files, and
    correlation references to rules not among the checked files. Nothing is downloaded.

    Exit 0 when every rule is clean, 1 when problems were found, 2 on bad usage (a missing path).

    \b
    Examples:
      secaudit rules check
      secaudit rules check rules/sigma/linux my-rules/new_rule.yml
      secaudit rules check --json ../shared/sigmahq/rules > problems.json
    """
    report = lint_paths(list(paths) or [default_rules_path()])
    if state.json:
        state.emit_json(
            {
                "files": report.files,
                "documents": report.documents,
                "problems": [p.to_dict() for p in report.problems],
            }
        )
    else:
        for problem in report.problems:
            state.out.print(escape(str(problem)), highlight=False, soft_wrap=True)
        files = len({p.path for p in report.problems})
        if report.problems:
            state.info(
                f"{len(report.problems)} problem(s) in {files} of {report.files} file(s), "
                f"{report.documents} rule document(s) checked"
            )
        else:
            state.info(f"{report.documents} rule document(s) in {report.files} file(s): no problems")
    if report.problems:
        raise ExitWith(ExitCode.FINDINGS)
