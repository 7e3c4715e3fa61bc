"""Reads for the contact screens: search, filters, sorts, keyset pages and counts
over the mirror, and one contact with its lists, tags and custom fields.

Nothing here calls Constant Contact: browsing contacts costs no API quota.

The filter itself (status, list, tag, prefix search: `ContactFilters`,
`contact_filter`) lives on the mirror floor, apps/mirror/selectors/contacts.py,
because bulk jobs select "the current filter" with it too. A search reads three
index ranges instead of every row (`search_ways`). The screen's
page of a search is picked from those ranges first (`_first_matches`), and its
count too: asked as one OR, PostgreSQL walked the sort index instead, fetching a
row per step, and a broad search at 1M contacts ("zoe") took seconds.

Pages are keyset pages on (sort column, id): "next" and "previous" carry the edge
row as an opaque cursor, so page 2,000 costs what page 1 does and no OFFSET or
COUNT(*) runs over the table for paging.
"""

import base64
import calendar
from dataclasses import dataclass, field
from datetime import datetime
import json

from django.core.cache import cache
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import Workspace
from apps.mirror.models import (
    Contact,
    ContactList,
    CustomField,
    ListMembership,
    SyncRun,
    Tag,
    Tagging,
)
from apps.mirror.selectors.contacts import ContactFilters, search_text, search_ways

PAGE_SIZE = 50
# A filtered count stops at this many rows (a LIMIT'd subquery), so a broad
# filter never counts 100k rows on each request; beyond it the page says "1,000+".
COUNT_CAP = 1000
# The unfiltered count is cached per workspace and recomputed when a sync run
# moves or a write here invalidates it; the timeout only bounds how long a
# change made some other way (an import, a bulk delete) can go unseen.
COUNT_CACHE_SECONDS = 10 * 60

# sort key -> (column, nullable). Each column has a (workspace, column, id) index.
SORT_COLUMNS = {
    "email": ("email", False),
    "name": ("last_name", False),
    "updated": ("updated_upstream", True),
    "created": ("created_upstream", True),
}
SORT_LABELS = {"email": "Email", "name": "Name", "updated": "Updated", "created": "Created"}
DEFAULT_SORT = "email"


def contact_get(*, workspace: Workspace, contact_id: int) -> Contact:
    """The workspace's contact `contact_id`; 404 for any other workspace's."""
    return get_object_or_404(Contact, pk=contact_id, workspace=workspace)


# --- Searching ---------------------------------------------------------------------

def _first_matches(contacts: QuerySet[Contact], text: str, sort: "Sort", *, descending: bool,
                   limit: int) -> list[int]:
    """The ids of the first `limit` contacts matching `text` in the walk's order.

    Each way of matching is one index range, read for its ids and sort values
    alone (on PostgreSQL its index covers them, so no row is fetched), and the
    ways' rows are sorted together: a contact matches in at most every way, so the
    first `limit` per way are among the first len(ways) * limit of them all. The
    cost grows with the number of matches, but per match it is one index entry,
    not the row a walk down the sort index fetches for every contact it passes."""
    ways = [way.values_list("id", sort.column) for way in search_ways(contacts, text)]
    merged = ways[0].union(*ways[1:], all=True).order_by(
        *_ordering(sort, descending=descending)
    )
    return list(dict.fromkeys(pk for pk, _ in merged[: len(ways) * limit]))[:limit]


# --- Keyset pages ---------------------------------------------------------------

@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool

    @classmethod
    def parse(cls, value: str) -> "Sort":
        """"email", "-updated", ...; anything unknown is the default sort."""
        descending = value.startswith("-")
        key = value.removeprefix("-")
        if key not in SORT_COLUMNS:
            return cls(DEFAULT_SORT, False)
        return cls(key, descending)

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    @property
    def column(self) -> str:
        return SORT_COLUMNS[self.key][0]

    @property
    def nullable(self) -> bool:
        return SORT_COLUMNS[self.key][1]

    def toggled(self) -> "Sort":
        return Sort(self.key, not self.descending)


def _ordering(sort: Sort, *, descending: bool) -> list:
    # NULL sorts as the largest value on both databases (PostgreSQL's natural
    # B-tree order), so one index serves both directions.
    column = F(sort.column)
    if descending:
        first = column.desc(nulls_first=True) if sort.nullable else column.desc()
        return [first, F("id").desc()]
    first = column.asc(nulls_last=True) if sort.nullable else column.asc()
    return [first, F("id").asc()]


def _beyond(sort: Sort, *, descending: bool, value, pk: int) -> Q:
    """Rows strictly after (value, pk) when walking in the given direction.

    The redundant `column >= value` lets the database start its index range at
    the cursor instead of filtering every row before it."""
    col = sort.column
    if not descending:
        if value is None:  # inside the trailing block of NULLs
            return Q(**{f"{col}__isnull": True, "id__gt": pk})
        after = Q(**{f"{col}__gte": value}) & (Q(**{f"{col}__gt": value}) | Q(id__gt=pk))
        return after | Q(**{f"{col}__isnull": True}) if sort.nullable else after
    if value is None:  # inside the leading block of NULLs
        return Q(**{f"{col}__isnull": True, "id__lt": pk}) | Q(**{f"{col}__isnull": False})
    return Q(**{f"{col}__lte": value}) & (Q(**{f"{col}__lt": value}) | Q(id__lt=pk))


