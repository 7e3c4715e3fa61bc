"""Reading the contacts mirror: prefix search, filters, keyset pages in every sort
(both directions, ties and NULLs), and counts that don't scan the table."""

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
import pytest

from apps.contacts.selectors.contacts import (
    Cursor,
    Sort,
    contact_count,
    contact_count_invalidate,
    contact_page,
)
from apps.mirror.models import Contact
from apps.mirror.selectors.contacts import ContactFilters, contact_filter
from tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SyncRunFactory,
    TagFactory,
    TaggingFactory,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make(workspace, n: int, **fields) -> Contact:
    return ContactFactory(
        workspace=workspace, first_name=fields.pop("first", f"First{n}"),
        last_name=fields.pop("last", f"Last{n % 7}"),
        email=fields.pop("email", f"person{n:03d}@example.com"),
        email_status=fields.pop("email_status", "implicit"),
        created_upstream=fields.pop("created", T0 + timedelta(hours=n)),
        updated_upstream=fields.pop("updated", T0 + timedelta(hours=n % 5)), **fields,
    )


def emails(contacts) -> list[str]:
    return [c.email for c in contacts]


def walk(contacts, sort: Sort, size: int) -> list[Contact]:
    """Every row, page by page through the `next` cursors."""
    rows, page = [], contact_page(contacts=contacts, sort=sort, size=size)
    while True:
        rows += page.contacts
        if page.next is None:
            return rows
        page = contact_page(contacts=contacts, sort=sort, after=page.next, size=size)


def search(world, text: str) -> list[str]:
    contacts = contact_filter(workspace=world.workspace, filters=ContactFilters(q=text))
    return sorted(emails(contacts))


def test_search_matches_starts_of_addresses_and_names(world):
    ws = world.workspace
    make(ws, 1, first="Ava", last="Smith", email="ava.smith@example.com")
    make(ws, 2, first="Ben", last="Smithers", email="b.s@acme.test")
    make(ws, 3, first="Cara", last="Jones", email="cara@smith.example")
    make(world.other_workspace, 4, first="Ava", last="Smith", email="ava@other.test")
    assert search(world, "smith") == ["ava.smith@example.com", "b.s@acme.test"]
    assert search(world, "AVA") == ["ava.smith@example.com"]
    assert search(world, "ava smith") == ["ava.smith@example.com"]
    assert search(world, "  ben   smi ") == ["b.s@acme.test"]
    assert search(world, "cara@") == ["cara@smith.example"]
    assert search(world, "example") == []  # a prefix search, not a substring one
    assert search(world, "50%_") == []  # LIKE wildcards are plain text here


@pytest.mark.parametrize("small_set", [0, 5000])
def test_filters_by_list_tag_and_status(world, monkeypatch, small_set):
    # Both plans (the set read first, or probed while walking): the same answer.
    from apps.mirror.selectors import contacts as selectors

    monkeypatch.setattr(selectors, "SMALL_SET", small_set)
    ws = world.workspace
    a = make(ws, 1)
    b = make(ws, 2, email_status="unsubscribed")
    c = make(ws, 3, deleted_upstream=T0)
    d = make(ws, 4, email_status="pending_confirmation")
    vip = ContactListFactory(workspace=ws, name="VIP")
    lead = TagFactory(workspace=ws, name="lead")
    ListMembershipFactory(contact=a, contact_list=vip)
    ListMembershipFactory(contact=c, contact_list=vip)
    TaggingFactory(contact=b, tag=lead)

    def found(**filters):
        return sorted(emails(contact_filter(workspace=ws, filters=ContactFilters(**filters))))

    assert found() == emails([a, b, d])  # removed contacts are left out by default
    assert found(status="all") == emails([a, b, c, d])
    assert found(status="removed") == emails([c])
    assert found(status="subscribed") == emails([a, d])
    assert found(status="unsubscribed") == emails([b])
    assert found(status="pending_confirmation") == emails([d])
    assert found(contact_list=vip) == emails([a])
    assert found(contact_list=vip, status="all") == emails([a, c])
    assert found(tag=lead) == emails([b])


@pytest.mark.parametrize("param", ["email", "-email", "name", "-name", "updated", "-updated",
                                   "created", "-created"])
def test_keyset_pages_visit_every_row_once_in_order(world, param):
    ws = world.workspace
    for n in range(23):
        make(ws, n)
    # Ties in every sort column, and NULLs in the date columns.
    make(ws, 100, last="Last1", updated=None, created=None)
    make(ws, 101, last="Last1", updated=None, created=None)
    sort = Sort.parse(param)
    contacts = contact_filter(workspace=ws, filters=ContactFilters())
    everything = list(contacts.order_by(*_python_order(sort)))

    assert [c.pk for c in walk(contacts, sort, size=5)] == [c.pk for c in everything]


