"""Names for the audit log's targets, from the mirror (see apps/audit/wording.py).

The log records what was touched by Constant Contact id ("campaign 7f3…") or by
the call's path ("POST /emails/activities/9a1…/schedules"), because names
change. The audit screen shows the name the thing has in the mirror now; the
recorded target stays in the event's details.
"""

import re

from apps.audit.wording import target_namer
from apps.mirror.models import (
    Campaign,
    Contact,
    ContactList,
    CustomField,
    EmailActivity,
    Segment,
    Tag,
)

# "<kind> <id>" as the services record it, and the paths the gate records.
_RECORDED = re.compile(r"^(campaign|contact) (\S+)$")
_PATHS = [
    (re.compile(r"/emails/activities/([^/]+)"), "activity"),
    (re.compile(r"/reports/email_reports/([^/]+)"), "activity"),
    (re.compile(r"/emails/([^/]+)"), "campaign"),
    (re.compile(r"/contacts/(?!counts|sign_up_form)([^/]+)"), "contact"),
    (re.compile(r"/contact_lists/([^/]+)"), "list"),
    (re.compile(r"/contact_tags/([^/]+)"), "tag"),
    (re.compile(r"/contact_custom_fields/([^/]+)"), "field"),
    (re.compile(r"/segments/([^/]+)"), "segment"),
]
_LOOKUPS = {  # kind -> (model, what the name is, how the screen says it)
    "campaign": (Campaign, "name", "campaign"),
    "contact": (Contact, "email", "contact"),
    "list": (ContactList, "name", "list"),
    "tag": (Tag, "name", "tag"),
    "field": (CustomField, "label", "custom field"),
    "segment": (Segment, "name", "segment"),
}


def _reference(target: str) -> tuple[str, str] | None:
    recorded = _RECORDED.match(target)
    if recorded:
        return recorded.group(1), recorded.group(2)
    method, _, path = target.partition(" ")
    if not path.startswith("/"):
        return None
    for pattern, kind in _PATHS:
        found = pattern.search(path)
        if found:
            return kind, found.group(1)
    return None


@target_namer
def mirror_target_names(workspace_id: int, targets: list[str]) -> dict[str, str]:
    refs = {t: ref for t in targets if (ref := _reference(t))}
    wanted: dict[str, set[str]] = {}
    for kind, cc_id in refs.values():
        wanted.setdefault(kind, set()).add(cc_id)
    found: dict[tuple[str, str], str] = {}
    if "activity" in wanted:
        for cc_id, name in EmailActivity.objects.filter(
                campaign__workspace_id=workspace_id, cc_id__in=wanted.pop("activity"),
        ).values_list("cc_id", "campaign__name"):
            found["activity", cc_id] = f"campaign “{name}”"
    for kind, ids in wanted.items():
        model, field, noun = _LOOKUPS[kind]
        for cc_id, name in model.objects.filter(
                workspace_id=workspace_id, cc_id__in=ids).values_list("cc_id", field):
            if name:
                found[kind, cc_id] = f"{noun} “{name}”"
    return {t: found[ref] for t, ref in refs.items() if ref in found}
