"""The HTML report for auditors: one self-contained file, in English or Thai.

A view is built from the immutable :class:`~secaudit.core.report.Report` in plain Python
(translated labels, formatted times, cleaned text) and handed to ``templates/report.html.j2``.
jinja2 autoescapes everything: titles, banners, log lines and config excerpts are
attacker-controlled and must stay inert. The page loads nothing: CSS and script are inline,
references are printed as text rather than links, and a Content-Security-Policy allows only
our own script (by its hash), so even an escaping mistake could not run injected code.

Speed: the first page of findings is rendered here; every row also goes into the page as
compact JSON (:mod:`secaudit.report.html_data`) from which ``templates/report.js`` filters,
sorts and pages on the client. 50,000 rows take about 1.5 s of CPU to render (bench/).
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any, TextIO

from markupsafe import Markup

from secaudit.core.model import CheckOutcome, Criticality, WaivedFinding
from secaudit.core.report import Report, coverage_summary
from secaudit.report import html_data
from secaudit.report.dates import TimeFormat
from secaudit.report.html_data import (
    DECISIONS,
    SEVERITY_KEYS,
    SOURCES,
    STATUSES,
    RowEncoder,
    SegmentResolver,
    Strings,
    row_assets,
    score_text,
)
from secaudit.report.i18n import labels
from secaudit.report.summary import checked_in_order, fixed_in_order, summarize
from secaudit.report.vulns import vulnerable_components
from secaudit.report.writers import report_writer

if TYPE_CHECKING:  # jinja2 loads when a report is rendered, not when the writers are listed
    import jinja2

TEMPLATE = "report.html.j2"
SCRIPT = "report.js"
PAGE_SIZE = 100  # rows rendered on the server, and rows per page in the browser
ASSETS_SHOWN = 200  # the per-asset view lists the riskiest assets; search finds the rest
LISTED = 1_000  # fixed and waived findings listed in full; findings.json has every one
CHECKED_LISTED = 20_000  # passed and not-applicable checks listed with evidence; findings.json has all
PAPER_ROWS = 1_000  # rows on paper (PDF); the paper says how many more findings.json holds

_ENV: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    # Built on first use, not at import: nothing in secaudit does I/O at import time.
    global _ENV  # noqa: PLW0603 - one cached, immutable environment per process
    if _ENV is None:
        import jinja2  # noqa: PLC0415 - see TYPE_CHECKING above

        _ENV = jinja2.Environment(
            loader=jinja2.PackageLoader("secaudit.report", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    return _ENV


def page_script() -> tuple[str, str]:
    """The page's script and its CSP source expression (``'sha256-…'``)."""
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, SCRIPT)
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return source, f"'sha256-{digest}'"


def _band(likelihood: int, impact: int) -> str:
    product = likelihood * impact
    if product >= 15:
        return "severe"
    if product >= 8:
        return "major"
    if product >= 4:
        return "moderate"
    return "minor"


