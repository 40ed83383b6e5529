"""The sandbox's wire: values and messages between the judge and the runner.

Standard library only: loaded by the harness (``python -I -S -B``) as a sibling module
and by :mod:`benchgate.scoring.execute` as part of the package. See ``docs/sandbox.md``.

Messages are length-prefixed JSON objects. Values (arguments, return values) travel as
JSON with tags for the types JSON lacks, and decode to builtin values only (int, float,
str, bytes, bytearray, bool, None, list, tuple, dict, set, frozenset, complex). The
decoder is strict: the receiver caps the frame size before reading it, integers written
in decimal past :data:`MAX_INT_DIGITS` digits are refused before conversion (CPython's
``int(str)`` is quadratic: CVE-2020-10735, the reason for
``sys.set_int_max_str_digits``), and every malformed value raises :class:`ProtocolError`,
whatever the cause (wrong tag, wrong type, unhashable key, bad number, too deep).
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

MAX_FRAME = 16 * 1024 * 1024
"""Bytes: the largest message the runner accepts (the job: prompt plus completion)."""
MAX_REPLY = 1024 * 1024
"""Bytes: the largest message the judge accepts from the runner (checked before reading)."""
MAX_DEPTH = 200
"""Nesting depth of a value that crosses the boundary."""
MAX_INT_DIGITS = 4300
"""Decimal digits of a JSON integer the decoder converts (CPython's default str limit).

Integers of 64 bits and more travel as hexadecimal (tag ``int``), converted in linear time.
"""
_INT_WIRE_BOUND = 1 << 63


class ProtocolError(ValueError):
    """A message or value that does not follow the wire format (or exceeds its limits)."""


# ---------------------------------------------------------------------------------------
# Values.


def encode(value, depth: int = 0):
    """Turn a value into JSON-ready builtins, tagging the types JSON lacks.

    Subclasses of builtin types (``Counter``, ``OrderedDict``, named tuples, ``IntEnum``)
    become their builtin base; integers of 64 bits or more become a hexadecimal ``int``
    tag.

    Args:
        value: the value to send.
        depth: nesting depth so far (callers pass 0).

    Returns:
        JSON-ready builtins (None, bool, int, float, str, list, tagged dicts).

    Raises:
        TypeError: the value (or something inside it) is not a builtin value, or it is
            nested deeper than :data:`MAX_DEPTH`.
    """
    if depth > MAX_DEPTH:
        raise TypeError("value is nested too deeply to cross the sandbox boundary")
    t = type(value)
    if value is None or t is bool or t is float or t is str:
        return value
    if t is int:
        if -_INT_WIRE_BOUND <= value < _INT_WIRE_BOUND:
            return value
        return {"__t": "int", "v": format(value, "x")}
    d = depth + 1
    if t is list:
        return [encode(v, d) for v in value]
    if t is tuple:
        return {"__t": "tuple", "v": [encode(v, d) for v in value]}
    if t is dict:
        return {"__t": "dict", "v": [[encode(k, d), encode(v, d)] for k, v in value.items()]}
    if t is set or t is frozenset:
        return {"__t": t.__name__, "v": [encode(v, d) for v in value]}
    if t is bytes or t is bytearray:
        return {"__t": t.__name__, "v": bytes(value).decode("latin-1")}
    if t is complex:
        return {"__t": "complex", "v": [value.real, value.imag]}
    for base, convert in _BUILTIN_BASES:
        if isinstance(value, base):
            return encode(convert(value), depth)
    raise TypeError(f"a {t.__module__}.{t.__qualname__} cannot cross the sandbox boundary "
                    "(only builtin values can)")


_BUILTIN_BASES = (
    (int, int.__index__), (float, float.__float__), (str, str.__str__),
    (bytes, bytes), (list, list), (tuple, tuple), (dict, dict), (frozenset, frozenset),
    (set, set), (complex, complex),
)


def decode(value, depth: int = 0):
    """Turn a parsed JSON value from the other side back into builtin values.

    Args:
        value: what :func:`parse` returned for a value field.
        depth: nesting depth so far (callers pass 0).

    Returns:
        The builtin value.

    Raises:
        ProtocolError: anything that :func:`encode` does not produce: an unknown or
            malformed tag, an untagged JSON object, a wrong type inside a tag, an
            unhashable set member or dict key, bytes outside latin-1, a bad hexadecimal
            integer, or nesting deeper than :data:`MAX_DEPTH`.
    """
    t = type(value)
    if value is None or t is bool or t is int or t is float or t is str:
        return value
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    d = depth + 1
    if t is list:
        return [decode(v, d) for v in value]
    if t is not dict:
        raise ProtocolError(f"unexpected JSON type {t.__name__}")
    if len(value) != 2 or "__t" not in value or "v" not in value:
        raise ProtocolError("untagged JSON object")
    tag, v = value["__t"], value["v"]
    if type(tag) is not str:
        raise ProtocolError("value tag is not a string")
    try:
        if tag in ("bytes", "bytearray") and type(v) is str:
            data = v.encode("latin-1")
            return data if tag == "bytes" else bytearray(data)
        if tag == "int" and type(v) is str and 0 < len(v) <= MAX_REPLY:
            return int(v, 16)  # linear in len(v), unlike base 10
        if type(v) is not list:
            raise ProtocolError(f"tag {tag!r} needs a list")
        if tag == "tuple":
            return tuple(decode(x, d) for x in v)
        if tag == "set":
            return {decode(x, d) for x in v}
        if tag == "frozenset":
            return frozenset(decode(x, d) for x in v)
        if tag == "dict":
            out = {}
            for pair in v:
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("dict entry is not a [key, value] pair")
                out[decode(pair[0], d)] = decode(pair[1], d)
            return out
        if tag == "complex" and len(v) == 2 and all(type(x) in (int, float) for x in v):
            return complex(float(v[0]), float(v[1]))
    except ProtocolError:
        raise
    except (TypeError, ValueError, OverflowError, UnicodeError) as exc:  # unhashable, ...
        raise ProtocolError(f"malformed {tag!r} value: {type(exc).__name__}") from None
    raise ProtocolError(f"unknown or malformed value tag {tag[:40]!r}")


def _parse_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + 1:
        raise ProtocolError(f"integer of {len(text)} digits exceeds the {MAX_INT_DIGITS}-digit "
                            "limit")
    return int(text)


def parse(data: bytes) -> dict:
    """Parse one message (a JSON object), refusing oversized decimal integers.

    Args:
        data: the message body, UTF-8 JSON.

    Returns:
        The message as a dict of plain JSON values (tags not yet decoded).

    Raises:
        ProtocolError: not UTF-8 JSON, nested past the interpreter's recursion limit,
            out of memory, an integer past :data:`MAX_INT_DIGITS` digits, or not an object.
    """
    try:
        message = json.loads(data, parse_int=_parse_int)
    except ProtocolError:
        raise
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise ProtocolError(f"malformed message: {type(exc).__name__}") from None
    if type(message) is not dict:
        raise ProtocolError("message is not a JSON object")
    return message


# ---------------------------------------------------------------------------------------
# Messages.


class Channel:
    """Length-prefixed JSON messages over a pair of pipes.

    With a deadline (``time.monotonic`` seconds), every wait is bounded: ``TimeoutError``
    past it. ``EOFError`` when the other side closed its end; :class:`ProtocolError` for
    a malformed message or one larger than ``recv_limit`` (checked before it is read);
    ``ValueError`` when a message to send exceeds ``send_limit``.
    """

    def __init__(self, read_fd: int, write_fd: int, deadline: float | None = None,
                 recv_limit: int = MAX_FRAME, send_limit: int = MAX_FRAME):
        self.read_fd, self.write_fd, self.deadline = read_fd, write_fd, deadline
        self.recv_limit, self.send_limit = recv_limit, send_limit
        if deadline is not None:
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)

    def _wait(self, fd: int, event: int) -> None:
        if self.deadline is None:
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        poller = select.poll()
        poller.register(fd, event)
        if not poller.poll(max(remaining * 1000, 1)):
            raise TimeoutError("deadline passed")

    def send(self, message: dict) -> None:
        """Send one message (a dict of JSON-ready builtins)."""
        data = json.dumps(message, separators=(",", ":")).encode()
        if len(data) > self.send_limit:
            raise ValueError(f"message of {len(data)} bytes exceeds the "
                             f"{self.send_limit}-byte limit")
        view = memoryview(struct.pack(">I", len(data)) + data)
        while view:
            self._wait(self.write_fd, select.POLLOUT)
            try:
                view = view[os.write(self.write_fd, view):]
            except BlockingIOError:
                continue

    def _read_exact(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            self._wait(self.read_fd, select.POLLIN)
            try:
                chunk = os.read(self.read_fd, min(n - got, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError("the other side closed the channel")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self) -> dict:
        """Receive one message (tags not decoded: see :func:`decode`)."""
        (size,) = struct.unpack(">I", self._read_exact(4))
        if size > self.recv_limit:
            raise ProtocolError(f"message of {size} bytes exceeds the {self.recv_limit}-byte "
                                "limit")
        return parse(self._read_exact(size))


# ---------------------------------------------------------------------------------------
# Text.

DETAIL_CHARS = 600
"""Characters of an explanation kept (the host also strips control characters)."""


def describe(exc: BaseException, source_lines: list[str], filename: str, label: str) -> str:
    """``Type: message`` plus the innermost line of ``filename`` the traceback passed.

    Args:
        exc: the exception.
        source_lines: the lines of the source compiled as ``filename``.
        filename: the compiled source's name (e.g. ``"<completion>"``).
        label: how to name it in the text (e.g. ``"completion"``).

    Returns:
        At most :data:`DETAIL_CHARS` characters.
    """
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__
        message = ""
    text = f"{type(exc).__name__}: {message[:DETAIL_CHARS]}" if message else type(exc).__name__
    if isinstance(exc, SyntaxError):
        return text[:DETAIL_CHARS]
    lineno, tb = 0, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if 0 < lineno <= len(source_lines):
        text += f" at {label} line {lineno}: {source_lines[lineno - 1].strip()[:200]}"
    return text[:DETAIL_CHARS]
