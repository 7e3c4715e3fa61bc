"""The shared world every test can use: one workspace with an admin, an editor,
an approver and a viewer, plus an outsider who belongs to another workspace.
And `no_backoff`, for tests that make Constant Contact fail on purpose."""

from django.conf import settings
import pytest

from apps.accounts.models import Role
from apps.constantcontact import client as cc_client
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clean_cache():
    # Login rate limits and locks live in the cache; no test may inherit another's.
    # Only this worker's keys go: cache.clear() would flush the whole Redis database
    # under parallel workers sharing one server.
    from apps.core.redis import redis_client

    client = redis_client()
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    yield


@pytest.fixture(autouse=True, scope="session")
def _flush_past_the_audit_log_guard():
    # A transactional test ends with a flush, one TRUNCATE of every table, which the
    # audit log refuses on PostgreSQL (apps/audit/migrations/0005). The test
    # database's superuser flushes as a replica session: it skips triggers.
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def flush_skipping_triggers(self, style, tables, **kwargs):
        statements = sql_flush(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", flush_skipping_triggers)
        yield


class World:
    def __init__(self):
        self.admin = UserFactory(email="admin@example.com")
        self.workspace = WorkspaceFactory(name="Acme Marketing", admin=self.admin)
        self.roles = {r.preset: r for r in Role.objects.filter(workspace=self.workspace)}
        self.editor = self.add_member("editor@example.com", "editor")
        self.approver = self.add_member("approver@example.com", "approver")
        self.viewer = self.add_member("viewer@example.com", "viewer")
        self.outsider = UserFactory(email="outsider@example.com")
        self.other_workspace = WorkspaceFactory(name="Other Team", admin=self.outsider)

    def add_member(self, email: str, preset: str):
        user = UserFactory(email=email)
        MembershipFactory(workspace=self.workspace, user=user, role=self.roles[preset])
        return user

    def user(self, name: str):
        return getattr(self, name)


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


@pytest.fixture
def no_backoff(monkeypatch) -> list[float]:
    """The client's retries don't sleep between attempts; the pauses they would
    have taken are recorded instead, in the list this fixture returns."""
    pauses: list[float] = []
    monkeypatch.setattr(cc_client, "sleep_for_backoff", pauses.append)
    return pauses


@pytest.fixture
def refuse_endpoint(monkeypatch):
    """refuse_endpoint("contacts.create", error): that catalog endpoint raises
    `error` at the gate; every other call goes through as usual."""
    from apps.constantcontact.gate import ConstantContact

    real_call = ConstantContact.call
    refused: dict[str, Exception] = {}

    def call(self, name, **kwargs):
        if name in refused:
            raise refused[name]
        return real_call(self, name, **kwargs)

    monkeypatch.setattr(ConstantContact, "call", call)
    return refused.__setitem__