class _View:
    """Turns the report into the plain values the template shows."""

    def __init__(self, report: Report, lang: str, *, paper: bool = False) -> None:
        self.report = report
        self.paper = paper
        self.profile = report.profile
        self.lang = lang
        self.L = labels(lang)
        self.strings = Strings(cut_note=self._cut_note)
        self.segment_of = SegmentResolver(self.profile)
        self.time = TimeFormat.for_report(self.profile, lang)

    def _cut_note(self, shown: int, total: int) -> str:
        return self.L["truncated_note"].replace("{shown}", f"{shown:,}").replace("{total}", f"{total:,}")

    def text(self, value: str) -> str:
        return self.strings.table[self.strings(value)]

    def label(self, family: str, value: str) -> str:
        return self.L[f"{family}.{value}"]

    def rows(self) -> tuple[list[list[Any]], list[dict[str, Any]]]:
        encoder = RowEncoder(self.strings, self.segment_of, self.time, self.lang)
        ordered = sorted(self.report.rows, key=lambda r: r.rank)
        encoded = encoder.encode_all(ordered)
        table = self.strings.table
        shown = PAPER_ROWS if self.paper else PAGE_SIZE
        return encoded, [html_data.expand(row, table) for row in encoded[:shown]]

    def heatmap(self) -> list[list[dict[str, Any]]]:
        counts = Counter(
            (html_data.clamp_level(r.likelihood), html_data.clamp_level(r.impact)) for r in self.report.rows
        )
        return [
            [{"l": lk, "i": im, "count": counts[(lk, im)], "band": _band(lk, im)} for lk in range(1, 6)]
            for im in range(5, 0, -1)
        ]

    def segment_view(self) -> list[dict[str, Any]]:
        stats: dict[str, dict[str, Any]] = {}
        order = [s.name for s in self.profile.segments]
        for row in self.report.rows:
            # Counted in findings (one per asset), like the per-asset view and the trend.
            for name in [self.segment_of(a) for a in row_assets(row)]:
                entry = stats.setdefault(name, {"count": 0, "decisions": Counter(), "max": 0.0})
                entry["count"] += 1
                entry["decisions"][row.decision] += 1
                entry["max"] = max(entry["max"], row.score)
        names = order + sorted(n for n in stats if n not in order)
        view = []
        for name in names:
            entry = stats.get(name, {"count": 0, "decisions": Counter(), "max": 0.0})
            segment = self.profile.segment(name)
            view.append(
                {
                    "name": self.text(name),
                    "kind": self.label("kind", segment.kind.value) if segment else "",
                    "criticality": self.label("criticality", segment.criticality.label) if segment else "",
                    "count": entry["count"],
                    "decisions": [entry["decisions"][d] for d in DECISIONS],
                    "max": score_text(entry["max"]) if entry["count"] else "",
                }
            )
        return view

    def asset_view(self) -> tuple[list[dict[str, Any]], int]:
        stats: dict[str, dict[str, Any]] = {}
        position = {d: i for i, d in enumerate(DECISIONS)}
        for row in self.report.rows:
            for asset in row_assets(row):
                entry = stats.get(asset.key)
                if entry is None:
                    entry = stats[asset.key] = {"asset": asset, "count": 0, "max": 0.0, "top": len(DECISIONS)}
                entry["count"] += 1
                entry["max"] = max(entry["max"], row.score)
                entry["top"] = min(entry["top"], position[row.decision])
        ranked = sorted(stats.values(), key=lambda e: (e["top"], -e["max"], -e["count"], e["asset"].key))
        view = []
        for entry in ranked[:ASSETS_SHOWN]:
            asset = entry["asset"]
            view.append(
                {
                    "display": self.text(asset.display),
                    "key": self.text(asset.key),
                    "role": self.text(asset.role),
                    "segment": self.text(self.segment_of(asset)),
                    "criticality": self.label("criticality", asset.criticality.label),
                    "count": entry["count"],
                    "max": score_text(entry["max"]),
                    "decision_key": DECISIONS[entry["top"]].value,
                }
            )
        return view, len(ranked)

    def vuln_components(self) -> list[dict[str, Any]]:
        """Known vulnerabilities per (asset, package or service), at most :data:`LISTED`."""
        return [
            {
                "asset": self.text(c.asset.display),
                "asset_key": self.text(c.asset.key),
                "kind": c.kind,
                "name": self.text(c.name),
                "where": self.text(c.where),
                "installed": self.text(c.installed),
                "fix": self.text(c.fix),
                "no_fix": [self.text(cve) for cve in c.no_fix],
                "cves": [(self.text(cve), rank) for cve, rank in c.cves],
                "kev": [self.text(cve) for cve in c.kev],
                "decision_key": c.decision.value,
                "score": f"{c.score:.1f}",
            }
            for c in vulnerable_components(self.report.rows)[:LISTED]
        ]

    def waived(self) -> list[dict[str, Any]]:
        def order(w: WaivedFinding) -> tuple[Any, ...]:
            f = w.finding
            return (w.kind.value, -int(f.severity), f.rule_id, f.asset.key, f.evidence_key)

        view = []
        for item in sorted(self.report.waived, key=order)[:LISTED]:
            line = html_data.finding_line(item.finding, self.strings, self.segment_of, self.lang)
            expired = item.expires is not None and item.expires < self.report.generated_at
            line.update(
                kind=item.kind.value,
                justification=self.strings.table[self.strings(item.justification, html_data.PROSE)],
                approved_by=self.text(item.approved_by),
                expires=self.time(item.expires),
                expired=expired,
                source=self.text(item.source),
            )
            view.append(line)
        return view

    def baseline_results(self) -> list[dict[str, Any]]:
        """The rule-result summary per asset and baseline (pass / fail / n/a / waived / error)."""
        return [
            {
                "asset": self.text(t.asset),
                "baseline": self.text(t.baseline),
                "target": self.text(t.target),
                "counts": [t.passed, t.failed, t.not_applicable, t.waived, t.errors],
            }
            for t in self.report.tallies
        ]

    def checked(self) -> list[dict[str, Any]]:
        """Passed and not-applicable checks, grouped per asset and baseline, with their evidence."""
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for item in checked_in_order(self.report)[:CHECKED_LISTED]:
            finding = item.finding
            group = groups.setdefault(
                (finding.asset.key, item.baseline),
                {
                    "asset": self.text(finding.asset.display),
                    "baseline": self.text(item.baseline),
                    "passed": 0,
                    "not_applicable": 0,
                    "items": [],
                },
            )
            group["passed" if item.outcome is CheckOutcome.PASSED else "not_applicable"] += 1
            line = html_data.finding_line(finding, self.strings, self.segment_of, self.lang)
            line.update(
                outcome=item.outcome.value,
                reason=self.strings.table[self.strings(item.reason, html_data.PROSE)],
                evidence=[
                    {
                        "summary": self.text(e.summary),
                        "location": self.text(e.location),
                        "excerpt": self.strings.table[self.strings(e.excerpt, html_data.PROSE)],
                    }
                    for e in finding.evidence
                ],
            )
            group["items"].append(line)
        return list(groups.values())

    def compliance(self) -> list[dict[str, Any]]:
        frameworks: dict[str, list[Any]] = defaultdict(list)
        for control in self.report.compliance:
            frameworks[control.framework].append(control)
        view = []
        for framework, controls in frameworks.items():
            counts = coverage_summary(controls)

            def line(c: Any) -> dict[str, Any]:
                return {
                    "control": self.text(c.control),
                    "name": self.text(c.name_th if self.lang == "th" and c.name_th else c.name),
                    "checked": c.checked,
                    "failing": c.failing,
                    "passing": c.passing,
                    "not_applicable": c.not_applicable,
                    "state": c.status,
                }

            view.append(
                {
                    "id": self.text(framework),
                    "name": self.L.get(f"framework.{framework}", self.text(framework)),
                    "controls": [line(c) for c in controls if c.status != "unassessed"],
                    "unassessed": [line(c) for c in controls if c.status == "unassessed"],
                    "total": counts["controls"],
                    "checked": counts["assessed"],
                    "passed": counts["passed"],
                    "failing": counts["failed"],
                    "not_applicable": counts["not_applicable"],
                    "unassessed_count": counts["unassessed"],
                    # Against the whole framework, never only what secaudit maps: 100 % only when true.
                    "coverage": _percent(counts["assessed"], counts["controls"]),
                }
            )
        return view

    def methodology(self) -> dict[str, Any]:
        rules: dict[str, set[str]] = {source.value: set() for source in SOURCES}
        for row in self.report.rows:
            rules[row.finding.source.value].add(row.finding.rule_id)
        for item in self.report.waived:
            rules[item.finding.source.value].add(item.finding.rule_id)
        return {
            "rules": [{"label": self.label("source", key), "count": len(ids)} for key, ids in rules.items()],
            "rules_total": sum(len(ids) for ids in rules.values()),
            "controls": len(self.report.compliance),
            "frameworks": len({c.framework for c in self.report.compliance}),
        }

    def context(self) -> dict[str, Any]:
        report, run, auth = self.report, self.report.run, self.profile.authorization
        summary = summarize(report)
        encoded, first_page = self.rows()
        row_strings = list(self.strings.table)  # the script needs only what the rows point at
        decisions = dict(summary.by_decision)
        decision_findings = dict(summary.by_decision_findings)
        severity_findings = dict(summary.by_severity_findings)
        source_findings = dict(summary.by_source_findings)
        assets, asset_total = self.asset_view()
        fixed = [
            html_data.finding_line(f, self.strings, self.segment_of, self.lang)
            for f in fixed_in_order(report)
        ]
        waived = self.waived()
        segments = self.segment_view()
        statuses = Counter(r.status for r in report.rows)
        context: dict[str, Any] = {
            "L": self.L,
            "lang": self.lang,
            "paper": self.paper,
            # the printed page's footer (CSS margin boxes): the run id left, the page number right
            "footer_left": Markup(css_string(f"{self.L['generated_by']} {run.tool_version} · {run.id}")),  # noqa: S704 - CSS-escaped
            "footer_page": Markup(_page_counter(self.L["page_of"])),  # noqa: S704 - CSS-escaped
            "organisation": self.text(self.profile.organisation),
            "run": {
                "id": self.text(run.id),
                "status": self.label("run", run.status.value),
                "status_key": run.status.value,
                "started": self.time(run.started_at),
                "finished": self.time(run.finished_at),
                "profile": self.text(run.profile_path or self.profile.path),
                "tool_version": self.text(run.tool_version),
                "risk_model": self.text(run.risk_model),
            },
            "generated": self.time(report.generated_at),
            "time_zone": self.time.zone_label(report.generated_at, self.L["time_zone_value"]),
            "buddhist_era": self.time.buddhist,
            "auth": {
                "reference": self.text(auth.reference),
                "approver": self.text(auth.approver),
                "valid_from": self.time(auth.valid_from),
                "valid_until": self.time(auth.valid_until),
                "valid_at_start": auth.valid_at(run.started_at),
                "windows": [
                    f"{self.time(w.start)} {self.L['date_to']} {self.time(w.end)}"
                    for w in auth.maintenance_windows
                ],
            },
            "summary": {
                "total": summary.total,
                "findings": summary.findings,
                "grouped": summary.grouped,
                "findings_in_rows": self.L["findings_in_rows"]
                .replace("{findings}", str(summary.findings))
                .replace("{rows}", str(summary.rows)),
                "partial": summary.partial,
                "posture": score_text(report.posture_score),
                "not_assessed": [self.text(name) for name in summary.not_assessed],
                "posture_pct": f"{min(100.0, max(0.0, report.posture_score)):.1f}",
                "waived": sum(1 for w in report.waived if w.kind.value == "waived"),
                "accepted": sum(1 for w in report.waived if w.kind.value == "accepted"),
                "decisions": [
                    {
                        "key": d.value,
                        "css": _css(d.value),
                        "label": self.label("decision", d.value),
                        "help": self.label("decision_help", d.value),
                        "count": decisions[d],
                        "findings_text": self.L["n_findings"].replace("{n}", str(decision_findings[d])),
                    }
                    for d in DECISIONS
                ],
                "by_severity": [
                    {
                        "key": s.label,
                        "label": self.label("severity", s.label),
                        "count": n,
                        "findings": severity_findings[s],
                    }
                    for s, n in summary.by_severity
                ],
                "by_source": [
                    {
                        "key": s.value,
                        "label": self.label("source", s.value),
                        "count": n,
                        "findings": source_findings[s],
                    }
                    for s, n in summary.by_source
                ],
            },
            "trend": {
                "previous_run_id": self.text(report.trend.previous_run_id),
                "new": report.trend.new,
                "persisting": report.trend.persisting,
                "fixed": report.trend.fixed,
            },
            "stages": [
                {
                    "name": self.text(stage.name),
                    "status": self.label("run", stage.status.value),
                    "status_key": stage.status.value,
                    "checked": stage.items,
                    "findings": stage.findings,
                    "skipped": stage.skipped,
                    "seconds": f"{stage.seconds:.1f}",
                    "errors": [self.strings.table[self.strings(e, html_data.PROSE)] for e in stage.errors],
                }
                for stage in run.stages
            ],
            "heatmap": self.heatmap(),
            "first_page": first_page,
            "page_size": PAGE_SIZE,
            "pages": max(1, -(-len(encoded) // PAGE_SIZE)),
            "statuses_present": [(s.value, self.label("status", s.value)) for s in STATUSES if statuses[s]],
            "segment_view": segments,
            "segment_options": [s["name"] for s in segments if s["count"]],
            "asset_view": assets,
            "asset_total": asset_total,
            "vuln_components": self.vuln_components(),
            "waived": waived,
            "waived_total": len(report.waived),
            "fixed": fixed[:LISTED],
            "baseline_results": self.baseline_results(),
            "checked": self.checked(),
            "checked_total": len(report.checked),
            "checked_listed": min(len(report.checked), CHECKED_LISTED),
            "fixed_total": len(fixed),
            "compliance": self.compliance(),
            "methodology": self.methodology(),
            "segments": [
                {
                    "name": self.text(seg.name),
                    "cidrs": [str(net) for net in seg.cidrs],
                    "exclusions": [str(net) for net in seg.exclusions],
                    "kind": self.label("kind", seg.kind.value),
                    "owner": self.text(seg.owner),
                    "criticality": self.label("criticality", seg.criticality.label),
                    "scan_profile": self.text(seg.scan_profile),
                }
                for seg in self.profile.segments
            ],
            "criticality_labels": {int(c): self.label("criticality", c.label) for c in Criticality},
            "kinds": {s.name: self.label("kind", s.kind.value) for s in self.profile.segments},
            "css": _css,
            "cut_note": self._cut_note,
            "factor_label": lambda name: self.L.get(f"factor.{name}", name),
            # severity and criticality factors hold one of our own labels' keys: translate it
            "factor_value": lambda name, value: self.L.get(f"{name}.{value}", value),
        }
        if encoded and not self.paper:
            script, script_hash = page_script()
            data = {
                "fields": list(html_data.ROW_FIELDS),
                "s": row_strings,
                "rows": encoded,
                "labels": self.L,
                "decisions": [d.value for d in DECISIONS],
                "severities": list(SEVERITY_KEYS),
                "sources": [s.value for s in SOURCES],
                "statuses": [s.value for s in STATUSES],
                "criticalities": {str(k): v for k, v in context["criticality_labels"].items()},
                "kinds": context["kinds"],
                "page_size": PAGE_SIZE,
            }
            context["data_json"] = Markup(html_data.script_json(data))  # noqa: S704 - escaped for <script>
            context["script"] = Markup(script)  # noqa: S704 - our own file, hashed into the CSP
            context["script_hash"] = script_hash
        else:
            context["script_hash"] = "'none'"
        return context


def css_string(text: str) -> str:
    """``text`` as a CSS string literal: every character but plain letters, digits and a few
    marks as a hex escape, so nothing in it can end the string or the ``<style>`` element."""
    out = []
    for char in text:
        if (char.isascii() and char.isalnum()) or char in " .,:_-":
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")
    return '"' + "".join(out) + '"'


def _page_counter(template: str) -> str:
    """``Page {page} of {pages}`` as CSS content: strings around counter(page) and counter(pages)."""
    parts = []
    for i, piece in enumerate(template.replace("{pages}", "\0").split("{page}")):
        if i:
            parts.append("counter(page)")
        for j, bit in enumerate(piece.split("\0")):
            if j:
                parts.append("counter(pages)")
            if bit:
                parts.append(css_string(bit))
    return " ".join(parts)


def _percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` in whole percent, rounded down: 100 only when every one is there."""
    return str(100 * part // whole) if whole else "0"


def _css(key: str) -> str:
    """A decision key as a CSS class suffix (``track*`` is ``track-star``)."""
    return key.replace("*", "-star")


@report_writer("html", file_name="report.html", localized=True)
def render_html(report: Report, stream: TextIO, *, lang: str = "en", paper: bool = False) -> None:
    """Write ``report`` as one self-contained HTML page in ``lang`` (``en`` or ``th``).

    ``paper`` writes the page for printing to PDF: every row (up to :data:`PAPER_ROWS`) with its
    detail open, every list expanded, and no script.
    """
    context = _View(report, lang, paper=paper).context()
    for chunk in _environment().get_template(TEMPLATE).generate(context):
        stream.write(chunk)
