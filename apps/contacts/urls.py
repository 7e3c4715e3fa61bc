"""URLs of the contacts area; each screen module owns its own patterns."""

from apps.contacts.views import activity, contacts, custom_fields, lists, sync, tags

app_name = "contacts"

urlpatterns = [
    *contacts.urlpatterns,
    *lists.urlpatterns,
    *tags.urlpatterns,
    *custom_fields.urlpatterns,
    *sync.urlpatterns,
    *activity.urlpatterns,
]
