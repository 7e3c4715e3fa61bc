"""Forms of the import wizard: the upload, and a custom field made from it."""

from django import forms

from apps.bulk.services.imports import CUSTOM_FIELD_TYPES


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Contacts file",
        help_text="A .csv or .tsv file with a column of email addresses. The first row may "
                  "name the columns.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
        error_messages={"required": "Choose the file that holds the contacts.",
                        "empty": "The file is empty. Choose the file that holds the contacts."},
    )


class CustomFieldForm(forms.Form):
    label = forms.CharField(label="New custom field's name", max_length=50,
                            error_messages={"required": "Name the new field."})
    type = forms.ChoiceField(label="Type", choices=CUSTOM_FIELD_TYPES, initial="string")
    column = forms.TypedChoiceField(label="For the column", coerce=int, choices=())

    def __init__(self, *args, columns: int = 0, header: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        names = header or [f"Column {i + 1}" for i in range(columns)]
        self.fields["column"].choices = [(i, name) for i, name in enumerate(names)]
