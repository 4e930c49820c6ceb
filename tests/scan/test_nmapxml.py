from __future__ import annotations

from pathlib import Path

import pytest

from secaudit.core.errors import OperationalError
from secaudit.scan import parse_nmap_xml, read_nmap_xml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nmap"


def test_every_cpe_of_a_service_is_kept() -> None:
    # python-nmap keeps only the last <cpe>; nmap reported two for this OpenSSH banner.
    run = read_nmap_xml(FIXTURES / "rules" / "EXP-FTP" / "nomatch.xml")
    port = run.up_hosts()[0].ports[0]
    assert port.service is not None
    assert port.service.probed
    assert port.service.product == "OpenSSH"
    assert port.service.cpes == ("cpe:/a:openbsd:openssh:9.2p1", "cpe:/o:linux:linux_kernel")


def test_nse_structured_output_keeps_tables_and_elems() -> None:
    run = read_nmap_xml(FIXTURES / "rules" / "EXP-SSH-WEAK-ALGORITHMS" / "match.xml")
    script = run.up_hosts()[0].ports[0].script("ssh2-enum-algos")
    assert script is not None
    assert [t.key for t in script.table.tables] == [
        "kex_algorithms",
        "server_host_key_algorithms",
        "encryption_algorithms",
        "mac_algorithms",
        "compression_algorithms",
    ]
    assert script.table.under("kex_algorithms") == [
        "diffie-hellman-group1-sha1",
        "diffie-hellman-group14-sha1",
        "curve25519-sha256",
    ]
    tls = read_nmap_xml(FIXTURES / "rules" / "EXP-TLS-WEAK-GRADE" / "match.xml")
    ciphers = tls.up_hosts()[0].ports[0].script("ssl-enum-ciphers")
    assert ciphers is not None
    assert ciphers.table.under("least strength") == ["F"]
    assert ciphers.table.has_key("TLSv1.0") and not ciphers.table.has_key("TLSv1.2")
    assert "TLS_RSA_WITH_NULL_SHA" in ciphers.table.under("name")


def test_hosts_ports_timing_and_run_facts() -> None:
    run = read_nmap_xml(FIXTURES / "demo-traffic-control.xml")
    assert run.complete and run.error == ""
    assert run.version == "7.93"
    assert "-iL" in run.args and "-sV" not in run.args
    assert run.elapsed_s is not None and run.elapsed_s > 0
    assert run.hosts_total == 13  # 127.20.2.1-14 minus the excluded .14
    assert "127.20.2.14" not in {h.ip for h in run.hosts}
    host = next(h for h in run.hosts if h.ip == "127.20.2.10")
    assert host.state == "up"
    assert host.times.srtt_us >= 0
    assert host.started is not None and host.ended is not None
    assert [(p.protocol, p.number, p.state) for p in host.open_ports()] == [("tcp", 502, "open")]
    assert host.extraports == (("closed", 26),)  # 24 TCP + 3 UDP ports probed, 502 open


def test_truncated_xml_keeps_every_complete_host() -> None:
    data = (FIXTURES / "demo-traffic-control.xml").read_bytes()
    cut = data.index(b'<address addr="127.20.2.11"')  # inside the host after 127.20.2.10
    run = parse_nmap_xml(data[:cut])
    assert not run.complete
    assert "complete host(s) kept" in run.error
    assert [h.ip for h in run.hosts][-1] == "127.20.2.10"
    assert "127.20.2.11" not in {h.ip for h in run.hosts}
    missing_runstats = data[: data.index(b"<runstats>")]
    interrupted = parse_nmap_xml(missing_runstats)  # nmap killed before it wrote <runstats>
    assert not interrupted.complete
    assert len(interrupted.hosts) == 13
    assert "13 complete host(s) kept" in interrupted.error


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "not nmap XML"),
        (b"<html><body>hi</body></html>", "starts with <html>"),
        (b"Starting Nmap 7.93\nFailed to resolve", "not nmap XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY a "aaaa">]><nmaprun>&a;</nmaprun>',
            "refused unsafe XML",
        ),
    ],
)
def test_not_nmap_xml_is_an_operational_error(data: bytes, needle: str) -> None:
    with pytest.raises(OperationalError, match=needle) as info:
        parse_nmap_xml(data, source="run/x.xml")
    assert info.value.location == "run/x.xml"
