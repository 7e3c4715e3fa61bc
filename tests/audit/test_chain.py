"""The audit log is tamper-evident: each event carries a hash chained to the one
before it, and `manage.py verify_audit` names the first event changed or removed
behind the application's back."""

from contextlib import contextmanager, suppress
from datetime import timedelta
import importlib
from io import StringIO
import threading
from types import SimpleNamespace

from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
import pytest

from apps.audit.chain import GENESIS, event_hash
from apps.audit.models import AuditChainHead, AuditEvent, AuditLogIsAppendOnly
from apps.audit.services import audit_event_record
from apps.audit.verification import audit_chain_verify
from tests.audit.conftest import T0
from tests.factories import AuditEventFactory

ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]


@contextmanager
def behind_the_guards():
    """A raw cursor past the ORM's guard and, on PostgreSQL, the append-only trigger
    (the test database's owner may switch it off, which is why the app must not
    connect as the owner). SQLite has no trigger to switch off."""
    with connection.cursor() as cursor:
        if ON_POSTGRESQL:
            settle_foreign_key_checks()
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        yield cursor
        if ON_POSTGRESQL:
            settle_foreign_key_checks()
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def settle_foreign_key_checks() -> None:
    """Run the foreign key checks the test's open transaction has deferred:
    PostgreSQL alters no table with checks pending on it."""
    if ON_POSTGRESQL:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def verify_audit() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def broken_link() -> str:
    with pytest.raises(CommandError) as caught:
        verify_audit()
    return str(caught.value)


@pytest.fixture
def three(world):
    return [
        audit_event_record(action=f"contact.step_{n}", actor=world.editor,
                           workspace=world.workspace, target=f"contact {n}")
        for n in (1, 2, 3)
    ]


def test_each_event_carries_a_hash_chained_to_the_one_before(three):
    first, second, third = three

    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    for event in three:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.hash == event_hash(stored, prev_hash=stored.prev_hash)
    head = AuditChainHead.objects.get()
    assert (head.last_hash, head.last_event_id) == (third.hash, third.pk)


def test_the_first_event_of_an_empty_log_starts_from_the_genesis_hash(world):
    AuditChainHead.objects.all().delete()

    first = audit_event_record(action="x.y", actor=world.admin)

    assert first.prev_hash == GENESIS
    assert AuditChainHead.objects.get().length == 1


def test_verify_audit_says_a_whole_chain_is_whole(three):
    out = verify_audit()

    assert out.startswith(f"The audit chain is whole: {AuditEvent.objects.count()} events")
    assert f"the last is event {three[-1].pk}, its hash {three[-1].hash}" in out


def test_verify_audit_names_an_event_changed_behind_the_orms_back(three):
    changed = three[1]
    intact = AuditEvent.objects.filter(pk__lt=changed.pk).count()
    with behind_the_guards() as cursor:
        cursor.execute("UPDATE audit_auditevent SET target = %s WHERE id = %s",
                       ["contact 9", changed.pk])

    message = broken_link()

    assert f"broken at event {changed.pk} (" in message
    assert changed.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%f") in message
    assert "it was changed after it was written" in message
    assert f"The {intact} events before it are intact" in message


def test_verify_audit_notices_an_event_removed_from_the_middle(three):
    first, removed, after = three
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [removed.pk])

    message = broken_link()

    assert f"broken at event {after.pk} (" in message
    assert f"but event {first.pk} hashes to {first.hash}" in message
    assert "events between them were removed" in message


def test_verify_audit_notices_the_newest_events_removed(three):
    written = AuditEvent.objects.count()
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [three[-1].pk])

    message = broken_link()

    assert "broken at its end" in message
    assert f"ends at event {three[1].pk} after {written - 1} events" in message
    assert f"records {written} events ending at event {three[-1].pk}" in message
    assert "the newest events were removed" in message


