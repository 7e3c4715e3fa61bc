"""Redis is down: the limiter, the token-refresh lock and the budget's counters.
Nothing is sent without the shared limiter, and the refusal is a typed error
with a plain sentence for the member, never a 500."""

import pytest

from apps.accounts.models import Membership
from apps.audit.models import AuditEvent, Outcome
from apps.constantcontact import tokens
from apps.constantcontact.errors import LimiterUnavailable
from apps.constantcontact.explain import upstream_error_message
from apps.constantcontact.gate import Actor, gate_for
from apps.constantcontact.ratelimit import ApiBudget, TokenEndpointLimiter
from tests.constantcontact.conftest import expire_soon
from tests.redis_down import redis_stopped


@pytest.fixture
def redis_down(settings):
    with redis_stopped(settings) as url:
        yield url


def test_admission_is_refused_with_a_typed_error(redis_down):
    budget = ApiBudget(app_key="down-test", per_second=4, daily_quota=100, reserve=0)

    for interactive in (True, False):
        with pytest.raises(LimiterUnavailable) as caught:
            budget.acquire(interactive=interactive, timeout=1)
        assert caught.value.transient  # worth trying again once Redis is back
    with pytest.raises(LimiterUnavailable):
        TokenEndpointLimiter(app_key="down-test").acquire(timeout=1)


def test_the_budget_counters_never_turn_an_answered_call_into_an_error(redis_down):
    budget = ApiBudget(app_key="down-test", per_second=4, daily_quota=100, reserve=0)

    budget.record_call(area="contacts", member="7", job="", attempts=1)
    budget.note("throttled")
    budget.cool_off()
    budget.mark_quota_exhausted()


def test_a_gate_call_raises_it_sends_nothing_and_is_audited(world, connection, mocked,
                                                            redis_down):
    membership = Membership.objects.get(workspace=world.workspace, user=world.editor)
    cc = gate_for(workspace=world.workspace, actor=Actor.member(membership))

    with pytest.raises(LimiterUnavailable) as caught:
        cc.call("contacts.list", params={"limit": 1})

    assert len(mocked.calls) == 0
    assert caught.value.attempts == 0
    event = AuditEvent.objects.filter(action="cc.contacts.list").latest("pk")
    assert event.outcome == Outcome.FAILURE
    assert event.details["error_key"] == "limiter_unavailable"
    assert upstream_error_message(caught.value).startswith(
        "The shared rate limiter is unavailable (Redis is down), so nothing was sent to "
        "Constant Contact."
    )


def test_a_token_that_must_be_refreshed_is_not_refreshed_without_the_lock(connection, mocked,
                                                                          redis_down):
    # Refreshing without the lock could spend a rotating refresh token twice.
    expire_soon(connection, seconds=10)  # too close to expiry to keep using it
    version = connection.token_version

    with pytest.raises(LimiterUnavailable):
        tokens.valid_access_token(connection)

    assert len(mocked.calls) == 0
    connection.refresh_from_db()
    assert connection.token_version == version
