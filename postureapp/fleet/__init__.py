"""A fleet past one machine: parts (one target or a shard of an organisation, collected
by its own process) published to a folder or an S3 prefix, and merged into one cache."""