def test_verify_audit_notices_an_event_appended_without_moving_the_head(three):
    head = AuditChainHead.objects.get()
    forged = AuditEvent(action="forged.event", occurred_at=T0, prev_hash=head.last_hash)
    forged.hash = event_hash(forged, prev_hash=forged.prev_hash)
    AuditEvent._base_manager.bulk_create([forged])  # skips save(), and so the head

    message = broken_link()

    assert f"ends at event {AuditEvent.objects.latest('id').pk}" in message
    assert "events were added after it, outside the chain" in message


def test_verify_audit_notices_an_overwritten_hash(three):
    with behind_the_guards() as cursor:
        cursor.execute("UPDATE audit_auditevent SET hash = %s WHERE id = %s",
                       ["f" * 64, three[0].pk])

    assert f"broken at event {three[0].pk} (" in broken_link()


def test_a_hash_still_matches_after_the_database_rewrites_numbers_and_keys(world):
    # PostgreSQL's jsonb spells 1e16 as 10000000000000000, 1e-07 as 0.0000001 and
    # -0.0 as 0.0; integer keys come back as strings, tuples as lists.
    event = AuditEventFactory(details={
        "big": 1e16, "small": 1e-7, "whole": 100.0, "negative_zero": -0.0,
        "huge": 10**30, "keys": {1: "one"}, "pair": (1, 2), "text": "żółw ✓",
    })

    stored = AuditEvent.objects.get(pk=event.pk)

    assert stored.hash == event.hash == event_hash(stored, prev_hash=stored.prev_hash)
    assert audit_chain_verify().whole


def test_an_event_given_its_time_as_text_is_chained_on_the_time_stored(world):
    event = AuditEventFactory(occurred_at="2025-03-10T12:00:00.000001+00:00")

    assert AuditEvent.objects.get(pk=event.pk).occurred_at == T0 + timedelta(microseconds=1)
    assert audit_chain_verify().whole


def test_an_event_rolled_back_with_its_callers_transaction_leaves_no_gap(world):
    before = audit_event_record(action="a.kept", actor=world.admin)
    with suppress(RuntimeError), transaction.atomic():
        audit_event_record(action="a.rolled_back", actor=world.admin)
        raise RuntimeError("the caller's work failed")

    after = audit_event_record(action="a.kept_too", actor=world.admin)

    assert after.prev_hash == before.hash
    assert audit_chain_verify().whole


def test_events_cannot_be_bulk_created_outside_the_chain(world):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_create([AuditEvent(action="x.y")])


def test_the_migration_chains_the_events_written_before_the_chain_existed(world):
    # Rows as they stood before migration 0003: no hashes (bulk_create on the base
    # manager skips save(), and so the chain).
    AuditEvent._base_manager.bulk_create(
        [AuditEvent(action=f"old.{n}", occurred_at=T0 + timedelta(minutes=n)) for n in range(3)]
    )
    assert not audit_chain_verify().whole
    migration = importlib.import_module("apps.audit.migrations.0004_chain_existing_events")
    cursor = connection.cursor()
    settle_foreign_key_checks()

    migration.chain_existing_events(
        django_apps, SimpleNamespace(connection=connection, execute=cursor.execute)
    )

    report = audit_chain_verify()
    assert report.whole and report.length == AuditEvent.objects.count()
    later = audit_event_record(action="new.event")
    assert later.prev_hash == report.last_hash
    assert audit_chain_verify().whole


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite's shared in-memory test database "
                    "refuses a second writer outright instead of making it wait")
@pytest.mark.django_db(transaction=True)
def test_writers_in_parallel_database_sessions_append_to_one_linear_chain():
    # Each thread has its own database session, as each web or worker process does:
    # the chain head's row lock is what orders them.
    writers, each = 6, 15
    start = threading.Barrier(writers)
    failures: list[Exception] = []
    existing = AuditEvent.objects.count()

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                if i % 2:  # half of them inside a caller's transaction, with other work
                    with transaction.atomic():
                        audit_event_record(action="parallel.nested", target=f"{n}/{i}")
                else:
                    audit_event_record(action="parallel.alone", target=f"{n}/{i}")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    report = audit_chain_verify()
    assert report.first_break is None
    assert report.length == existing + writers * each
