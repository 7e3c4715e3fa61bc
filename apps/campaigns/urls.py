"""URLs of the campaigns area and the account screens; each module owns its patterns."""

from apps.campaigns.views import account, approvals, campaigns, editor, sending

app_name = "campaigns"

urlpatterns = [
    *campaigns.urlpatterns,
    *editor.urlpatterns,
    *approvals.urlpatterns,
    *sending.urlpatterns,
    *account.urlpatterns,
]
