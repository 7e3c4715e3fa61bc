"""The report pages' inputs: the overview's period and the campaigns compared.

Both are GET forms. A bad value is never a 500: the form says what is wrong and
the page shows that beside a default (the last 90 days; no comparison yet).
"""

from datetime import date, timedelta

from django import forms

from apps.reporting.selectors.reports import COMPARE_MAX, COMPARE_MIN

# The presets the overview offers, in days back from today (member's zone).
PERIODS = (("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"),
           ("365", "Last 12 months"), ("custom", "Dates I choose"))
DEFAULT_PERIOD = "90"
LONGEST_PERIOD = timedelta(days=5 * 366)
# Dates outside these can't hold a campaign (and the far ends overflow a time zone).
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False, label="Period",
                               initial=DEFAULT_PERIOD)
    start = forms.DateField(required=False, label="From (your dates)",
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To",
                          widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("Choose both dates, or one of the set periods.")
            if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST):
                raise forms.ValidationError(
                    f"Choose dates between {EARLIEST:%Y} and {LATEST:%Y}.")
            if start > end:
                raise forms.ValidationError("The start date is after the end date.")
            if end - start > LONGEST_PERIOD:
                raise forms.ValidationError("Choose a period of at most five years.")
        return data

    def bounds(self, *, today: date) -> tuple[date, date]:
        """The period asked for, or the default when the form is empty or wrong."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = data.get("period") or DEFAULT_PERIOD
        if period == "custom":
            return data["start"], data["end"]
        return today - timedelta(days=int(period) - 1), today


class _AnyChoice(forms.MultipleChoiceField):
    """Checked against the choices in clean_c, after the count: eleven campaigns
    should hear "at most five", not "not a valid choice"."""

    def valid_value(self, value) -> bool:
        return True


class CompareForm(forms.Form):
    """?c=12&c=15: the campaigns to compare, two to five of them."""

    c = _AnyChoice(required=False, label="Campaigns", widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["c"].choices = list(choices)

    def clean_c(self):
        chosen = []
        for value in self.cleaned_data.get("c") or []:
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise forms.ValidationError("That is not a campaign of this workspace.")
            if number not in chosen:
                chosen.append(number)
        if len(chosen) < COMPARE_MIN:
            raise forms.ValidationError(
                f"Choose at least {COMPARE_MIN} sent campaigns to compare "
                f"({len(chosen)} chosen).")
        if len(chosen) > COMPARE_MAX:
            raise forms.ValidationError(
                f"Choose at most {COMPARE_MAX} campaigns to compare: {len(chosen)} side by "
                "side would not be readable. Untick some and compare again.")
        known = {int(value) for value, _ in self.fields["c"].choices}
        unknown = [n for n in chosen if n not in known]
        if unknown:
            raise forms.ValidationError(
                "One of the chosen campaigns has no report here: it was never sent, or it "
                "is not this workspace's. Choose from the list below.")
        return chosen
