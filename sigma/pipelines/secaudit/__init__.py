"""pySigma pipeline plugin ``secaudit`` (``sigma convert -t secaudit-lucene -p secaudit``).

pySigma's plugin discovery registers the names in ``pipelines``; the code is in
:mod:`secaudit.elastic.sigma_plugin`.
"""

from secaudit.elastic.sigma_plugin import PIPELINE, secaudit_pipeline

pipelines = {PIPELINE: secaudit_pipeline}

__all__ = ["pipelines"]
