"""Exceptions benchgate raises for bad input, each carrying a message that names the fix."""

from __future__ import annotations


class BenchgateError(Exception):
    """Base class for benchgate's own errors."""


class ConfigError(BenchgateError):
    """A models.yaml (or command-line option) problem.

    The message names the file, the entry, the field and the fix; the pytest plugin turns
    it into a usage error (exit status 4) before any test runs.
    """


class DataUnavailableError(BenchgateError):
    """A benchmark's data cannot be found or reached.

    The message gives the reason and the fix (``--data-dir``, ``BENCHGATE_DATA_DIR`` or
    network access to the hub); the plugin skips that benchmark once with it.
    """


class DataFormatError(BenchgateError):
    """A dataset file exists but is malformed (bad row, wrong columns, truncated).

    The message names the file, the line or row, the field and the fix.
    """


class BackendError(BenchgateError):
    """A model backend failed to load or to generate.

    Per-request generation failures are not raised: they become ``error`` completions.
    This is raised when the backend as a whole cannot work (unreadable GGUF file, model
    not found), with a message naming the model id and the fix.
    """
