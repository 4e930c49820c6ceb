"""Log hunting benchmark: rule loading, events/s from JSONL and EVTX, peak memory, and the Zircolite
method (pySigma's sqlite backend over an in-memory SQLite table) on the same events and rules.

`python -m bench hunt [--events N] [--real-events N] [--folder-events N] [--folder-files N] [--slice N]
[--evtx-events N] [--evtx-only]`; the realistic events also run cut into a folder of files of mixed sizes.
Two JSONL corpora run side by side: the synthetic Sysmon one below (small events) and a realistic
Windows one (bench/wincorpus.py: Security, Sysmon, PowerShell and System channels, about 2.6 KB and
33 fields per event with rendered Message fields and a long tail; 5 to 10 % of events match), each
reported in events/s and MB/s with the CPU the hunt obtained. The whole SigmaHQ
rules folder is loaded (../shared/sigmahq/rules). The 1M-event Sysmon-style flat JSONL is generated
once from SigmaHQ's regression events (bench/.data/, ignored by git): every 20th line is a regression event
with fresh process ids, GUIDs, host names and times, the rest benign noise built on the same Sysmon
event shapes with ordinary values. The EVTX input holds the same mix (--evtx-events, 1M by default),
written by our own EVTX writer (bench/evtxgen.py) as Windows writes Sysmon records (templates,
typed substitutions) into chunks packed as full as they go: 48 records per 64 KiB chunk. The table
splits the EVTX cost: the evtx parser alone, the parser plus JSON decoding, reading (parser, decoding,
mapping) and matching, each in CPU time of one process. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bench import wincorpus
from secaudit.core.events import LogEvent, LogKind
from secaudit.detect.engine import Engine
from secaudit.detect.loader import RuleSet, load_rules
from secaudit.logs.reader import read_events
from secaudit.logs.stats import ReadStats

REPO = Path(__file__).resolve().parents[1]
SIGMAHQ = REPO.parent / "shared" / "sigmahq"
RULES = SIGMAHQ / "rules"
DATA = Path(__file__).resolve().parent / ".data"
SYSMON = "Microsoft-Windows-Sysmon/Operational"

BENIGN_IMAGES = [
    "C:\\Program Files\\Mozilla Firefox\\firefox.exe",
    "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    "C:\\Windows\\explorer.exe",
    "C:\\Program Files\\CityOps\\TrafficConsole\\tconsole.exe",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
    "C:\\Program Files\\Notepad++\\notepad++.exe",
    "C:\\Program Files\\CityOps\\AlertDesk\\alertdesk.exe",
    "C:\\Program Files\\VideoLAN\\VLC\\vlc.exe",
]
# Event shapes used for noise: process creation, network, image load, file, registry, DNS.
NOISE_EVENT_IDS = (1, 3, 7, 11, 12, 13, 22)
BENIGN_ARGS = [
    "",
    " --type=renderer --lang=th",
    " /background",
    " --profile shift-{n}",
    " C:\\Reports\\shift-{n}.txt",
]
BENIGN_FILES = [
    "C:\\Users\\op{n}\\Documents\\incident-{n}.docx",
    "C:\\ProgramData\\CityOps\\cache\\tile-{n}.bin",
    "C:\\Users\\op{n}\\AppData\\Local\\Mozilla\\Firefox\\Profiles\\x\\cache2\\entries\\{n}",
    "D:\\CCTV\\export\\cam-{n}.mp4",
]
BENIGN_KEYS = [
    "HKU\\S-1-5-21-1-{n}\\Software\\CityOps\\Console\\LastLayout",
    "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\SignaturesLastUpdated",
    "HKU\\S-1-5-21-1-{n}\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles\\Default\\{n}",
]
BENIGN_DLLS = [
    "C:\\Windows\\System32\\kernel32.dll",
    "C:\\Windows\\System32\\ws2_32.dll",
    "C:\\Windows\\System32\\d3d11.dll",
]
BENIGN_HOSTS = ["tiles.phuket-city.example", "updates.vendor.example", "cctv-nvr-{n}.cc.example"]


def regression_events() -> list[dict[str, Any]]:
    files = sorted((SIGMAHQ / "regression_data").rglob("*.json"))
    return [dict(e.fields) for e in read_events([str(f) for f in files], stats=ReadStats())]


def _benign(template: dict[str, Any], rng: random.Random, n: int) -> dict[str, Any]:
    event = dict(template)
    eid = event.get("EventID")
    image = rng.choice(BENIGN_IMAGES)
    name = image.rsplit("\\", 1)[1]
    event["Image"] = image
    if eid == 1:
        event["CommandLine"] = f'"{image}"' + rng.choice(BENIGN_ARGS).format(n=n)
        event["OriginalFileName"] = name
        event["ParentImage"] = "C:\\Windows\\explorer.exe"
        event["ParentCommandLine"] = "C:\\Windows\\Explorer.EXE"
        event["CurrentDirectory"] = f"C:\\Users\\op{n % 40}\\"
        event["Description"] = event["Product"] = name.split(".")[0]
        event["Company"] = "City Operations Vendor"
        event["Hashes"] = f"SHA256={rng.getrandbits(256):064X}"
        event["User"] = f"PHUKET\\op{n % 40}"
        event["IntegrityLevel"] = "Medium"
    elif eid == 11 or eid in (23, 26):
        event["TargetFilename"] = rng.choice(BENIGN_FILES).format(n=n % 997)
    elif eid in (12, 13, 14):
        event["TargetObject"] = rng.choice(BENIGN_KEYS).format(n=n % 991)
        event["Details"] = f"DWORD (0x{n % 4096:08x})"
    elif eid == 7:
        event["ImageLoaded"] = rng.choice(BENIGN_DLLS)
        event["Signed"], event["Signature"] = "true", "Microsoft Windows"
        event["OriginalFileName"] = event["ImageLoaded"].rsplit("\\", 1)[1]
    elif eid == 3:
        event["DestinationIp"] = f"10.20.{n % 250}.{n % 199 + 1}"
        event["DestinationPort"] = rng.choice([443, 8443, 554, 123])
        event["DestinationHostname"] = rng.choice(BENIGN_HOSTS).format(n=n % 50)
    elif eid == 22:
        event["QueryName"] = rng.choice(BENIGN_HOSTS).format(n=n % 50)
    return event


def generate(path: Path, count: int, seed: int = 20260314) -> None:
    """Write ``count`` flat JSON lines to ``path`` (replacing it atomically)."""
    rng = random.Random(seed)
    base = regression_events()
    sysmon = [e for e in base if e.get("Channel") == SYSMON and e.get("EventID") in NOISE_EVENT_IDS]
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for i in range(count):
            if i % 20 == 0:
                event = dict(base[(i // 20) % len(base)])
            else:
                event = _benign(sysmon[i % len(sysmon)], rng, i)
            if "ProcessId" in event:
                event["ProcessId"] = rng.randint(100, 65000)
            if "ProcessGuid" in event:
                event["ProcessGuid"] = f"{{{rng.getrandbits(128):032X}}}"
            event["Computer"] = f"cc-ws-{i % 300:03d}.phuket.example"
            day, hour, minute = 1 + (i // 40000) % 28, (i // 1800) % 24, (i // 30) % 60
            event["TimeCreated"] = f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:{i % 60:02d}Z"
            event["EventRecordID"] = i + 1
            out.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
    tmp.replace(path)


def dataset(count: int) -> Path:
    path = DATA / f"sysmon-{count}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        generate(path, count)
        print(
            f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s"
        )
    return path


def head(path: Path, lines: int) -> Path:
    out = DATA / f"{path.stem}-head-{lines}.jsonl"
    if not out.exists():
        with path.open("rb") as src, out.open("wb") as dst:
            dst.writelines(itertools.islice(src, lines))
    return out


# -- measurements ---------------------------------------------------------------------------------


def load_seconds(cache: Path) -> float:
    """Rule loading in a fresh interpreter (imports excluded, like any other step of a run)."""
    code = (
        "import sys, time; from pathlib import Path; from secaudit.detect.loader import load_rules; "
        "t = time.perf_counter(); rs = load_rules([Path(sys.argv[1])], cache_dir=Path(sys.argv[2])); "
        "print(time.perf_counter() - t, len(rs.rules), len(rs.problems))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(RULES), str(cache)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[0])


def evtx_file(count: int) -> Path:
    """The benchmark's Sysmon mix as a dense EVTX file of ``count`` events (see bench/evtxgen.py)."""
    from bench.evtxgen import sysmon_events, write_evtx  # noqa: PLC0415 - it imports this module

    path = DATA / f"sysmon-{count}.evtx"
    if not path.exists():
        started = time.perf_counter()
        DATA.mkdir(parents=True, exist_ok=True)
        (DATA / ".gitignore").write_text("*\n", encoding="utf-8")
        tmp = path.with_suffix(".tmp")
        chunks = write_evtx(tmp, sysmon_events(count))
        tmp.replace(path)
        print(
            f"generated {path} ({path.stat().st_size / 1e6:.0f} MB, {chunks:,} chunks, "
            f"{count / chunks:.1f} records per chunk) in {time.perf_counter() - started:.0f} s"
        )
    return path