@dataclass(frozen=True)
class Cursor:
    """A row's position in one sort, as an opaque URL-safe string."""

    sort: str  # Sort.param
    value: str | datetime | None
    id: int

    @classmethod
    def of(cls, contact: Contact, sort: Sort) -> "Cursor":
        return cls(sort=sort.param, value=getattr(contact, sort.column), id=contact.pk)

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps([self.sort, value, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: Sort) -> "Cursor":
        """Raises ValueError for anything that is not a cursor of this sort."""
        if not text or len(text) > 600:
            raise ValueError("not a cursor")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort_param, value, pk = json.loads(raw)
        except (ValueError, TypeError) as exc:
            raise ValueError("not a cursor") from exc
        if sort_param != sort.param or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError("not a cursor of this sort")
        if value is not None and not isinstance(value, str):
            raise ValueError("not a cursor")
        if sort.key in ("updated", "created") and value is not None:
            value = datetime.fromisoformat(value)  # ValueError if it is not a date
        return cls(sort=sort_param, value=value, id=pk)


@dataclass
class ContactPage:
    contacts: list[Contact] = field(default_factory=list)
    next: Cursor | None = None
    previous: Cursor | None = None


def contact_page(
    *, contacts: QuerySet[Contact], sort: Sort, after: Cursor | None = None,
    before: Cursor | None = None, size: int = PAGE_SIZE, search: str = "",
) -> ContactPage:
    """The first page of `contacts` in `sort`, or the page just after `after`, or
    the one just before `before`. One query either way; one more with `search`,
    the text the page's contacts must match (then pass `contacts` unsearched:
    contact_filter with filters.without_search())."""
    # Walk backwards from a `before` cursor, then show the rows in the sort's order.
    walk = not sort.descending if before is not None else sort.descending
    edge = before if before is not None else after
    if edge is not None:
        contacts = contacts.filter(_beyond(sort, descending=walk, value=edge.value, pk=edge.id))
    text = search_text(search)
    if text:
        contacts = contacts.filter(pk__in=_first_matches(
            contacts, text, sort, descending=walk, limit=size + 1))
    rows = list(contacts.order_by(*_ordering(sort, descending=walk))[: size + 1])
    if before is not None:
        more_before = len(rows) > size
        rows = list(reversed(rows[:size]))
        more_after = True  # the cursor's own row comes after this page
    else:
        more_after = len(rows) > size
        rows = rows[:size]
        more_before = after is not None
    if not rows:
        return ContactPage()
    return ContactPage(
        contacts=rows,
        next=Cursor.of(rows[-1], sort) if more_after else None,
        previous=Cursor.of(rows[0], sort) if more_before else None,
    )


@dataclass(frozen=True)
class PageSpan:
    """Where a page sits in the whole list: "51–100 of 2,973"."""

    first: int
    last: int


def page_span(*, page: ContactPage, start: int | None, total: "ContactCount",
              first_page: bool) -> PageSpan | None:
    """The page's rows' positions, or None when they can't be known.

    Keyset pages don't know their offset and counting the rows before a cursor
    would cost what keyset paging saves, so the position rides along in the
    links (`start`, a hint from the previous page). The first page and, when the
    total is exact, the last page are placed exactly whatever the hint says, so a
    tampered or stale hint only misnumbers the pages in between."""
    size = len(page.contacts)
    if not size:
        return None
    if first_page or page.previous is None:
        start = 1
    elif page.next is None and not total.capped:
        start = total.value - size + 1
    if start is None or start < 1:
        return None
    last = start + size - 1
    if not total.capped and last > total.value:
        return None  # the hint and the count disagree: say nothing rather than something wrong
    return PageSpan(first=start, last=last)


# --- Counts ---------------------------------------------------------------------

@dataclass(frozen=True)
class ContactCount:
    value: int
    capped: bool = False  # True: at least `value`, possibly many more

    def __str__(self) -> str:
        return f"{self.value:,}+" if self.capped else f"{self.value:,}"


def _count_key(workspace_id: int) -> str:
    return f"contacts:count:{workspace_id}"


def _sync_marker(workspace: Workspace) -> list:
    # A sync that started, progressed or finished since the count was taken
    # changes this, so a sync never leaves a stale total behind. The newest run
    # is one step down the (workspace, scope, -created_at) index.
    run = (
        SyncRun.objects.filter(workspace=workspace, scope=SyncRun.Scope.CONTACTS)
        .order_by("-created_at").values_list("id", "status", "processed").first()
    )
    return list(run) if run else []


def contact_count(*, workspace: Workspace, filters: ContactFilters,
                  contacts: QuerySet[Contact]) -> ContactCount:
    """How many contacts the screen shows, without counting the table each time.

    The plain list (every contact not removed) is the one people look at most and
    the one whose number they care about exactly: it is counted once and cached
    per workspace until a sync run moves or a write here calls
    `contact_count_invalidate`. A filtered list is counted only up to COUNT_CAP
    through a LIMIT'd subquery, so its cost is bounded by the cap, not by the
    table: "1,000+" tells a marketer as much as "61,234" would about a filter.
    The text search in `filters.q` is applied here, to `contacts` given without
    it (contacts already searched count the same, only slower).
    """
    if filters.is_default:
        key = _count_key(workspace.pk)
        marker = _sync_marker(workspace)
        cached = cache.get(key)
        if cached is not None and cached.get("marker") == marker:
            return ContactCount(cached["count"])
        total = contacts.order_by().count()
        cache.set(key, {"marker": marker, "count": total}, COUNT_CACHE_SECONDS)
        return ContactCount(total)
    text = search_text(filters.q)
    if text:
        # Each way of matching in its own index range (see _first_matches). A
        # contact matches in at most every way, so len(ways) * (COUNT_CAP + 1)
        # rows hold more than COUNT_CAP contacts, and fewer rows are all there are.
        ways = [way.values_list("id", flat=True)
                for way in search_ways(contacts.order_by(), text)]
        ids = ways[0].union(*ways[1:], all=True)[: len(ways) * (COUNT_CAP + 1)]
        found = len(set(ids))
    else:
        found = contacts.order_by().values("id")[: COUNT_CAP + 1].count()
    if found > COUNT_CAP:
        return ContactCount(COUNT_CAP, capped=True)
    return ContactCount(found)


def contact_count_invalidate(*, workspace: Workspace) -> None:
    """Forget the cached total: call after any write that adds or removes contacts."""
    cache.delete(_count_key(workspace.pk))


# --- Filter choices and one contact ---------------------------------------------

def contact_filter_choices(*, workspace: Workspace) -> tuple[list[ContactList], list[Tag]]:
    """The lists and tags to filter by (small collections: at most 1,000 and 500)."""
    lists = list(ContactList.objects.filter(workspace=workspace).only("id", "name"))
    tags = list(Tag.objects.filter(workspace=workspace).only("id", "name"))
    return lists, tags


@dataclass
class CustomFieldValue:
    label: str
    value: str
    field: CustomField | None  # None when the mirror doesn't know the field (yet)


@dataclass
class ContactDetail:
    contact: Contact
    custom_fields: list[CustomFieldValue]
    lists: list[ContactList]
    tags: list[Tag]
    lists_to_add: list[ContactList]
    tags_to_add: list[Tag]

    @property
    def birthday(self) -> str:
        month, day = self.contact.birthday_month, self.contact.birthday_day
        if not month or not day or not 1 <= month <= 12:
            return ""
        return f"{calendar.month_name[month]} {day}"

    @property
    def sms_address(self) -> str:
        sms = (self.contact.raw or {}).get("sms_channel") or {}
        return str(sms.get("sms_address") or "") if isinstance(sms, dict) else ""


def contact_detail(*, contact: Contact) -> ContactDetail:
    """Everything the contact page shows, in a fixed number of queries."""
    workspace_id = contact.workspace_id
    all_lists = list(ContactList.objects.filter(workspace_id=workspace_id))
    all_tags = list(Tag.objects.filter(workspace_id=workspace_id))
    member_of = set(
        ListMembership.objects.filter(contact=contact).values_list("contact_list_id", flat=True)
    )
    tagged = set(Tagging.objects.filter(contact=contact).values_list("tag_id", flat=True))
    values = [v for v in contact.custom_fields or [] if isinstance(v, dict)]
    # Every field of the workspace (at most 100, contract §3.4), not those of the
    # contact's values: with no values, `cc_id__in=[]` would skip its query, and
    # the page's query count would depend on the contact.
    fields = {f.cc_id: f for f in CustomField.objects.filter(workspace_id=workspace_id)}
    rows = []
    for value in values:
        known = fields.get(str(value.get("custom_field_id")))
        rows.append(CustomFieldValue(
            label=known.label if known else f"Field {value.get('custom_field_id')}",
            value=str(value.get("value") or ""),
            field=known,
        ))
    rows.sort(key=lambda row: row.label.lower())
    return ContactDetail(
        contact=contact,
        custom_fields=rows,
        lists=[lst for lst in all_lists if lst.pk in member_of],
        tags=[tag for tag in all_tags if tag.pk in tagged],
        # A list or tag whose delete is pending upstream can't take new members.
        lists_to_add=[lst for lst in all_lists
                      if lst.pk not in member_of and not lst.delete_pending],
        tags_to_add=[tag for tag in all_tags if tag.pk not in tagged and not tag.delete_pending],
    )


def contact_for_email(*, workspace: Workspace, email: str) -> Contact | None:
    """The mirrored contact with this address, if the mirror knows one."""
    address = (email or "").strip().lower()
    if not address:
        return None
    return Contact.objects.filter(workspace=workspace, email=address).first()
