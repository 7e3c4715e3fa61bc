"""The single OAuth callback, mounted at /oauth/constantcontact/ (namespace
`constantcontact_oauth`).

It lives outside /w/<slug>/ because the redirect URI sent to Constant Contact
must be byte-identical to the registered one (contract §4), and one application
serves every workspace; the callback finds the workspace from the attempt in
the session that its `state` names.
"""

from django.urls import path

from apps.constantcontact import views

app_name = "constantcontact_oauth"

urlpatterns = [
    path("callback/", views.callback, name="callback"),
]
