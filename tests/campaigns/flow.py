"""Helpers for the approval and sending tests: drafting a campaign in the live
simulator through the campaign services, walking it through review, approval and
scheduling, and a spy on the simulator that counts requests and injects faults
*after* the simulator has acted (a lost answer), which its own fault switch
(applied before the request is handled) cannot do.

    campaign = draft_campaign(connected_world)                 # by the editor
    approval = request_review(connected_world, campaign)
    approve(connected_world, approval)
    spy = SimSpy(connected_world.sim)
    spy.lose_answer("POST", "/schedules")                      # next POST: done, then 503
    job = schedule(connected_world, campaign)
    spy.count("POST", "/schedules")
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils import timezone

from apps.campaigns.models import Approval, SendJob
from apps.campaigns.services.approvals import approval_decide, approval_request
from apps.campaigns.services.campaigns import EmailDraft, campaign_create, campaign_update
from apps.campaigns.services.sending import (
    send_schedule_request,
    send_test_request,
    send_unschedule_request,
)
from apps.mirror.models import Campaign

SENDER = "news@ccsim-demo.example"
UNVERIFIED = "unverified@ccsim-demo.example"
HTML = ("<html><body>[[trackingImage]]<h1>Spring sale</h1>\n<p>Everything is 20% off.</p>\n"
        "<p><a href=\"https://www.example.com/sale\">Shop now</a></p>\n</body></html>")

_UNSET = object()


def sim_list_id(world, name: str) -> str:
    with world.sim.state.lock:
        for list_id, row in world.sim.state.lists.items():
            if row["name"] == name:
                return list_id
    raise LookupError(name)


def sim_activity(world, campaign: Campaign) -> dict:
    with world.sim.state.lock:
        return dict(world.sim.state.campaign_activities[campaign.primary_activity_id])


def email_draft(world, *, lists=("Newsletter",), planned_send_at=_UNSET, **fields) -> EmailDraft:
    values = {
        "from_name": "Acme Marketing", "from_email": SENDER, "reply_to_email": SENDER,
        "subject": "Spring sale", "preheader": "Everything is 20% off",
        "html_content": HTML,
        "contact_list_ids": [sim_list_id(world, name) for name in lists],
        "planned_send_at": (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
        if planned_send_at is _UNSET else planned_send_at,
    }
    values.update(fields)
    return EmailDraft(**values)


def draft_campaign(world, *, name: str = "Spring sale", who: str = "editor", **draft) -> Campaign:
    campaign = campaign_create(workspace=world.workspace, membership=world.membership(who),
                               name=name, draft=email_draft(world, **draft))
    return Campaign.objects.select_related("email", "workspace").get(pk=campaign.pk)


def edit_campaign(world, campaign: Campaign, *, who: str = "editor", **changes) -> Campaign:
    """Save the editor's form with `changes` on top of the campaign's current email."""
    email = campaign.email
    values = {
        "from_name": email.from_name, "from_email": email.from_email,
        "reply_to_email": email.reply_to_email, "subject": email.subject,
        "preheader": email.preheader, "html_content": email.html_content,
        "contact_list_ids": list(email.contact_list_ids), "planned_send_at": email.planned_send_at,
    }
    values.update(changes)
    return campaign_update(campaign=campaign, membership=world.membership(who),
                           draft=EmailDraft(**values))


def request_review(world, campaign: Campaign, *, who: str = "editor", note: str = "") -> Approval:
    return approval_request(campaign=campaign, membership=world.membership(who),
                            cc=world.gate(who), note=note)


def approve(world, approval: Approval, *, who: str = "approver", comment: str = "",
            approve: bool = True) -> Approval:
    return approval_decide(approval=approval, membership=world.membership(who),
                           cc=world.gate(who), approve=approve, comment=comment)


def reviewed_campaign(world, **draft) -> tuple[Campaign, Approval]:
    """A campaign drafted by the editor and approved by the approver."""
    campaign = draft_campaign(world, **draft)
    approval = approve(world, request_review(world, campaign))
    return refreshed(campaign), approval


def refreshed(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_related("email", "workspace").get(pk=campaign.pk)


def run_on_commit(capture, fn: Callable, **kwargs):
    """Call `fn` and run what it queued on commit (Celery is eager in tests)."""
    with capture(execute=True):
        result = fn(**kwargs)
    if isinstance(result, SendJob):
        result.refresh_from_db()
    return result


def schedule(world, capture, campaign: Campaign, *, who: str = "approver",
             confirmation: str | None = None, now: datetime | None = None) -> SendJob:
    return run_on_commit(
        capture, send_schedule_request, campaign=refreshed(campaign),
        membership=world.membership(who), cc=world.gate(who),
        confirmation=campaign.name if confirmation is None else confirmation, now=now,
    )


def unschedule(world, capture, campaign: Campaign, *, who: str = "approver") -> SendJob:
    return run_on_commit(capture, send_unschedule_request, campaign=refreshed(campaign),
                         membership=world.membership(who), cc=world.gate(who))


def send_test(world, capture, campaign: Campaign, addresses: list[str], *,
              who: str = "editor", message: str = "") -> SendJob:
    return run_on_commit(capture, send_test_request, campaign=refreshed(campaign),
                         membership=world.membership(who), addresses=addresses,
                         personal_message=message)


class SimSpy:
    """Wraps the simulator's dispatcher: records every API request, and can answer
    a matching request with an error instead of (or after) handling it."""

    def __init__(self, sim):
        from ccsim.web import Response

        self._response = Response
        self.sim = sim
        self.requests: list[tuple[str, str]] = []
        self._rules: list[dict] = []
        self._original = sim.dispatch
        sim.dispatch = self

    def __call__(self, req):
        if req.path.startswith("/v3/"):
            self.requests.append((req.method, req.path))
        for rule in self._rules:
            if rule["times"] and req.method == rule["method"] and req.path.endswith(rule["suffix"]):
                rule["times"] -= 1
                if rule.get("before"):
                    rule["before"]()  # something happens upstream just before it lands
                    return self._original(req)
                if rule["after"]:
                    self._original(req)  # Constant Contact acted; the answer is lost
                    if rule.get("then"):
                        rule["then"]()
                return self._response(rule["status"], rule["body"])
        return self._original(req)

    def count(self, method: str, suffix: str) -> int:
        return sum(1 for m, path in self.requests if m == method and path.endswith(suffix))

    def lose_answer(self, method: str, suffix: str, *, times: int = 1, status: int = 503,
                    then: Callable[[], None] | None = None):
        """Handle the request, then answer `status` as if the answer got lost (and
        run `then`, say to break what comes next)."""
        self._rules.append({"method": method, "suffix": suffix, "times": times, "after": True,
                            "then": then,
                            "status": status, "body": [{
                                "error_key": "service_unavailable",
                                "error_message": "Our internal service is temporarily "
                                                 "unavailable."}]})

    def throttle(self, method: str, suffix: str, *, times: int = 1):
        """Refuse with 429 `throttled` (nothing is handled), `times` times."""
        self._rules.append({"method": method, "suffix": suffix, "times": times, "after": False,
                            "status": 429, "body": {"error_key": "throttled",
                                                    "error_message": "Too Many Requests"}})

    def before(self, method: str, suffix: str, action: Callable[[], None], *, times: int = 1):
        """Run `action` (say, a colleague's edit) just before handling the request."""
        self._rules.append({"method": method, "suffix": suffix, "times": times, "before": action,
                            "after": False, "status": 0, "body": None})

    def fail(self, method: str, suffix: str, *, times: int = 1, status: int = 503):
        """Refuse with `status` before handling (the request did nothing)."""
        self._rules.append({"method": method, "suffix": suffix, "times": times, "after": False,
                            "status": status, "body": [{
                                "error_key": "service_unavailable",
                                "error_message": "Our internal service is temporarily "
                                                 "unavailable."}]})

    def restore(self):
        self.sim.dispatch = self._original
