"""Log ingestion: read every supported log format and map each event to the Sigma taxonomy.

``read_events`` reads inputs in order; ``plan_shards`` + ``read_shard`` read the same events in
pieces that worker processes can take. Every event is a :class:`secaudit.core.events.LogEvent`.
"""

from secaudit.logs.formats import FORMATS
from secaudit.logs.reader import Shard, plan_shards, read_events, read_shard
from secaudit.logs.stats import ReadStats

__all__ = ["FORMATS", "ReadStats", "Shard", "plan_shards", "read_events", "read_shard"]
