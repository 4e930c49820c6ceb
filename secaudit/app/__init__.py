"""app layer.

The composition root of the extension registries (``secaudit.core.registry``): the packages that fill
them are imported when a registry is first read, so layers below (the profile loader in ``catalog``)
see every built-in log format and report writer even where secaudit's entry points were not installed,
and a command that reads no registry (``baseline check``) imports neither package.
"""

from secaudit.core.registry import LOG_FORMATS, REPORT_WRITERS


def _log_formats() -> None:
    import secaudit.logs.formats  # noqa: F401, PLC0415 - it registers its own loader


def _report_writers() -> None:
    import secaudit.report.writers  # noqa: F401, PLC0415 - it registers its own loader


LOG_FORMATS.on_first_use(_log_formats)
REPORT_WRITERS.on_first_use(_report_writers)