def _python_order(sort: Sort):
    from apps.contacts.selectors.contacts import _ordering

    return _ordering(sort, descending=sort.descending)


@pytest.mark.parametrize("param", ["email", "-email", "name", "-updated", "created"])
def test_a_searched_screen_pages_through_every_match_once_in_order(world, param):
    """The screen's search (contact_page/contact_count given the text) finds what
    contact_filter's does, page by page and back, whichever way a contact matches."""
    ws = world.workspace
    for n in range(14):  # matching by first name, so by search_text
        make(ws, n, first="Ava" if n % 2 else "Ben", last=f"Smith{n % 3}",
             email=f"{'ava' if n % 5 == 0 else 'x'}{n:02d}@example.com")
    make(ws, 20, first="Cara", last="Avalon", email="c20@example.com")  # by last name only
    make(ws, 21, first="Dev", last="Kim", email="ava.kim@example.com")  # by address only
    make(ws, 22, first="Ava", last="Null", updated=None, created=None)
    make(ws, 23, first="Ava", last="Gone", deleted_upstream=T0)  # removed: never shown
    sort = Sort.parse(param)
    searched = ContactFilters(q="ava")
    expected = list(contact_filter(workspace=ws, filters=searched)
                    .order_by(*_python_order(sort)))
    unsearched = contact_filter(workspace=ws, filters=searched.without_search())

    pages = [contact_page(contacts=unsearched, sort=sort, size=3, search="ava")]
    while pages[-1].next is not None:
        pages.append(contact_page(contacts=unsearched, sort=sort, after=pages[-1].next, size=3,
                                  search="ava"))
    back = contact_page(contacts=unsearched, sort=sort, before=pages[-1].previous, size=3,
                        search="AVA ")

    assert len(expected) == 12
    assert [c.pk for page in pages for c in page.contacts] == [c.pk for c in expected]
    assert back.contacts == pages[-2].contacts
    count = contact_count(workspace=ws, filters=searched, contacts=unsearched)
    assert (count.value, count.capped) == (12, False)


def test_previous_pages_walk_back_to_the_start(world):
    ws = world.workspace
    for n in range(12):
        make(ws, n)
    sort = Sort.parse("-updated")
    contacts = contact_filter(workspace=ws, filters=ContactFilters())
    first = contact_page(contacts=contacts, sort=sort, size=5)
    second = contact_page(contacts=contacts, sort=sort, after=first.next, size=5)
    third = contact_page(contacts=contacts, sort=sort, after=second.next, size=5)
    assert len(third.contacts) == 2 and third.next is None
    back = contact_page(contacts=contacts, sort=sort, before=third.previous, size=5)
    assert back.contacts == second.contacts
    start = contact_page(contacts=contacts, sort=sort, before=back.previous, size=5)
    assert start.contacts == first.contacts and start.previous is None


def test_cursors_round_trip_and_refuse_other_sorts(world):
    contact = make(world.workspace, 1)
    for param in ("email", "-updated", "name"):
        sort = Sort.parse(param)
        cursor = Cursor.of(contact, sort)
        assert Cursor.decode(cursor.encode(), sort) == cursor
    cursor = Cursor.of(contact, Sort.parse("email"))
    for bad, sort in ((cursor.encode(), Sort.parse("-email")), ("garbage", Sort.parse("email")),
                      ("W10", Sort.parse("email"))):
        with pytest.raises(ValueError):
            Cursor.decode(bad, sort)
    assert Sort.parse("drop table") == Sort.parse("email")


def test_the_plain_count_is_cached_until_a_sync_moves_or_a_write_invalidates(world):
    ws = world.workspace
    for n in range(3):
        make(ws, n)
    plain = ContactFilters()

    def count():
        return contact_count(workspace=ws, filters=plain,
                             contacts=contact_filter(workspace=ws, filters=plain)).value

    assert count() == 3
    make(ws, 10)
    with CaptureQueriesContext(connection) as queries:
        assert count() == 3  # cached: no COUNT ran
    assert not any("COUNT" in q["sql"].upper() for q in queries.captured_queries)
    SyncRunFactory(workspace=ws, kind="incremental", status="running")
    assert count() == 4
    make(ws, 11)
    contact_count_invalidate(workspace=ws)
    assert count() == 5


def test_a_filtered_count_stops_at_the_cap(world, monkeypatch):
    from apps.contacts.selectors import contacts as selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 4)
    ws = world.workspace
    for n in range(6):
        make(ws, n)
    filters = ContactFilters(q="first")
    result = contact_count(workspace=ws, filters=filters,
                           contacts=contact_filter(workspace=ws, filters=filters))
    assert (result.value, result.capped, str(result)) == (4, True, "4+")
    filters = ContactFilters(q="first1")
    result = contact_count(workspace=ws, filters=filters,
                           contacts=contact_filter(workspace=ws, filters=filters))
    assert (result.value, result.capped) == (1, False)
