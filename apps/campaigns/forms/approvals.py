"""Forms for asking for review and deciding on it. They validate the input's
shape; the services decide whether the request or decision is allowed now."""

from django import forms

# Long enough for a paragraph of review notes; the audit log and panel show it.
NOTE_MAX = 2000


class ApprovalRequestForm(forms.Form):
    note = forms.CharField(
        label="Note for the reviewer", required=False, max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what to look at, or why it is urgent.",
    )


class ApprovalDecideForm(forms.Form):
    APPROVE = "approve"
    REJECT = "reject"

    # The review and the fingerprint the approver's page showed: deciding on a
    # review that was replaced or changed meanwhile is refused, not silently applied.
    approval_id = forms.IntegerField(widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
    comment = forms.CharField(
        label="Comment", required=False, max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you request changes: say what needs to change.",
    )
    decision = forms.ChoiceField(
        choices=[(APPROVE, "Approve"), (REJECT, "Request changes")],
        error_messages={"required": "Choose to approve or to request changes."},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.REJECT and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", "Say what needs to change: a rejection needs a comment.")
        return cleaned

    @property
    def approves(self) -> bool:
        return self.cleaned_data.get("decision") == self.APPROVE
