"""Agent requests: live effects an agent asked for, waiting for a member's decision.

An agent never runs a send, a delete, a removal or an unsubscribe itself
(apps/constantcontact/agent_caps.py). It asks: one AgentRequest row, with the
preview it was shown and the calls it would cost. A member who holds the
matching grant approves it (it then runs as that member) or declines it.

The rows are an audit trail and are never deleted. An agent can go (its
owner's membership removed takes the agent with it), so each row keeps the
agent's name and owner as they were when it asked.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Agent, Workspace

# The kinds of request, in words (apps/agents/selectors/requests.py maps each to the
# catalog endpoint whose grant it needs).
KIND_LABELS = {
    "emails.schedule": "Schedule a campaign",
    "contacts.delete": "Delete a contact",
    "lists.delete": "Delete a list",
    "segments.delete": "Delete a segment",
    "activities.remove_list_memberships": "Remove contacts from lists",
    "contacts.unsubscribe": "Unsubscribe a contact",
}


class AgentRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        # Claimed by the member who approved it, while it runs: no second approval
        # can start it again.
        RUNNING = "running", "Running"
        EXECUTED = "executed", "Approved and done"
        FAILED = "failed", "Approved, but it failed"
        DECLINED = "declined", "Declined"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE,
                                  related_name="agent_requests")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="requests")
    agent_name = models.CharField(max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    owner_email = models.CharField(max_length=254)

    # What it asked for: a kind from apps/agents/services/previews.py (a catalog
    # endpoint name, or "contacts.unsubscribe") and the call's arguments.
    endpoint_name = models.CharField(max_length=80)
    path_params = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    body = models.JSONField(default=dict, blank=True)

    # What it was shown to do, from the mirror when it asked.
    summary = models.CharField(max_length=300)
    preview = models.JSONField(default=list, blank=True)  # lines
    warnings = models.JSONField(default=list, blank=True)
    grant_needed = models.CharField(max_length=200)
    api_calls = models.PositiveIntegerField(default=1)
    # A schedule: the campaign approval's fingerprint the preview showed, blank if
    # it had none then. Approving schedules that version or nothing.
    approval_fingerprint = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # What happened when it ran, or why it failed; and where to follow it.
    result = models.TextField(blank=True)
    result_url = models.CharField(max_length=300, blank=True)
    # The last approval the product refused (say, the campaign lacks its own
    # approval); the request stays pending.
    last_refusal = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "status"], name="agent_request_ws_status")]

    def __str__(self) -> str:
        return f"Agent request {self.pk}: {self.summary}"

    def get_absolute_url(self) -> str:
        return reverse("agents:request_detail", kwargs={
            "workspace_slug": self.workspace.slug, "request_id": self.pk})

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_decided(self) -> bool:
        return self.status not in (self.Status.PENDING, self.Status.RUNNING)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.endpoint_name, self.endpoint_name)

    @property
    def audit_target(self) -> str:
        return f"agent request {self.pk}"

    @property
    def cost_label(self) -> str:
        return f"{self.api_calls:,} API call{'' if self.api_calls == 1 else 's'}"
