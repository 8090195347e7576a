"""Reading the change log: per-object history and a searchable journal."""
