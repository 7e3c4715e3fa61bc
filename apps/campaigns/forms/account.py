"""The account edit form: the Constant Contact account's details and its
physical address, checked the way Constant Contact checks them.

`PUT /account/summary` is a partial update (contract §3.8), so only what the
member changed is sent: every field renders its starting value as a hidden
input too (`show_hidden_initial`), and a field counts as changed when the
submitted value differs from what the member saw — not from what Constant
Contact holds by the time they save, which would send back a colleague's older
value for a field this member never touched. The physical address is replaced
as a whole (`PUT .../physical_address`), so it is sent whole when any part of
it changed.
"""

import re
import zoneinfo

from django import forms
from django.core.exceptions import ValidationError

# The spec requires state_code (and postal_code) for these countries' addresses and
# asks for state_name instead everywhere else (AccountPhysicalAddress).
STATE_CODE_COUNTRIES = ("US", "CA")
_TWO_LETTERS = re.compile(r"^[A-Z]{2}$")

# Upstream field name for each summary field of the form (PUT /account/summary).
SUMMARY_FIELDS = {
    "organization_name": "organization_name",
    "contact_email": "contact_email",
    "contact_phone": "contact_phone",
    "website": "website",
    "time_zone_id": "time_zone_id",
    "country_code": "country_code",
    "state_code": "state_code",
}
# ... and for each address field (PUT/POST /account/summary/physical_address).
ADDRESS_FIELDS = {
    "address_line1": "address_line1",
    "address_line2": "address_line2",
    "address_line3": "address_line3",
    "address_city": "city",
    "address_state_code": "state_code",
    "address_state_name": "state_name",
    "address_postal_code": "postal_code",
    "address_country_code": "country_code",
}
_CODES = ("country_code", "state_code", "address_country_code", "address_state_code")


def _code_field(label: str, *, required: bool, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=2, help_text=help_text,
        widget=forms.TextInput(attrs={"size": 3, "autocapitalize": "characters"}),
    )


def _time_zone_choices(current: str) -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones())
    choices = [(name, name) for name in names]
    if current and current not in names:
        # Constant Contact still uses legacy names such as "US/Eastern"; a
        # system without them must not make the account's own zone invalid.
        choices.insert(0, (current, current))
    if not current:
        choices.insert(0, ("", "Choose a time zone"))
    return choices


