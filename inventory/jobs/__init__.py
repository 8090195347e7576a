"""The progress pages of tracked jobs (label prints, large imports) and their retry."""
