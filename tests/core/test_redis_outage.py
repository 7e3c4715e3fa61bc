"""Redis is down: people still sign in and browse the mirror, and nothing that needs
the shared rate limiter or a lock is sent — each such action says why instead of
answering 500 (docs/redis-outage.md)."""

import logging

from django.urls import reverse

from apps.audit.models import AuditEvent, Outcome
from apps.contacts.services.sync import contacts_sync_start
from apps.mirror.models import SyncRun
from tests.accounts.test_mfa import totp_now
from tests.conftest import PASSWORD
from tests.constantcontact.helpers_sim import RequestLog

LIMITER_DOWN = "The shared rate limiter is unavailable (Redis is down)"


def url(world, name: str) -> str:
    return reverse(name, kwargs={"workspace_slug": world.workspace.slug})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_contacts_list_reads_the_mirror(client, synced_world, redis_down):
    client.force_login(synced_world.viewer)

    response = client.get(url(synced_world, "contacts:contact_list"))

    assert response.status_code == 200
    assert response.context["count"].value > 0
    assert response.context["rows"]


def test_the_audit_log_reads_the_database(client, world, redis_down):
    client.force_login(world.admin)

    response = client.get(f"/w/{world.workspace.slug}/audit/")

    assert response.status_code == 200


def test_the_account_page_says_the_limiter_is_down_and_sends_nothing(
    client, connected_world, redis_down
):
    log = RequestLog(connected_world.sim)
    client.force_login(connected_world.viewer)

    response = client.get(url(connected_world, "campaigns:account"))

    assert response.status_code == 200
    assert LIMITER_DOWN in response.content.decode()
    assert log.arrivals == []  # not even the token endpoint
    refused = AuditEvent.objects.filter(action="cc.account.summary_get").latest("pk")
    assert (refused.outcome, refused.details["error_key"], refused.details["attempts"]) == (
        Outcome.FAILURE, "limiter_unavailable", 0)


def test_starting_a_sync_is_refused_with_the_reason(client, connected_world, redis_down):
    log = RequestLog(connected_world.sim)
    client.force_login(connected_world.admin)

    response = client.post(url(connected_world, "contacts:sync_start"), {"kind": "full"},
                           follow=True)

    assert response.status_code == 200
    assert "The sync did not start. " + LIMITER_DOWN in response.content.decode()
    assert not SyncRun.objects.filter(workspace=connected_world.workspace).exists()
    assert log.arrivals == []


def test_the_login_page_answers_and_signing_in_works(client, world, redis_down, caplog):
    assert client.get("/accounts/login/").status_code == 200

    with caplog.at_level(logging.WARNING, logger="apps.core.cache"):
        wrong = client.post("/accounts/login/", {"login": "admin@example.com",
                                                 "password": "not the password at all"})
        right = client.post("/accounts/login/", {"login": "admin@example.com",
                                                 "password": PASSWORD})

    assert wrong.status_code == 200 and right.status_code == 302
    assert signed_in(client)
    assert AuditEvent.objects.filter(action="login.succeeded", actor=world.admin).exists()
    # Login rate limits fail open while Redis is down, and say so in the log — once,
    # not at every cache call.
    warnings = [r for r in caplog.records if r.name == "apps.core.cache"]
    assert len(warnings) == 1
    assert "Redis did not answer" in warnings[0].getMessage()


def test_a_member_with_an_authenticator_app_signs_in(client, world, enrolled, request):
    request.getfixturevalue("redis_down")  # down only now: enrolling used Redis

    client.post("/accounts/login/", {"login": "editor@example.com", "password": PASSWORD})
    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now(enrolled)})

    assert response.status_code == 302
    assert signed_in(client)


def test_a_queued_sync_that_finds_redis_down_ends_failed_with_the_reason(
    connected_world, django_capture_on_commit_callbacks, request
):
    with django_capture_on_commit_callbacks() as queued:  # started, not yet run
        run, _ = contacts_sync_start(workspace=connected_world.workspace, kind="full",
                                     membership=connected_world.membership("admin"))
    request.getfixturevalue("redis_down")

    for task in queued:
        task()  # the worker picks it up (eager Celery: right here)

    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith(LIMITER_DOWN)
