"""Known vulnerabilities from offline feeds: version comparison, the local feed store, matching.

Feeds come in as files the operator downloaded (or from a mirror the operator names); nothing here
reaches the network unless a caller asks for ``update`` with a URL.
"""
