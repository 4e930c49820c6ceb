"""hatchling's build hook for secaudit: compiles secaudit/detect/_gates.c, the per-event gate step of
the Sigma engine, into an extension module beside it, for standard and editable wheels alike.

It needs a C compiler and the Python headers (Debian: gcc, python3-dev; scripts/system-packages.txt);
without them the build stops with the compiler's own message."""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("secaudit", "detect", "_gates.c")


class CompileGates(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        source = Path(self.root, SOURCE)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        target = source.with_name("_gates" + suffix)
        compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
        command = [
            *compiler,
            "-O2",
            "-fPIC",
            "-shared",
            "-Wall",
            "-Werror",
            f"-I{sysconfig.get_paths()['include']}",
            str(source),
            "-o",
            str(target),
        ]
        subprocess.run(command, check=True)
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["artifacts"].append(str(target.relative_to(self.root)))
