"""Tokens: encrypted at rest, rotatable keys, refreshed once by one process,
and a dead grant turned into "needs reconnect" plus a word to the admins."""

from io import StringIO
import threading
from urllib.parse import parse_qs

from cryptography.fernet import Fernet
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection as db_connection
from django.db import connections
import pytest

from apps.audit.models import AuditEvent
from apps.constantcontact import crypto, tokens
from apps.constantcontact.checks import check_token_keys
from apps.constantcontact.errors import NeedsReconnect
from apps.constantcontact.models import Connection
from ccadmin.env import env_list
from tests.conftest import World
from tests.constantcontact.conftest import TEST_KEY, TOKEN_URL, connect, expire_soon, token_payload


def raw_columns(pk: int) -> str:
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_ciphertext, refresh_token_ciphertext "
            "FROM constantcontact_connection WHERE id = %s", [pk],
        )
        return " ".join(cursor.fetchone())


# --- at rest -------------------------------------------------------------------------


def test_tokens_are_encrypted_at_rest(world):
    connection = connect(world.workspace, access="eyJhbGciOi.secret-access",
                         refresh="secret-refresh")
    stored = raw_columns(connection.pk)
    assert "secret-access" not in stored and "secret-refresh" not in stored
    connection = Connection.objects.get(pk=connection.pk)
    assert tokens.read_access_token(connection) == "eyJhbGciOi.secret-access"
    assert tokens.read_refresh_token(connection) == "secret-refresh"


def test_tokens_never_show_in_repr_or_str(world):
    connection = connect(world.workspace, access="visible-access", refresh="visible-refresh")
    for text in (repr(connection), str(connection)):
        assert "visible" not in text and connection.access_token_ciphertext not in text


def test_a_ciphertext_copied_to_another_workspace_does_not_decrypt(world):
    ours = connect(world.workspace, access="ours")
    theirs = connect(world.other_workspace, access="theirs")
    theirs.access_token_ciphertext = ours.access_token_ciphertext
    with pytest.raises(crypto.TokenDecryptionError):
        tokens.read_access_token(theirs)


def test_production_without_keys_refuses_to_start_storing_tokens(settings):
    settings.CCADMIN_FERNET_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        crypto.seal("x", context="c")


def test_development_without_keys_derives_one_from_the_secret_key(settings):
    settings.CCADMIN_FERNET_KEYS = []
    settings.DEBUG = True
    assert crypto.unseal(crypto.seal("x", context="c"), context="c") == "x"


def test_keys_come_from_one_comma_separated_variable(settings, monkeypatch):
    new = Fernet.generate_key().decode()
    sealed = crypto.seal("x", context="c")
    monkeypatch.setenv("CCADMIN_FERNET_KEYS", f"{new}, {TEST_KEY}")
    settings.CCADMIN_FERNET_KEYS = env_list("CCADMIN_FERNET_KEYS")  # as settings.py reads it
    assert crypto.unseal(sealed, context="c") == "x"


def test_rotation_re_encrypts_every_token_under_the_newest_key(world, settings):
    connect(world.workspace, access="a-token", refresh="r-token")
    connect(world.other_workspace, access="b-token", refresh="s-token")
    new_key = Fernet.generate_key().decode()
    settings.CCADMIN_FERNET_KEYS = [new_key, TEST_KEY]
    out = StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "2 connection(s)" in out.getvalue()

    settings.CCADMIN_FERNET_KEYS = [new_key]  # the old key is gone
    connection = Connection.objects.get(workspace=world.workspace)
    assert tokens.read_access_token(connection) == "a-token"
    assert tokens.read_refresh_token(connection) == "r-token"


# --- refresh -------------------------------------------------------------------------


def test_a_fresh_token_is_used_without_asking_constant_contact(connection, mocked):
    assert tokens.valid_access_token(connection) == "access-1"
    assert len(mocked.calls) == 0


