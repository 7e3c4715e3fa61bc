"""Syncing a workspace's segments into the mirror.

    run, created = segments_sync_start(workspace=ws, kind=SyncRun.Kind.INCREMENTAL,
                                       membership=request.membership)
    # ... a worker then runs segments_sync_run(...) through the `segments.sync` task.

Every run reads the full listing (`GET /segments`, up to 1,000 a page, and an
account holds at most 100): a segment no longer listed was deleted in Constant
Contact and leaves the mirror. The listing carries no criteria, so a run asks
for the details (`GET /segments/{id}`) of each segment that is new or was edited
since the mirror last read it — an incremental run skips the rest; a full run
reads every one again. One sync at a time per workspace and scope, through the
mirror floor's runs (apps/mirror/services/runs.py).
"""

from django.utils import timezone

from apps.accounts.models import Membership, Workspace
from apps.constantcontact.errors import NotFound
from apps.constantcontact.gate import ConstantContact
from apps.mirror.models import Segment, SyncRun
from apps.mirror.services import runs
from apps.mirror.services.segments import segments_mirror_replace

SCOPE = SyncRun.Scope.SEGMENTS
JOB_NAME = SCOPE.task_name
# The spec's default page size (a string, contract §3.5): one call lists them all.
SEGMENTS_PAGE = "1000"


def segments_sync_start(
    *, workspace: Workspace, kind: str, membership: Membership, scheduled: bool = False
) -> tuple[SyncRun, bool]:
    """Queue a segments sync (the `segments.sync` task), or return the one already
    queued or running. Returns (run, created)."""
    return runs.sync_run_start(workspace=workspace, scope=SCOPE, kind=kind,
                               membership=membership, scheduled=scheduled)


def segments_sync_schedule_all() -> list[SyncRun]:
    """Beat's dispatcher: a segments sync for every connected workspace."""
    return runs.sync_run_schedule_all(scope=SCOPE)


def segments_sync_run(*, workspace_id: int, sync_run_id: int, membership_id: int) -> SyncRun:
    """Run the queued sync `sync_run_id`; never raises for an upstream or data
    failure — the run ends failed with the error on its row."""
    run, _ = runs.sync_run_execute(
        scope=SCOPE, job_name=JOB_NAME, workspace_id=workspace_id, sync_run_id=sync_run_id,
        membership_id=membership_id,
        make_syncer=lambda run, cc, lock, membership: _Sync(run=run, cc=cc, lock=lock),
    )
    return run


class _Sync(runs.SyncWork):
    def __init__(self, *, run: SyncRun, cc: ConstantContact, lock):
        super().__init__(run=run, cc=cc, lock=lock)

    def run(self) -> None:
        started = timezone.now()
        full = self.run_row.kind == SyncRun.Kind.FULL
        self.set_phase("segments")
        listed: list[dict] = []
        for page in self.cc.pages("segments.list", params={"limit": SEGMENTS_PAGE}):
            self.api_calls += page.attempts
            listed.extend(page.data.get("segments") or [])
            self.renew_lock()
        self.total_expected = len(listed)
        self.save_counts()

        self.set_phase("segment rules")
        mirrored = {row.cc_id: row.raw or {} for row in Segment.objects.filter(
            workspace=self.workspace).only("cc_id", "raw")}
        items = []
        for item in listed:
            if "segment_id" not in item:
                continue
            seen = mirrored.get(str(item["segment_id"]))
            unchanged = (seen is not None and "segment_criteria" in seen
                         and seen.get("edited_at") == item.get("edited_at"))
            if unchanged and not full:
                items.append({**item, "segment_criteria": seen["segment_criteria"]})
            else:
                try:
                    detail = self.cc.call("segments.get", segment_id=str(item["segment_id"]))
                except NotFound as exc:
                    self.api_calls += exc.attempts
                    continue  # deleted between the listing and now: it goes
                self.api_calls += detail.attempts
                items.append({**item, **(detail.data or {})})
                self.renew_lock()
            self.processed += 1
        self.created, self.updated, self.deleted = segments_mirror_replace(
            workspace=self.workspace, items=items,
        )
        self.succeed(high_water_mark=started)
