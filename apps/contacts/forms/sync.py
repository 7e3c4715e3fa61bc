"""The one input the sync screen takes: which kind of sync to start."""

from django import forms

from apps.mirror.models import SyncRun


class SyncStartForm(forms.Form):
    kind = forms.ChoiceField(choices=SyncRun.Kind.choices, initial=SyncRun.Kind.INCREMENTAL)
