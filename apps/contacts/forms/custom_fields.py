"""Forms for the custom-field screens."""

from django import forms

from apps.contacts.selectors.custom_fields import FIELD_TYPES, SELECT_TYPES

# Constant Contact allows up to 100 choices (20 for checkbox and radio displays,
# which we don't ask for), each label up to 255 characters (contract §3.4).
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 255


class CustomFieldCreateForm(forms.Form):
    label = forms.CharField(
        label="Label", max_length=50,
        help_text="Up to 50 characters; unique in the account.",
    )
    field_type = forms.ChoiceField(
        label="Type", choices=FIELD_TYPES, initial="string",
        help_text="Can't be changed later.",
    )
    choices = forms.CharField(
        label="Choices", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For single and multiple choice fields only: one choice per line, "
        f"up to {MAX_CHOICES}. Ignored for other types.",
    )

    def clean(self):
        data = super().clean()
        field_type = data.get("field_type")
        if field_type not in SELECT_TYPES:
            data["choices"] = []
            return data
        lines = [line.strip() for line in (data.get("choices") or "").splitlines()]
        choices = [line for line in lines if line]
        if not choices:
            self.add_error("choices", "Give at least one choice, one per line.")
        elif len(choices) > MAX_CHOICES:
            self.add_error("choices", f"At most {MAX_CHOICES} choices; you gave {len(choices)}.")
        elif too_long := [c for c in choices if len(c) > MAX_CHOICE_LENGTH]:
            self.add_error(
                "choices",
                f"Each choice may have at most {MAX_CHOICE_LENGTH} characters "
                f"(“{too_long[0][:40]}…” is longer).",
            )
        elif len({c.casefold() for c in choices}) != len(choices):
            self.add_error("choices", "Each choice must be different.")
        data["choices"] = choices
        return data


class CustomFieldRenameForm(forms.Form):
    label = forms.CharField(
        label="Label", max_length=50, help_text="Up to 50 characters; unique in the account.",
    )
