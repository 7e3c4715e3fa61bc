"""Forms for the lists screens. They validate the shape of the input; Constant
Contact decides the rest (a duplicate name is its 409, shown on the name)."""

from django import forms


class ListForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=255,
        help_text="Unique in the account; contacts may see it on sign-up and preference pages.",
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the list is for (only your team sees it).",
    )
    favorite = forms.BooleanField(
        label="Favourite", required=False,
        help_text="Favourite lists come first when choosing recipients in Constant Contact.",
    )


class ListEditForm(ListForm):
    # The list's `updated_at` as Constant Contact sent it when the form was opened,
    # so a change made meanwhile (by a colleague, or in Constant Contact itself)
    # is noticed instead of overwritten.
    seen_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)


class FavoriteForm(forms.Form):
    """The star button: the state wanted, not a toggle, so a double click or a
    resubmitted form can't flip it back."""

    favorite = forms.TypedChoiceField(
        choices=[("1", "Favourite"), ("0", "Not favourite")], coerce=lambda v: v == "1",
    )
    return_to = forms.ChoiceField(choices=[("index", "index"), ("detail", "detail")],
                                  required=False)
