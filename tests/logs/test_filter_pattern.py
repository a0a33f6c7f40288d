"""Filter pattern syntax, unit by unit (the API tests cover the same through FilterLogEvents)."""

from __future__ import annotations

import pytest

from lamina.services.logs.filter_pattern import InvalidPattern, compile_pattern


def hits(pattern: str, message: str) -> bool:
    return compile_pattern(pattern)(message) is not None


def test_terms() -> None:
    assert hits("", "anything")
    assert hits("ERROR", "[ERROR] x") and not hits("ERROR", "error")
    assert hits("ERROR timeout", "ERROR: timeout") and not hits("ERROR timeout", "ERROR only")
    assert hits('"two words"', "has two words in") and not hits('"two words"', "two other words")
    assert not hits("ERROR -retry", "ERROR will retry") and hits("ERROR -retry", "ERROR final")
    assert hits("?WARN ?ERROR", "WARN x") and hits("?WARN ?ERROR", "ERROR y") and not hits("?WARN ?ERROR", "INFO")


def test_json() -> None:
    doc = '{"level": "ERROR", "n": 3, "ok": true, "none": null, "items": [{"id": 7}], "user": {"name": "Ann"}}'
    assert hits('{ $.level = "ERROR" }', doc) and not hits('{ $.level = "INFO" }', doc)
    assert hits("{ $.level != INFO }", doc)
    assert hits("{ $.n >= 3 && $.n < 4 }", doc) and not hits("{ $.n > 3 }", doc)
    assert hits("{ $.n = 1 || $.user.name = A* }", doc)
    assert hits("{ $.items[0].id = 7 }", doc) and not hits("{ $.items[1].id = 7 }", doc)
    assert hits("{ $.ok IS TRUE }", doc) and hits("{ $.none IS NULL }", doc) and hits("{ $.gone NOT EXISTS }", doc)
    assert not hits('{ $.level = "ERROR" }', "not json at all")
    assert not hits('{ $.level = "ERROR" }', "{broken json")


def test_space_delimited() -> None:
    line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534'
    pattern = "[ip, identity, user, timestamp, request, status = 2*, bytes > 1000]"
    match = compile_pattern(pattern)(line)
    assert match is not None and match.extracted is not None
    assert match.extracted["user"] == "frank" and match.extracted["request"] == "GET /apache_pb.gif HTTP/1.0"
    assert match.extracted["timestamp"] == "10/Oct/2000:13:25:15 -0700"
    assert not hits("[ip, identity, user, timestamp, request, status = 4*, bytes]", line)
    assert hits("[ip = 127.*, ...]", line) and hits("[..., status, bytes = 1534]", line)
    assert not hits("[a, b]", line)  # field counts differ
    assert hits("[a, b = x || b = y]", "1 y")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{ $.a = "x"', "If a filter pattern starts with '{' it must end with '}'"),
        ("{ $.a ~ 1 }", "Invalid filter pattern"),
        ("{ a = 1 }", "Invalid filter pattern"),
        ('{ $.a > "x" }', "Invalid filter pattern"),
        ("(paren)", "Invalid character(s) in term '(paren)'"),
        ('"unclosed', "Invalid filter pattern"),
        ("[a, ..., b, ...]", "Invalid filter pattern"),
    ],
)
def test_errors(pattern: str, message: str) -> None:
    with pytest.raises(InvalidPattern) as info:
        compile_pattern(pattern)
    assert str(info.value) == message