class AccountForm(forms.Form):
    # The spec gives no length for these; the caps only stop absurd input.
    organization_name = forms.CharField(label="Organisation name", max_length=255)
    contact_email = forms.EmailField(
        label="Contact email", max_length=80,  # account email addresses are ≤ 80 (§3.8)
        help_text="The account owner's address; it must be one of the account's "
        "confirmed addresses.",
    )
    contact_phone = forms.CharField(label="Contact phone", max_length=25, required=False)
    website = forms.URLField(label="Website", max_length=255, required=False,
                             assume_scheme="https")
    time_zone_id = forms.ChoiceField(label="Time zone", choices=())
    country_code = _code_field("Country code", required=True,
                               help_text="Two letters (ISO 3166-1), such as US or FR.")
    state_code = _code_field("State code", required=False,
                             help_text="Two letters, such as MA; required for the US.")

    address_line1 = forms.CharField(label="Address line 1", max_length=80, required=False)
    address_line2 = forms.CharField(label="Address line 2", max_length=80, required=False)
    address_line3 = forms.CharField(label="Address line 3", max_length=80, required=False)
    address_city = forms.CharField(label="City", max_length=80, required=False)
    address_state_code = _code_field("State or province code", required=False,
                                     help_text="US and Canadian addresses only, such as MA.")
    address_state_name = forms.CharField(
        label="Region", max_length=80, required=False,
        help_text="Outside the US and Canada only.",
    )
    address_postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    address_country_code = _code_field("Country code", required=False,
                                       help_text="Two letters (ISO 3166-1).")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.initial.get("time_zone_id") or (
            # Re-shown without a fresh read: the zone the member saw still counts.
            self.data.get(self.add_initial_prefix("time_zone_id"), "") if self.is_bound else ""
        )
        self.fields["time_zone_id"].choices = _time_zone_choices(current)
        for field in self.fields.values():
            field.show_hidden_initial = True

    def details_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SUMMARY_FIELDS]

    def address_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ADDRESS_FIELDS]

    @staticmethod
    def initial_from(summary: dict) -> dict:
        """The form's starting values from Constant Contact's account summary."""
        address = summary.get("physical_address") or {}
        initial = {name: summary.get(key) or "" for name, key in SUMMARY_FIELDS.items()}
        initial.update({name: address.get(key) or "" for name, key in ADDRESS_FIELDS.items()})
        return initial

    # --- checks ----------------------------------------------------------------------
    def _clean_code(self, name: str) -> str:
        value = self.cleaned_data.get(name, "").strip().upper()
        if value and not _TWO_LETTERS.match(value):
            raise ValidationError("Use the two-letter code (letters only).")
        return value

    def clean_country_code(self) -> str:
        return self._clean_code("country_code")

    def clean_state_code(self) -> str:
        return self._clean_code("state_code")

    def clean_address_country_code(self) -> str:
        return self._clean_code("address_country_code")

    def clean_address_state_code(self) -> str:
        return self._clean_code("address_state_code")

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("country_code") == "US" and not cleaned.get("state_code") \
                and "state_code" not in self.errors:
            self.add_error("state_code", "Constant Contact requires a state for US accounts.")
        self._check_address(cleaned)
        return cleaned

    def _check_address(self, cleaned: dict) -> None:
        filled = any(cleaned.get(name) for name in ADDRESS_FIELDS)
        if not filled and not self.saw_address():
            return  # no address before, none now: nothing to check
        for name, message in (
            ("address_line1", "Enter the first line of the address."),
            ("address_city", "Enter the city."),
            ("address_country_code", "Enter the country code."),
        ):
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)
        if not filled:
            self.add_error(None, "The account's physical address can't be removed, only "
                           "changed: Constant Contact prints it in every campaign's footer.")
            return
        country = cleaned.get("address_country_code")
        if country in STATE_CODE_COUNTRIES:
            if not cleaned.get("address_state_code") and "address_state_code" not in self.errors:
                self.add_error("address_state_code",
                               "US and Canadian addresses need a state or province code.")
            if not cleaned.get("address_postal_code"):
                self.add_error("address_postal_code",
                               "US and Canadian addresses need a postal code.")
            if cleaned.get("address_state_name"):
                self.add_error("address_state_name", "Leave this empty for US and Canadian "
                               "addresses: use the state or province code.")
        elif country and cleaned.get("address_state_code"):
            self.add_error("address_state_code", "Only US and Canadian addresses take a "
                           "state code; put the region in Region instead.")

    # --- what changed ----------------------------------------------------------------
    def _seen(self, name: str) -> str:
        """The value this field had when the form was shown (its hidden initial input)."""
        seen = str(self.data.get(self.add_initial_prefix(name)) or "").strip()
        return seen.upper() if name in _CODES else seen

    def _changed(self, name: str) -> bool:
        return (self.cleaned_data.get(name) or "") != self._seen(name)

    def saw_address(self) -> bool:
        """Whether the account had a physical address when the form was shown."""
        return bool(self._seen("address_line1"))

    def summary_changes(self) -> dict[str, str]:
        """The summary fields the member changed, by upstream name."""
        changed = {name for name in SUMMARY_FIELDS if self._changed(name)}
        if changed & {"country_code", "state_code"}:
            # A state only means something with its country: send them together.
            changed |= {"country_code", "state_code"}
        return {SUMMARY_FIELDS[name]: self.cleaned_data[name]
                for name in SUMMARY_FIELDS if name in changed}

    def address_changed(self) -> bool:
        return any(self._changed(name) for name in ADDRESS_FIELDS)

    def address(self) -> dict[str, str]:
        """The whole address to send. Empty fields are left out (the spec's minLength
        is 1), and so is the state field that doesn't apply to the country. A postal
        code is kept for every country: the spec's "otherwise exclude" would drop a
        UK postcode from the footer, and Constant Contact stores it."""
        country = self.cleaned_data.get("address_country_code", "")
        skip = ("address_state_name",) if country in STATE_CODE_COUNTRIES \
            else ("address_state_code",)
        return {
            key: self.cleaned_data[name] for name, key in ADDRESS_FIELDS.items()
            if name not in skip and self.cleaned_data.get(name)
        }
