"""Small KEV catalogues in CISA's JSON shape, written by the tests themselves.

Every entry is synthetic: CVE ids in the year 2099 (``CVE-2099-0001``...), which no real advisory
uses, with made-up vendors and products. They exist only to exercise the parser and the risk model;
they say nothing about any real product.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any


def entry(n: int, *, added: str = "2099-01-01", **extra: Any) -> dict[str, Any]:
    """One synthetic entry, CVE-2099-<n>, with every field CISA publishes."""
    item: dict[str, Any] = {
        "cveID": f"CVE-2099-{n:04d}",
        "vendorProject": "Example Vendor (synthetic)",
        "product": f"Widget {n}",
        "vulnerabilityName": f"Example Widget {n} synthetic flaw",
        "dateAdded": added,
        "shortDescription": "A synthetic entry written by the tests; not a real vulnerability.",
        "requiredAction": "None: synthetic.",
        "dueDate": "2099-02-01",
        "knownRansomwareCampaignUse": "Known" if n % 2 else "Unknown",
        "notes": "",
        "cwes": ["CWE-78"],
    }
    item.update(extra)
    return item


def catalogue(
    *entries: dict[str, Any], version: str = "2099.01.02", released: datetime | str | None = None
) -> dict[str, Any]:
    """A whole catalogue object; ``released`` defaults to CISA's own style of timestamp."""
    items = list(entries) or [entry(1), entry(2), entry(3)]
    when = released.isoformat() if isinstance(released, datetime) else released or "2099-01-02T15:00:01.1234Z"
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": version,
        "dateReleased": when,
        "count": len(items),
        "vulnerabilities": items,
    }


def write(path: Path, data: Any) -> Path:
    """Write as CISA does: indented, one key per line, so problems have distinct lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")
    return path
