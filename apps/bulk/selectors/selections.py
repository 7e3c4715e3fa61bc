"""Which contacts a bulk job acts on, how many they are, and the cheapest way to
name them to Constant Contact.

A selection is one of:

    {"mode": "contacts", "ids": [mirror pks]}          rows chosen on the contacts screen
    {"mode": "filter", "q": ..., "list": pk, "tag": pk, "status": ...}
                                                       "all N matching this filter"
    {"mode": "lists", "lists": [pks]}                   every member of some lists
    {"mode": "segment", "segment": pk}                  a segment's contacts
    {"mode": "all"}                                     every contact not removed

The filter is the contacts screen's own (apps/mirror/selectors/contacts.py, on
the floor both areas stand on). Sizes are read from the mirror, so showing
them costs no call.

`call_plan` picks the call shape that costs least for what the action allows
(contract §3.6): one call naming a list, a tag, a segment or "all active
contacts" when the selection is exactly that, otherwise the contacts' ids, 500
to a call. A delete always names its contacts: with a list as its source,
Constant Contact would also delete members the mirror hasn't seen yet, which
the snapshot taken first would not hold.
"""

from dataclasses import dataclass, field
from math import ceil

from django.db.models import QuerySet

from apps.accounts.models import Workspace
from apps.bulk.models import BulkJob
from apps.constantcontact.selectors import api_budget_summary
from apps.mirror.models import Contact, ContactList, EmailStatus, Segment, Tag
from apps.mirror.selectors.contacts import (
    STATUS_DEFAULT,
    STATUS_VALUES,
    ContactFilters,
    contact_filter,
)
from apps.mirror.selectors.segments import NotEstimable, criteria_contacts, segment_criteria

# Constant Contact's limits per call (contract §3.6): contact ids per activity
# (the prose limit; the spec's maxItems: 0 is a defect, contract §1) and lists.
IDS_PER_CALL = 500
LISTS_PER_CALL = 50
# "Active" as all_active_contacts means it: contacts Constant Contact may email
# or is waiting to (the simulator says the same; contract §3.6 "billable").
ACTIVE_STATUSES = (EmailStatus.EXPLICIT, EmailStatus.IMPLICIT, EmailStatus.PENDING)
# Status filters whose contacts hold all the active ones or lie among them.
NESTED_STATUSES = frozenset({STATUS_DEFAULT, "subscribed", "all", *ACTIVE_STATUSES})

Kind = BulkJob.Kind
# The sources each action's endpoint accepts besides contact ids (contract §3.6).
SOURCES: dict[str, tuple[str, ...]] = {
    Kind.ADD_TO_LISTS: ("list_ids", "tag_ids", "segment_id", "all_active_contacts"),
    Kind.REMOVE_FROM_LISTS: ("list_ids", "tag_ids", "all_active_contacts"),
    Kind.ADD_TAGS: ("list_ids", "tag_ids", "all_active_contacts"),
    Kind.REMOVE_TAGS: ("list_ids", "tag_ids", "all_active_contacts"),
    Kind.EXPORT: ("list_ids", "tag_ids", "segment_id", "all"),
    Kind.DELETE: (),
}


class SelectionProblem(Exception):
    """The selection can't be acted on; the message says why and what to do."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Selection:
    mode: str
    ids: tuple[int, ...] = ()
    filters: ContactFilters | None = None
    lists: tuple[ContactList, ...] = ()
    segment: Segment | None = None

    def to_json(self) -> dict:
        if self.mode == "contacts":
            return {"mode": "contacts", "ids": list(self.ids)}
        if self.mode == "filter":
            f = self.filters or ContactFilters()
            return {"mode": "filter", "q": f.q, "status": f.status,
                    "list": f.contact_list.pk if f.contact_list else None,
                    "tag": f.tag.pk if f.tag else None}
        if self.mode == "lists":
            return {"mode": "lists", "lists": [lst.pk for lst in self.lists]}
        if self.mode == "segment":
            return {"mode": "segment", "segment": self.segment.pk if self.segment else None}
        return {"mode": "all"}

    @property
    def label(self) -> str:
        """The selection in words, for the confirmation page and the job's title."""
        if self.mode == "contacts":
            count = len(self.ids)
            return f"{count:,} chosen contact{'s' if count != 1 else ''}"
        if self.mode == "filter":
            return filter_label(self.filters or ContactFilters())
        if self.mode == "lists":
            return "the members of " + ", ".join(f"“{lst.name}”" for lst in self.lists)
        if self.mode == "segment":
            return f"the segment “{self.segment.name}”" if self.segment else "a segment"
        return "every contact (not removed)"


def filter_label(filters: ContactFilters) -> str:
    parts = []
    if filters.contact_list is not None:
        parts.append(f"on the list “{filters.contact_list.name}”")
    if filters.tag is not None:
        parts.append(f"tagged “{filters.tag.name}”")
    if filters.q:
        parts.append(f"matching “{filters.q}”")
    status = {"": "not removed", "subscribed": "subscribed", "unsubscribed": "unsubscribed",
              "removed": "removed", "all": "removed or not"}.get(filters.status,
                                                                 filters.status.replace("_", " "))
    parts.append(status)
    return "contacts " + ", ".join(parts)


