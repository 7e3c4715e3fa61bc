"""On PostgreSQL the database itself keeps the audit log append-only: TRUNCATE is
refused even for the tables' owner, and the role the app connects as may read
and append but can't change, remove, empty or unguard the log."""

from io import StringIO
import secrets

from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
import pytest

from apps.audit.database_roles import app_role_grant
from apps.audit.models import AuditEvent
from apps.audit.services import audit_event_record

pytestmark = pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="PostgreSQL only: SQLite has no TRUNCATE, no triggers here and no roles; "
    "CI runs these against PostgreSQL",
)

# What someone holding the app's connection might try against the log.
REWRITES = [
    "UPDATE audit_auditevent SET action = 'rewritten'",
    "DELETE FROM audit_auditevent",
    "TRUNCATE audit_auditevent",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "DROP TABLE audit_auditevent CASCADE",
    "SET session_replication_role = replica",  # which would skip every trigger
]


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def settle_foreign_key_checks() -> None:
    """Run the foreign key checks the test's open transaction has deferred:
    PostgreSQL truncates no table with checks pending on it."""
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def event(world):
    return audit_event_record(action="contact.updated", actor=world.admin,
                              workspace=world.workspace)


def test_truncating_the_log_is_refused_even_for_its_owner(event):
    settle_foreign_key_checks()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("TRUNCATE audit_auditevent")

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_a_truncate_that_cascades_to_the_log_is_refused_too(event):
    settle_foreign_key_checks()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        execute("TRUNCATE accounts_workspace CASCADE")

    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.fixture
def app_role(db):
    """A role set up by grant_app_role's service, and a connection as that role;
    the role is dropped afterwards (roles belong to the whole server)."""
    import psycopg

    role, password = f"ccadmin_app_test_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    app_role_grant(role=role, password=password)
    db_settings = connection.settings_dict
    app = psycopg.connect(
        host=db_settings["HOST"] or None, port=db_settings["PORT"] or None,
        dbname=db_settings["NAME"], user=role, password=password, autocommit=True,
    )
    try:
        yield app
    finally:
        app.close()
        execute(f"DROP OWNED BY {role}")
        execute(f"DROP ROLE {role}")


def refused(app, sql: str) -> bool:
    import psycopg

    try:
        app.execute(sql)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_the_app_role_reads_and_appends_but_cannot_rewrite_the_log(world, app_role):
    audit_event_record(action="contact.updated", actor=world.admin, workspace=world.workspace)
    written = AuditEvent.objects.count()

    assert app_role.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (written,)
    app_role.execute(
        "INSERT INTO audit_auditevent (occurred_at, actor_label, action, target, outcome,"
        " details, prev_hash, hash) VALUES (now(), 'app', 'probe', '', 'success', '{}', '', '')"
    )
    app_role.execute("UPDATE audit_auditchainhead SET length = length")  # its writers' lock
    app_role.execute("UPDATE accounts_workspace SET name = name")  # ordinary tables: all DML
    assert {sql: refused(app_role, sql) for sql in REWRITES} == dict.fromkeys(REWRITES, True)
    assert AuditEvent.objects.count() == written + 1


def test_grant_app_role_refuses_to_hand_the_app_the_owners_role(db, monkeypatch):
    owner = connection.settings_dict["USER"] or "postgres"
    monkeypatch.setenv("CCADMIN_APP_DATABASE_URL",
                       f"postgres://{owner}@db/{connection.settings_dict['NAME']}")

    with pytest.raises(CommandError, match="the tables' owner"):
        call_command("grant_app_role", stdout=StringIO())


def test_grant_app_role_refuses_a_url_for_another_database(db, monkeypatch):
    monkeypatch.setenv("CCADMIN_APP_DATABASE_URL", "postgres://ccadmin_app:pw@db/elsewhere")

    with pytest.raises(CommandError, match="names the database 'elsewhere'"):
        call_command("grant_app_role", stdout=StringIO())
