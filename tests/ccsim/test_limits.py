"""Per-client 4 rps throttle, daily quota (resets at 00:00 UTC), request ids."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ccsim.server import start_in_thread

from .conftest import Api


@pytest.fixture
def lsim():
    s = start_in_thread(port=0, contacts=5, daily_quota=7)
    yield s
    s.stop()


def test_throttled_after_four_per_second(lsim):
    api = Api(lsim)
    codes = [api.get("/contacts?limit=1").status_code for _ in range(6)]
    # The whole burst fits in one second on any sane machine.
    assert codes[:4] == [200] * 4
    assert 429 in codes[4:]
    r = api.get("/contacts?limit=1")
    if r.status_code == 429:
        assert r.json() == {"error_key": "throttled", "error_message": "Too Many Requests"}
    lsim.clock.advance(1.1)           # the window slides with the simulated clock
    assert api.get("/contacts?limit=1").status_code == 200


def test_quota_exceeded_and_reset_at_midnight_utc(lsim):
    api = Api(lsim)
    seen = []
    for _ in range(9):
        lsim.clock.advance(0.3)       # stay under 4 rps
        seen.append(api.get("/contacts?limit=1"))
    codes = [r.status_code for r in seen]
    assert codes[:7] == [200] * 7 and codes[7:] == [429, 429]
    assert seen[-1].json() == {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
    now = lsim.clock.now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=1, microsecond=0)
    lsim.clock.advance((midnight - now).total_seconds())
    assert api.get("/contacts?limit=1").status_code == 200


def test_limits_are_per_client(lsim):
    a = Api(lsim, lsim.mint_token(client_id="ccadmin-demo"))
    b = Api(lsim, lsim.mint_token(client_id="someone-else"))
    for _ in range(4):
        assert a.get("/contacts?limit=1").status_code == 200
    assert a.get("/contacts?limit=1").status_code == 429
    assert b.get("/contacts?limit=1").status_code == 200


def test_request_id_header_everywhere(lsim):
    api = Api(lsim)
    ids = set()
    for path in ("/contacts?limit=1", "/__sim__/health", "/nope"):
        r = api.get(path)
        ids.add(r.headers["X-Request-Id"])
        assert r.headers["x-amzn-RequestId"] == r.headers["X-Request-Id"]
    assert len(ids) == 3
