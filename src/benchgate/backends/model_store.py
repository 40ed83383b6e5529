"""Local converted copies of models, kept in the cache directory so a re-run starts fast.

A GGUF file is parsed and de-quantised by transformers (``gguf_file=``) in tens of seconds
(its tokenizer alone walks ~294k metadata fields). The store does that once per file and
keeps what it produced, keyed by the GGUF's sha256 and transformers' major.minor version:

* ``tokenizer/``: the tokenizer as transformers saves it (``tokenizer.json``, the chat
  template), loaded in well under a second;
* ``model/``: the de-quantised weights as safetensors with ``config.json`` and
  ``generation_config.json``, loaded in about a second (vs ~20-60 s from the GGUF).

Beside them, for every model (GGUF or not), keyed by its weights fingerprint:

* ``card.json``: the sha256 of the chat template, so a run answered wholly from the response
  cache builds the backend identity without loading the tokenizer;
* ``renders-<identity>.json``: rendered prompts (chat template applied) by message digest, a
  memo of a pure function of the identity (template, system prompt, transformers version)
  and the messages, so that run does not render either (no torch, no transformers import).

Fingerprints (sha256 of a GGUF file, or of a directory's files) are memoised by the file's
path, size, modification time and inode under ``fingerprints/``.

Layout::

    <cache>/models/
        fingerprints/<sha256 of path+stat>.txt
        gguf-<sha256[:32]>-tf<major.minor>/{tokenizer,model}/
        cards/<fingerprint[:32]>.json
        renders/<identity key[:32]>.json

Safe under concurrent xdist workers: each entry is built under a :class:`filelock.FileLock`
in a temporary directory beside its final place and moved there with one
:func:`os.rename` (atomic on POSIX); readers only ever see a complete entry. Small JSON
files are written to a temporary file and moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Bumped when the layout or the conversion changes; older entries are then ignored.
STORE_FORMAT = 1


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    """Return the sha256 hex digest of a file (read in 4 MiB chunks).

    Raises:
        OSError: the file cannot be read.
    """
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@functools.cache
def transformers_version() -> str:
    """Return transformers' ``major.minor`` without importing it (package metadata).

    Read once per process: ``importlib.metadata`` parses the installed METADATA file on
    every call (~3.5 ms), and the backend's identity asks for it per item.
    """
    try:
        return ".".join(metadata.version("transformers").split(".")[:2])
    except metadata.PackageNotFoundError:  # pragma: no cover - transformers is a dependency
        return "unknown"


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (temporary file + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    """Return the JSON in ``path``, or None when missing or unreadable (logged)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("model store: ignoring unreadable %s (%s)", path, exc)
        return None


