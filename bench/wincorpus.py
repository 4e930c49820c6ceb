"""A benchmark corpus shaped like real Windows logging, as flat JSON lines.

Real collections (Security, Sysmon, PowerShell and System channels exported as flat JSON) average
about 2.4 KB per event with a long tail, carry 30 to 60 fields each, and every event has a rendered
``Message``: a paragraph of explanation plus the event's values, which for PowerShell script-block
events repeats the whole script. This generator reproduces that shape:

- channel mix: Security 45 %, Sysmon 35 %, PowerShell 10 %, System 10 %;
- the Windows system fields on every event (provider, ids, level, task, keywords, times, thread...);
- event-data fields per event id, with ordinary city-operations values;
- a rendered ``Message`` per event (our own wording, the length of the real ones);
- script blocks of 200 B to 30 KB (log-normal), so the size distribution has the real long tail;
- about 7 % of events are SigmaHQ regression events (real detection triggers) dressed the same way,
  so 5 to 10 % of events match some rule, as in a real environment with noisy rules.

``python -m bench.wincorpus N`` writes bench/.data/windows-N.jsonl and prints its size figures.
Deterministic for a given N and seed. Nothing here touches the network.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

DATA = Path(__file__).resolve().parent / ".data"
SECURITY = "Security"
SYSMON = "Microsoft-Windows-Sysmon/Operational"
POWERSHELL = "Microsoft-Windows-PowerShell/Operational"
SYSTEM = "System"

HOSTS = [f"cc-ws-{n:03d}.phuket.example" for n in range(240)] + [
    f"cc-srv-{n:02d}.phuket.example" for n in range(60)
]
USERS = [f"op{n:02d}" for n in range(80)] + ["svc-backup", "svc-nvr", "svc-traffic", "Administrator"]
IMAGES = [
    "C:\\Program Files\\CityOps\\TrafficConsole\\tconsole.exe",
    "C:\\Program Files\\CityOps\\AlertDesk\\alertdesk.exe",
    "C:\\Program Files\\Mozilla Firefox\\firefox.exe",
    "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    "C:\\Windows\\explorer.exe",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
    "C:\\Program Files\\VideoLAN\\VLC\\vlc.exe",
]
SERVICES = ["CityOps Alert Relay", "NVR Sync", "Windows Update", "Print Spooler", "Traffic Console Agent"]
SCRIPT_WORDS = (  # noqa: SIM905 (a phrase reads better than a list of words)
    "Get-ChildItem Select-Object Where-Object ForEach-Object Write-Output Get-Content "
    "-LiteralPath C:\\Reports\\status.json ConvertFrom-Json $response.items $_.Name "
    "Import-Module CityOps.Reports New-Object System.Collections.ArrayList Add-Content -Path "
    "C:\\Reports\\shift.log Start-Sleep -Seconds 5 if ( -eq $null ) { } else { } return $result"
).split()

# Our own explanatory paragraphs, as long as the ones Windows renders for these events.
LOGON_TEXT = (
    "A user or service signed in to this computer. The subject fields name the account that asked "
    "for the sign-in, usually the local system for a service or interactive sign-in. The sign-in "
    "type says how it happened: 2 at the console, 3 over the network, 4 for a batch job, 5 for a "
    "service, 7 to unlock, 10 through remote desktop, 11 with cached credentials. The new-logon "
    "fields name the account that now holds a session, and its logon id ties this event to the "
    "events of the same session. The network fields say where a remote sign-in came from, when "
    "known. The authentication fields name the package that checked the credentials and, for NTLM, "
    "its version and key length; an empty key length means the session was not protected by it. "
    "Elevated token says whether the session holds administrative rights. Process fields name the "
    "program that handled the request. Together these let an analyst follow one account's sessions "
    "across a network of servers and workstations and spot sign-ins from unexpected places. "
)
PROCESS_TEXT = (
    "A new process started on this computer. The creator fields name the account and session that "
    "started it, the target fields the account it runs as. The token elevation type says whether it "
    "received the full administrative token, a limited one, or the default. The mandatory label is "
    "its integrity level. The creator process is the parent that asked for it; the command line is "
    "recorded only when the audit policy includes it, and shows the exact arguments it was given. "
)
SERVICE_TEXT = "The service changed state or was installed. Its name, start type and account are recorded. "


def _system(channel: str, provider: str, event_id: int, host: str, record: int, stamp: str) -> dict[str, Any]:
    """The fields every Windows event carries (the System part of the record)."""
    return {
        "Provider_Name": provider,
        "Provider_Guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
        "EventID": event_id,
        "Version": 2,
        "Level": 0 if channel == SECURITY else 4,
        "Task": 12544 if channel == SECURITY else event_id,
        "Opcode": 0,
        "Keywords": "0x8020000000000000" if channel == SECURITY else "0x8000000000000000",
        "TimeCreated": stamp,
        "EventRecordID": record,
        "Correlation_ActivityID": "{4c2f0b1e-6d2a-4a7e-9d4b-2b9d1f6e0a11}",
        "Execution_ProcessID": 676 if channel == SECURITY else 3212,
        "Execution_ThreadID": 700 + record % 4000,
        "Channel": channel,
        "Computer": host,
        "Security_UserID": "S-1-5-18",
    }


def _message(headline: str, body: str, fields: dict[str, Any]) -> str:
    values = "\r\n".join(f"\t{name}:\t{value}" for name, value in fields.items())
    return f"{headline}\r\n\r\n{body}\r\n\r\n{values}"


def _script(rng: random.Random) -> str:
    size = min(30_000, max(200, int(rng.lognormvariate(7.2, 1.1))))
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(SCRIPT_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def _security(rng: random.Random, n: int, host: str) -> tuple[int, dict[str, Any], str, str]:
    user = rng.choice(USERS)
    roll = rng.random()
    if roll < 0.5:
        data = {
            "SubjectUserSid": "S-1-5-18",
            "SubjectUserName": host.split(".", maxsplit=1)[0].upper() + "$",
            "SubjectDomainName": "PHUKET",
            "SubjectLogonId": "0x3e7",
            "TargetUserSid": f"S-1-5-21-1-{1000 + n % 500}",
            "TargetUserName": user,
            "TargetDomainName": "PHUKET",
            "TargetLogonId": f"0x{rng.getrandbits(32):x}",
            "LogonType": rng.choice([2, 3, 3, 3, 5, 7, 10]),
            "LogonProcessName": "Kerberos",
            "AuthenticationPackageName": "Kerberos",
            "WorkstationName": "-",
            "LogonGuid": f"{{{rng.getrandbits(128):032x}}}",
            "TransmittedServices": "-",
            "LmPackageName": "-",
            "KeyLength": 0,
            "ProcessId": "0x2c4",
            "ProcessName": "C:\\Windows\\System32\\lsass.exe",
            "IpAddress": f"10.10.{n % 250}.{n % 199 + 1}",
            "IpPort": rng.randint(49152, 65535),
            "ImpersonationLevel": "%%1833",
            "RestrictedAdminMode": "-",
            "TargetOutboundUserName": "-",
            "TargetOutboundDomainName": "-",
            "VirtualAccount": "%%1843",
            "TargetLinkedLogonId": "0x0",
            "ElevatedToken": "%%1842",
        }
        return 4624, data, "An account was successfully logged on.", LOGON_TEXT
    if roll < 0.8:
        image = rng.choice(IMAGES)
        data = {
            "SubjectUserSid": f"S-1-5-21-1-{1000 + n % 500}",
            "SubjectUserName": user,
            "SubjectDomainName": "PHUKET",
            "SubjectLogonId": f"0x{rng.getrandbits(32):x}",
            "NewProcessId": f"0x{rng.getrandbits(16):x}",
            "NewProcessName": image,
            "TokenElevationType": "%%1938",
            "ProcessId": f"0x{rng.getrandbits(16):x}",
            "CommandLine": f'"{image}" --profile shift-{n % 12}',
            "TargetUserSid": "S-1-0-0",
            "TargetUserName": "-",
            "TargetDomainName": "-",
            "TargetLogonId": "0x0",
            "ParentProcessName": "C:\\Windows\\explorer.exe",
            "MandatoryLabel": "S-1-16-8192",
        }
        return 4688, data, "A new process has been created.", PROCESS_TEXT
    data = {
        "SubjectUserSid": f"S-1-5-21-1-{1000 + n % 500}",
        "SubjectUserName": user,
        "SubjectDomainName": "PHUKET",
        "SubjectLogonId": f"0x{rng.getrandbits(32):x}",
        "PrivilegeList": "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege",
    }
    return 4672, data, "Special privileges assigned to new logon.", LOGON_TEXT[:600]


def _sysmon(rng: random.Random, n: int, host: str) -> tuple[int, dict[str, Any], str, str]:
    image = rng.choice(IMAGES)
    common = {
        "RuleName": "-",
        "UtcTime": "",
        "ProcessGuid": f"{{{rng.getrandbits(128):032X}}}",
        "ProcessId": rng.randint(100, 65000),
        "Image": image,
        "User": f"PHUKET\\{rng.choice(USERS)}",
    }
    roll = rng.random()
    if roll < 0.35:
        data = {
            **common,
            "FileVersion": "10.0.19041.1",
            "Description": image.rsplit("\\", 1)[1].split(".")[0],
            "Product": "City Operations",
            "Company": "City Operations Vendor",
            "OriginalFileName": image.rsplit("\\", 1)[1],
            "CommandLine": f'"{image}" --type=renderer --lang=th --shift {n % 12}',
            "CurrentDirectory": "C:\\Users\\Public\\",
            "LogonGuid": f"{{{rng.getrandbits(128):032X}}}",
            "LogonId": f"0x{rng.getrandbits(32):x}",
            "TerminalSessionId": 1,
            "IntegrityLevel": "Medium",
            "Hashes": f"SHA256={rng.getrandbits(256):064X},IMPHASH={rng.getrandbits(128):032X}",
            "ParentProcessGuid": f"{{{rng.getrandbits(128):032X}}}",
            "ParentProcessId": rng.randint(100, 65000),
            "ParentImage": "C:\\Windows\\explorer.exe",
            "ParentCommandLine": "C:\\Windows\\Explorer.EXE",
            "ParentUser": common["User"],
        }
        return 1, data, "Process Create:", ""
    if roll < 0.6:
        data = {
            **common,
            "Protocol": "tcp",
            "Initiated": "true",
            "SourceIsIpv6": "false",
            "SourceIp": f"10.10.{n % 250}.{n % 199 + 1}",
            "SourceHostname": host,
            "SourcePort": rng.randint(49152, 65535),
            "SourcePortName": "-",
            "DestinationIsIpv6": "false",
            "DestinationIp": f"10.20.{n % 250}.{n % 97 + 1}",
            "DestinationHostname": "tiles.phuket-city.example",
            "DestinationPort": 443,
            "DestinationPortName": "https",
        }
        return 3, data, "Network connection detected:", ""
    if roll < 0.8:
        data = {
            **common,
            "ImageLoaded": rng.choice(
                ["C:\\Windows\\System32\\kernel32.dll", "C:\\Windows\\System32\\ws2_32.dll"]
            ),
            "FileVersion": "10.0.19041.1",
            "Description": "Windows library",
            "Product": "Microsoft Windows Operating System",
            "Company": "Microsoft Corporation",
            "OriginalFileName": "kernel32.dll",
            "Hashes": f"SHA256={rng.getrandbits(256):064X}",
            "Signed": "true",
            "Signature": "Microsoft Windows",
            "SignatureStatus": "Valid",
        }
        return 7, data, "Image loaded:", ""
    data = {
        **common,
        "EventType": "SetValue",
        "TargetObject": f"HKU\\S-1-5-21-1-{n % 500}\\Software\\CityOps\\Console\\LastLayout",
        "Details": f"DWORD (0x{n % 4096:08x})",
    }
    return 13, data, "Registry value set:", ""


def _powershell(rng: random.Random, n: int, host: str) -> tuple[int, dict[str, Any], str, str]:
    script = _script(rng)
    block = f"{rng.getrandbits(128):032x}"
    data = {
        "MessageNumber": 1,
        "MessageTotal": 1,
        "ScriptBlockText": script,
        "ScriptBlockId": block,
        "Path": f"C:\\Scripts\\CityOps\\report-{n % 40}.ps1",
    }
    body = f"Creating Scriptblock text (1 of 1):\r\n{script}\r\n\r\nScriptBlock ID: {block}"
    return 4104, data, "Script block logged:", body


def _system_channel(rng: random.Random, n: int, host: str) -> tuple[int, dict[str, Any], str, str]:
    service = rng.choice(SERVICES)
    data = {
        "param1": service,
        "param2": rng.choice(["running", "stopped"]),
        "Binary": f"{rng.getrandbits(64):016X}",
    }
    return 7036, data, f"The {service} service changed state.", SERVICE_TEXT


CHANNELS = (
    (0.45, SECURITY, "Microsoft-Windows-Security-Auditing", _security),
    (0.35, SYSMON, "Microsoft-Windows-Sysmon", _sysmon),
    (0.10, POWERSHELL, "Microsoft-Windows-PowerShell", _powershell),
    (0.10, SYSTEM, "Service Control Manager", _system_channel),
)


def _channel(pick: float) -> tuple[str, str, Any]:
    for share, channel, provider, build in CHANNELS:
        if pick < share:
            return channel, provider, build
        pick -= share
    return CHANNELS[-1][1:]


def regression_events() -> list[dict[str, Any]]:
    from bench.hunt import regression_events as events  # noqa: PLC0415 - it imports this module

    return [e for e in events() if e.get("Channel") in (SECURITY, SYSMON, POWERSHELL, SYSTEM)]


def events(count: int, seed: int = 20261207, match_share: float = 0.07) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    triggers = regression_events()
    for n in range(count):
        host = HOSTS[n % len(HOSTS)]
        day, hour, minute = 1 + (n // 40000) % 28, (n // 1800) % 24, (n // 30) % 60
        stamp = f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:{n % 60:02d}.{n % 1000:03d}Z"
        if triggers and rng.random() < match_share:
            trigger = dict(triggers[n % len(triggers)])
            channel = str(trigger.get("Channel", SYSMON))
            system = _system(
                channel,
                str(trigger.get("Provider_Name", "")),
                int(trigger.get("EventID", 1)),
                host,
                n + 1,
                stamp,
            )
            data = {k: v for k, v in trigger.items() if k not in system}
            message = _message(f"Event {system['EventID']}:", "", data)
            yield {**system, **data, "Message": message}
            continue
        channel, provider, build = _channel(rng.random())
        event_id, data, headline, body = build(rng, n, host)
        if "UtcTime" in data:
            data["UtcTime"] = stamp.replace("T", " ").rstrip("Z")
        system = _system(channel, provider, event_id, host, n + 1, stamp)
        yield {**system, **data, "Message": _message(headline, body, data)}


def corpus(count: int) -> Path:
    """bench/.data/windows-COUNT.jsonl, generated once."""
    path = DATA / f"windows-{count}.jsonl"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / ".gitignore").write_text("*\n", encoding="utf-8")
    started = time.perf_counter()
    write(path, count)
    size = path.stat().st_size
    print(
        f"generated {path} ({size / 1e6:.0f} MB, {size / count:,.0f} B per event) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return path


def folder(count: int, files: int = 200, seed: int = 20261207) -> Path:
    """bench/.data/windows-COUNT-in-FILES/: the corpus's events cut into FILES files of mixed sizes,
    generated once. File sizes follow a log-normal draw (a few files hold a large share, most are
    small: a collection of many hosts' exports), each file at least one event."""
    path = DATA / f"windows-{count}-in-{files}"
    if path.is_dir():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / ".gitignore").write_text("*\n", encoding="utf-8")
    started = time.perf_counter()
    rng = random.Random(seed)
    weights = [rng.lognormvariate(0.0, 1.5) for _ in range(files)]
    total = sum(weights)
    sizes = [max(1, int(count * w / total)) for w in weights]
    sizes[sizes.index(max(sizes))] += count - sum(sizes)  # the largest file takes the rounding
    tmp = path.with_name(path.name + ".tmp")
    tmp.mkdir(exist_ok=True)
    stream = events(count)
    for index, size in enumerate(sizes):
        with (tmp / f"{index:03d}-{HOSTS[index % len(HOSTS)]}.jsonl").open("wb") as out:
            for _ in range(size):
                out.write(orjson.dumps(next(stream), option=orjson.OPT_APPEND_NEWLINE))
    tmp.replace(path)
    megabytes = sum(f.stat().st_size for f in path.iterdir()) / 1e6
    print(
        f"generated {path} ({files} files, {megabytes:.0f} MB, {min(sizes):,} to {max(sizes):,} events "
        f"per file) in {time.perf_counter() - started:.0f} s"
    )
    return path


def write(path: Path, count: int) -> None:
    """``count`` events as flat JSON lines at ``path`` (replaced atomically)."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for event in events(count):
            out.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
    tmp.replace(path)


def shape(path: Path, sample: int = 20_000) -> dict[str, float]:
    """Size and field-count figures of a corpus (the first ``sample`` events)."""
    sizes: list[int] = []
    fields: list[int] = []
    channels: dict[str, int] = {}
    with path.open("rb") as handle:
        for i, line in enumerate(handle):
            if i >= sample:
                break
            event = orjson.loads(line)
            sizes.append(len(line))
            fields.append(len(event))
            channels[event.get("Channel", "")] = channels.get(event.get("Channel", ""), 0) + 1
    sizes.sort()
    return {
        "mean_bytes": sum(sizes) / len(sizes),
        "median_bytes": sizes[len(sizes) // 2],
        "p99_bytes": sizes[int(len(sizes) * 0.99)],
        "max_bytes": sizes[-1],
        "mean_fields": sum(fields) / len(fields),
        **{f"share {name}": count / len(sizes) for name, count in sorted(channels.items())},
    }


if __name__ == "__main__":
    target = corpus(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    for key, value in shape(target).items():
        print(f"{key}: {value:,.2f}")
