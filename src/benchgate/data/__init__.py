"""Shared data helpers for benchmark loaders (the loaders live in ``benchgate.benchmarks``).

``sources``: :class:`~benchgate.data.sources.DataSource`, content ids, the dataset hash,
``--limit`` selection, hub loading and JSON Lines reading. ``hub``: which hub failures
mean "unavailable" (a skip with the fix) and which propagate. ``files``: JSON array, text
and CSV readers. Named ``data`` (not ``datasets``) so it never shadows Hugging Face's
package.
"""