def test_a_token_about_to_expire_is_refreshed_and_saved_before_use(connection, mocked):
    expire_soon(connection, seconds=120)
    mocked.post(TOKEN_URL, json=token_payload(2))
    version = connection.token_version

    assert tokens.valid_access_token(connection) == "access-2"

    form = parse_qs(mocked.calls[0].request.body)
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["refresh-1"]}
    saved = Connection.objects.get(pk=connection.pk)
    assert tokens.read_access_token(saved) == "access-2"
    assert tokens.read_refresh_token(saved) == "refresh-2"
    assert saved.token_version == version + 1
    assert saved.last_refreshed_at is not None


def test_a_long_lived_refresh_token_is_kept_when_none_comes_back(connection, mocked):
    expire_soon(connection)
    mocked.post(TOKEN_URL, json={"access_token": "access-2", "expires_in": 86400})
    tokens.valid_access_token(connection)
    assert tokens.read_refresh_token(Connection.objects.get(pk=connection.pk)) == "refresh-1"


def test_a_401_forces_a_refresh(connection, mocked):
    mocked.post(TOKEN_URL, json=token_payload(2))
    assert tokens.force_refresh(connection, seen_version=connection.token_version) == "access-2"
    assert len(mocked.calls) == 1


def test_a_401_after_someone_else_refreshed_uses_their_token(connection, mocked):
    seen = connection.token_version
    other = Connection.objects.get(pk=connection.pk)
    tokens.apply_token_response(other, token_payload(7), now=other.updated_at)
    other.save()
    assert tokens.force_refresh(connection, seen_version=seen) == "access-7"
    assert len(mocked.calls) == 0


def test_a_dead_grant_marks_the_connection_and_tells_the_admins(connection, mocked, world):
    expire_soon(connection)
    mocked.post(TOKEN_URL, status=400, json={
        "error": "invalid_grant", "error_description": "The refresh token is invalid or expired."})

    with pytest.raises(NeedsReconnect):
        tokens.valid_access_token(connection)

    connection = Connection.objects.get(pk=connection.pk)
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert connection.last_error == "The refresh token is invalid or expired."
    assert connection.refresh_token_ciphertext == ""
    event = AuditEvent.objects.get(action="cc.connection.needs_reconnect")
    assert event.workspace == world.workspace and event.outcome == "failure"
    assert [m.to for m in mail.outbox] == [[world.admin.email]]  # admins only
    assert "reconnect" in mail.outbox[0].subject.lower()

    # Later calls fail fast, without another token request or another email.
    with pytest.raises(NeedsReconnect):
        tokens.valid_access_token(connection)
    assert len(mocked.calls) == 1 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_needing_a_refresh_make_exactly_one_token_request(mocked):
    world = World()
    connection = connect(world.workspace)
    expire_soon(connection)
    mocked.post(TOKEN_URL, json=token_payload(2))

    # Each thread has its own copy, as separate processes would. (Loaded up front:
    # SQLite's shared in-memory test database refuses reads during a write.)
    copies = [Connection.objects.get(pk=connection.pk) for _ in range(20)]
    results, failures = [], []

    def worker(mine):
        try:
            results.append(tokens.valid_access_token(mine))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(mine,)) for mine in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert results == ["access-2"] * 20
    assert len(mocked.calls) == 1
    assert Connection.objects.get(pk=connection.pk).token_version == connection.token_version + 1


def test_the_deploy_check_demands_token_keys_in_production(settings):
    assert check_token_keys(None) == []
    settings.CCADMIN_FERNET_KEYS = []
    settings.DEBUG = False
    assert [e.id for e in check_token_keys(None)] == ["constantcontact.E001"]
    settings.CCADMIN_FERNET_KEYS = ["not-a-key"]
    assert [e.id for e in check_token_keys(None)] == ["constantcontact.E002"]


def test_a_token_that_still_works_is_used_when_the_refresh_fails_for_now(connection, mocked):
    expire_soon(connection, seconds=120)
    mocked.post(TOKEN_URL, status=503, body="")
    assert tokens.valid_access_token(connection) == "access-1"
    assert Connection.objects.get(pk=connection.pk).status == Connection.Status.CONNECTED
