"""Forms for the contact screens: the list's filters, the contact's fields (create
and edit share them, with one input per custom field), the create-only choices
(permission, lists, tags), and the sign-up-form upsert with its consent.

Limits are Constant Contact's (contract §3.1): names, job title and company 50
characters, an address 80 (50 on the sign-up form), a phone 25, a custom field
value 255. They are checked here so the member hears about them on the form
instead of from a 400.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
import re

from django import forms
from django.core.exceptions import ValidationError

from apps.contacts.selectors.contacts import Sort
from apps.contacts.selectors.custom_fields import custom_field_choices
from apps.contacts.services.contacts import (
    ADDRESS_PARTS,
    MAX_LISTS_PER_CONTACT,
    MAX_TAGS_PER_CONTACT,
    anniversary_is_valid,
    custom_field_key,
)
from apps.mirror.models import ContactList, CustomField, Tag
from apps.mirror.selectors.contacts import STATUS_CHOICES

EMPTY = ("", "—")
MONTHS = [EMPTY] + [(str(m), name) for m, name in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"), start=1)]
DAYS = [EMPTY] + [(str(d), str(d)) for d in range(1, 32)]
PHONE_KINDS = [EMPTY, ("home", "Home"), ("work", "Work"), ("mobile", "Mobile"), ("other", "Other")]
ADDRESS_KINDS = [EMPTY, ("home", "Home"), ("work", "Work"), ("other", "Other")]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")


class ContactFilterForm(forms.Form):
    """The list screen's search, filters and sort. Bad values are ignored (the
    page shows what it can) rather than refused."""

    q = forms.CharField(required=False, max_length=100, label="Search",
                        widget=forms.TextInput(attrs={
                            "type": "search", "placeholder": "Email or name starts with…",
                            "autocomplete": "off",
                        }))
    list = forms.TypedChoiceField(required=False, label="List", coerce=int, empty_value=None)
    tag = forms.TypedChoiceField(required=False, label="Tag", coerce=int, empty_value=None)
    status = forms.ChoiceField(required=False, label="Status", choices=STATUS_CHOICES)
    # The sort order travels in the query string too; `sort` below parses it.

    def __init__(self, *args, lists: Sequence[ContactList], tags: Sequence[Tag], **kwargs):
        super().__init__(*args, **kwargs)
        self.lists = {lst.pk: lst for lst in lists}
        self.tags = {tag.pk: tag for tag in tags}
        self.fields["list"].choices = [("", "Any list")] + [(k, v.name) for k, v in
                                                            self.lists.items()]
        self.fields["tag"].choices = [("", "Any tag")] + [(k, v.name) for k, v in
                                                          self.tags.items()]

    def value(self, name: str):
        """The cleaned value of one filter, or its empty value if it was invalid."""
        if not self.is_valid() and name in self.errors:
            return None
        return self.cleaned_data.get(name)

    @property
    def sort(self) -> Sort:
        return Sort.parse(self.data.get("sort", "") if self.is_bound else "")


def _custom_field_input(field: CustomField, current: str) -> forms.Field:
    label = field.label
    kind = field.type
    if kind == "text_area":
        return forms.CharField(label=label, required=False, max_length=255,
                               widget=forms.Textarea(attrs={"rows": 3}))
    if kind in ("number", "currency"):
        return forms.CharField(label=label, required=False, max_length=255,
                               widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                               help_text="A number." if kind == "number" else "An amount.")
    if kind == "date":
        return forms.CharField(label=label, required=False, max_length=255,
                               widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD"}),
                               help_text="A date: YYYY-MM-DD or MM/DD/YYYY.")
    if kind == "boolean":
        choices = [EMPTY, ("true", "Yes"), ("false", "No")]
        if current and current not in ("true", "false"):
            # Keep an unexpected stored value selectable: a select without it
            # would submit "" and silently erase it.
            choices.append((current, current))
        return forms.ChoiceField(label=label, required=False, choices=choices)
    if kind == "single_select":
        labels = [str(c.get("choice_label") or "") for c in custom_field_choices(field=field)]
        choices = [EMPTY] + [(lbl, lbl) for lbl in labels if lbl]
        if current and current not in labels:
            choices.append((current, current))
        return forms.ChoiceField(label=label, required=False, choices=choices)
    if kind == "multi_select":
        # Several choice ids per value: not editable here yet, and never sent changed.
        return forms.CharField(label=label, required=False, disabled=True,
                               help_text="Several choices: change it in Constant Contact.")
    return forms.CharField(label=label, required=False, max_length=255)


class ContactFieldsForm(forms.Form):
    """A contact's own fields. `opened` are the values the form was opened with
    (an edit): typed custom-field checks apply only to values the member changed,
    so an odd value already stored upstream never blocks an unrelated edit."""

    email = forms.EmailField(label="Email", max_length=80, required=False)
    first_name = forms.CharField(label="First name", max_length=50, required=False)
    last_name = forms.CharField(label="Last name", max_length=50, required=False)
    job_title = forms.CharField(label="Job title", max_length=50, required=False)
    company_name = forms.CharField(label="Company", max_length=50, required=False)
    birthday_month = forms.ChoiceField(label="Birthday month", choices=MONTHS, required=False)
    birthday_day = forms.ChoiceField(label="Birthday day", choices=DAYS, required=False)
    anniversary = forms.CharField(label="Anniversary", max_length=10, required=False,
                                  help_text="MM/DD/YYYY or YYYY-MM-DD.")
    phone_number = forms.CharField(label="Phone", max_length=25, required=False)
    phone_kind = forms.ChoiceField(label="Phone type", choices=PHONE_KINDS, required=False)
    address_kind = forms.ChoiceField(label="Address type", choices=ADDRESS_KINDS, required=False)
    street = forms.CharField(label="Street", max_length=255, required=False)
    city = forms.CharField(label="City", max_length=50, required=False)
    state = forms.CharField(label="State", max_length=50, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=50, required=False)
    country = forms.CharField(label="Country", max_length=50, required=False)

    CONTACT_FIELDS = ("email", "first_name", "last_name", "job_title", "company_name",
                      "birthday_month", "birthday_day", "anniversary", "phone_number",
                      "phone_kind", "address_kind", *ADDRESS_PARTS)

    def __init__(self, *args, custom_fields: list[CustomField],
                 opened: dict[str, str] | None = None, **kwargs):
        # A disabled input's value comes from `initial`, even on a submitted form:
        # without the opened values there, it would read as emptied.
        kwargs.setdefault("initial", dict(opened or {}))
        super().__init__(*args, **kwargs)
        self.custom_fields = list(custom_fields)
        self.opened = opened or {}
        initial = {**self.opened, **(self.initial or {})}
        for field in self.custom_fields:
            key = custom_field_key(field)
            self.fields[key] = _custom_field_input(field, initial.get(key, ""))

    @property
    def custom_field_names(self) -> list[str]:
        return [custom_field_key(f) for f in self.custom_fields]

    def custom_field_bound(self):
        return [self[name] for name in self.custom_field_names]

    def clean_email(self) -> str:
        return (self.cleaned_data.get("email") or "").strip().lower()

    def clean_anniversary(self) -> str:
        value = self.cleaned_data.get("anniversary") or ""
        if value and value != self.opened.get("anniversary") and not anniversary_is_valid(value):
            raise ValidationError("Use a real date as MM/DD/YYYY or YYYY-MM-DD.")
        return value

    def clean(self):
        cleaned = super().clean()
        month, day = cleaned.get("birthday_month"), cleaned.get("birthday_day")
        if bool(month) != bool(day):
            self.add_error("birthday_day", "Give both the month and the day of the birthday, "
                                           "or neither.")
        if cleaned.get("phone_number") and not cleaned.get("phone_kind"):
            cleaned["phone_kind"] = "home"
        if any(cleaned.get(part) for part in ADDRESS_PARTS) and not cleaned.get("address_kind"):
            cleaned["address_kind"] = "home"
        for field in self.custom_fields:
            key = custom_field_key(field)
            value = cleaned.get(key) or ""
            if not value or value == self.opened.get(key, "") or key in self.errors:
                continue
            if field.type in ("number", "currency"):
                try:
                    Decimal(value)
                except InvalidOperation:
                    self.add_error(key, "Enter a number, such as 42 or 19.99.")
            elif field.type == "date" and not (_ISO_DATE.match(value) or _US_DATE.match(value)):
                self.add_error(key, "Enter a date as YYYY-MM-DD or MM/DD/YYYY.")
        return cleaned

    def values(self) -> dict[str, str]:
        """The contact's values as strings, keyed like `contact_form_values`; a
        disabled input keeps the value it was opened with."""
        out = {}
        for name in (*self.CONTACT_FIELDS, *self.custom_field_names):
            value = self.cleaned_data.get(name)
            out[name] = "" if value is None else str(value).strip()
        return out

    def choice_ids(self) -> dict[str, list[str]]:
        """For single-select custom fields: the chosen label's choice id."""
        out = {}
        for field in self.custom_fields:
            if field.type != "single_select":
                continue
            value = self.cleaned_data.get(custom_field_key(field))
            for choice in custom_field_choices(field=field):
                if value and choice.get("choice_label") == value and choice.get("choice_id"):
                    out[custom_field_key(field)] = [str(choice["choice_id"])]
        return out


