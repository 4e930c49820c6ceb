"""pySigma backend plugin ``secaudit-lucene`` (``sigma convert -t secaudit-lucene -p secaudit``).

pySigma's plugin discovery registers every backend class in this module's namespace: keep only the
one. The code is in :mod:`secaudit.elastic.sigma_plugin`.
"""

from secaudit.elastic.sigma_plugin import SecauditPluginBackend

__all__ = ["SecauditPluginBackend"]
