"""Benchmark specs: one :class:`~benchgate.benchmarks.base.Benchmark` subclass per benchmark."""
