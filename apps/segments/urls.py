"""URLs of the segments area; each screen module owns its own patterns."""

from apps.segments.views import counts, segments, sync

app_name = "segments"

urlpatterns = [
    *segments.urlpatterns,
    *counts.urlpatterns,
    *sync.urlpatterns,
]
