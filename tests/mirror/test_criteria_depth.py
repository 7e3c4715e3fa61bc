"""Segment criteria nested deeper than Constant Contact's grammar needs are refused
with a message (review finding 4): ~800 nested groups fit in the 20,000-character
limit and made json.loads raise RecursionError; ~500 parsed, then put
criteria_pretty past Python's recursion limit. Both were 500s on the builder."""

import json

import pytest

from apps.mirror.criteria import (
    MAX_DEPTH,
    MAX_LENGTH,
    CriteriaError,
    criteria_from_document,
    criteria_loads,
    criteria_pretty,
)

RULE = {"source": "contact", "field": "first_name", "op": "eq", "const_value": "Ava"}


def nested(levels: int) -> dict:
    """A document whose groups nest `levels` deep, the top-level group included."""
    group = {"type": "or", "group": [RULE]}
    for _ in range(levels - 1):
        group = {"type": "or", "group": [group]}
    group["type"] = "and"
    return {"version": "1.0.0", "criteria": group}


def compact_text(levels: int) -> str:
    """nested(levels) as compact JSON, written out by hand (json.dumps itself would
    hit the recursion limit at these depths)."""
    inner = '{"type":"or","group":[' * (levels - 1) + json.dumps(RULE, separators=(",", ":"))
    return '{"version":"1.0.0","criteria":{"type":"and","group":[' + inner + "]}" * levels + "}"


@pytest.mark.parametrize("levels", [2, MAX_DEPTH])
def test_criteria_as_deep_as_the_bound_are_read(levels):
    assert json.loads(compact_text(levels)) == nested(levels)
    criteria = criteria_loads(compact_text(levels))
    assert json.loads(criteria_pretty(criteria)) == nested(levels)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 500, 760])
def test_deeper_criteria_are_a_criteria_error(levels):
    text = compact_text(levels)
    assert len(text) <= MAX_LENGTH
    with pytest.raises(CriteriaError, match=f"more than {MAX_DEPTH} deep"):
        criteria_loads(text)
    with pytest.raises(CriteriaError):  # the same from a stored document
        criteria_from_document(nested(levels))


def test_brackets_nested_past_the_parsers_limit_are_a_criteria_error():
    text = "[" * 10000 + "]" * 10000
    assert len(text) <= MAX_LENGTH
    with pytest.raises(CriteriaError, match="deep"):
        criteria_loads(text)
