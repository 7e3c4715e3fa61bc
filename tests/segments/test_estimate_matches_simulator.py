"""The mirror's estimate of a segment equals Constant Contact's (the simulator's)
count, rule by rule, on the demo account.

Each criteria document is created in the simulator through the segments service
(the gate, as the editor), then counted there the way a member's "exact count"
does it (`GET /contacts?segment_id=`, which first answers 202 "still
evaluating"), and compared with `criteria_estimate` over the mirror — which
reads the same contacts, lists, tags, custom fields and cached tracking events.
"""

from datetime import UTC, datetime, timedelta

import pytest

from apps.constantcontact.gate import Actor, gate_for
from apps.mirror.criteria import criteria_from_document
from apps.mirror.models import ContactList, CustomField, EmailActivity, Tag
from apps.mirror.selectors.segments import criteria_estimate
from apps.mirror.services.tracking import tracking_events_save
from apps.segments.models import SegmentCount
from apps.segments.services.counts import segment_count_start
from apps.segments.services.segments import segment_create

KINDS = {"sends": "send", "opens": "open", "clicks": "click", "bounces": "bounce"}


def cache_tracking(world) -> None:
    """What the Reports area does: cache every sent campaign's tracking events."""
    cc = gate_for(workspace=world.workspace, actor=Actor.member(world.membership("admin")))
    for activity in EmailActivity.objects.filter(campaign__workspace=world.workspace,
                                                 sent_at__isnull=False):
        for kind, ours in KINDS.items():
            for page in cc.pages(f"reports.tracking_{kind}", campaign_activity_id=activity.cc_id,
                                 params={"limit": 500}):
                tracking_events_save(workspace=world.workspace, activity_id=activity.cc_id,
                                     kind=ours, items=page.data.get("tracking_activities") or [])


def doc(*items, top="and"):
    return {"version": "1.0.0", "criteria": {"type": top, "group": list(items)}}


def contact(field, op, value=None, param=None):
    rule = {"source": "contact", "field": field, "op": op}
    if value is not None:
        rule["const_value"] = value
    if param is not None:
        rule["param"] = param
    return rule


def any_of(*items):
    return {"type": "or", "group": list(items)}


def every_criteria(world) -> dict[str, dict]:
    ws = world.workspace
    lists = dict(ContactList.objects.filter(workspace=ws).values_list("name", "cc_id"))
    tags = dict(Tag.objects.filter(workspace=ws).values_list("name", "cc_id"))
    fields = dict(CustomField.objects.filter(workspace=ws).values_list("label", "cc_id"))
    sent = list(EmailActivity.objects.filter(campaign__workspace=ws, sent_at__isnull=False)
                .order_by("sent_at").values_list("cc_id", flat=True))
    year_ago = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
    on_lists = {"source": "list_membership", "field": "list_id", "op": "contains-any",
                "const_value": [lists["VIP"], lists["Customers"]]}
    tagged = {"source": "tags", "field": "tag_id", "op": "contains-any",
              "const_value": [tags["lead"], tags["high-value"]]}

    def tracking(field, scope, param):
        return {"source": "tracking", "field": field, "op": "contains-any", "const_value": scope,
                "param": str(param)}

    return {
        "on VIP or Customers": doc(on_lists),
        "tagged lead or high-value": doc(tagged),
        "company is Acme Corp": doc(contact("company_name", "eq", "acme corp")),
        "first name starts with A": doc(contact("first_name", "starts-with", "a")),
        "email does not contain .1": doc(contact("email_address", "not-contains", ".1")),
        "no job title": doc(contact("job_title", "empty")),
        "permission explicit": doc(contact("permission_to_send", "eq", "explicit")),
        "permission not unsubscribed": doc(contact("permission_to_send", "ne", "unsubscribed")),
        "birthday month from June": doc(contact("birthday_month", "gte", "6")),
        "added in the last year": doc(contact("created_at", "last-n-days", "365")),
        "added before a year ago": doc(contact("created_at", "lt", year_ago)),
        "favourite colour red": doc(contact("custom_field", "eq", "Red", fields["Favorite Color"])),
        "loyalty points over 2,500": doc(contact("custom_field", "gt", "2500",
                                                 fields["Loyalty Points"])),
        "no favourite colour": doc(contact("custom_field", "empty", None, fields["Favorite Color"])),
        "opened in the last 90 days": doc(tracking("opened", "last-n-days", 90)),
        "did not open the last 5": doc(tracking("not_opened", "last-n-campaigns", 5)),
        "clicked the first campaign": doc(tracking("clicked", "campaign", sent[0])),
        "did not click the latest": doc(tracking("not_clicked", "campaign", sent[-1])),
        "(lists or tags) and explicit": doc(
            any_of(on_lists, tagged), contact("permission_to_send", "eq", "explicit")),
        "(Acme or opened) and not A": doc(
            any_of(contact("company_name", "eq", "Acme Corp"), tracking("opened", "last-n-days", 90)),
            contact("first_name", "not-contains", "a")),
    }


@pytest.mark.django_db(transaction=False)
def test_the_mirror_estimate_equals_the_simulators_count(segments_world,
                                                         django_capture_on_commit_callbacks):
    cache_tracking(segments_world)
    editor = segments_world.membership("editor")
    cases = every_criteria(segments_world)
    assert len(cases) >= 10
    seen_sizes = set()
    for number, (name, document) in enumerate(cases.items()):
        criteria = criteria_from_document(document)
        estimate = criteria_estimate(workspace=segments_world.workspace, criteria=criteria)
        assert estimate.known, (name, estimate.reason)
        segment = segment_create(workspace=segments_world.workspace, membership=editor,
                                 name=f"Check {number}: {name}", criteria=criteria)
        with django_capture_on_commit_callbacks(execute=True):
            count, _ = segment_count_start(segment=segment, membership=editor)
        count.refresh_from_db()
        assert count.status == SegmentCount.Status.DONE, (name, count.error)
        assert count.evaluating_answers >= 1  # the simulator said "still evaluating" first
        assert estimate.count == count.count, name
        seen_sizes.add(count.count)
    # The criteria really select different audiences (not all empty, not all everyone).
    assert len(seen_sizes) >= 8
