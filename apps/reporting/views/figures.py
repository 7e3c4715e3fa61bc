"""The charts of the report pages, built from the cache's rows and aggregates.

Each returns an `apps.reporting.charts.Chart`: the same object gives the chart
(json_script -> static/js/charts.js), the table beside it and the CSV export,
so the three can't disagree. Times are labelled from the send ("Hour 3") with
the member's local time beside them.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.mirror.selectors.tracking import bounce_is_hard, bounce_reason
from apps.reporting import rates
from apps.reporting.charts import Chart, Column
from apps.reporting.models import CampaignReport
from apps.reporting.selectors.reports import Overview

RATE_LABELS = (("open", "Open rate"), ("click", "Click rate"), ("bounce", "Bounce rate"),
               ("optout", "Opt-out rate"))


def _local(moment: datetime | None, zone) -> str:
    return timezone.localtime(moment, zone).strftime("%a %d %b %H:%M") if moment else ""


def _start(report: CampaignReport) -> datetime | None:
    start = (report.aggregates or {}).get("start")
    return parse_datetime(start) if start else report.last_sent_at


# --- A campaign -----------------------------------------------------------------------

def activity_chart(report: CampaignReport, *, hourly: bool, zone) -> Chart:
    """Opens and clicks per hour (first two days) or per day since the send."""
    aggregates = report.aggregates or {}
    rows = aggregates.get("hours" if hourly else "days") or []
    start = _start(report)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    unit = "Hour" if hourly else "Day"
    labels = [f"{unit} {i + 1}" for i in range(len(rows))]
    notes = [_local(start + step * i, zone) for i in range(len(rows))] if start else []
    columns = [
        Column("First opens", [r[0] for r in rows]),
        Column("First clicks", [r[2] for r in rows]),
        Column("All opens", [r[1] for r in rows], plot=False),
        Column("All clicks", [r[3] for r in rows], plot=False),
    ]
    span = "the first 48 hours" if hourly else "each day"
    first_opens = sum(r[0] for r in rows)
    peak = max(range(len(rows)), key=lambda i: rows[i][0]) if rows else None
    summary = (f"Line chart of first opens and first clicks in {span} after the send. "
               f"{first_opens:,} contacts opened in this span"
               + (f"; the most in {labels[peak].lower()}." if peak is not None and first_opens
                  else "."))
    return Chart(
        key="hours" if hourly else "days",
        title=("Opens and clicks, hour by hour (first two days)" if hourly
               else "Opens and clicks, day by day"),
        kind="line", row_label=f"{unit} since the send", labels=labels, columns=columns,
        summary=summary, axis_label="Contacts", row_notes=notes,
        totals_note=("First opens (clicks): contacts opening (clicking) for the first time. "
                     "Each contact counts once there, in the hour or day of their first open or "
                     "click, so those columns add up to the unique counts above; all opens and "
                     "clicks count every one. "
                     + ("Activity after the first 48 hours is in the day-by-day chart."
                        if hourly else "")),
    )


def bounce_chart(report: CampaignReport) -> Chart:
    rows = [(code, count) for code, count in (report.aggregates or {}).get("bounces") or []]
    rows.sort(key=lambda row: (not bounce_is_hard(row[0]), -row[1], row[0]))
    labels = [f"{bounce_reason(code)} ({code})" for code, _ in rows]
    hard = sum(count for code, count in rows if bounce_is_hard(code))
    total = sum(count for _, count in rows)
    return Chart(
        key="bounces", title="Bounces by type", kind="hbar", row_label="Reason (code)",
        labels=labels,
        columns=[Column("Contacts", [count for _, count in rows]),
                 Column("Type", ["Hard" if bounce_is_hard(code) else "Soft" for code, _ in rows],
                        text=True)],
        summary=(f"Bar chart of {total:,} bounced contacts by reason: {hard:,} hard, "
                 f"{total - hard:,} soft."),
        axis_label="Contacts",
    )


def optout_chart(report: CampaignReport) -> Chart:
    rows = (report.aggregates or {}).get("optout_reasons") or []
    labels = [reason or "No reason given" for reason, _ in rows]
    total = sum(count for _, count in rows)
    return Chart(
        key="optouts", title="Opt-outs by reason", kind="hbar", row_label="Reason",
        labels=labels, columns=[Column("Contacts", [count for _, count in rows])],
        summary=f"Bar chart of {total:,} opted-out contacts by the reason they gave.",
        axis_label="Contacts",
    )


def link_chart(report: CampaignReport) -> Chart:
    """Every link of the email: the link report's unique clicks (links nobody
    clicked too), with every click from the cached events beside them."""
    cached = {row[0]: row for row in (report.aggregates or {}).get("links") or []}
    rows = []
    for link in report.link_report or []:
        event_row = cached.pop(link["url_id"], None)
        rows.append((link["link_url"], link["unique_clicks"], event_row[3] if event_row else 0))
    for key, url, contacts, clicks in cached.values():  # clicked, but not in the link report
        rows.append((url or key, contacts, clicks))
    rows.sort(key=lambda row: (-row[1], row[0]))
    total = sum(row[1] for row in rows)
    return Chart(
        key="links", title="Clicks per link", kind="hbar", row_label="Link",
        labels=[row[0] for row in rows],
        columns=[Column("Contacts who clicked", [row[1] for row in rows]),
                 Column("All clicks", [row[2] for row in rows], plot=False)],
        summary=(f"Bar chart of the contacts who clicked each of the email's {len(rows)} "
                 f"links, {total:,} clicks by contact in all."),
        axis_label="Contacts",
        totals_note=("A contact who clicked two links counts once per link, so this total "
                     "can be more than the contacts who clicked."),
    )


# --- The overview ---------------------------------------------------------------------

def _pct(value):
    return round(value, 1) if value is not None else None


def trend_chart(overview: Overview) -> Chart:
    unit = overview.trend_unit
    fmt = {"day": "%d %b", "week": "Week of %d %b", "month": "%B %Y"}[unit]
    # Only the days (weeks, months) with a send: an empty one has no rate to draw.
    trend = [(key, totals) for key, totals in overview.trend if totals.campaigns]
    labels = [key.strftime(fmt) for key, _ in trend]
    rates_by = [totals.rates for _, totals in trend]
    columns = [Column("Campaigns", [t.campaigns for _, t in trend], plot=False),
               Column("Sends", [t.sends for _, t in trend], plot=False)]
    columns += [Column(label, [_pct(r[key]) for r in rates_by], percent=True,
                       total=_pct(overview.totals.rates[key]))
                for key, label in RATE_LABELS]
    return Chart(
        key="trend", title=f"Rates by {unit} of the send", kind="line",
        row_label=unit.capitalize(), labels=labels, columns=columns,
        summary=(f"Line chart of the open, click, bounce and opt-out rates of the campaigns "
                 f"sent each {unit} of the period in which any was sent."),
        axis_label="Percent", total_label="Whole period",
    )


def campaigns_chart(reports: list[CampaignReport], *, key: str = "campaigns",
                    title: str = "Campaigns sent in the period") -> Chart:
    """Per campaign: counts and rates. A table (and CSV) only: hundreds of bars
    would say nothing; the comparison page draws a few side by side."""
    totals_sends = sum(r.sends for r in reports)
    columns = [
        Column("Sent", [_local_date(r) for r in reports], text=True),
        Column("Sends", [r.sends for r in reports], plot=False),
        Column("Opens", [r.opens for r in reports], plot=False),
        Column("Clicks", [r.clicks for r in reports], plot=False),
        Column("Bounces", [r.bounces for r in reports], plot=False),
        Column("Opt-outs", [r.optouts for r in reports], plot=False),
    ]
    sums = {"sends": totals_sends, "opens": sum(r.opens for r in reports),
            "clicks": sum(r.clicks for r in reports), "bounces": sum(r.bounces for r in reports),
            "optouts": sum(r.optouts for r in reports)}
    overall = rates.all_rates(**sums)
    for rate_key, label in RATE_LABELS:
        columns.append(Column(label, [_pct(getattr(r, f"{rate_key}_rate")) for r in reports],
                              plot=False, percent=True, total=_pct(overall[rate_key])))
    return Chart(key=key, title=title, kind="bar", row_label="Campaign",
                 labels=[r.campaign.name for r in reports], columns=columns,
                 summary="", total_label="All of them")


def _local_date(report: CampaignReport) -> str:
    return timezone.localtime(report.last_sent_at).strftime("%d %b %Y") if report.last_sent_at \
        else ""


# --- The comparison -------------------------------------------------------------------

def compare_rates_chart(reports: list[CampaignReport]) -> Chart:
    return Chart(
        key="rates", title="Rates side by side", kind="bar", row_label="Rate",
        labels=[label for _, label in RATE_LABELS],
        columns=[Column(r.campaign.name,
                        [_pct(getattr(r, f"{key}_rate")) for key, _ in RATE_LABELS],
                        percent=True) for r in reports],
        summary=("Grouped bar chart of the open, click, bounce and opt-out rates of "
                 + ", ".join(r.campaign.name for r in reports) + "."),
        axis_label="Percent",
    )


def compare_opens_chart(reports: list[CampaignReport]) -> Chart:
    """Share of each campaign's delivered recipients who had opened, hour by hour
    over the first two days: campaigns of different sizes line up."""
    hours = 48
    columns = []
    for report in reports:
        rows = (report.aggregates or {}).get("hours") or []
        delivered = report.delivered
        running, values = 0, []
        for i in range(hours):
            running += rows[i][0] if i < len(rows) else 0
            values.append(_pct(100.0 * running / delivered) if delivered else None)
        columns.append(Column(report.campaign.name, values, percent=True))
    return Chart(
        key="first-hours", title="Opened so far, first 48 hours after each send",
        kind="line", row_label="Hours since the send",
        labels=[str(i + 1) for i in range(hours)], columns=columns,
        summary=("Line chart of the share of each campaign's recipients who had opened it, "
                 "hour by hour for two days after its send; each campaign has its own "
                 "line style."),
        axis_label="Percent of recipients who opened",
        totals_note="Cumulative: the last row is each campaign's opens in its first two days.",
    )
