"""pySigma backend plugins ``secaudit-lucene``, ``secaudit-ecs-lucene`` and ``secaudit-wazuh-lucene``
(``sigma convert -t secaudit-lucene -p secaudit``...).

pySigma's plugin discovery registers every backend class in this module's namespace: keep only these.
The code is in :mod:`secaudit.elastic.sigma_plugin`.
"""

from secaudit.elastic.sigma_plugin import SecauditEcsBackend, SecauditPluginBackend, SecauditWazuhBackend

__all__ = ["SecauditEcsBackend", "SecauditPluginBackend", "SecauditWazuhBackend"]
