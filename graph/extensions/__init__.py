"""Schema extensions that guard a request before its input is read, one per file."""
