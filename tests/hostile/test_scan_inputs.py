"""nmap XML and captures defended: mutated, cut and foreign inputs end in kept results or a clear
error, never an uncaught exception (fixed-seed mutation fuzz over the repository's fixtures).

The suite runs 1,500 mutated nmap documents and 300 captures; the sizes the hostile-input review used
(5,000 and 20,000) run with ``SECAUDIT_FUZZ_NMAP=5000 SECAUDIT_FUZZ_PCAP=20000 pytest tests/hostile/
test_scan_inputs.py`` (same seeds, so the first cases are the suite's)."""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import pytest

from secaudit.core.errors import SecauditError
from secaudit.scan.nmapxml import parse_nmap_xml
from secaudit.scan.passive import analyze
from secaudit.scan.pcap import CaptureError, CaptureFile
from tests.conftest import REPO

NMAP = sorted((REPO / "tests" / "fixtures" / "nmap").rglob("*.xml"))
PCAP = REPO / "tests" / "fixtures" / "pcap" / "city.pcap"
NMAP_CASES = int(os.environ.get("SECAUDIT_FUZZ_NMAP", "1500"))
PCAP_CASES = int(os.environ.get("SECAUDIT_FUZZ_PCAP", "300"))
TOKENS = (b"<", b">", b'"', b"</table>", b"<table>", b"<host>", b"</host>", b'elapsed="x"', b"\x00", b"&#0;")


def _mutate(data: bytes, rng: random.Random, tokens: tuple[bytes, ...] = ()) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(out) + 1)
        op = rng.random()
        if op < 0.35 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op < 0.5 and tokens:
            out[pos:pos] = rng.choice(tokens)
        elif op < 0.7:
            del out[pos : pos + rng.randint(1, 64)]
        elif op < 0.85:
            del out[pos:]
        else:
            a, b = sorted((rng.randrange(len(out) + 1), rng.randrange(len(out) + 1)))
            out[pos:pos] = out[a:b][:4096]
    return bytes(out)


def test_mutated_nmap_xml_never_raises_anything_but_a_clear_error() -> None:
    rng = random.Random(20261207)
    seeds = [p.read_bytes() for p in NMAP]
    uncaught: list[str] = []
    clear = kept = 0
    for _ in range(NMAP_CASES):
        data = _mutate(rng.choice(seeds), rng, TOKENS)
        try:
            run = parse_nmap_xml(data, source="fuzz.xml")
        except SecauditError as e:
            assert e.location == "fuzz.xml" and e.hint
            clear += 1
        except Exception as e:
            uncaught.append(f"{type(e).__name__}: {e}")
        else:
            kept += 1
            assert run.complete or run.error  # a damaged document says so
    assert uncaught == []
    assert clear > 50 and kept > 500  # both outcomes were exercised


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "not nmap XML"),
        (b"not xml at all", "not nmap XML"),
        (b"", "not nmap XML"),
        (b"<?xml version='1.0' encoding='UTz-8'?><nmaprun/>", "not nmap XML"),
        (b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><nmaprun>&a;</nmaprun>", "refused unsafe XML"),
    ],
)
def test_foreign_documents_are_refused_clearly(document: bytes, words: str) -> None:
    with pytest.raises(SecauditError) as caught:
        parse_nmap_xml(document, source="other.xml")
    assert words in caught.value.message and caught.value.location == "other.xml"


def test_deeply_nested_script_tables_are_read_to_a_bound() -> None:
    depth = 20_000
    doc = (
        b'<nmaprun><host><status state="up"/><hostscript><script id="x" output="">'
        + b"<table>" * depth
        + b"</table>" * depth
        + b'</script></hostscript></host><runstats><finished elapsed="1"/></runstats></nmaprun>'
    )
    run = parse_nmap_xml(doc)
    assert run.complete and len(run.hosts) == 1


def _pcapng(*blocks: bytes) -> bytes:
    return b"".join(blocks)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


SHB = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
IDB = _block(1, struct.pack("<HHI", 1, 0, 65535))
EPB = _block(6, struct.pack("<IIIII", 0, 0, 0, 60, 60) + bytes(60))


@pytest.mark.parametrize(
    "data",
    [
        b"\xd4\xc3\xb2\xa1" + bytes(6),  # a pcap of 10 bytes
        _pcapng(SHB, IDB, EPB, struct.pack("<II", 6, 12)),  # an empty block at the end
        _pcapng(SHB, IDB, _block(6, b"")),  # a packet block with no body
        _pcapng(SHB, _block(1, b"")),  # an interface block with no body
        bytes(3),
    ],
    ids=[
        "pcap-10-bytes",
        "pcapng-empty-last-block",
        "pcapng-empty-packet",
        "pcapng-empty-interface",
        "3-bytes",
    ],
)
def test_cut_and_empty_captures_end_in_a_clear_result(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "capture.pcapng"
    path.write_bytes(data)
    try:
        with CaptureFile.open(path) as capture:
            packets = list(capture.records())
    except CaptureError as e:
        assert e.location == str(path)
        return
    assert capture.truncated or capture.records_read == len(packets)


def test_mutated_captures_never_raise(tmp_path: Path) -> None:
    rng = random.Random(7)
    seeds = [PCAP.read_bytes(), _pcapng(SHB, IDB, EPB, EPB, IDB, EPB)]
    uncaught: list[str] = []
    for i in range(PCAP_CASES):
        path = tmp_path / f"m{i % 8}.pcap"
        path.write_bytes(_mutate(rng.choice(seeds), rng))
        try:
            analyze([path])
        except SecauditError:
            pass
        except Exception as e:
            uncaught.append(f"{type(e).__name__}: {e}")
    assert uncaught == []
