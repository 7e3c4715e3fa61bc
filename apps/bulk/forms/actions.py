"""The bulk action form: what to do with the selected contacts."""

from django import forms

from apps.bulk.models import BulkJob

Kind = BulkJob.Kind

ACTION_CHOICES = (
    (Kind.ADD_TO_LISTS, "Add to lists"),
    (Kind.REMOVE_FROM_LISTS, "Remove from lists"),
    (Kind.ADD_TAGS, "Add tags"),
    (Kind.REMOVE_TAGS, "Remove tags"),
    (Kind.EXPORT, "Export to a CSV file"),
    (Kind.DELETE, "Delete the contacts"),
)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label="Action", choices=ACTION_CHOICES, widget=forms.RadioSelect,
                             error_messages={"required": "Choose what to do."})
    lists = forms.MultipleChoiceField(label="Lists", required=False,
                                      widget=forms.CheckboxSelectMultiple)
    tags = forms.MultipleChoiceField(label="Tags", required=False,
                                     widget=forms.CheckboxSelectMultiple)
    fields = forms.MultipleChoiceField(label="Fields in the file", required=False,
                                       widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, lists=(), tags=(), fields=(), kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lists"].choices = list(lists)
        self.fields["tags"].choices = list(tags)
        self.fields["fields"].choices = list(fields)
        if kinds is not None:
            self.fields["kind"].choices = [c for c in ACTION_CHOICES if c[0] in kinds]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (Kind.ADD_TO_LISTS, Kind.REMOVE_FROM_LISTS) and not data.get("lists"):
            self.add_error("lists", "Choose at least one list.")
        if kind in (Kind.ADD_TAGS, Kind.REMOVE_TAGS) and not data.get("tags"):
            self.add_error("tags", "Choose at least one tag.")
        return data
