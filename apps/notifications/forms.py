"""The preferences form: two checkboxes (email, in the app) per kind."""

from django import forms

from apps.notifications.kinds import AUDIENCE, Kind


class NotificationPreferencesForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[f"{kind.value}__email"] = forms.BooleanField(
                label=f"Email: {kind.label}", required=False)
            self.fields[f"{kind.value}__in_app"] = forms.BooleanField(
                label=f"In ccadmin: {kind.label}", required=False)

    @classmethod
    def initial_from(cls, choices) -> dict:
        initial = {}
        for choice in choices:
            initial[f"{choice.kind}__email"] = choice.email
            initial[f"{choice.kind}__in_app"] = choice.in_app
        return initial

    def choices(self) -> dict[str, tuple[bool, bool]]:
        data = self.cleaned_data
        return {kind.value: (data[f"{kind.value}__email"], data[f"{kind.value}__in_app"])
                for kind in Kind}

    def rows(self):
        """(kind, who gets it, email field, in-app field) for the template's table."""
        return [(kind, AUDIENCE[kind], self[f"{kind.value}__email"],
                 self[f"{kind.value}__in_app"]) for kind in Kind]
