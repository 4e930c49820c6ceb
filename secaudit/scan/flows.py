"""Which flows between segments are allowed: a zone model by segment kind, refined by a policy file.

Without a policy file the default zone model applies (our reading of zone-and-conduit practice
for city OT, in the spirit of IEC 62443): traffic inside a segment is allowed; the management
segment(s) may reach every segment; IT segments may reach IT and DMZ segments; nothing else
crosses a segment boundary, so IT or DMZ talking to OT or CCTV, OT or CCTV talking out, and
DMZ reaching inward are all flagged. A policy file lists the conduits the city has approved::

    allow:
      - from: command-center        # segment names of the profile
        to: traffic-control
        ports: [tcp/502, udp/161]   # optional; omitted means any port
        reason: SCADA polling of the signal controllers

A flow matches an ``allow`` entry by client segment, server segment and server port.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secaudit.catalog.yamlload import check_keys, load_yaml, located
from secaudit.core.errors import ConfigError
from secaudit.core.model import SegmentKind
from secaudit.core.profile import Profile

_DEFAULT_KIND_CONDUITS = frozenset(
    {
        (SegmentKind.IT, SegmentKind.IT),
        (SegmentKind.IT, SegmentKind.DMZ),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conduit:
    source: str  # client segment
    target: str  # server segment
    ports: tuple[str, ...] = ()  # "tcp/502"; () = any
    reason: str = ""
    where: str = ""  # file:line

    def covers(self, port: str) -> bool:
        return not self.ports or port in self.ports


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowPolicy:
    """The allowed conduits; ``explain`` says why a flow is or is not allowed."""

    profile: Profile
    conduits: tuple[Conduit, ...] = ()
    source: str = "default zone model"

    def check(self, client_segment: str, server_segment: str, port: str) -> tuple[bool, str]:
        """``(allowed, why)`` for a flow from a client segment to a server segment's port."""
        if client_segment == server_segment:
            return True, "inside one segment"
        for conduit in self.conduits:
            if conduit.source == client_segment and conduit.target == server_segment and conduit.covers(port):
                return True, f"allowed by {conduit.where or self.source}" + (
                    f" ({conduit.reason})" if conduit.reason else ""
                )
        src, dst = self.profile.segment(client_segment), self.profile.segment(server_segment)
        if src is None or dst is None:
            return True, "an end lies outside the profile's segments"
        if src.kind is SegmentKind.MGMT:
            return True, "management segments may reach every segment"
        if (src.kind, dst.kind) in _DEFAULT_KIND_CONDUITS:
            return True, f"{src.kind.value} to {dst.kind.value} is allowed by the default zone model"
        listed = " in " + self.source if self.conduits else ""
        return False, (
            f"no conduit from {src.kind.value} segment '{src.name}' to {dst.kind.value} segment "
            f"'{dst.name}' for {port}{listed}"
        )


def load_flow_policy(path: Path | None, profile: Profile) -> FlowPolicy:
    """The default zone model, plus the conduits of ``path`` when given (file:line errors)."""
    if path is None:
        return FlowPolicy(profile=profile)
    root = load_yaml(path)
    if not isinstance(root, dict):
        raise ConfigError("a flow policy is a mapping with an 'allow' list", location=str(path))
    check_keys(root, allowed=("allow",), required=("allow",), where="the flow policy")
    items = root["allow"]
    if not isinstance(items, list):
        raise ConfigError("'allow' must be a list of conduits", location=located(path, root, "allow"))
    known = {s.name for s in profile.segments}
    conduits: list[Conduit] = []
    for item in items:
        if not isinstance(item, dict):
            raise ConfigError(
                "each conduit is a mapping (from, to, ports, reason)", location=located(path, items)
            )
        check_keys(item, allowed=("from", "to", "ports", "reason"), required=("from", "to"), where="conduit")
        for key in ("from", "to"):
            if str(item[key]) not in known:
                raise ConfigError(
                    f"conduit {key} '{item[key]}' is not a segment of the profile",
                    location=located(path, item, key),
                    hint=f"use one of: {', '.join(sorted(known))}",
                )
        ports = item.get("ports", [])
        if not isinstance(ports, list) or not all(_port_ok(str(p)) for p in ports):
            raise ConfigError(
                "conduit ports must be a list like [tcp/502, udp/161]",
                location=located(path, item, "ports"),
                hint="write each port as tcp/NUMBER or udp/NUMBER",
            )
        conduits.append(
            Conduit(
                source=str(item["from"]),
                target=str(item["to"]),
                ports=tuple(str(p).lower() for p in ports),
                reason=str(item.get("reason", "")),
                where=located(path, item),
            )
        )
    return FlowPolicy(profile=profile, conduits=tuple(conduits), source=str(path))


def _port_ok(text: str) -> bool:
    proto, _, number = text.lower().partition("/")
    return proto in ("tcp", "udp") and number.isdigit() and 0 < int(number) < 65536
