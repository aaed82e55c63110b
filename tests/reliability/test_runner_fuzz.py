"""The runner fuzzed: hypothesis writes the DUT's side of every response
(results lines, timestamps, m- and e- lines, garbage, truncation, lines
without end, stray lines, answers in pieces) and a loopback DUT plays it to
``DutSession``. Every case must end in a value or a named error
(``TinygenError`` and its ``DutError`` family), never a hang past its
timeout, never another exception; and a session that saw a fault answers
the next command with that command's own answer, not a late one.
"""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.device.session import (
    DutError, DutSession, DutTimeout, parse_infer, parse_results_line,
)
from tinygen.errors import TinygenError

from loopback import Bend, LoopbackDut

TIMEOUT = 0.5           # per command; every fault that stalls costs this
SLACK = 1.5             # scheduling on a loaded 2-core machine
FUZZ_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- strategies

_numbers = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e999", "-1e999", "nan", "inf", "0.5", "", " ", "1.2.3", "+.5", "9" * 400]),
)
_protocol_lines = st.one_of(
    st.lists(_numbers, max_size=14).map(lambda v: f"m-results-[{','.join(v)}]"),
    st.integers(-5, 10**12).map(lambda n: f"m-lap-us-{n}"),
    st.sampled_from(["m-ready", "m-infer-done", "m-load-done", "m-warmup-done",
                     "m-init-done", "m-timestamp-mode-performance", "m-name-dut-[x]",
                     "m-model-[kws01]", "m-profile-[p]", "e-[refused]", "e-[", "m-results-[",
                     "m-[Expecting 3 bytes]", "m-infer-start-1"]),
    st.integers(0, 10**9).map(lambda n: f"m-infer-start-{n}"),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
)
_endings = st.sampled_from([b"\r\n", b"\n", b"\r", b"", b"\r\r\n"])
_line_bytes = st.one_of(
    st.tuples(_protocol_lines, _endings).map(lambda t: t[0].encode() + t[1]),
    st.binary(max_size=40),                                   # garbage
    st.just(b"x" * 5000),                                     # a line that never ends
    st.binary(min_size=1, max_size=8).map(lambda b: b"m-ready" + b),
)
_bends = st.one_of(
    st.just(Bend()),
    st.builds(Bend, kind=st.just("raw"), data=st.lists(_line_bytes, max_size=6).map(b"".join)),
    st.builds(Bend, kind=st.just("insert"), data=_line_bytes, at=st.integers(0, 8)),
    st.builds(Bend, kind=st.just("replace"), data=_line_bytes, at=st.integers(0, 8)),
    st.builds(Bend, kind=st.just("cut"), at=st.integers(0, 120)),
    st.just(Bend(kind="drop_ready")),
    st.builds(Bend, kind=st.just("split"), at=st.integers(1, 9), pause=st.just(0.002)),
    st.builds(Bend, kind=st.just("extra"), data=_line_bytes),
    st.just(Bend(kind="silent")),
    st.just(Bend(kind="hangup")),
)

_operations = st.one_of(
    st.just(("name",)),
    st.just(("profile",)),
    st.just(("results",)),
    st.tuples(st.just("infer"), st.integers(1, 50), st.integers(0, 3)),
    st.tuples(st.just("load"), st.binary(min_size=1, max_size=80), st.integers(1, 37)),
)


def _commands_of(op) -> int:
    """How many protocol commands an operation sends (each may time out)."""
    if op[0] == "load":
        return 1 + math.ceil(len(op[1]) / op[2])
    return 1


def _perform(dut: DutSession, op):
    kind = op[0]
    if kind == "name":
        return dut.name()
    if kind == "profile":
        return dut.profile()
    if kind == "results":
        return dut.results()
    if kind == "infer":
        return dut.infer(op[1], op[2])
    return dut.load(op[1], chunk_bytes=op[2])


def _value_or_named_error(dut: DutSession, op):
    started = time.monotonic()
    try:
        value = _perform(dut, op)
        outcome = ("value", value)
    except TinygenError as exc:      # DutError, DutTimeout, DutReset, DutDisconnected
        assert str(exc), "a named error must say what happened"
        outcome = ("error", exc)
    # Any other exception propagates and fails the test with its traceback.
    took = time.monotonic() - started
    assert took < _commands_of(op) * TIMEOUT + SLACK, f"{op[0]} took {took:.2f} s"
    return outcome


# ---------------------------------------------------------------- properties

