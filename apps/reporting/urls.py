"""URLs of the reporting area, under /w/<workspace_slug>/reports/ (namespace `reporting`)."""

from apps.reporting.views import reports

app_name = "reporting"

urlpatterns = [
    *reports.urlpatterns,
]
