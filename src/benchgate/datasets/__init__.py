"""Benchmark data loaders: local files in the sources' formats, or the hub."""
