"""URLs of the bulk jobs area, under /w/<workspace_slug>/bulk/ (namespace `bulk`)."""

from apps.bulk.views import actions, imports, jobs

app_name = "bulk"

urlpatterns = [
    *jobs.urlpatterns,
    *imports.urlpatterns,
    *actions.urlpatterns,
]
