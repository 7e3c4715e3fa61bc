"""The forms of Team → Agents: create an agent, and change its role and caps.

Forms validate input; `apps.accounts.agents` makes the change and announces it.
The endpoints to choose from are the Constant Contact catalog's, read here
directly: this floor stands above apps.constantcontact.
"""

from datetime import datetime, time, timedelta
import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from apps.accounts.models import Agent, Membership, Role, Workspace
from apps.agents.selectors.team import (
    agent_name_taken,
    endpoint_groups,
    endpoint_names,
    possible_owners,
)

MAX_RECIPIENTS = 20
# Far enough for any real plan, near enough that date arithmetic never overflows.
MAX_LIFETIME = timedelta(days=5 * 365)


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, membership: Membership) -> str:
        user = membership.user
        name = f"{user.full_name} ({user.email})" if user.full_name else user.email
        return f"{name} · {membership.role.name}"


def _workspace_zone(workspace: Workspace) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(workspace.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def expiry_moment(day, workspace: Workspace) -> datetime | None:
    """The agent works through `day` (in the workspace's zone): it expires at the next midnight."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=_workspace_zone(workspace))


def expiry_day(moment: datetime | None, workspace: Workspace):
    """The last day an agent expiring at `moment` works (the inverse of expiry_moment)."""
    if moment is None:
        return None
    return (moment.astimezone(_workspace_zone(workspace)) - timedelta(microseconds=1)).date()


class AgentCapsForm(forms.Form):
    """The role and caps, which an admin sets at creation and may change later."""

    role = forms.ModelChoiceField(
        label="Role", queryset=Role.objects.none(), empty_label=None,
        help_text="The same grants as a member's. The agent never gets more than its owner "
        "holds: whatever the owner's role lacks, the agent lacks too.",
    )
    daily_quota_percent = forms.IntegerField(
        label="Share of the daily API quota (%)", min_value=1, max_value=100, initial=5,
        help_text="Every workspace shares one daily Constant Contact quota; once the agent "
        "has used this share, its calls are refused until 00:00 UTC.",
    )
    allowed_endpoints = forms.MultipleChoiceField(
        label="Allowed endpoints", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to allow every endpoint its grants allow.",
    )
    drafts_only = forms.BooleanField(
        label="Campaigns as drafts only", required=False, initial=True,
        help_text="It may write campaign drafts but never ask for one to be scheduled.",
    )
    test_recipients = forms.CharField(
        label="Test-send recipients", required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One address a line. Test emails from this agent go only to these; "
        "leave empty to allow no test sends.",
    )
    max_contacts_per_job = forms.IntegerField(
        label="Most contacts one bulk job may touch", min_value=1, max_value=1_000_000,
        initial=1000,
    )
    expires_on = forms.DateField(
        label="Works until", required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The last day it may act (in the workspace's time zone). Empty: no expiry.",
    )

    def __init__(self, *args, workspace: Workspace, agent: Agent | None = None, **kwargs):
        if agent is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "role": agent.role_id,
                "daily_quota_percent": agent.daily_quota_percent,
                "allowed_endpoints": list(agent.allowed_endpoints),
                "drafts_only": agent.drafts_only,
                "test_recipients": "\n".join(agent.test_recipients),
                "max_contacts_per_job": agent.max_contacts_per_job,
                "expires_on": expiry_day(agent.expires_at, workspace),
            }
        super().__init__(*args, **kwargs)
        self.workspace, self.agent = workspace, agent
        self.fields["role"].queryset = Role.objects.filter(workspace=workspace).order_by("name")
        self.fields["allowed_endpoints"].choices = endpoint_groups()

    def clean_allowed_endpoints(self) -> list[str]:
        chosen = self.cleaned_data["allowed_endpoints"]
        unknown = set(chosen) - endpoint_names()
        if unknown:  # the choices already refuse these; kept for a changed catalog
            raise ValidationError(f"Not in the catalog: {', '.join(sorted(unknown))}.")
        return list(chosen)

    def clean_test_recipients(self) -> list[str]:
        addresses, wrong = [], []
        for number, line in enumerate(self.cleaned_data["test_recipients"].splitlines(), 1):
            address = line.strip().lower()
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                wrong.append(f"line {number} ({line.strip()[:60]})")
                continue
            if address not in addresses:
                addresses.append(address)
        if wrong:
            raise ValidationError("Not an email address: " + "; ".join(wrong) + ".")
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(f"At most {MAX_RECIPIENTS} test recipients.")
        return addresses

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is None:
            return None
        today = timezone.now().astimezone(_workspace_zone(self.workspace)).date()
        if day < today:
            raise ValidationError("Choose today or a later day (to stop it now, revoke its key).")
        if day > today + MAX_LIFETIME:
            raise ValidationError("Choose a day within five years; an agent can be given "
                                  "more time later.")
        return day

    def caps(self) -> dict:
        """The cleaned caps as Agent fields."""
        data = self.cleaned_data
        return {
            "daily_quota_percent": data["daily_quota_percent"],
            "allowed_endpoints": data["allowed_endpoints"],
            "drafts_only": data["drafts_only"],
            "test_recipients": data["test_recipients"],
            "max_contacts_per_job": data["max_contacts_per_job"],
            "expires_at": expiry_moment(data["expires_on"], self.workspace),
        }


class AgentCreateForm(AgentCapsForm):
    """A new agent: its name and owner as well (neither changes afterwards)."""

    name = forms.CharField(
        label="Name", max_length=80,
        help_text="How the audit log and the API budget name it, e.g. “Newsletter bot”.",
    )
    owner = OwnerChoiceField(
        label="Owner", queryset=Membership.objects.none(), empty_label=None,
        help_text="The member it works for. Its calls are audited with the owner beside it; "
        "if the owner leaves the workspace, the agent is deleted with them.",
    )

    field_order = ("name", "owner", "role")

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        self.fields["owner"].queryset = possible_owners(workspace=workspace)
        # Least privilege by default: the admin has to choose more on purpose.
        viewer = next((r for r in self.fields["role"].queryset if r.preset == "viewer"), None)
        if viewer is not None and not self.is_bound:
            self.fields["role"].initial = viewer.pk

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the agent a name.")
        if agent_name_taken(workspace=self.workspace, name=name):
            raise ValidationError(f"An agent called “{name}” already exists here; choose "
                                  "another name.")
        return name