# The largest primary key a database column holds (a longer number is no id).
_MAX_PK = 2**63 - 1


def _pk(value) -> int | None:
    """A posted id as a primary key, or None. Only ASCII-decimal text of sane
    length: "²" is a digit to str.isdigit() but not to int(), and a number past
    the column's range can't be looked up."""
    if isinstance(value, bool):
        return None
    text = str(value)
    if not (text.isascii() and text.isdecimal()) or len(text) > 19:
        return None
    number = int(text)
    return number if number <= _MAX_PK else None


def _pks(values) -> list[int]:
    """The ids of a posted list; anything but a list names nothing."""
    if not isinstance(values, list | tuple):
        return []
    return [pk for pk in (_pk(v) for v in values) if pk is not None]


def selection_from_json(*, workspace: Workspace, data) -> Selection:
    """The selection a job or a form names, its lists, tag and segment read from
    this workspace only (another workspace's ids find nothing). Raises
    SelectionProblem for one that names nothing usable (a forged one included:
    not an object, ids that are not a list of numbers)."""
    if not isinstance(data, dict):
        data = {}
    mode = data.get("mode")
    if mode == "contacts":
        ids = tuple(dict.fromkeys(_pks(data.get("ids"))))
        return Selection(mode="contacts", ids=ids)
    if mode == "filter":
        status = data.get("status") or STATUS_DEFAULT
        if not isinstance(status, str) or status not in STATUS_VALUES:
            status = STATUS_DEFAULT
        contact_list = _one(ContactList, workspace, data.get("list"))
        tag = _one(Tag, workspace, data.get("tag"))
        return Selection(mode="filter", filters=ContactFilters(
            q=str(data.get("q") or "")[:100], contact_list=contact_list, tag=tag,
            status=status))
    if mode == "lists":
        pks = _pks(data.get("lists"))
        lists = tuple(ContactList.objects.filter(workspace=workspace, pk__in=pks))
        if not lists:
            raise SelectionProblem("Choose at least one list.")
        return Selection(mode="lists", lists=lists)
    if mode == "segment":
        segment = _one(Segment, workspace, data.get("segment"))
        if segment is None:
            raise SelectionProblem("That segment is not in this workspace's copy; sync the "
                                   "segments and choose it again.")
        return Selection(mode="segment", segment=segment)
    if mode == "all":
        return Selection(mode="all")
    raise SelectionProblem("Choose which contacts: some rows, a filter, lists, a segment or all.")


def _one(model, workspace: Workspace, value):
    pk = _pk(value) if value not in (None, "") else None
    if pk is None:
        return None
    return model.objects.filter(workspace=workspace, pk=pk).first()


def selection_contacts(*, workspace: Workspace, selection: Selection) -> QuerySet[Contact] | None:
    """The mirrored contacts of the selection; None for a segment the mirror can't
    evaluate (its members are then known only to Constant Contact)."""
    live = Contact.objects.filter(workspace=workspace)
    if selection.mode == "contacts":
        return live.filter(pk__in=list(selection.ids), deleted_upstream__isnull=True)
    if selection.mode == "filter":
        return contact_filter(workspace=workspace, filters=selection.filters or ContactFilters())
    if selection.mode == "lists":
        return live.filter(deleted_upstream__isnull=True,
                           lists__in=list(selection.lists)).distinct()
    if selection.mode == "all":
        return live.filter(deleted_upstream__isnull=True)
    if selection.mode == "segment" and selection.segment is not None:
        # The floor's evaluation of the segment's criteria over the mirror (an
        # estimate: Constant Contact evaluates it itself when named by segment_id).
        criteria = segment_criteria(selection.segment)
        if criteria is None:
            return None
        try:
            return criteria_contacts(workspace=workspace, criteria=criteria)
        except NotEstimable:
            return None
    return None


def selection_size(*, workspace: Workspace, selection: Selection) -> int | None:
    contacts = selection_contacts(workspace=workspace, selection=selection)
    return None if contacts is None else contacts.order_by().count()


def selection_cc_ids(*, workspace: Workspace, selection: Selection) -> list[tuple[int, str]]:
    """(mirror pk, Constant Contact id) of every contact selected, in a stable order."""
    contacts = selection_contacts(workspace=workspace, selection=selection)
    if contacts is None:
        return []
    return list(contacts.order_by("pk").values_list("pk", "cc_id"))


# --- The call shape -------------------------------------------------------------

@dataclass(frozen=True)
class CallPlan:
    shape: str  # contact_ids | list_ids | tag_ids | segment_id | all_active_contacts | all
    size: int | None  # contacts, as the mirror counts them (None: after evaluation)
    submissions: int
    follow_up: int  # polls, downloads and re-reading changed contacts (an estimate)
    explanation: str
    source: dict = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return self.submissions + self.follow_up

    @property
    def shape_label(self) -> str:
        return SHAPE_LABELS[self.shape]


SHAPE_LABELS = {
    "contact_ids": "the contacts' ids, up to 500 a call",
    "list_ids": "the list itself",
    "tag_ids": "the tag itself",
    "segment_id": "the segment itself",
    "all_active_contacts": "“all active contacts”",
    "all": "the whole account",
}