def evtx_parser_only(path: Path) -> tuple[int, float, float]:
    """The evtx package alone, records as JSON: the floor under any EVTX reader; then the same with
    each record's JSON decoded (orjson), as the reader does. (records, seconds, seconds with decoding)"""
    from evtx import PyEvtxParser  # noqa: PLC0415 - the readers' dependency, used here to set a bound

    started = time.process_time()
    count = sum(1 for _ in PyEvtxParser(str(path), number_of_threads=1).records_json())
    alone = time.process_time() - started
    started = time.process_time()
    for record in PyEvtxParser(str(path), number_of_threads=1).records_json():
        orjson.loads(record["data"])
    return count, alone, time.process_time() - started


def read_and_match(inputs: list[str], engine: Engine) -> tuple[int, int, float, float]:
    """Readers + engine in this one process: (events, hits, wall seconds, CPU seconds)."""
    stats = ReadStats()
    started, cpu = time.perf_counter(), time.process_time()
    hits = sum(1 for _ in engine.match(read_events(inputs, stats=stats)))
    return stats.events, hits, time.perf_counter() - started, time.process_time() - cpu


def read_only(inputs: list[str]) -> tuple[int, float]:
    stats = ReadStats()
    cpu = time.process_time()
    for _ in read_events(inputs, stats=stats):
        pass
    return stats.events, time.process_time() - cpu


