"""Extension points: one named registry per kind of extension (log formats, report writers).

A module that defines an extension registers it with a decorator in that module; the package that
owns the kind imports its own modules on first use (``on_first_use``), and installed plugins are
loaded from the entry-point group ``secaudit.<group>`` (an entry point names a module; importing it
registers). The registries live here, in the lowest layer, so a layer below the one that fills a
registry (the profile loader in ``catalog`` validating log and report format names) reads the names
without importing upward. Nothing is imported when this module is.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from secaudit.core.errors import OperationalError, UsageError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to extensions of one kind; names are listed sorted, whatever order modules were imported in."""

    def __init__(self, kind: str, *, group: str) -> None:
        self.kind = kind
        self.group = f"secaudit.{group}"
        self._items: dict[str, T] = {}
        self._loaders: list[Callable[[], None]] = []
        self._loaded = False
        self._loading = False

    def register(self, name: str, item: T) -> T:
        """Add ``item`` as ``name``; a second extension under the same name is a programming error."""
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)

    def on_first_use(self, loader: Callable[[], None]) -> None:
        """Run ``loader`` (which imports the modules that register) before the registry is first read."""
        self._loaders.append(loader)
        if self._loaded:
            loader()

    def ensure_loaded(self) -> None:
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for point in entry_points(group=self.group):
                try:
                    point.load()
                except Exception as e:  # a broken plugin must name itself, not break imports at random
                    raise OperationalError(
                        f"the {self.kind} plugin '{point.name}' ({point.value}) failed to load: {e}",
                        hint=f"fix or uninstall the package that declares it ({self.group})",
                    ) from e
            done = 0
            while done < len(self._loaders):  # an entry point may add a loader
                self._loaders[done]()
                done += 1
            if not self._items:
                raise OperationalError(
                    f"no {self.kind} is registered",
                    hint="secaudit's own register when secaudit.app is imported, or through the entry points "
                    "of its installed metadata: reinstall it (make install)",
                )
            self._loaded = True
        finally:
            self._loading = False

    def names(self) -> tuple[str, ...]:
        self.ensure_loaded()
        return tuple(sorted(self._items))

    def items(self) -> tuple[tuple[str, T], ...]:
        self.ensure_loaded()
        return tuple(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        self.ensure_loaded()
        return name in self._items

    def get(self, name: str) -> T:
        """The extension called ``name``; an unknown name is a usage error that lists the known ones."""
        self.ensure_loaded()
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._items), n=1, cutoff=0.6)
            near = f" (did you mean '{close[0]}'?)" if close else ""
            raise UsageError(
                f"unknown {self.kind} '{name}'{near}", hint=f"use one of: {', '.join(sorted(self._items))}"
            ) from None


#: Log formats: name -> ``secaudit.logs.formats.LogFormat`` (filled by the modules of ``secaudit.logs``).
LOG_FORMATS: Registry[Any] = Registry("log format", group="log_formats")
#: Report formats: name -> ``secaudit.report.writers.ReportWriter`` (filled by ``secaudit.report``).
REPORT_WRITERS: Registry[Any] = Registry("report format", group="report_writers")
