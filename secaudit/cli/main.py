"""Command-line entry point."""

from __future__ import annotations

import click


@click.group()
def cli() -> None:
    """secaudit: security posture audits for smart-city command centers."""


def main() -> None:
    cli()
