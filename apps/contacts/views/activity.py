"""The contact page's "Read activity now": one contact's email activity from
Constant Contact's contact report, into the reports cache the panel reads.

Who opened or clicked is report data about a person: it needs read access to
contacts and to reports (the gate checks the same for the endpoint)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.contacts.selectors.contacts import contact_get
from apps.contacts.services.activity import contact_activity_refresh


@require_POST
@workspace_view(Area.CONTACTS, Access.READ, also=((Area.REPORTS, Access.READ),))
def contact_activity_read(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(workspace=request.workspace, contact_id=contact_id)
    try:
        new = contact_activity_refresh(contact=contact, membership=request.membership)
    except ConstantContactError as exc:
        messages.error(request, upstream_error_message(exc))
    else:
        messages.success(request, f"Email activity read from Constant Contact: {new:,} new "
                         f"event{'s' if new != 1 else ''}." if new else
                         "Email activity read from Constant Contact: nothing new.")
    url = reverse("contacts:contact_detail", kwargs={"workspace_slug": request.workspace.slug,
                                                     "contact_id": contact.pk})
    return redirect(f"{url}#h-activity")



urlpatterns = [
    path("contacts/<int:contact_id>/activity/read/", contact_activity_read,
         name="contact_activity_read"),
]
