"""Log ingestion: read every supported log format and map each event to the Sigma taxonomy."""