def app_hunt(inputs: list[str], cache: Path) -> tuple[int, int, float, float] | None:
    """End to end through secaudit.app.hunt with its worker processes: (events, hits, wall seconds,
    CPU seconds of the parent and its workers); None if it is not there."""
    try:
        from secaudit.app.hunt import HuntOptions, hunt  # noqa: PLC0415 - the lead's layer, optional here
    except ImportError:
        return None
    count = [0]

    def on_hit(hit: object) -> None:
        count[0] += 1

    started = time.perf_counter()
    cpu = _cpu_with_children()
    summary = hunt(
        HuntOptions(inputs=tuple(inputs), rules=(RULES,), workers=2, cache_dir=cache), on_hit=on_hit
    )
    seconds = time.perf_counter() - started
    return summary.read.events, count[0], seconds, _cpu_with_children() - cpu


# app.hunt in a new process that does nothing else, as `secaudit logs hunt` runs it: the workers fork
# from a small parent, not from this one, which holds the earlier cases' data by then
_FRESH = """
import json, resource, sys, time
from pathlib import Path
from secaudit.app.hunt import HuntOptions, hunt
count = [0]
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
started, used = time.perf_counter(), cpu()
path, cache, rules = sys.argv[1:4]
options = HuntOptions(inputs=(path,), rules=(Path(rules),), workers=2, cache_dir=Path(cache))
summary = hunt(options, on_hit=lambda hit: count.__setitem__(0, count[0] + 1))
print(json.dumps([summary.read.events, count[0], time.perf_counter() - started, cpu() - used]))
"""


