"""The member's notifications, under /notifications/ (namespace `notifications`).
The preferences page sits under the profile: ccadmin/urls.py names it."""

from django.urls import path

from apps.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:notification_id>/open/", views.notification_open_view, name="open"),
    path("read-all/", views.notifications_read_all, name="read_all"),
]
