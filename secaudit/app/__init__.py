"""app layer.

The composition root of the extension registries (``secaudit.core.registry``): importing the modules
that own them installs their loaders, so layers below (the profile loader in ``catalog``) see every
built-in log format and report writer even where secaudit's entry points were not installed.
"""

import secaudit.logs.formats
import secaudit.report.writers  # noqa: F401
