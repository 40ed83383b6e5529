"""The sandbox's wire: values and messages between the runner and the judge (issue 11).

Builtin values cross exactly (big integers in linear time); anything ``encode`` does not
produce is a ``ProtocolError`` whatever breaks inside the decoder, which the judge turns
into a failed run; frames are capped before they are read.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter, OrderedDict, namedtuple

import pytest

from benchgate.scoring import _sandbox_wire as wire

Point = namedtuple("Point", "x y")


def _same(a, b) -> bool:
    """Equal with identical types all the way down (nan equals nan, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(a) == str(b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _round_trip(value):
    return wire.decode(wire.parse(json.dumps({"v": wire.encode(value)}).encode())["v"])


VALUES = [
    None, True, False, 0, -7, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 10**400, -10**5000, 1.5,
    -0.0, math.inf, -math.inf, math.nan, "", "é\ud800 \x00", b"\x00\xff", bytearray(b"ab"),
    1 + 2j, [], [1, [2, (3, None)]], (), ("a",), {}, {"k": 1, 2: "v", (1, 2): [3]}, {1, 2},
    frozenset({"a"}), {"__t": "tuple", "v": [1]}, {"__t": "int", "v": "ff"},
]


@pytest.mark.parametrize("value", VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_builtin_values_cross_exactly(value):
    assert _same(_round_trip(value), value)


@pytest.mark.parametrize("value, expected", [
    (Counter("aab"), {"a": 2, "b": 1}),
    (OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
    (Point(1, 2), (1, 2)),
])
def test_builtin_subclasses_become_their_base(value, expected):
    assert _same(_round_trip(value), expected)


def test_other_types_cannot_cross():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for value in (AlwaysEqual(), [AlwaysEqual()], range(3), iter([1]), print):
        with pytest.raises(TypeError, match="cannot cross the sandbox boundary"):
            wire.encode(value)
    deep: list = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        wire.encode(deep)


# Values and messages the runner could send that encode() never produces: each must raise
# ProtocolError (which the judge turns into a failed run), whatever breaks inside.
MALFORMED_VALUES = [
    {"__t": "object", "v": "os.system"}, {"__t": "dict", "v": 5}, {"__t": "dict", "v": [[1]]},
    {"__t": "dict", "v": [[[1], 2]]}, {"__t": "set", "v": [[1]]}, {"__t": "frozenset", "v": [{}]},
    {"__t": "bytes", "v": "\u20ac"}, {"__t": "bytes", "v": 7}, {"__t": "complex", "v": ["a", 1]},
    {"__t": "complex", "v": [1]}, {"__t": "int", "v": "xyz"}, {"__t": "int", "v": ""},
    {"__t": {"x": 1}, "v": 1}, {"__t": "tuple"}, {"a": 1}, {"__t": "tuple", "v": [1], "x": 0},
]


@pytest.mark.parametrize("value", MALFORMED_VALUES,
                         ids=[str(i) for i in range(len(MALFORMED_VALUES))])
def test_malformed_values_are_protocol_errors(value):
    with pytest.raises(wire.ProtocolError):
        wire.decode(value)
    deep: object = 1
    for _ in range(wire.MAX_DEPTH + 2):
        deep = [deep]
    with pytest.raises(wire.ProtocolError, match="too deeply"):
        wire.decode(deep)


@pytest.mark.parametrize("data", [
    b"[1, 2]", b"\xff\xfe{", b"{", b'{"v": ' + b"9" * (wire.MAX_INT_DIGITS + 2) + b"}",
    b'{"v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"",
])
def test_malformed_messages_are_protocol_errors(data):
    with pytest.raises(wire.ProtocolError):
        wire.parse(data)


def test_channel_round_trip_deadline_oversize_and_eof():
    a_r, b_w = os.pipe()
    b_r, a_w = os.pipe()
    a = wire.Channel(a_r, a_w, deadline=time.monotonic() + 5, recv_limit=wire.MAX_REPLY)
    b = wire.Channel(b_r, b_w, send_limit=wire.MAX_REPLY)
    a.send({"args": wire.encode([1, (2, 3)])})
    assert _same(wire.decode(b.recv()["args"]), [1, (2, 3)])
    with pytest.raises(ValueError, match="exceeds"):
        b.send({"value": "x" * wire.MAX_REPLY})
    late = wire.Channel(a_r, a_w, deadline=time.monotonic() - 1)
    with pytest.raises(TimeoutError):
        late.recv()
    os.write(b_w, (wire.MAX_REPLY + 1).to_bytes(4, "big"))
    with pytest.raises(wire.ProtocolError, match="exceeds"):
        a.recv()
    os.close(b_w)
    with pytest.raises(EOFError):
        a.recv()
    for fd in (a_r, a_w, b_r):
        os.close(fd)