@FUZZ_SETTINGS
@given(op=_operations, bends=st.lists(_bends, min_size=1, max_size=4))
def test_every_dut_answer_ends_in_a_value_or_a_named_error(op, bends):
    with LoopbackDut(bends, boot=False) as peer, DutSession(peer.url, timeout=TIMEOUT) as dut:
        kind, value = _value_or_named_error(dut, op)
        if kind == "value" and op[0] == "infer":
            assert value.count == op[1]
            assert all(math.isfinite(v) for v in value.values)


@FUZZ_SETTINGS
@given(first=_operations, bend=_bends.filter(lambda b: b.kind != "hangup"))
def test_after_any_fault_the_next_command_never_gets_a_late_answer(first, bend):
    """The official runner, after one stray line, reads every later answer one
    command late. Here the next 'name' gets the answer to that 'name' (the
    loopback numbers its name answers) or a named error (a DUT may still be
    talking past the failed command's timeout), never an earlier answer."""
    bends = [bend] * _commands_of(first) + [Bend()]
    sent: list[str] = []

    def transcript(direction: str, text: str) -> None:
        if direction == ">":
            sent.append(text)

    with LoopbackDut(bends, name="after-fault", boot=False) as peer, \
            DutSession(peer.url, timeout=TIMEOUT, transcript=transcript) as dut:
        _value_or_named_error(dut, first)
        expected = f"after-fault#{len(sent)}"
        kind, outcome = _value_or_named_error(dut, ("name",))
        if kind == "value":
            assert outcome == expected


@pytest.mark.parametrize("bend", [
    Bend(kind="extra", data=b"m-name-dut-[stale]\r\nm-ready\r\n"),      # stray answer
    Bend(kind="extra", data=b"m-resu"),                                    # stray partial line
    Bend(kind="insert", data=b"\xff\x00\x9c garbage\r\n", at=0),          # garbage first
    Bend(kind="insert", data=b"x" * 5000, at=0),                           # a line without end
    Bend(kind="insert", data=b"e-[refused]\r\n", at=0),                    # an error line
    Bend(kind="insert", data=b"m-init-done\r\n", at=0),                    # a reset
    Bend(kind="cut", at=9),                                                # answer cut short
    Bend(kind="drop_ready"),                                               # never ends
], ids=["stray-answer", "stray-partial", "garbage", "no-line-end", "error-line", "reset",
        "cut", "no-ready"])
def test_after_a_fault_the_session_resynchronizes(bend):
    """Each fault once, then correct answers: the next commands get their own."""
    with LoopbackDut([bend, Bend(), Bend()], name="n", boot=False) as peer, \
            DutSession(peer.url, timeout=1.0) as dut:
        try:
            first = dut.name()
        except TinygenError:
            first = None
        assert first in (None, "n#0")
        assert dut.profile() == ("tinygen loopback", "kws01")
        assert dut.name() == "n#2"


@FUZZ_SETTINGS
@given(bends=st.lists(_bends, min_size=1, max_size=3), boot=st.booleans())
def test_wait_ready_ends_in_a_value_or_a_named_error(bends, boot):
    with LoopbackDut(bends, boot=boot) as peer, DutSession(peer.url, timeout=TIMEOUT) as dut:
        started = time.monotonic()
        try:
            lines = dut.wait_ready(timeout=0.6, quiet=0.1)
            assert isinstance(lines, list)
        except TinygenError as exc:
            assert str(exc)
        assert time.monotonic() - started < 0.6 + TIMEOUT + SLACK


@settings(max_examples=100, deadline=None, derandomize=True)
@given(line=st.one_of(_protocol_lines, st.binary(max_size=60).map(lambda b: b.decode("latin-1"))))
def test_results_parser_returns_finite_values_or_a_named_error(line):
    try:
        values = parse_results_line(line)
    except DutError:
        return
    assert values and all(math.isfinite(v) for v in values)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(lines=st.lists(_protocol_lines, max_size=10), count=st.integers(1, 10**9),
       warmup=st.integers(0, 10))
def test_infer_parser_returns_a_checked_window_or_a_named_error(lines, count, warmup):
    try:
        result = parse_infer(lines, count, warmup)
    except DutError:
        return
    assert result.count == count
    assert result.elapsed_us is None or result.elapsed_us >= 0
    assert all(math.isfinite(v) for v in result.values)


@pytest.mark.parametrize("text", ["x" * 255, "name%", "n\u00e4me", "db\r\n"])
def test_commands_the_protocol_cannot_carry_are_refused_before_sending(text):
    with LoopbackDut([], boot=False) as peer, DutSession(peer.url, timeout=TIMEOUT) as dut:
        with pytest.raises(TinygenError, match="command"):
            dut.command(text)
    assert peer.received == []