def fresh_hunt(inputs: list[str], cache: Path) -> tuple[int, int, float, float]:
    """:func:`app_hunt` in a new Python process (its start-up and imports not counted)."""
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, *inputs, str(cache), str(RULES)],
        capture_output=True,
        text=True,
        check=True,
    )
    events, hits, seconds, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    return int(events), int(hits), float(seconds), float(cpu)


def _cpu_with_children() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parallelism(cpu: float, seconds: float) -> str:
    """CPU seconds over wall seconds: how much of the two cores the hunt got."""
    return f"{cpu / seconds:.2f} of 2 cores"


# -- the Zircolite method -------------------------------------------------------------------------


def _columns(events: list[LogEvent], fields: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for event in events:
        for key in event.fields:
            seen.setdefault(key, None)
    for key in fields:
        if key.lower() not in {k.lower() for k in seen}:
            seen.setdefault(key, None)
    return list(seen)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return value


def _regexp(pattern: str, value: object) -> bool:
    import re  # noqa: PLC0415

    return value is not None and re.search(pattern, str(value)) is not None


def _rule_fields(node: tuple[Any, ...]) -> Iterator[str]:
    kind = node[0]
    if kind in ("and", "or"):
        for child in node[1]:
            yield from _rule_fields(child)
    elif kind == "not":
        yield from _rule_fields(node[1])
    elif kind == "sel":
        yield from _rule_fields(node[2])
    elif kind == "field":
        yield node[1]


def zircolite(
    events: list[LogEvent], ruleset: RuleSet
) -> tuple[set[tuple[str, int]], dict[str, float], list[str]]:
    """Each rule converted by pySigma's sqlite backend, run over an in-memory SQLite table holding the
    events of each log kind the rule covers (columns COLLATE NOCASE, as Zircolite builds them)."""
    from sigma.backends.sqlite import sqliteBackend  # noqa: PLC0415
    from sigma.rule import SigmaRule  # noqa: PLC0415

    from secaudit.detect.documents import split_documents  # noqa: PLC0415

    times: dict[str, float] = {}
    started = time.perf_counter()
    backend = sqliteBackend()
    queries: list[tuple[int, list[str]]] = []
    failed: list[str] = []
    for i, plan in enumerate(ruleset.plans):
        path, line = plan.info.location.rsplit(":", 1)
        docs = dict(split_documents(Path(path).read_text(encoding="utf-8")))
        try:
            queries.append((i, backend.convert_rule(SigmaRule.from_dict(docs[int(line)]))))
        except Exception as e:  # the backend's refusals (keyword rules): counted, left out of both sides
            failed.append(f"{plan.info.id}: {type(e).__name__}")
    times["convert"] = time.perf_counter() - started

    started = time.perf_counter()
    by_kind: dict[LogKind, list[LogEvent]] = defaultdict(list)
    for event in events:
        by_kind[event.kind].append(event)
    tables: dict[LogKind, sqlite3.Connection] = {}
    for kind, group in by_kind.items():
        wanted = {
            f
            for plan in ruleset.plans
            if kind.covers(plan.info.product, plan.info.category, plan.info.service)
            for f in _rule_fields(plan.node)
        }
        columns = [*_columns(group, wanted), "secaudit_record"]
        db = sqlite3.connect(":memory:")
        db.create_function("regexp", 2, _regexp, deterministic=True)
        db.execute(f"CREATE TABLE logs ({', '.join(_quote(c) + ' COLLATE NOCASE' for c in columns)})")
        marks = ", ".join("?" * len(columns))
        names = columns[:-1]
        db.executemany(
            f"INSERT INTO logs VALUES ({marks})",
            ([*(_cell(e.fields.get(c)) for c in names), e.record] for e in group),
        )
        tables[kind] = db
    times["load events"] = time.perf_counter() - started

    started = time.perf_counter()
    pairs: set[tuple[str, int]] = set()
    for i, rule_queries in queries:
        info = ruleset.plans[i].info
        for kind, db in tables.items():
            if not kind.covers(info.product, info.category, info.service):
                continue
            for query in rule_queries:
                sql = query.replace("SELECT *", "SELECT secaudit_record", 1)
                try:
                    rows = db.execute(sql).fetchall()
                except sqlite3.Error as e:
                    failed.append(f"{info.id}: {e}")
                    continue
                pairs.update((info.id, int(r[0])) for r in rows)
    times["queries"] = time.perf_counter() - started
    return pairs, times, failed


# -- report ---------------------------------------------------------------------------------------


def row(label: str, value: str, target: str = "") -> None:
    print(f"| {label:<58} | {value:>22} | {target:<14} |", flush=True)


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench hunt")
    parser.add_argument("--events", type=int, default=1_000_000, help="JSONL events (default 1M)")
    parser.add_argument("--slice", type=int, default=100_000, help="events for the Zircolite comparison")
    parser.add_argument("--evtx-events", type=int, default=1_000_000, help="EVTX events (default 1M)")
    parser.add_argument("--evtx-only", action="store_true", help="rules and EVTX only (peak RSS of EVTX)")
    parser.add_argument(
        "--real-events", type=int, default=1_000_000, help="realistic Windows JSONL events (default 1M)"
    )
    parser.add_argument(
        "--folder-events", type=int, default=300_000, help="realistic events cut into a folder of files"
    )
    parser.add_argument("--folder-files", type=int, default=200, help="files in that folder (0: skip)")
    parser.add_argument("--skip-zircolite", action="store_true")
    args = parser.parse_args(argv)
    jsonl = None if args.evtx_only else dataset(args.events)
    real = None if args.evtx_only else wincorpus.corpus(args.real_events)
    folder = None
    if not args.evtx_only and args.folder_files > 0:
        folder = wincorpus.folder(args.folder_events, args.folder_files)
    evtx = evtx_file(args.evtx_events)
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start; rules: {RULES}")
    print(f"| {'case':<58} | {'figure':>22} | {'target':<14} |\n| --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        row("rule load, cold (parse + compile + cache write)", f"{load_seconds(cache):.2f} s", "<= 3 s")
        row("rule load, warm (from cache)", f"{load_seconds(cache):.2f} s", "<= 0.5 s")
        ruleset = load_rules([RULES], cache_dir=cache)
        engine = Engine(ruleset, cache_dir=cache)
        row("rules loaded / problems", f"{len(ruleset.rules)} / {len(ruleset.problems)}")

        if jsonl is not None:
            for _ in engine.match(read_events([str(head(jsonl, 20_000))], stats=ReadStats())):
                pass  # its groups are built (literal databases compiled) before the timing
            events, hits, seconds, cpu = read_and_match([str(jsonl)], engine)
            label = f"JSONL read + match, 1 process ({events:,} events, {hits:,} hits)"
            row(label, f"{events / seconds:,.0f} ev/s", ">= 30,000")
            row("  the same in CPU time of that process", f"{events / cpu:,.0f} ev/s")
            events, cpu_read = read_only([str(jsonl)])
            row("  of which reading alone (CPU time)", f"{events / cpu_read:,.0f} ev/s")
            row("  of which matching alone (CPU time)", f"{events / (cpu - cpu_read):,.0f} ev/s")
            warm = warm_up(jsonl, cache)
            row("JSONL: first 20,000 events hunted once (literal databases cached)", f"{warm:.1f} s CPU")
            result = app_hunt([str(jsonl)], cache)
            if result is None:
                row("JSONL end to end (secaudit.app.hunt)", "not available")
            else:
                events, hits, seconds, used = result
                row(
                    f"JSONL end to end, app.hunt 2 workers ({hits:,} hits)",
                    f"{events / seconds:,.0f} ev/s",
                    ">= 50,000",
                )
                row("  CPU obtained (the cores are shared with other work)", parallelism(used, seconds))
                row("  the same in MB/s", f"{jsonl.stat().st_size / 1e6 / seconds:,.0f} MB/s")
        if real is not None:
            realistic_rows(real, cache)
        if folder is not None:
            folder_rows(folder, cache)

        evtx_rows(evtx, engine, cache)
        row("peak RSS (self or any child)", f"{peak_mb():,.0f} MB", "<= 1,536 MB")
        row("load average (other processes share the 2 cores)", f"{os.getloadavg()[0]:.1f}")

        if jsonl is not None and not args.skip_zircolite:
            compare(head(jsonl, args.slice), ruleset, engine)
        if real is not None and not args.skip_zircolite:
            compare(head(real, args.slice), ruleset, engine)


def warm_up(path: Path, cache: Path) -> float:
    """Hunt the first 20,000 events of ``path`` once with the cache folder: the literal databases of
    their log sources are compiled into it, as the first audit of a scheduled series leaves them for
    the next. Returns the CPU seconds it took (the parent's and its workers')."""
    result = app_hunt([str(head(path, 20_000))], cache)
    return result[3] if result is not None else 0.0


def realistic_rows(path: Path, cache: Path) -> None:
    """End to end on the realistic Windows corpus: events/s, MB/s, cores used, the parent's share."""
    row(
        "realistic: first 20,000 events hunted once (literal databases cached)",
        f"{warm_up(path, cache):.1f} s CPU",
    )
    shape = wincorpus.shape(path)
    size = path.stat().st_size
    row(
        "realistic Windows JSONL: bytes per event (mean / p99)",
        f"{shape['mean_bytes']:,.0f} / {shape['p99_bytes']:,.0f} B",
        "about 2.4 KB",
    )
    row("  fields per event (mean)", f"{shape['mean_fields']:.1f}", "30 to 60")
    parent = resource.getrusage(resource.RUSAGE_SELF)
    result = app_hunt([str(path)], cache)
    if result is None:
        return
    events, hits, seconds, used = result
    after = resource.getrusage(resource.RUSAGE_SELF)
    own = (after.ru_utime + after.ru_stime) - (parent.ru_utime + parent.ru_stime)
    row(
        f"realistic end to end, app.hunt 2 workers ({hits:,} hits)",
        f"{events / seconds:,.0f} ev/s",
        ">= 50,000",
    )
    row("  the same in MB/s", f"{size / 1e6 / seconds:,.0f} MB/s", ">= 120 MB/s")
    row("  CPU obtained (the cores are shared with other work)", parallelism(used, seconds), ">= 1.8")
    row("  of which the parent process (ordering, correlation, output)", f"{own / used:.0%} of the CPU")
    row(f"  peak RSS so far (this process or a worker), {events:,} events", f"{peak_mb():,.0f} MB", "< 1 GB")
    fresh_rows("realistic end to end", path, size, cache)


def folder_rows(path: Path, cache: Path) -> None:
    """End to end on a folder of many realistic files of mixed sizes: whole files and pieces of the
    large ones are shared between the two workers; the parent only orders and delivers hits."""
    files = sorted(path.iterdir())
    size = sum(f.stat().st_size for f in files)
    parent = resource.getrusage(resource.RUSAGE_SELF)
    result = app_hunt([str(path)], cache)
    if result is None:
        return
    events, hits, seconds, used = result
    after = resource.getrusage(resource.RUSAGE_SELF)
    own = (after.ru_utime + after.ru_stime) - (parent.ru_utime + parent.ru_stime)
    row(
        f"folder of {len(files)} realistic files, 2 workers ({events:,} events, {hits:,} hits)",
        f"{events / seconds:,.0f} ev/s",
        ">= 50,000",
    )
    row("  the same in MB/s", f"{size / 1e6 / seconds:,.0f} MB/s", ">= 120 MB/s")
    row("  CPU obtained (the cores are shared with other work)", parallelism(used, seconds), ">= 1.8")
    row("  of which the parent process (ordering, correlation, output)", f"{own / used:.0%} of the CPU")
    fresh_rows(f"folder of {len(files)} realistic files", path, size, cache)


def fresh_rows(label: str, path: Path, size: int, cache: Path) -> None:
    """The rows of ``path`` hunted by :func:`fresh_hunt`, in a new process."""
    events, hits, seconds, used = fresh_hunt([str(path)], cache)
    row(f"{label}, app.hunt in a new process ({hits:,} hits)", f"{events / seconds:,.0f} ev/s", ">= 50,000")
    row("  the same in MB/s", f"{size / 1e6 / seconds:,.0f} MB/s", ">= 120 MB/s")
    row("  CPU obtained", parallelism(used, seconds), ">= 1.8")


def evtx_rows(evtx: Path, engine: Engine, cache: Path) -> None:
    """The EVTX figures: end to end, then where the time goes, each step in CPU time of one process."""
    size = evtx.stat().st_size
    result = app_hunt([str(evtx)], cache)
    if result is not None:
        events, hits, seconds, used = result
        row(
            f"EVTX end to end, app.hunt 2 workers ({events:,} events, {hits:,} hits)",
            f"{events / seconds:,.0f} ev/s",
            ">= 30,000",
        )
        row("  CPU obtained", parallelism(used, seconds))
        row("  the same per CPU second obtained", f"{events / used:,.0f} ev/s")
    chunks = (size - 4096) // 65536
    count, alone, decoded = evtx_parser_only(evtx)
    row(
        f"EVTX: evtx parser alone ({count:,} records, {count / chunks:.0f} per chunk)",
        f"{count / alone:,.0f} ev/s",
    )
    row("  evtx parser + JSON decoding (CPU time)", f"{count / decoded:,.0f} ev/s")
    events, cpu_read = read_only([str(evtx)])
    row("  reading: parser + decoding + mapping (CPU time)", f"{events / cpu_read:,.0f} ev/s")
    events, hits, seconds, cpu = read_and_match([str(evtx)], engine)
    row(f"EVTX read + match, 1 process ({hits:,} hits)", f"{events / seconds:,.0f} ev/s")
    row("  the same in CPU time of that process", f"{events / cpu:,.0f} ev/s")
    row("  of which matching alone (CPU time)", f"{events / (cpu - cpu_read):,.0f} ev/s")
    per_event = {
        "evtx parse": alone,
        "JSON decode": decoded - alone,
        "mapping": cpu_read - decoded,
        "matching": cpu - cpu_read,
    }
    split = ", ".join(f"{k} {v / events * 1e6:.1f}" for k, v in per_event.items())
    row("  CPU microseconds per event", split)


def compare(path: Path, ruleset: RuleSet, engine: Engine) -> None:
    events = list(read_events([str(path)], stats=ReadStats()))
    ours, seconds = timed(lambda: {(h.rule.id, h.event.record) for h in engine.match(events)})
    row(f"secaudit match on the {len(events):,}-event slice of {path.name}", f"{seconds:.2f} s")
    (theirs, times, failed), _ = timed(lambda: zircolite(events, ruleset))
    skipped = {f.split(":", 1)[0] for f in failed}
    row("Zircolite method: convert rules (pySigma sqlite)", f"{times['convert']:.2f} s")
    row("Zircolite method: load events into SQLite", f"{times['load events']:.2f} s")
    row("Zircolite method: run queries", f"{times['queries']:.2f} s")
    sql_seconds = times["load events"] + times["queries"]
    row("time ratio: Zircolite (load + queries) / secaudit", f"{sql_seconds / seconds:.1f}x", ">= 10x")
    row("rules the sqlite backend could not run (left out)", f"{len(skipped)}")
    ours = {p for p in ours if p[0] not in skipped}
    row("(rule id, record) pairs: secaudit / Zircolite", f"{len(ours):,} / {len(theirs):,}", "equal")
    only_ours, only_theirs = sorted(ours - theirs), sorted(theirs - ours)
    if only_ours or only_theirs:
        by_rule = Counter(r for r, _ in only_ours)
        print(f"only secaudit: {len(only_ours)} pairs, by rule: {by_rule.most_common(10)}")
        by_rule = Counter(r for r, _ in only_theirs)
        print(f"only Zircolite: {len(only_theirs)} pairs, by rule: {by_rule.most_common(10)}")


if __name__ == "__main__":
    main()
