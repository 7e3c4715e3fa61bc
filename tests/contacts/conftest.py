"""Fixtures for the contacts area: `connected_world`, the shared `world` with a
live simulator in a thread, a seeded account, and the workspace connected to it
through the real OAuth flow (code + PKCE; the simulator approves by itself).

Each test gets its own simulator (starting one with a few dozen contacts takes
milliseconds), so a test may create, change and delete contacts at will. The
simulator and our own limiter run without the 4 requests/second limit by default
so the suite stays fast; a test that is about the limit turns it back on
(`connected_world.sim.limiter`, `settings.CC_RATE_PER_SECOND`).

    def test_it_mirrors_every_contact(connected_world):
        cc = connected_world.gate("editor")          # the gate, acting for the editor
        connected_world.sim.state                     # hold .lock to mutate
        connected_world.control("POST", "faults", error_rate_500=1.0)
        connected_world.membership("viewer")

    def test_it_lists_mirrored_contacts(synced_world):   # connected + one full sync done
        ...

    def test_it_catches_an_opt_out(connected_world, run_sync):
        run_sync("full"); ...; run = run_sync("incremental", who="editor")
"""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from apps.accounts.models import Membership
from apps.constantcontact import oauth
from apps.constantcontact.gate import Actor, ConstantContact, gate_for
from apps.constantcontact.models import Connection
from apps.constantcontact.services import connection_for
from tests.upstream_settings import point_at_simulator, run_unthrottled

ccsim = pytest.importorskip("ccsim")

# Enough for several pages at a small page size, few enough to seed instantly.
SEEDED_CONTACTS = 30


class ConnectedWorld:
    """The `world` (tests/conftest.py) plus `sim` and `connection`."""

    def __init__(self, world, sim, connection: Connection):
        self._world = world
        self.sim = sim
        self.connection = connection

    def __getattr__(self, name):
        # world.admin, world.workspace, world.roles, world.user(...) and the rest.
        return getattr(self._world, name)

    def membership(self, who: str = "admin") -> Membership:
        return Membership.objects.get(workspace=self.workspace, user=self.user(who))

    def gate(self, who: str = "admin") -> ConstantContact:
        return gate_for(workspace=self.workspace, actor=Actor.member(self.membership(who)))

    def control(self, method: str, what: str, **body) -> dict:
        """The simulator's control API (ccsim/control.py), over HTTP."""
        answer = requests.request(
            method, f"{self.sim.base_url}/__sim__/{what}", json=body or None, timeout=5
        )
        answer.raise_for_status()
        return answer.json()


@pytest.fixture
def sim_contacts() -> int:
    """How many contacts the simulator is seeded with; override in a module to change."""
    return SEEDED_CONTACTS


@pytest.fixture
def sim(sim_contacts):
    server = ccsim.start_in_thread(
        port=0, contacts=sim_contacts, auto_approve=True, rate_per_second=0,
        token_rate_per_second=0,
    )
    yield server
    server.stop()


@pytest.fixture
def sim_settings(settings, sim):
    point_at_simulator(settings, sim)
    # The simulator runs unthrottled here (see the module docstring).
    return run_unthrottled(settings, redis_prefix="cc-contacts-test")


def connect_through_the_simulator(world) -> Connection:
    """What an admin's browser does on the connect screen, without the browser."""
    admin = Membership.objects.get(workspace=world.workspace, user=world.admin)
    url, state, verifier = oauth.oauth_start()
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code in (302, 303), answer.text
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert oauth.oauth_state_matches(expected=state, received=callback["state"][0])
    return oauth.oauth_complete(
        connection=connection_for(workspace=world.workspace),
        code=callback["code"][0], verifier=verifier, actor=admin,
    )


@pytest.fixture
def connected_world(world, sim, sim_settings) -> ConnectedWorld:
    connection = connect_through_the_simulator(world)
    assert connection.status == Connection.Status.CONNECTED
    return ConnectedWorld(world, sim, connection)


@pytest.fixture
def run_sync(connected_world, django_capture_on_commit_callbacks):
    """run_sync(kind="full", who="admin") -> the finished SyncRun.

    Starts a sync of connected_world's workspace the way the sync screen does and
    runs it at once (Celery is eager in tests; the task is enqueued on commit,
    which this fixture triggers).
    """
    from apps.contacts.services.sync import contacts_sync_start

    def run(kind: str = "full", who: str = "admin"):
        with django_capture_on_commit_callbacks(execute=True):
            sync_run, _ = contacts_sync_start(
                workspace=connected_world.workspace, kind=kind,
                membership=connected_world.membership(who),
            )
        sync_run.refresh_from_db()
        return sync_run

    return run


@pytest.fixture
def synced_world(connected_world, run_sync) -> ConnectedWorld:
    """connected_world after one successful full sync: the mirror holds the account."""
    sync_run = run_sync("full")
    assert sync_run.status == "succeeded", sync_run.error
    return connected_world
