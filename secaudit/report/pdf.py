"""The PDF report: the HTML report's paper form (A4), printed by headless Chromium.

The page is :func:`secaudit.report.html.render_html` with ``paper=True``: every row with its
detail open, every list expanded, no script. Chromium prints it with the report's own print
stylesheet: a cover with the authorization and scope, then the executive summary, then the
findings with their details; CSS page-margin boxes put the run id and "page n of m" in the
footer of every page. Why Chromium and not a Python HTML-to-PDF library: docs/report-formats.md.

Chromium runs with a throw-away profile folder, loads one local file (the page itself loads
nothing: its Content-Security-Policy allows no fetch), and resolves no host name, so printing
sends no packet anywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import BinaryIO

from secaudit.core.errors import OperationalError
from secaudit.core.report import Report
from secaudit.report.html import render_html
from secaudit.report.writers import report_writer

BROWSERS = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
BROWSER_ENV = "SECAUDIT_CHROMIUM"  # a browser binary to use instead of the first of BROWSERS on PATH
TIMEOUT = 600  # seconds; the demo's report prints in about 20 s on two cores
FLAGS = (  # Chromium printing a local page: no network, no profile, no first-run work
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-pdf-header-footer",  # the stylesheet draws the footer (run id, page n of m)
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-breakpad",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing can be fetched by name
)


def find_browser() -> str:
    """The Chromium binary: $SECAUDIT_CHROMIUM, else the first of :data:`BROWSERS` on PATH."""
    chosen = os.environ.get(BROWSER_ENV)
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            raise OperationalError(
                f"{BROWSER_ENV} does not name an executable browser",
                location=chosen,
                hint=f"point {BROWSER_ENV} at a Chromium binary, or unset it to use chromium from PATH",
            )
        return chosen
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise OperationalError(
        "the PDF report needs Chromium, and none was found",
        hint="install it (Debian: apt-get install chromium; `make install` does) or set "
        f"{BROWSER_ENV} to a Chromium binary",
    )


def _tail(text: bytes, lines: int = 5) -> str:
    kept = [line for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


@report_writer("pdf", file_name="report.pdf", binary=True, localized=True)
def render_pdf(report: Report, stream: BinaryIO, *, lang: str = "en") -> None:
    """Write ``report`` as an A4 PDF in ``lang``; raise :class:`OperationalError` when printing fails."""
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="secaudit-pdf-") as tmp:
        folder = Path(tmp)
        page = folder / f"report.{lang}.html"
        with page.open("w", encoding="utf-8") as html:
            render_html(report, html, lang=lang, paper=True)
        target = folder / "report.pdf"
        args = [browser, *FLAGS, f"--user-data-dir={folder / 'profile'}", f"--print-to-pdf={target}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium's sandbox refuses to start as root
        args.append(page.as_uri())
        env = {**os.environ, "HOME": str(folder)}  # crash and cache folders stay in the temp folder
        try:
            done = subprocess.run(args, capture_output=True, timeout=TIMEOUT, env=env, check=False)
        except subprocess.TimeoutExpired as e:
            raise OperationalError(
                f"Chromium did not print the PDF report within {TIMEOUT} s",
                location=browser,
                hint="check that the machine is not starved of memory; the HTML report is unaffected",
            ) from e
        except OSError as e:
            raise OperationalError(
                f"cannot start Chromium: {e.strerror}", location=browser, hint=f"check {BROWSER_ENV} or PATH"
            ) from e
        data = target.read_bytes() if target.exists() else b""
        if done.returncode != 0 or not data.startswith(b"%PDF-"):
            raise OperationalError(
                f"Chromium failed to print the PDF report (exit {done.returncode}): {_tail(done.stderr)}",
                location=browser,
                hint="run the same chromium by hand with --headless --print-to-pdf to see why",
            )
        stream.write(data)
