"""hatchling's build hook for secaudit: compiles its two C extension modules beside their sources,
for standard and editable wheels alike:

- secaudit/detect/_gates.c, the Sigma engine's per-event gate step and its Hyperscan databases
  (linked with Debian's libhyperscan);
- secaudit/logs/_fast.c, steps of the log readers run for every line or event.

It needs a C compiler, the Python headers and Hyperscan's (Debian: gcc, python3-dev,
libhyperscan-dev; scripts/system-packages.txt);
without them the build stops with the compiler's own message."""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# each source, and the libraries it links with
SOURCES = (
    (Path("secaudit", "detect", "_gates.c"), ["-lhs"]),
    (Path("secaudit", "logs", "_fast.c"), []),
)


class CompileExtensions(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
        include = sysconfig.get_paths()["include"]
        for relative, libraries in SOURCES:
            source = Path(self.root, relative)
            target = source.with_name(source.stem + suffix)
            flags = ["-O2", "-fPIC", "-shared", "-Wall", "-Werror", f"-I{include}"]
            subprocess.run([*compiler, *flags, str(source), *libraries, "-o", str(target)], check=True)
            build_data["artifacts"].append(str(target.relative_to(self.root)))
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
