"""Forms for the tags screens (Constant Contact rejects a duplicate name with 409,
shown on the name)."""

from django import forms


class TagForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=255, help_text="Unique in the account; only your team sees it.",
    )
