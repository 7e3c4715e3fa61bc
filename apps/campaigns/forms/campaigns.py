"""Forms of the campaigns screens: the list's filters, the draft editor (create
and edit), rename.

The editor checks what Constant Contact would refuse, before asking it: sender
and reply-to among the account's verified addresses, the `[[trackingImage]]`
tag inside `<body>`, the field lengths, a planned send time in the future. The
planned time is typed in the member's own time zone and stored in UTC.
"""

from datetime import tzinfo

from django import forms
from django.utils import timezone

from apps.campaigns.html_checks import html_problems
from apps.campaigns.selectors.campaigns import DEFAULT_SORT, REVIEW_MINE, STATUS_ALL
from apps.campaigns.services.campaigns import EmailDraft
from apps.constantcontact.errors import ConstantContactError, ValidationError
from apps.constantcontact.explain import upstream_error_message
from apps.mirror.models import CampaignStatus

NAME_MAX = 80  # Constant Contact's limit (contract §3.7)
DUPLICATE_NAME = (
    "Constant Contact already has a campaign with this name (names are compared without "
    "regard to case). Choose another name."
)
NOT_VERIFIED = (
    "Choose one of the account's verified addresses: Constant Contact only sends from, "
    "and replies to, addresses it has confirmed."
)
# datetime-local inputs send "2025-06-03T14:05" (seconds only when the step asks).
LOCAL_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label="Name", required=False, max_length=80,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": "Part of a name"}))
    status = forms.ChoiceField(
        label="Status", required=False,
        choices=[("", "All but deleted"), *CampaignStatus.choices,
                 (STATUS_ALL, "All, with deleted")],
    )
    sort = forms.ChoiceField(
        label="Sort by", required=False,
        choices=[("-updated", "Updated, newest first"), ("updated", "Updated, oldest first"),
                 ("-created", "Created, newest first"), ("created", "Created, oldest first")],
    )
    review = forms.ChoiceField(
        label="Review", required=False,
        choices=[("", "Any"), (REVIEW_MINE, "Needs my review"), ("in_review", "In review"),
                 ("changes_requested", "Changes requested"), ("approved", "Approved")],
    )

    def __init__(self, *args, can_approve: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_approve:
            # Nothing would ever need this member's review: don't offer the filter.
            self.fields["review"].choices = [
                c for c in self.fields["review"].choices if c[0] != REVIEW_MINE]

    def value(self, name: str) -> str:
        """The cleaned value, or the default for a bad or missing one: a hand-edited
        query string shows the default list rather than an error."""
        if self.is_valid():
            return self.cleaned_data.get(name) or ""
        return ""

    @property
    def sort_value(self) -> str:
        return self.value("sort") or DEFAULT_SORT


class CampaignEmailForm(forms.Form):
    """What goes out: the draft editor's fields, shared by create and edit."""

    from_name = forms.CharField(label="From name", max_length=100,
                                help_text="The name recipients see the email come from.")
    from_email = forms.ChoiceField(label="From address")
    reply_to_email = forms.ChoiceField(label="Reply-to address")
    subject = forms.CharField(label="Subject", max_length=200)
    preheader = forms.CharField(
        label="Preheader", max_length=200, required=False,
        help_text="The short line many inboxes show after the subject.",
    )
    html_content = forms.CharField(
        # No max_length: the limit is checked in clean_html_content with a message
        # that reads well (html_problems), and a textarea maxlength would silently cut
        # a pasted email short.
        label="HTML content", strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code"}),
        help_text="The whole email as HTML. It must contain [[trackingImage]] inside <body>, "
        "where Constant Contact puts its open-tracking image.",
    )
    # Lists or one segment, never both (spec EmailCampaignActivity.segment_ids).
    audience = forms.ChoiceField(
        label="Send to", required=False, widget=forms.RadioSelect,
        choices=(("lists", "Contact lists"), ("segment", "A segment")),
    )
    segment_id = forms.ChoiceField(
        label="Send to this segment", required=False,
        help_text="Constant Contact works out who is in the segment when the email goes out. "
        "The size shown is an estimate from this dashboard's copy of the account.",
    )
    contact_list_ids = forms.MultipleChoiceField(
        label="Send to these lists", required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Sizes are Constant Contact's member counts as of the last sync. You can save "
        "a draft without an audience; it needs one before it can be scheduled.",
    )
    planned_send_at = forms.DateTimeField(
        label="Planned send time", required=False, input_formats=LOCAL_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, senders: list[str], lists: list[tuple[str, str]],
                 zone: tzinfo, zone_name: str, segments: list[tuple[str, str]] = (),
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment_id"].choices = [("", "Choose a segment"), *segments]
        self.zone = zone
        choices = [("", "Choose an address")] + [(a, a) for a in senders]
        for name in ("from_email", "reply_to_email"):
            self.fields[name].choices = choices
            self.fields[name].error_messages["invalid_choice"] = NOT_VERIFIED
        self.fields["contact_list_ids"].choices = lists
        self.fields["planned_send_at"].help_text = (
            f"In your time zone ({zone_name}). Leave it empty to send as soon as the campaign "
            "is scheduled. The approval covers this time: changing it later needs a new one."
        )

    def full_clean(self):
        # A datetime-local value has no zone: read it in the member's.
        with timezone.override(self.zone):
            super().full_clean()

    def clean_html_content(self) -> str:
        html = self.cleaned_data["html_content"]
        problems = html_problems(html)
        if problems:
            raise forms.ValidationError(problems)
        return html

    def clean(self):
        data = super().clean()
        if data.get("audience") == "segment":
            if not data.get("segment_id"):
                self.add_error("segment_id", "Choose the segment to send to, or send to lists.")
            data["contact_list_ids"] = []
        else:
            data["audience"], data["segment_id"] = "lists", ""
        return data

    def clean_planned_send_at(self):
        value = self.cleaned_data.get("planned_send_at")
        if value is not None and value <= timezone.now():
            raise forms.ValidationError(
                "The planned send time has passed. Choose a time in the future, or leave it "
                "empty to send as soon as the campaign is scheduled."
            )
        return value

    def draft(self) -> EmailDraft:
        data = self.cleaned_data
        return EmailDraft(
            from_name=data["from_name"].strip(),
            from_email=data["from_email"],
            reply_to_email=data["reply_to_email"],
            subject=data["subject"].strip(),
            preheader=(data.get("preheader") or "").strip(),
            html_content=data["html_content"],
            contact_list_ids=list(data.get("contact_list_ids") or []),
            planned_send_at=data.get("planned_send_at"),
            segment_id=data.get("segment_id") or "",
        )

    def add_upstream_error(self, error: ConstantContactError) -> None:
        """Put Constant Contact's refusal next to the field it is about, when its
        words say which one (a 400 lists `error_message`s naming fields)."""
        if not isinstance(error, ValidationError) or not error.errors:
            self.add_error(None, upstream_error_message(error))
            return
        for item in error.errors:
            message = item.get("error_message") or ""
            key = (item.get("error_key") or "").lower()
            field = _field_for(message, key)
            text = f"Constant Contact refused this: {message}" if message else NOT_VERIFIED
            if field in self.fields and field not in self.errors:
                self.add_error(field, text)
            else:
                self.add_error(None, text)


def _field_for(message: str, key: str) -> str | None:
    text = message.lower()
    if "reply_to" in text:
        return "reply_to_email"
    if "from_email" in text or "unverified" in key:
        return "from_email"
    if "trackingimage" in text or "tracking_image" in key or "html_content" in text:
        return "html_content"
    if "subject" in text:
        return "subject"
    if "from_name" in text:
        return "from_name"
    if "preheader" in text:
        return "preheader"
    if "segment" in text:
        return "segment_id"
    if "contact_list" in text or "recipients" in key:
        return "contact_list_ids"
    return None


class CampaignCreateForm(CampaignEmailForm):
    name = forms.CharField(
        label="Campaign name", max_length=NAME_MAX,
        help_text="Only your team sees it. Unique in the account.",
    )
    field_order = ["name"]


class CampaignRenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=NAME_MAX,
                           help_text="Only your team sees it. Unique in the account.")
