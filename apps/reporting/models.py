"""What only reporting keeps: one row per sent campaign with Constant Contact's own
counts, the aggregates the report pages draw, and when to refresh it next.

The tracking events themselves are the mirror floor's (`apps.mirror.models.
TrackingEvent`): the contact page and segments read them too. This row is
derived from them and from the summaries and stats calls, so every page reads
one row per campaign, however many events a campaign has.
"""

from django.db import models

from apps.accounts.models import Workspace
from apps.mirror.models import Campaign
from apps.reporting import rates


class CampaignReport(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="+")
    # Its primary email's campaign_activity_id: what the tracking reports take.
    activity_id = models.CharField(max_length=64, blank=True)
    campaign_type = models.CharField(max_length=40, blank=True)
    # The summaries' last_sent_date: the age the refresh schedule goes by.
    last_sent_at = models.DateTimeField(null=True, blank=True)

    # Constant Contact's unique counts — contacts, not events — from the campaign
    # summaries, and from the stats call when a refresh reads it (they agree).
    sends = models.PositiveIntegerField(default=0)
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    forwards = models.PositiveIntegerField(default=0)
    optouts = models.PositiveIntegerField(default=0)
    abuse = models.PositiveIntegerField(default=0)
    bounces = models.PositiveIntegerField(default=0)
    not_opened = models.PositiveIntegerField(default=0)
    summary_read_at = models.DateTimeField(null=True, blank=True)
    # From the stats call: every open and click (not only each contact's first),
    # by device, and the percentages as Constant Contact rounds them.
    opens_all = models.PositiveIntegerField(default=0)
    clicks_all = models.PositiveIntegerField(default=0)
    devices = models.JSONField(default=dict, blank=True)
    upstream_percents = models.JSONField(default=dict, blank=True)
    stats_read_at = models.DateTimeField(null=True, blank=True)
    # last_refresh_time: when Constant Contact itself last updated those stats.
    stats_as_of = models.DateTimeField(null=True, blank=True)

    # The event cache's reading position per kind: the newest event time read in
    # full, and the stats total then (a total that hasn't moved: nothing to read).
    read_marks = models.JSONField(default=dict, blank=True)
    events_read_at = models.DateTimeField(null=True, blank=True)
    # Computed from the cached events after each refresh (services/aggregates.py):
    # opens and clicks over time, bounces by code, opt-out reasons, clicks by link.
    aggregates = models.JSONField(default=dict, blank=True)
    # The link report (`/reports/email_reports/{id}/links?no_clicks=true`).
    link_report = models.JSONField(default=list, blank=True)

    next_refresh_at = models.DateTimeField(null=True, blank=True)
    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "-last_sent_at"], name="campaignreport_sent_idx"),
            models.Index(fields=["workspace", "next_refresh_at"], name="campaignreport_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Report of campaign {self.campaign_id}"

    # The rates, as Constant Contact defines them (apps/reporting/rates.py).
    @property
    def delivered(self) -> int:
        return rates.delivered(self.sends, self.bounces)

    @property
    def open_rate(self) -> float | None:
        return rates.open_rate(opens=self.opens, sends=self.sends, bounces=self.bounces)

    @property
    def click_rate(self) -> float | None:
        return rates.click_rate(clicks=self.clicks, opens=self.opens)

    @property
    def bounce_rate(self) -> float | None:
        return rates.bounce_rate(bounces=self.bounces, sends=self.sends)

    @property
    def optout_rate(self) -> float | None:
        return rates.optout_rate(optouts=self.optouts, sends=self.sends, bounces=self.bounces)