class ModelStore:
    """The converted-model directory ``<cache>/models`` (see the module docstring).

    Args:
        root: the store directory (created on first write).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ fingerprints

    def fingerprint(self, path: Path, compute: Callable[[Path], str]) -> str:
        """Return ``compute(path)``, memoised by the path's size, mtime and inode.

        Args:
            path: a file or directory.
            compute: the (slow) fingerprint function, e.g. :func:`file_sha256`.

        Raises:
            OSError: ``path`` cannot be read (from ``compute`` or ``stat``).
        """
        st = path.stat()
        stamp = f"{STORE_FORMAT}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
        if path.is_dir():  # a directory's own mtime misses edits inside: stamp its files too
            for child in sorted(path.iterdir()):
                if child.is_file():
                    cst = child.stat()
                    stamp += f"|{child.name}|{cst.st_size}|{cst.st_mtime_ns}"
        memo = self.root / "fingerprints" / f"{hashlib.sha256(stamp.encode()).hexdigest()}.txt"
        try:
            value = memo.read_text(encoding="ascii").strip()
            if len(value) == 64:
                return value
        except (OSError, UnicodeDecodeError):
            pass
        value = compute(path)
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".fp.", suffix=".tmp", dir=memo.parent)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(value)
            os.replace(tmp, memo)
        except OSError as exc:  # the memo only saves time
            log.warning("model store: cannot write %s (%s)", memo, exc)
        return value

    # ------------------------------------------------------------------ GGUF conversion

    def gguf_entry(self, gguf_sha256: str) -> Path:
        """Return the directory of a GGUF file's converted copy (may not exist yet)."""
        return self.root / f"gguf-{gguf_sha256[:32]}-tf{transformers_version()}-v{STORE_FORMAT}"

    def _build(self, target: Path, build: Callable[[Path], None]) -> Path:
        """Create ``target`` with ``build(tmp_dir)`` once, under a lock, atomically."""
        if target.is_dir():
            return target
        from filelock import FileLock

        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if target.is_dir():  # another worker built it while we waited
                return target
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
            try:
                build(tmp)
                os.rename(tmp, target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return target

    def gguf_tokenizer(self, directory: str, gguf_file: str, gguf_sha256: str) -> Path:
        """Return a directory holding the GGUF's tokenizer as transformers saves it.

        Converted on first use (``AutoTokenizer.from_pretrained(directory, gguf_file=...)``
        then ``save_pretrained``).

        Raises:
            Exception: whatever transformers raises for an unreadable GGUF file.
        """

        def build(tmp: Path) -> None:
            from transformers import AutoTokenizer

            log.info("converting the tokenizer of %s (once; kept in %s)", gguf_file, self.root)
            AutoTokenizer.from_pretrained(directory, gguf_file=gguf_file).save_pretrained(tmp)

        return self._build(self.gguf_entry(gguf_sha256) / "tokenizer", build)

    def gguf_model(self, directory: str, gguf_file: str, gguf_sha256: str) -> Path:
        """Return a directory holding the GGUF's weights de-quantised to float32 safetensors.

        Converted on first use: transformers de-quantises the file (``gguf_file=``, float32),
        then the model is saved with ``save_pretrained`` (safetensors) next to its config
        and generation config. Loading it gives the very same tensors as loading the GGUF.

        Raises:
            Exception: whatever transformers raises for an unreadable GGUF file.
        """

        def build(tmp: Path) -> None:
            import torch
            from transformers import AutoModelForCausalLM
            from transformers.utils import logging as hf_logging

            log.info("de-quantising %s (once; kept in %s)", gguf_file, self.root)
            hf_logging.disable_progress_bar()  # no tqdm bars in captured test output
            # transformers' GGUF de-quantisation bar is plain tqdm (not switched off by
            # disable_progress_bar) and would land in captured test output: send it nowhere.
            with contextlib.redirect_stderr(io.StringIO()):
                model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_file,
                                                             dtype=torch.float32)
            # The de-quantised tensors are plain float32; transformers only refuses to save
            # because the load went through its GGUF "quantizer".
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(tmp, safe_serialization=True)

        return self._build(self.gguf_entry(gguf_sha256) / "model", build)

    # ------------------------------------------------------------------ cards and renders

    def card(self, fingerprint: str) -> dict[str, Any] | None:
        """Return the stored card (``chat_template_sha256``...) of a model, or None."""
        data = _read_json(self.root / "cards" / f"{fingerprint[:32]}.json")
        return data if isinstance(data, dict) and data.get("format") == STORE_FORMAT else None

    def save_card(self, fingerprint: str, card: dict[str, Any]) -> None:
        """Store a model's card (best effort: a failed write is logged)."""
        try:
            _write_json(self.root / "cards" / f"{fingerprint[:32]}.json",
                        {"format": STORE_FORMAT, **card})
        except OSError as exc:
            log.warning("model store: cannot write a card (%s)", exc)

    def renders(self, identity_key: str) -> RenderMemo:
        """Return the rendered-prompt memo of one backend identity."""
        return RenderMemo(self.root / "renders" / f"{identity_key[:32]}.json")


def messages_digest(messages: Any) -> str:
    """Return the sha256 of messages as canonical JSON (the render memo's key)."""
    blob = json.dumps(messages, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RenderMemo:
    """Rendered prompts of one backend identity, by message digest, in one JSON file.

    Loaded once; new renders are merged into the file on :meth:`flush` (under a file lock,
    written atomically), so concurrent workers never lose each other's entries.

    Args:
        path: the memo file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        data = _read_json(path)
        self._known: dict[str, str] = data if isinstance(data, dict) else {}
        self._new: dict[str, str] = {}

    def get(self, digest: str) -> str | None:
        """Return the rendered prompt for a message digest, or None."""
        return self._new.get(digest) or self._known.get(digest)

    def put(self, digest: str, prompt: str) -> None:
        """Remember a rendered prompt (written on :meth:`flush`)."""
        if self._known.get(digest) != prompt:
            self._new[digest] = prompt

    def flush(self) -> None:
        """Merge new renders into the file (best effort: a failed write is logged)."""
        if not self._new:
            return
        from filelock import FileLock

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(str(self.path) + ".lock"):
                data = _read_json(self.path)
                merged = data if isinstance(data, dict) else {}
                merged.update(self._new)
                _write_json(self.path, merged)
            self._known = merged
            self._new = {}
        except OSError as exc:
            log.warning("model store: cannot write %s (%s)", self.path, exc)
