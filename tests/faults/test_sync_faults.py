"""A full contacts sync, run by a real worker, while Constant Contact fails: a tenth
of the requests each answer 5xx, hang up or are throttled; every request fails
after the first page; the worker is killed with SIGKILL mid-run. Whatever
happens, no mirrored row is lost, a failed run says why on the sync page, and
once the dust settles (a follow-up sync where one failed) the mirror holds every
contact Constant Contact has."""

from django.urls import reverse
from django.utils.html import escape
import pytest

from apps.contacts.services.sync import contacts_sync_start, run_lock_key
from apps.core.redis import redis_client
from apps.mirror.models import Contact, SyncRun
from tests.faults.conftest import TEN_PERCENT_FAULTS
from tests.faults.worker import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

# Six pages of 500 (the sync's page size) plus lists, tags and custom fields: enough
# requests for a tenth of them to fail a few times, and page boundaries to kill at.
CONTACTS = 3_000
# A sync of 3,000 contacts takes about a second; faults add hangs and backoff.
SYNC_TIMEOUT = 60


@pytest.fixture
def sim_contacts() -> int:
    return CONTACTS


def start_sync(world, kind: str = "full") -> SyncRun:
    run, created = contacts_sync_start(workspace=world.workspace, kind=kind,
                                       membership=world.membership("admin"))
    assert created, f"a sync was already {run.status}"
    return run


def finished(run: SyncRun, worker) -> SyncRun:
    def done():
        run.refresh_from_db()
        return not run.is_active

    wait_until(f"sync run {run.pk} to finish", done, timeout=SYNC_TIMEOUT, worker=worker)
    return run


def sync_to_the_end(world, worker) -> SyncRun:
    run = finished(start_sync(world), worker)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def upstream_contacts(world) -> dict[str, str]:
    with world.sim.state.lock:
        return {cid: c["email_address"]["address"].lower()
                for cid, c in world.sim.state.contacts.items()}


def mirrored_contacts(world) -> dict[str, str]:
    return dict(Contact.objects.filter(workspace=world.workspace).values_list("cc_id", "email"))


def sync_page(client, world) -> str:
    client.force_login(world.admin)
    answer = client.get(reverse("contacts:sync", kwargs={"workspace_slug": world.workspace.slug}))
    assert answer.status_code == 200
    return answer.content.decode()


def assert_shown_on_the_sync_page(client, world, run: SyncRun) -> None:
    assert run.error, f"run {run.pk} failed without saying why"
    assert "Traceback" not in run.error
    assert escape(run.error) in sync_page(client, world)


def test_a_full_sync_under_ten_percent_faults_mirrors_every_contact(
        connected_world, upstream, start_worker, client):
    world = connected_world
    worker = start_worker()
    upstream.misbehave(**TEN_PERCENT_FAULTS)

    run = finished(start_sync(world), worker)

    upstream.calm()
    assert sum(upstream.served.values()) > 0, "no fault was served: the test proved nothing"
    if run.status == SyncRun.Status.FAILED:
        # The client's retries ran out on one request: the member is told, and the
        # next sync finishes the job.
        assert_shown_on_the_sync_page(client, world, run)
        sync_to_the_end(world, worker)
    assert mirrored_contacts(world) == upstream_contacts(world)


def test_a_sync_that_gives_up_says_why_and_keeps_every_mirrored_row(
        connected_world, upstream, start_worker, client):
    world = connected_world
    worker = start_worker()
    sync_to_the_end(world, worker)
    before = mirrored_contacts(world)
    # From the second page of contacts on, Constant Contact answers nothing but 503.
    first_page = upstream.hold("GET", "/v3/contacts", nth=1)
    run = start_sync(world)
    wait_until("the first page of contacts", first_page.arrived.is_set, timeout=SYNC_TIMEOUT,
               worker=worker)
    upstream.misbehave(error_rate_503=1.0)
    upstream.release_all()
    run = finished(run, worker)

    assert run.status == SyncRun.Status.FAILED
    assert 0 < run.processed < CONTACTS
    assert mirrored_contacts(world) == before  # a failed full sync removes nothing
    assert_shown_on_the_sync_page(client, world, run)
    upstream.calm()
    sync_to_the_end(world, worker)
    assert mirrored_contacts(world) == upstream_contacts(world)


def test_a_sync_whose_worker_is_killed_is_finished_by_the_next_one(
        connected_world, upstream, start_worker, client, settings):
    world = connected_world
    settings.CCADMIN_SYNC_LOCK_SECONDS = 2  # the dead run's lock lapses within the test
    first_worker = start_worker()
    second_page = upstream.hold("GET", "/v3/contacts", nth=2)
    killed = start_sync(world)
    wait_until("the second page of contacts", second_page.arrived.is_set, timeout=SYNC_TIMEOUT,
               worker=first_worker)
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.RUNNING
    assert killed.processed == 500  # the first page is mirrored and committed

    first_worker.kill()
    worker = start_worker()
    upstream.release_all()
    # The dead run's lock lapses (it is renewed page by page); a member's next sync
    # then finds the run orphaned, marks it failed and starts afresh.
    wait_until("the killed run's lock to lapse",
               lambda: not redis_client().exists(run_lock_key(workspace_id=world.workspace.pk)),
               timeout=settings.CCADMIN_SYNC_LOCK_SECONDS + 5)
    follow_up = finished(start_sync(world), worker)

    assert follow_up.status == SyncRun.Status.SUCCEEDED, follow_up.error
    assert mirrored_contacts(world) == upstream_contacts(world)
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED
    assert "worker running this sync stopped" in killed.error
    assert_shown_on_the_sync_page(client, world, killed)
