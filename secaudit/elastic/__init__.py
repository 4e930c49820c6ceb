"""Elasticsearch: rules converted with pySigma's Elasticsearch backend, logs ingested idempotently,
hunts run on a cluster, findings published for Kibana. The official client stays in this package.

Modules: ``settings`` (where the cluster is, credentials from the environment), ``client`` (the
client and its errors as ours), ``documents`` (the document shape, ids and index template),
``backend`` + ``regex`` + ``convert`` (Sigma to Lucene, ES|QL, EQL), ``ingest`` (streaming bulk),
``search`` (point-in-time paging), ``findings`` (the secaudit-findings index), ``check`` (es-check).
"""
