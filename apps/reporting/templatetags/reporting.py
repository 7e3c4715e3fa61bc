"""Template helpers of the report pages: a chart's cells (counts with separators,
rates with one decimal and a % sign, "—" for a rate with no denominator), and
where the vendored Chart.js is."""

from django import template
from django.templatetags.static import static

register = template.Library()

CHARTJS = "vendor/chartjs/chart.umd.min.js"


@register.simple_tag
def cell(column, value) -> str:
    if value is None or value == "":
        return "—"
    if column.text:
        return str(value)
    if column.percent:
        return f"{value:.1f}\u00a0%"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


@register.filter
def rate(value) -> str:
    """A rate as a page shows it: one decimal, or "—" when it has no denominator."""
    return "—" if value is None else f"{value:.1f}\u00a0%"


@register.filter
def is_drawn(chart) -> bool:
    return bool(chart.spec()["datasets"]) and not chart.empty


@register.simple_tag
def static_chartjs() -> str:
    return static(CHARTJS)


@register.filter
def count(value) -> str:
    """A count with thousands separators (12,345)."""
    return f"{value:,}" if isinstance(value, int) else "—"
