"""/v3/segments in the simulator: the spec's shapes and codes, the limit of 100,
criteria checked at create/update, "still evaluating" (202) then 200 for
GET /contacts?segment_id=, and the evaluator's semantics."""

import json

import pytest

from ccsim.server import start_in_thread
from tests.ccsim.conftest import Api


def crit(*items, top="and"):
    return json.dumps({"version": "1.0.0", "criteria": {"type": top, "group": list(items)}})


def company(op, value=None):
    rule = {"source": "contact", "field": "company_name", "op": op}
    if value is not None:
        rule["const_value"] = value
    return rule


@pytest.fixture
def api():
    sim = start_in_thread(port=0, contacts=60, rate_per_second=0, daily_quota=0,
                          token_rate_per_second=0, auto_approve=True)
    yield Api(sim)
    sim.stop()


def members(api, segment_id) -> set[str]:
    first = api.get(f"/contacts?segment_id={segment_id}&limit=500")
    assert first.status_code == 202 and first.json()["status"]  # still evaluating
    second = api.get(f"/contacts?segment_id={segment_id}&limit=500")
    assert second.status_code == 200
    return {c["contact_id"] for c in second.json()["contacts"]}


def live_contacts(api) -> list[dict]:
    with api.sim.state.lock:
        return [dict(c) for c in api.sim.state.contacts.values() if not c.get("deleted_at")]


def test_create_read_put_patch_delete(api):
    made = api.post("/segments", {"name": "Acme", "segment_criteria": crit(company("eq", "Acme Corp"))})
    assert made.status_code == 201
    body = made.json()
    assert isinstance(body["segment_id"], int) and isinstance(body["segment_criteria"], str)
    sid = body["segment_id"]
    assert api.put(f"/segments/{sid}", {"name": "Only a name"}).status_code == 400  # both required
    put = api.put(f"/segments/{sid}", {"name": "Acme 2", "segment_criteria": crit(company("not-empty"))})
    assert put.status_code == 200 and put.json()["name"] == "Acme 2"
    patched = api.patch(f"/segments/{sid}/name", {"name": "Acme 3"})
    assert patched.status_code == 200
    assert patched.json()["segment_criteria"] == put.json()["segment_criteria"]
    assert api.post("/segments", {"name": "acme 3", "segment_criteria": crit(company("empty"))}
                    ).status_code == 409
    assert api.delete(f"/segments/{sid}").status_code == 204
    listed = api.get("/segments").json()["segments"]
    assert sid not in {s["segment_id"] for s in listed}
    assert api.get(f"/segments/{sid}").status_code == 200  # deleted ones can still be read


def test_the_account_holds_at_most_100_segments(api):
    existing = len(api.get("/segments").json()["segments"])
    for i in range(100 - existing):
        assert api.post("/segments", {"name": f"S{i}", "segment_criteria": crit(company("empty"))}
                        ).status_code == 201
    refused = api.post("/segments", {"name": "One more", "segment_criteria": crit(company("empty"))})
    assert refused.status_code == 400
    assert refused.json()[0]["error_key"] == "segments.api.limit"


@pytest.mark.parametrize("criteria", [
    "not json",
    crit(company("eq", "x"), top="or"),  # the top level must be an and
    crit({"source": "list_membership", "field": "list_id", "op": "contains-any",
          "const_value": ["no-such-list"]}),
    crit({"source": "tracking", "field": "opened", "op": "contains-any",
          "const_value": "last-n-days", "param": "1826"}),  # more than 1,825 days
    crit({"source": "tracking", "field": "opened", "op": "contains-any",
          "const_value": "last-n-campaigns", "param": "501"}),  # more than 500 campaigns
    crit({"source": "contact", "field": "birthday_month", "op": "gt", "const_value": "June"}),
    crit({"source": "weather", "field": "rain"}),
])
def test_criteria_constant_contact_would_refuse_are_400(api, criteria):
    answer = api.post("/segments", {"name": "Bad", "segment_criteria": criteria})
    assert answer.status_code == 400


def test_two_list_rules_can_only_be_ored(api):
    with api.sim.state.lock:
        a, b = list(api.sim.state.lists)[:2]
    rule = lambda lid: {"source": "list_membership", "field": "list_id", "op": "contains-any",  # noqa: E731
                        "const_value": [lid]}
    assert api.post("/segments", {"name": "And", "segment_criteria": crit(rule(a), rule(b))}
                    ).status_code == 400
    ored = crit({"type": "or", "group": [rule(a), rule(b)]})
    sid = api.post("/segments", {"name": "Or", "segment_criteria": ored}).json()["segment_id"]
    with api.sim.state.lock:
        expected = (api.sim.state.list_members.get(a, set()) | api.sim.state.list_members.get(b, set()))
    assert members(api, sid) == {c["contact_id"] for c in live_contacts(api)} & expected


def test_text_rules_ignore_case_and_negatives_include_the_empty(api):
    sid = api.post("/segments", {"name": "Not Acme", "segment_criteria":
                                 crit(company("ne", "ACME CORP"))}).json()["segment_id"]
    expected = {c["contact_id"] for c in live_contacts(api)
                if (c.get("company_name") or "").lower() != "acme corp"}
    assert members(api, sid) == expected


def test_segment_id_combines_only_with_limit(api):
    sid = api.get("/segments").json()["segments"][0]["segment_id"]
    assert api.get(f"/contacts?segment_id={sid}&status=all").status_code == 400
