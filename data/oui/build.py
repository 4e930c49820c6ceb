"""Rebuild oui.tsv.gz from Debian's ieee-data package (apt-get install ieee-data).

Keeps the registry assignment (hex prefix of 24, 28 or 36 bits) and the organisation name only,
sorted, one per line: ``PREFIX<TAB>ORGANISATION``. Run: python data/oui/build.py
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

SOURCE = Path("/usr/share/ieee-data")
FILES = ("oui.csv", "mam.csv", "oui36.csv")  # MA-L (24 bits), MA-M (28), MA-S (36)


def main() -> None:
    rows: dict[str, str] = {}
    for name in FILES:
        with (SOURCE / name).open(encoding="utf-8", newline="") as fh:
            for record in csv.DictReader(fh):
                prefix = record["Assignment"].strip().upper()
                organisation = " ".join(record["Organization Name"].split())
                if prefix and organisation:
                    rows[prefix] = organisation
    out = Path(__file__).with_name("oui.tsv.gz")
    text = "".join(f"{p}\t{o}\n" for p, o in sorted(rows.items()))
    out.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{out}: {len(rows)} prefixes")


if __name__ == "__main__":
    main()
