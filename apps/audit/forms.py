"""The audit log's filter form (a GET form: its values live in the URL)."""

import re
from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from apps.accounts.models import User
from apps.audit.models import Outcome
from apps.audit.selectors import AuditFilters, Cursor, audit_event_actions
from apps.audit.wording import action_words

# Bounds keep date arithmetic (the day after date_to) away from year 9999's overflow.
_EARLIEST = date(2000, 1, 1)
_LATEST = date(9998, 12, 31)
# What an action name looks like ("login.failed"), or a family of them ("login.").
_ACTION_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$")
_BAD_PAGE_LINK = "This page link is not valid. Start again from the newest events."


class DateInput(forms.DateInput):
    input_type = "date"


def _action_choices(actions: list[str], families: set[str]) -> list:
    """Whole families first ("login." means every login.* action), then each action."""
    prefixes = sorted(families | {a.split(".", 1)[0] + "." for a in actions if "." in a})
    choices: list = [("", "Any action")]
    if prefixes:
        choices.append(("Families", [(p, f"{p}* (all)") for p in prefixes]))
    if actions:
        # In words, with the recorded name (two calls may read alike).
        choices.append(("Actions", sorted(((a, f"{action_words(a)} ({a})") for a in actions),
                                          key=lambda choice: choice[1].lower())))
    return choices


class AuditFilterForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Any member", label="Member"
    )
    actor = forms.CharField(
        required=False, max_length=254, label="Actor email contains",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "name@example.com"}),
    )
    action = forms.ChoiceField(required=False, label="Action")
    outcome = forms.ChoiceField(
        required=False, label="Outcome", choices=[("", "Any outcome"), *Outcome.choices]
    )
    date_from = forms.DateField(
        required=False, label="From (UTC)", widget=DateInput,
        validators=[MinValueValidator(_EARLIEST), MaxValueValidator(_LATEST)],
    )
    date_to = forms.DateField(
        required=False, label="To (UTC)", widget=DateInput,
        validators=[MinValueValidator(_EARLIEST), MaxValueValidator(_LATEST)],
    )
    # Keyset page positions (see apps.audit.selectors); links set them, people don't.
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    PAGE_FIELDS = ("before", "after")

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = User.objects.filter(
            memberships__workspace=workspace
        ).order_by("email")
        actions = audit_event_actions(workspace=workspace)
        # A bookmarked filter stays valid before any such event exists (say
        # "login.locked_out" in a quiet week); a malformed one is still refused.
        families: set[str] = set()
        wanted = self.data.get("action", "") if self.is_bound else ""
        if wanted and _ACTION_PATTERN.match(wanted):
            if wanted.endswith("."):
                families.add(wanted)
            elif wanted not in actions:
                actions = sorted([*actions, wanted])
        self.fields["action"].choices = _action_choices(actions, families)

    def _clean_cursor(self, name: str) -> Cursor | None:
        value = self.cleaned_data.get(name, "")
        if not value:
            return None
        try:
            return Cursor.decode(value)
        except ValueError:
            raise forms.ValidationError(_BAD_PAGE_LINK) from None

    def clean_before(self) -> Cursor | None:
        return self._clean_cursor("before")

    def clean_after(self) -> Cursor | None:
        return self._clean_cursor("after")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        if cleaned.get("before") and cleaned.get("after"):
            raise forms.ValidationError(_BAD_PAGE_LINK)
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            member=data.get("member"),
            actor=data.get("actor", "").strip(),
            action=data.get("action", ""),
            outcome=data.get("outcome", ""),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def described(self) -> dict[str, str]:
        """The filters in use, as plain text (for the export's own audit event)."""
        data = self.cleaned_data
        described = {
            name: str(data[name])
            for name in ("member", "actor", "action", "outcome", "date_from", "date_to")
            if data.get(name)
        }
        return described
