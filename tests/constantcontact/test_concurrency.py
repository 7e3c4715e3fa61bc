"""Many processes, one application key: the refresh lock and the rate limiter hold
across processes, not just across threads.

Each test runs four child processes of five (or two) threads against one
simulator in a thread of this process, sharing this process's Redis and a
throwaway database (see helpers_processes.py). The simulator's request log
(helpers_sim.py) is the witness: how many refreshes reached the token endpoint,
and how many API requests arrived in any one second.
"""

import uuid

from django.conf import settings
import pytest
import requests

from apps.core.redis import redis_client
from tests.constantcontact.helpers_processes import (
    child_env,
    run_child,
    run_workers,
    shared_database,
)
from tests.constantcontact.helpers_sim import RequestLog, busiest_window

ccsim_server = pytest.importorskip("ccsim.server")
ccsim_constants = pytest.importorskip("ccsim.constants")

PROCESSES = 4
THREADS = 5


@pytest.fixture(scope="module")
def sim():
    server = ccsim_server.start_in_thread(port=0, contacts=20, auto_approve=True)
    server.log = RequestLog(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def children(tmp_path_factory):
    """The environment of every child process, with a migrated shared database."""
    with shared_database(tmp_path_factory.mktemp("cross-process")) as database_url:
        env = child_env(database_url=database_url, redis_url=settings.REDIS_URL)
        run_child("migrate", {}, env=env)
        yield env


@pytest.fixture
def child_settings(sim):
    """The children's CC settings: this simulator, the real limits, and limiter and
    lock keys of their own in the shared Redis."""
    prefix = f"cc-xproc-{uuid.uuid4().hex[:12]}"
    per_second = sim.limiter.per_second
    yield {
        "CC_API_BASE_URL": f"{sim.base_url}/v3",
        "CC_AUTH_BASE_URL": f"{sim.base_url}/oauth2/default/v1",
        "CC_CLIENT_ID": ccsim_constants.DEMO_CLIENT_ID,
        "CC_CLIENT_SECRET": ccsim_constants.DEMO_CLIENT_SECRET,
        "CC_REDIRECT_URI": ccsim_constants.DEMO_REDIRECT_URI,
        "CC_RATE_PER_SECOND": 4,
        "CC_TOKEN_RATE_PER_SECOND": 1,
        "CC_REDIS_PREFIX": prefix,
    }
    sim.limiter.per_second = per_second
    r = redis_client()
    for key in r.scan_iter(f"{prefix}:*"):
        r.delete(key)


def control(sim, method: str, what: str) -> dict:
    answer = requests.request(method, f"{sim.base_url}/__sim__/{what}", timeout=5)
    answer.raise_for_status()
    return answer.json()


def connected_workspace(children, child_settings, *, expire_locally: bool = False) -> dict:
    return run_child(
        "setup",
        {"settings": child_settings, "tag": uuid.uuid4().hex[:8], "expire_locally": expire_locally},
        env=children,
    )


def calls(workspace: dict, child_settings, *, threads: int, each: int) -> dict:
    return {"settings": child_settings, **workspace, "threads": threads, "calls": each,
            "operation": "contacts.list", "params": {"limit": 1}}


def test_twenty_threads_in_four_processes_refresh_an_expired_token_once(
    sim, children, child_settings, tmp_path
):
    workspace = connected_workspace(children, child_settings, expire_locally=True)
    # Dead upstream too: a thread that sent the old token would meet a 401.
    control(sim, "POST", "expire_tokens")
    control(sim, "POST", "reset_limits")
    sim.log.clear()

    outcomes = run_workers(calls(workspace, child_settings, threads=THREADS, each=1),
                           env=children, processes=PROCESSES, logs=tmp_path)

    assert len(outcomes) == PROCESSES * THREADS
    assert [o for o in outcomes if not o["ok"]] == []
    assert [(a.grant_type, a.status) for a in sim.log.token_calls()] == [("refresh_token", 200)]
    api = sim.log.api()
    # Nobody sent the dead token: no 401 reached the simulator.
    assert [a for a in api if a.status == 401] == [], sim.log.summary()
    # Each call was answered 200 once. The only other answer allowed is a 429
    # `throttled`: the limiter leaves 40 ms for requests to be delayed unevenly on
    # their way (docs/rate-limiter.md), a loaded CI machine can delay one by more, and
    # the client then retries after the shared cool-off, as designed. The limiter's
    # own test is the last one in this file.
    throttled = [a for a in api if a.status == 429]
    assert sum(1 for a in api if a.status == 200) == PROCESSES * THREADS, sim.log.summary()
    assert len(throttled) + PROCESSES * THREADS == len(api), sim.log.summary()
    assert {a.error_key for a in throttled} <= {"throttled"}
    # Every attempt after a call's first was the retry of one of those 429s: none
    # was a 401's retry or a dropped connection's.
    assert sum(o["attempts"] - 1 for o in outcomes) == len(throttled), sim.log.summary()
    # Everyone ended up with the one new pair.
    assert {o["token_version"] for o in outcomes} == {workspace["token_version"] + 1}


def test_threads_in_four_processes_that_all_meet_a_401_share_one_refresh(
    sim, children, child_settings, tmp_path
):
    workspace = connected_workspace(children, child_settings)
    # Revoked upstream while every row still says valid: the 401 path, not the expiry one.
    control(sim, "POST", "expire_tokens")
    control(sim, "POST", "reset_limits")
    sim.log.clear()
    # Up to 40 requests; the rate limit isn't what this test is about.
    sim.limiter.per_second = 0  # restored by child_settings
    unlimited = {**child_settings, "CC_RATE_PER_SECOND": 1000}

    outcomes = run_workers(calls(workspace, unlimited, threads=THREADS, each=1),
                           env=children, processes=PROCESSES, logs=tmp_path)

    assert [o for o in outcomes if not o["ok"]] == []
    assert len(outcomes) == PROCESSES * THREADS
    assert [(a.grant_type, a.status) for a in sim.log.token_calls()] == [("refresh_token", 200)]
    api = sim.log.api()
    unauthorized = [a for a in api if a.status == 401]
    assert unauthorized  # the token really was dead
    # Each 401 cost its call exactly one retry, which succeeded.
    assert len(unauthorized) == sum(1 for o in outcomes if o["attempts"] == 2)
    assert {o["attempts"] for o in outcomes} <= {1, 2}
    assert sum(1 for a in api if a.status == 200) == PROCESSES * THREADS
    assert {o["token_version"] for o in outcomes} == {workspace["token_version"] + 1}


def test_processes_sharing_the_limiter_never_send_more_than_four_in_a_second(
    sim, children, child_settings, tmp_path
):
    workspace = connected_workspace(children, child_settings)
    control(sim, "POST", "reset_limits")
    sim.log.clear()
    # The default 1,040 ms window leaves 40 ms for requests to be delayed unevenly
    # between our limiter and the simulator's second (docs/rate-limiter.md); a loaded
    # CI machine delays one by more now and then (52 ms once drew a 429 in the first test).
    # A 1,250 ms window proves the same (one schedule shared by every process) with
    # 250 ms to spare both ways: any 5 calls leave >= 1,250 ms apart, 4 in a row
    # within 750 ms.
    spaced = {**child_settings, "CC_RATE_WINDOW_MS": 1250}

    outcomes = run_workers(calls(workspace, spaced, threads=2, each=2),
                           env=children, processes=PROCESSES, logs=tmp_path)

    assert [o for o in outcomes if not o["ok"]] == []
    api = sim.log.api()
    assert len(api) == PROCESSES * 2 * 2, sim.log.summary()
    assert [a for a in api if a.status == 429] == [], sim.log.summary()
    # At most 4 is the rule; exactly 4 shows the eight threads kept the limiter busy.
    assert busiest_window(a.at for a in api) == 4
