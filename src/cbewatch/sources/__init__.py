"""poll: get a source's bytes through the one HTTP client and turn them into entries."""
