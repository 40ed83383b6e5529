"""benchgate: a pytest-native regression gate for language models.

Importing ``benchgate`` is cheap: torch, transformers and httpx are imported only by the
backends that need them.
"""

__version__ = "0.1.0"
