"""secaudit as a pySigma plugin (issue 17, item 9): the real ``sigma`` command (sigma-cli) with
``-t secaudit-lucene -p secaudit`` prints, rule for rule, the Lucene queries secaudit's own conversion
runs on its indices; ``-p secaudit`` with the stock ``-t lucene`` puts the fields where secaudit does.

sigma-cli reads ``-p NAME`` as a folder of pipeline files when a folder of that name is in the working
directory (the source tree has ``secaudit/``): the command runs in a temporary folder, as an analyst's
would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secaudit.elastic.backend import MAX_LEAVES
from secaudit.elastic.convert import convert_rules

REPO = Path(__file__).resolve().parents[2]
SIGMAHQ = REPO / ".." / "shared" / "sigmahq" / "rules"
SIGMA = str(Path(sys.executable).with_name("sigma"))

pytestmark = pytest.mark.skipif(not SIGMAHQ.is_dir(), reason="../shared/sigmahq is not beside the project")

# Chosen for the parts of the backend the stock one lacks: CIDR (.ip), regular expressions translated to
# Lucene's dialect (case-insensitive and .cased), a relaxed regex, keywords, several conditions.
CHOSEN = (
    "linux/network_connection/net_connection_lnx_susp_malware_callback_port.yml",
    "network/zeek/zeek_http_webdav_put_request.yml",
    "category/antivirus/av_advanced_persistent_threat.yml",
    "windows/process_creation/proc_creation_win_hktl_wsass.yml",
    "windows/file/file_event/file_event_win_susp_registry_hive_file_creation.yml",
    "cloud/aws/cloudtrail/aws_cloudtrail_imds_malicious_usage.yml",
)


def _sample() -> list[Path]:
    every = sorted(SIGMAHQ.rglob("*.yml"))
    return [*(SIGMAHQ / name for name in CHOSEN), *every[::50]]


def _sigma(tmp_path: Path, *args: str) -> str:
    """What ``sigma convert`` prints: the queries with a blank line between two (a query may hold a
    line break itself: a regex over line breaks), and a newline at the end."""
    proc = subprocess.run(
        [SIGMA, "convert", *args], cwd=tmp_path, capture_output=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.decode()  # bytes: a carriage return inside a regex must stay one


def test_sigma_convert_with_the_plugin_prints_the_queries_secaudit_runs(tmp_path: Path) -> None:
    # One rule with an OR list over the clause limit: secaudit splits it, and so must the plugin.
    names = [f"tool{i:04d}.exe" for i in range(MAX_LEAVES + 200)]
    wide = tmp_path / "wide.yml"
    wide.write_text(
        "title: Many tools\nid: 3d7c9a52-0b1e-4f6a-8c2d-5e9f1a7b3c40\nstatus: test\n"
        "logsource: {category: process_creation, product: windows}\n"
        f"detection:\n  selection:\n    Image|endswith: [{', '.join(names)}]\n  condition: selection\n"
        "level: low\n",
        encoding="utf-8",
    )
    rules = [*_sample(), wide]
    ours = convert_rules(rules)
    assert len(ours.converted) >= 60 and not ours.failures, ours.failures
    printed = _sigma(tmp_path, "-t", "secaudit-lucene", "-p", "secaudit", *map(str, rules))
    assert printed == "\n\n".join(c.query for c in ours.converted) + "\n"
    assert ".ip:" in printed and ".cased:/" in printed  # sub-fields the stock backend cannot name
    assert printed.count("\n\nsecaudit.product:") >= 40  # each rule behind its logsource condition
    split = ours.converted[-1]
    assert len(split.parts) == 2 and printed.endswith(f"\n{split.query}\n")


def test_the_pipeline_alone_puts_fields_where_secaudit_indexes_them(tmp_path: Path) -> None:
    rule = SIGMAHQ / "windows/process_creation/proc_creation_win_7zip_exfil_dmp_files.yml"
    stock = _sigma(tmp_path, "-t", "lucene", "-p", "secaudit", str(rule))
    ours = convert_rules([rule]).converted[0].query
    assert "sigma.CommandLine:" in stock and "sigma.Image:" in stock
    assert ours.endswith(f"({stock.strip()})")  # the same condition; secaudit adds the logsource part


def test_the_backend_refuses_to_run_without_the_pipeline(tmp_path: Path) -> None:
    rule = SIGMAHQ / "windows/process_creation/proc_creation_win_7zip_exfil_dmp_files.yml"
    proc = subprocess.run(
        [SIGMA, "convert", "-t", "secaudit-lucene", str(rule)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode != 0 and "pipeline" in proc.stderr.lower()


@pytest.mark.parametrize("layout", ["ecs", "wazuh"])
def test_the_layout_backends_print_the_queries_secaudit_runs_on_ecs_and_wazuh(
    tmp_path: Path, layout: str
) -> None:
    windows = sorted((SIGMAHQ / "windows").rglob("*.yml"))[::40]
    ours = convert_rules(windows, layout=layout)
    assert len(ours.converted) >= 40 and ours.failures  # some rules cannot run on the layout: -s skips them
    printed = _sigma(
        tmp_path, "-s", "-t", f"secaudit-{layout}-lucene", "-p", f"secaudit-{layout}", *map(str, windows)
    )
    assert printed == "\n\n".join(c.query for c in ours.converted) + "\n"
