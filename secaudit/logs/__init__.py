"""Log ingestion: read every supported log format and map each event, once, to the Sigma taxonomy.

``read_events`` reads inputs in order; ``plan_shards`` + ``read_shard`` read the same events in pieces
that worker processes can take. Every event is a :class:`secaudit.core.events.LogEvent`; what could not
be read is counted in :class:`ReadStats`, never raised (only a named input that cannot be opened raises
``OperationalError``). Formats are detected from content, per file; gzip and UTF-16 (with a byte-order
mark) are read transparently. Lines over 1 MiB and multi-line records over 4 MiB are skipped and counted.

==============  ===========================================  =========================================
format          kind (product / categories / services)        record, fields
==============  ===========================================  =========================================
evtx            windows / by (channel, EventID) / by channel  EventRecordID; EventData by name + System
evtx-json       same (evtx_dump, pretty or one per line)      EventRecordID; same fields as evtx
ecs-json        same (Winlogbeat ``winlog.*``)                line; same fields as evtx
flat-json       same when EventID + Channel/provider; journald    line; keys (nested -> dotted names);
                entries as syslog; else empty                  journald: + syslog fields
syslog          linux / - / syslog + program (sshd: sshd,      line; hostname, Computer, program, pid,
                auth; sudo: sudo, auth; cron; kernel...)       message, facility, severity, msgid, SD
                Sysmon for Linux XML: linux / Sysmon / sysmon  line; as evtx
                audisp-syslog records: as auditd, one a line   line; as auditd
                Cisco %FAC-SEV-MNEM: cisco / - / aaa, bgp...   line; facility, severity, mnemonic,
                                                               message, user, src_ip, command...
auditd          linux / process_creation (EXECVE) / auditd     first line; record fields, type list,
                                                               Image, CommandLine, CurrentDirectory
access-log      - / webserver / -                              line; c-ip, cs-method, c-uri, cs-uri-stem,
                                                               cs-uri-query, sc-status, c-useragent...
zeek-json       zeek / dns for dns / log type                  line; Zeek names (id.orig_h, query...)
zeek-tsv        same                                           line; typed by #types
csv             windows as flat-json, else empty or ``kind``   row's first line; header names
==============  ===========================================  =========================================

Windows categories follow pySigma's Sysmon, windows and windows-audit pipelines (Security 4688 is
process_creation with ``Image``/``ParentImage``/``LogonId`` aliases); services come from pySigma's table of
Windows channels. Details per format are in each module's docstring.
"""

from secaudit.logs.formats import LogFormat, format_names, log_format, sniffer
from secaudit.logs.reader import Shard, copies_streams, plan_shards, read_events, read_shard, release_spilled
from secaudit.logs.stats import ReadStats
from secaudit.logs.windows import load_tables as load_windows_tables

__all__ = [
    "LogFormat",
    "ReadStats",
    "Shard",
    "copies_streams",
    "format_names",
    "load_windows_tables",
    "log_format",
    "plan_shards",
    "read_events",
    "read_shard",
    "release_spilled",
    "sniffer",
]
