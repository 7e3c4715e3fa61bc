"""The member's notifications (/notifications/) and their choices
(/profile/notifications/).

Both belong to the person, not to a workspace (like the profile page), so they
need only a login; every lookup is scoped to `request.user`. Opening a
notification is a POST (a GET never writes): it marks it read and goes to what
it is about.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.notifications.forms import NotificationPreferencesForm
from apps.notifications.selectors import (
    notification_of,
    notifications_of,
    notifications_unread_count,
    preference_choices,
)
from apps.notifications.services import (
    notification_open,
    notification_preferences_save,
    notifications_mark_all_read,
)


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = notifications_of(user=request.user)
    return render(request, "notifications/list.html", {
        "notifications": rows,
        "unread": notifications_unread_count(user=request.user),
        # The workspace's name only matters to people in more than one.
        "several_workspaces": len({n.workspace_id for n in rows}) > 1,
    })


@require_POST
@login_required
def notification_open_view(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = notification_of(user=request.user, notification_id=notification_id)
    target = notification_open(notification=notification)
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return redirect(target)
    return redirect("notifications:list")


@require_POST
@login_required
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user)
    if count:
        messages.success(request, f"Marked {count:,} notification{'s' if count != 1 else ''} "
                                  "as read.")
    return redirect("notifications:list")


@require_http_methods(["GET", "POST"])
@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    initial = NotificationPreferencesForm.initial_from(preference_choices(user=request.user))
    form = NotificationPreferencesForm(request.POST if request.method == "POST" else None,
                                       initial=initial)
    if request.method == "POST" and form.is_valid():
        notification_preferences_save(user=request.user, choices=form.choices())
        messages.success(request, "Your notification choices were saved.")
        return redirect("notification_preferences")
    return render(request, "notifications/preferences.html", {"form": form})
