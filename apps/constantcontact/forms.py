"""The API reference's filter form (a GET form: its values live in the URL, so a
filtered view can be bookmarked or sent to a colleague)."""

from django import forms

from apps.accounts.grants import Area
from apps.constantcontact.catalog import Scope
from apps.constantcontact.selectors import METHODS


class ReferenceFilterForm(forms.Form):
    q = forms.CharField(
        required=False, max_length=100, label="Path contains",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "/contacts"}),
    )
    method = forms.ChoiceField(
        required=False, label="Method", choices=[("", "Any method"), *((m, m) for m in METHODS)]
    )
    area = forms.ChoiceField(
        required=False, label="Area",
        choices=[("", "Any area"), *((a.value, a.label) for a in Area)],
    )
    access = forms.ChoiceField(
        required=False, label="Access",
        choices=[("", "Read or write"), ("read", "Read"), ("write", "Write")],
    )
    scope = forms.ChoiceField(
        required=False, label="Scope",
        choices=[("", "Any scope"), *((s.value, s.value) for s in Scope)],
    )

    def filters(self) -> dict[str, str]:
        """The valid filters as keyword arguments for `catalog_endpoint_rows`; a field
        that failed validation is left out (and its error shown), not guessed at."""
        data = getattr(self, "cleaned_data", {})
        return {
            "method": data.get("method") or "",
            "area": data.get("area") or "",
            "access": data.get("access") or "",
            "scope": data.get("scope") or "",
            "search": data.get("q") or "",
        }

    @property
    def active(self) -> bool:
        return any(self.filters().values())