class ContactEditForm(ContactFieldsForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An address can't be removed by an edit: a PUT without email_address
        # would leave the contact unreachable. A contact that never had one may stay so.
        self.fields["email"].required = bool(self.opened.get("email"))


PERMISSIONS = [
    ("implicit", "Implicit: an existing business relationship (a customer, a member, an "
                 "inquiry)"),
    ("explicit", "Explicit: this person asked to receive our email"),
]


class ContactCreateForm(ContactFieldsForm):
    permission = forms.ChoiceField(
        label="Permission to send email", choices=PERMISSIONS, initial="implicit",
        widget=forms.RadioSelect,
        help_text="Choose explicit only when the person gave you permission to email them "
                  "themselves: recording consent they didn't give breaks anti-spam law and "
                  "Constant Contact's terms.",
    )
    lists = forms.ModelMultipleChoiceField(
        label="Lists", required=False, queryset=ContactList.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=f"Up to {MAX_LISTS_PER_CONTACT}.",
    )
    tags = forms.ModelMultipleChoiceField(
        label="Tags", required=False, queryset=Tag.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=f"Up to {MAX_TAGS_PER_CONTACT}.",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["lists"].queryset = ContactList.objects.filter(
            workspace=workspace, delete_activity_id="")
        self.fields["tags"].queryset = Tag.objects.filter(workspace=workspace,
                                                          delete_activity_id="")

    def clean_lists(self):
        lists = self.cleaned_data["lists"]
        if len(lists) > MAX_LISTS_PER_CONTACT:
            raise ValidationError(f"A contact can be on at most {MAX_LISTS_PER_CONTACT} lists.")
        return lists

    def clean_tags(self):
        tags = self.cleaned_data["tags"]
        if len(tags) > MAX_TAGS_PER_CONTACT:
            raise ValidationError(f"A contact can have at most {MAX_TAGS_PER_CONTACT} tags.")
        return tags


class ContactSignUpForm(forms.Form):
    """The sign-up-form upsert. The consent box is always required; if the
    mirror knows the address as unsubscribed, a second, specific one is too."""

    # The sign-up form takes a plain string of at most 50 (contract §3.1).
    email = forms.EmailField(label="Email", max_length=50)
    first_name = forms.CharField(label="First name", max_length=50, required=False)
    last_name = forms.CharField(label="Last name", max_length=50, required=False)
    job_title = forms.CharField(label="Job title", max_length=50, required=False)
    company_name = forms.CharField(label="Company", max_length=50, required=False)
    phone_number = forms.CharField(label="Phone", max_length=25, required=False)
    lists = forms.ModelMultipleChoiceField(
        label="Lists", queryset=ContactList.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="At least one. The contact is added to these; lists it is already on stay.",
        error_messages={"required": "Choose at least one list: Constant Contact requires one."},
    )
    consent = forms.BooleanField(
        label="This person asked to be subscribed, and I understand that if they had "
              "unsubscribed this subscribes them again (permission becomes explicit).",
        error_messages={"required": "Confirm that this person asked to be subscribed."},
    )
    confirm_resubscribe = forms.BooleanField(
        label="Yes, re-subscribe this contact who unsubscribed.", required=False,
    )

    def __init__(self, *args, workspace, unsubscribed_contact=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unsubscribed_contact = unsubscribed_contact
        self.fields["lists"].queryset = ContactList.objects.filter(
            workspace=workspace, delete_activity_id="")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_lists(self):
        lists = self.cleaned_data["lists"]
        if len(lists) > MAX_LISTS_PER_CONTACT:
            raise ValidationError(f"Choose at most {MAX_LISTS_PER_CONTACT} lists.")
        return lists

    def clean(self):
        cleaned = super().clean()
        if self.unsubscribed_contact is not None and not cleaned.get("confirm_resubscribe"):
            self.add_error("confirm_resubscribe",
                           "This contact unsubscribed. Tick this only if they asked to be "
                           "subscribed again.")
        return cleaned
