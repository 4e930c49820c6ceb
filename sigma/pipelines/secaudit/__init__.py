"""pySigma pipeline plugins ``secaudit``, ``secaudit-ecs`` and ``secaudit-wazuh`` (``sigma convert -t
secaudit-lucene -p secaudit``...).

pySigma's plugin discovery registers the names in ``pipelines``; the code is in
:mod:`secaudit.elastic.sigma_plugin`.
"""

from secaudit.elastic.sigma_plugin import PIPELINE, ecs_pipeline, secaudit_pipeline, wazuh_pipeline

pipelines = {PIPELINE: secaudit_pipeline, "secaudit-ecs": ecs_pipeline, "secaudit-wazuh": wazuh_pipeline}

__all__ = ["pipelines"]
