"""Forms for test sends, schedule confirmation and unschedule confirmation."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.campaigns.selectors.sending import MAX_TEST_ADDRESSES

# Constant Contact's personal message is free text shown above the test email;
# a short paragraph is all it is for.
PERSONAL_MESSAGE_MAX = 500


class SendTestForm(forms.Form):
    addresses = forms.CharField(
        label="Send the test to", widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {MAX_TEST_ADDRESSES} email addresses, one per line or separated "
        "by commas. Each counts towards the daily test allowance.",
    )
    personal_message = forms.CharField(
        label="Personal message", required=False, max_length=PERSONAL_MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; shown above the test email.",
    )

    def clean_addresses(self) -> list[str]:
        raw = [part.strip() for part in re.split(r"[,;\s]+", self.cleaned_data["addresses"])]
        addresses = list(dict.fromkeys(a.lower() for a in raw if a))
        if not addresses:
            raise ValidationError("Give at least one address.")
        if len(addresses) > MAX_TEST_ADDRESSES:
            raise ValidationError(
                f"A test goes to at most {MAX_TEST_ADDRESSES} addresses at a time; "
                f"you gave {len(addresses)}."
            )
        bad = []
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(f"Not a valid email address: {', '.join(bad)}.")
        return addresses


class ScheduleConfirmForm(forms.Form):
    confirmation = forms.CharField(
        label="Type the campaign's name to confirm", max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # The approved version the sender was shown: if another version is approved
    # while the page is open, confirming must not send content they never saw.
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, campaign_name: str, **kwargs):
        self.campaign_name = campaign_name
        super().__init__(*args, **kwargs)

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"].strip()
        if value != self.campaign_name.strip():
            raise ValidationError(
                f"That is not the campaign's name. Type “{self.campaign_name}” exactly."
            )
        return value


class UnscheduleConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, take the schedule back", required=True,
        error_messages={"required": "Tick the box to confirm taking the schedule back."},
    )
