"""Forms of the segments screens besides the criteria builder: the name, and a
rename. Constant Contact decides uniqueness (its 409, shown on the name)."""

from django import forms

NAME_MAX = 255  # the mirror's column; the spec sets no limit of its own
DUPLICATE_NAME = (
    "Constant Contact already has a segment with this name (names are compared without "
    "regard to case). Choose another name."
)


class SegmentForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=NAME_MAX,
        help_text="Unique in the account. Your team sees it when choosing a campaign's audience.",
    )
    # The segment's edited_at as Constant Contact sent it when the form was opened,
    # so a change made meanwhile is noticed instead of overwritten.
    seen_edited_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name.")
        return name


class SegmentRenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=NAME_MAX,
                           help_text="Unique in the account. The rules stay as they are.")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter a name.")
        return name


class SyncStartForm(forms.Form):
    kind = forms.ChoiceField(choices=[("incremental", "Changed segments"),
                                      ("full", "Every segment again")], required=False)