def _polls(submissions: int) -> int:
    # A round of polls reads every in-flight activity at once; a few rounds per
    # window of submissions, and at least two for any job (an estimate).
    return max(2, ceil(submissions / 10) * 3)


def _active_count(workspace: Workspace) -> int:
    return Contact.objects.filter(workspace=workspace, deleted_upstream__isnull=True,
                                  email_status__in=ACTIVE_STATUSES).count()


def call_plan(*, workspace: Workspace, kind: str, selection: Selection,
              size: int | None = None) -> CallPlan:
    """The cheapest call shape `kind` allows for `selection`, and what it costs."""
    allowed = SOURCES[kind]
    if size is None:
        size = selection_size(workspace=workspace, selection=selection)
    extra = 0
    if kind == Kind.EXPORT:
        extra = 1  # the download of each export's file
    filters = selection.filters if selection.mode == "filter" else None
    plain = filters is not None and not filters.q and filters.status == STATUS_DEFAULT

    def single(shape: str, source: dict, why: str) -> CallPlan:
        return CallPlan(shape=shape, size=size, submissions=1, follow_up=_polls(1) + extra,
                        explanation=why, source=source)

    if selection.mode == "segment" and "segment_id" in allowed:
        return single("segment_id", {"segment_id": int(selection.segment.cc_id)},
                      "One call: Constant Contact works out the segment's members itself.")
    if plain and filters.contact_list is not None and filters.tag is None \
            and "list_ids" in allowed:
        return single("list_ids", {"list_ids": [filters.contact_list.cc_id]},
                      "One call: Constant Contact takes the list's members itself.")
    if plain and filters.tag is not None and filters.contact_list is None \
            and "tag_ids" in allowed:
        return single("tag_ids", {"tag_ids": [filters.tag.cc_id]},
                      "One call: Constant Contact takes the tag's contacts itself.")
    if selection.mode == "lists" and "list_ids" in allowed:
        lists = [lst.cc_id for lst in selection.lists]
        submissions = ceil(len(lists) / LISTS_PER_CALL)
        return CallPlan(shape="list_ids", size=size, submissions=submissions,
                        follow_up=_polls(submissions) + extra * submissions,
                        explanation="Constant Contact takes the lists' members itself, "
                        f"{LISTS_PER_CALL} lists a call.", source={"list_ids": lists})
    # The whole account, as far as the status filter goes.
    everyone = selection.mode == "all" or (
        filters is not None and not filters.q and not filters.contact_list and not filters.tag)
    if "all" in allowed and (selection.mode == "all" or (everyone and plain)):
        return single("all", {}, "One call: Constant Contact exports the whole account.")
    if kind == Kind.EXPORT and filters is not None and not filters.q \
            and filters.status == "unsubscribed" and filters.tag is None:
        source = {"status": "unsubscribed"}
        if filters.contact_list is not None:
            source["list_ids"] = [filters.contact_list.cc_id]
        return single("list_ids" if filters.contact_list else "all", source,
                      "One call: Constant Contact picks the unsubscribed contacts itself.")
    # A status filter that holds the active contacts or sits inside them: the same
    # count then means the same contacts.
    nests = filters is None or filters.status in NESTED_STATUSES
    if "all_active_contacts" in allowed and everyone and nests and size \
            and size == _active_count(workspace):
        return single("all_active_contacts", {"all_active_contacts": True},
                      "One call: the selection is exactly the account's active contacts.")
    if size is None:
        raise SelectionProblem("Constant Contact can't do this for a segment directly, and its "
                               "members are only known once Constant Contact has evaluated "
                               "it. Export the segment, or filter the contacts instead.")
    submissions = ceil(size / IDS_PER_CALL)
    follow_up = _polls(submissions) + extra * submissions
    return CallPlan(shape="contact_ids", size=size, submissions=submissions, follow_up=follow_up,
                    explanation=f"The contacts are named by id, {IDS_PER_CALL} to a call: no "
                    "list, tag or segment holds exactly them.")


# --- Today's budget ------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetFit:
    calls: int
    left: int | None  # background calls left today (None: the counters can't be read)

    @property
    def fits(self) -> bool:
        return self.left is None or self.calls <= self.left

    @property
    def sentence(self) -> str:
        if self.left is None:
            return ("Today's API budget can't be read right now (Redis is unavailable); the "
                    "job waits for it if needed.")
        if self.fits:
            return (f"About {self.calls:,} call{'s' if self.calls != 1 else ''} of the "
                    f"{self.left:,} left today for background work.")
        return (f"About {self.calls:,} calls, more than the {self.left:,} left today for "
                "background work: the job stops at the limit and carries on after 00:00 UTC "
                "by itself.")


def budget_fit(*, workspace: Workspace, calls: int, now) -> BudgetFit:
    summary = api_budget_summary(workspace=workspace, now=now)
    if summary is None:
        return BudgetFit(calls=calls, left=None)
    return BudgetFit(calls=calls, left=max(0, summary.background_limit - summary.total))
