"""Forms for the team administration screens and the invitation page.

Forms only validate input; the services in `apps.accounts.services` make the
changes and enforce the rules that span rows (the last admin, name clashes).
"""

import zoneinfo

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from apps.accounts.grants import Access, Area
from apps.accounts.models import Invitation, Role, User, Workspace

ACCESS_CHOICES = [(level.name.lower(), level.label) for level in Access]


def _roles_of(workspace: Workspace):
    # Only this workspace's roles: a role id from another workspace is simply not a choice.
    return Role.objects.filter(workspace=workspace).order_by("name")


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)
    role = forms.ModelChoiceField(label="Role", queryset=Role.objects.none(), empty_label=None)

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        roles = _roles_of(workspace)
        self.fields["role"].queryset = roles
        # Least privilege by default: the inviter has to choose more on purpose.
        viewer = next((r for r in roles if r.preset == "viewer"), None)
        if viewer is not None:
            self.fields["role"].initial = viewer.pk


class MemberRoleForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Role.objects.none(), empty_label=None)

    def __init__(self, *args, workspace: Workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = _roles_of(workspace)


class RoleForm(forms.Form):
    """Name, description, one none/read/write choice per area, and the two capabilities."""

    name = forms.CharField(max_length=60)
    description = forms.CharField(max_length=200, required=False)
    can_approve = forms.BooleanField(
        label="Can approve campaigns", required=False,
        help_text="Approves a campaign's content, audience and send time.",
    )
    can_send = forms.BooleanField(
        label="Can send", required=False,
        help_text="Schedules and unschedules approved campaigns.",
    )

    def __init__(self, *args, role: Role | None = None, **kwargs):
        if role is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": role.name,
                "description": role.description,
                "can_approve": role.can_approve,
                "can_send": role.can_send,
                **{self.grant_field(area): role.access_for(area).name.lower() for area in Area},
            }
        super().__init__(*args, **kwargs)
        for area in Area:
            self.fields[self.grant_field(area)] = forms.ChoiceField(
                label=area.label, choices=ACCESS_CHOICES, initial="none",
                widget=forms.RadioSelect,
            )

    @staticmethod
    def grant_field(area: Area) -> str:
        return f"grant_{area.value}"

    def grant_rows(self) -> list[tuple[Area, forms.BoundField]]:
        """(area, bound radio group) pairs, for the grant-grid table."""
        return [(area, self[self.grant_field(area)]) for area in Area]

    def grants(self) -> dict[Area, Access]:
        return {
            area: Access.parse(self.cleaned_data[self.grant_field(area)]) for area in Area
        }


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=100)
    time_zone = forms.ChoiceField(
        label="Time zone", choices=_time_zone_choices,
        help_text="Send times and dates on every page are shown in this zone.",
    )
    require_mfa = forms.BooleanField(
        label="Require two-factor authentication for all members", required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "require-mfa-help"}),
        help_text="Members without two-factor authentication will be sent to set it up "
        "(an authenticator app) the next time they open this workspace, and cannot use "
        "it until they have.",
    )
    unschedule_when_approval_voided = forms.BooleanField(
        label="Unschedule a campaign at once if its approved content changes",
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "unschedule-when-voided-help"}),
        help_text="When someone changes a scheduled campaign in Constant Contact's own app, "
        "its approval no longer covers what would go out. With this on, ccadmin takes the "
        "schedule back as soon as a sync sees the change; either way the admins and the "
        "author are emailed.",
    )
    require_second_approver = forms.BooleanField(
        label="Campaigns need an approver other than their author (four eyes)",
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "require-second-approver-help"}),
        help_text="When on, the members who drafted or changed a campaign's content, or "
        "who asked for its review, cannot approve it themselves, even with the approve "
        "capability: a second person must.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the workspace a name.")
        return name


class ProfileForm(forms.Form):
    """A member's own settings, the same in every workspace they belong to."""

    full_name = forms.CharField(label="Full name", max_length=150, required=False,
                                help_text="Shown to your team instead of your email address.")
    time_zone = forms.ChoiceField(
        label="Your time zone", choices=_time_zone_choices,
        help_text="Times on every page are shown in this zone for you (send times also "
        "in the workspace's zone and UTC).",
    )


class InvitationAcceptForm(forms.Form):
    """Creates the invited person's account: the email comes from the invitation."""

    full_name = forms.CharField(label="Full name", max_length=150)
    password1 = forms.CharField(
        label="Password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password (again)", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation: Invitation, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitation = invitation

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"].strip()
        if not name:
            raise ValidationError("Enter your name.")
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            # An unsaved user, so the similarity check can compare against the
            # address and name this account will have.
            candidate = User(email=self.invitation.email, full_name=cleaned.get("full_name", ""))
            try:
                validate_password(password1, user=candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned
