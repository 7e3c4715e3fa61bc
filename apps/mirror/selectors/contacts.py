"""The contacts filter every area reads the mirrored audience with: a status, a
list, a tag and a text search over the mirror.

The contacts screens browse with it, and bulk jobs act on "the current filter"
of those screens with it, so it lives on the floor both stand on (areas never
import one another). Nothing here calls Constant Contact.

Search is by prefix, not substring: an address that starts with the text, or a
first name, last name or "first last" that does. Prefixes are what people type
("ava", "smith", "ava.smith@") and, unlike `icontains`, they can be answered from
a B-tree index (on PostgreSQL the pattern-ops indexes of apps/mirror migration
0004), so a search reads three index ranges instead of every row
(`search_ways`; apps/contacts/selectors/contacts.py pages and counts with them).
"""

from dataclasses import dataclass, replace

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from apps.accounts.models import Workspace
from apps.mirror.models import Contact, ContactList, EmailStatus, ListMembership, Tag, Tagging

# A list or tag with at most this many members is read first (see members_only).
SMALL_SET = 5000

# The status filter: how a marketer says it, then Constant Contact's own values.
STATUS_DEFAULT = ""  # every contact that is not removed
STATUS_CHOICES = [
    (STATUS_DEFAULT, "All but removed"),
    ("subscribed", "Subscribed"),
    ("unsubscribed", "Unsubscribed"),
    ("removed", "Removed (deleted)"),
    ("all", "All, including removed"),
    ("Email permission", [
        (EmailStatus.EXPLICIT.value, EmailStatus.EXPLICIT.label),
        (EmailStatus.IMPLICIT.value, EmailStatus.IMPLICIT.label),
        (EmailStatus.PENDING.value, EmailStatus.PENDING.label),
        (EmailStatus.TEMP_HOLD.value, EmailStatus.TEMP_HOLD.label),
        (EmailStatus.NOT_SET.value, EmailStatus.NOT_SET.label),
    ]),
]


def _values(choices) -> list[str]:
    return [value for key, label in choices
            for value in ([v for v, _ in label] if isinstance(label, list) else [key])]


# Every status the filter knows, for checking one that came in a link or a form.
STATUS_VALUES = frozenset(_values(STATUS_CHOICES))
_PERMISSION_STATUSES = {
    EmailStatus.EXPLICIT, EmailStatus.IMPLICIT, EmailStatus.PENDING, EmailStatus.TEMP_HOLD,
    EmailStatus.NOT_SET,
}

# The columns a row of the list screen shows; the raw JSON stays in the database.
LIST_COLUMNS = (
    "id", "workspace_id", "cc_id", "email", "email_status", "first_name", "last_name",
    "company_name", "updated_upstream", "created_upstream", "deleted_upstream",
)


@dataclass(frozen=True)
class ContactFilters:
    q: str = ""
    contact_list: ContactList | None = None
    tag: Tag | None = None
    status: str = STATUS_DEFAULT

    @property
    def is_default(self) -> bool:
        """True for the plain list (whose count is cached)."""
        return not (self.q or self.contact_list or self.tag) and self.status == STATUS_DEFAULT

    def without_search(self) -> "ContactFilters":
        return replace(self, q="")


def contact_filter(*, workspace: Workspace, filters: ContactFilters) -> QuerySet[Contact]:
    """The contacts the filters select, the text search included.

    The contacts screen asks for them without the search and hands the text to
    its page and count, which answer it faster from `search_ways`; the answer is
    the same."""
    contacts = Contact.objects.filter(workspace=workspace).only(*LIST_COLUMNS)
    status = filters.status
    if status == "removed":
        contacts = contacts.filter(deleted_upstream__isnull=False)
    elif status != "all":
        contacts = contacts.filter(deleted_upstream__isnull=True)
        if status == "subscribed":
            # As Contact.status says it: anything not removed and not opted out.
            contacts = contacts.exclude(email_status=EmailStatus.UNSUBSCRIBED)
        elif status == "unsubscribed":
            contacts = contacts.filter(email_status=EmailStatus.UNSUBSCRIBED)
        elif status in _PERMISSION_STATUSES:
            contacts = contacts.filter(email_status=status)
    if filters.contact_list is not None:
        contacts = members_only(contacts, ListMembership.objects.filter(
            contact_list=filters.contact_list))
    if filters.tag is not None:
        contacts = members_only(contacts, Tagging.objects.filter(tag=filters.tag))
    text = search_text(filters.q)
    if text:
        # email and search_text ("first last email") are stored lower-cased.
        contacts = contacts.alias(last_lower=Lower("last_name")).filter(
            starts_with("email", text) | starts_with("search_text", text)
            | starts_with("last_lower", text)
        )
    return contacts


def search_text(q: str) -> str:
    """The search as it is matched: lower-cased, spaces collapsed."""
    return " ".join(q.lower().split())


def search_ways(contacts: QuerySet[Contact], text: str) -> list[QuerySet[Contact]]:
    """The `contacts` that match `text`, one queryset per way of matching it (an
    address, "first last email", a last name), each one range of its own index."""
    return [
        contacts.filter(starts_with("email", text)),
        contacts.filter(starts_with("search_text", text)),
        contacts.alias(last_lower=Lower("last_name")).filter(starts_with("last_lower", text)),
    ]


def members_only(contacts: QuerySet[Contact], members: QuerySet) -> QuerySet[Contact]:
    """Only the contacts in `members` (a list's memberships or a tag's taggings).

    Which way round is fastest depends on the set's size, and SQLite's planner
    can't tell (measured with bench/pages.py at 100k): a small set is best read
    first and its contacts looked up (IN), a big one best probed while walking
    the sort index (EXISTS) — the other way round costs a big list 50 ms and a
    small one's count 35 ms. A count capped at SMALL_SET (one index range, at
    most that many entries) decides. PostgreSQL plans both forms alike."""
    if members[: SMALL_SET + 1].count() <= SMALL_SET:
        return contacts.filter(pk__in=members.values("contact_id"))
    return contacts.filter(Exists(members.filter(contact=OuterRef("pk"))))


def starts_with(column: str, text: str) -> Q:
    """`column` starts with `text`, in the form each database can answer from an
    index (migration 0002). PostgreSQL: LIKE 'text%', served by pattern-ops
    indexes under any collation (a range would not be: linguistic collations
    don't sort every string that starts with "a-" between "a-" and "a."). SQLite:
    a range, served by its byte-order (BINARY) indexes; it never uses an index
    for LIKE, which is case-insensitive there."""
    if connection.vendor == "sqlite":
        # Every string that starts with `text` sorts between it and `text` followed
        # by the largest code point (UTF-8 bytes compare in code point order).
        return Q(**{f"{column}__gte": text, f"{column}__lt": text + "\U0010ffff"})
    return Q(**{f"{column}__startswith": text})
