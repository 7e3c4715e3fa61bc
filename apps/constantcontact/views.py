"""The Constant Contact screens: the connection (connect, reconnect, disconnect and
the OAuth callback), the API reference and the API budget.

Connecting is the authorization-code flow with PKCE (`oauth.py`). The connect
button POSTs here; we keep the attempt — state, PKCE verifier, workspace, user,
time — in the member's session and send the browser to Constant Contact. The
callback is one fixed URL outside any workspace (the redirect URI must match
the registered one byte for byte), so it finds the workspace from the attempt
its `state` names. An attempt is single use and lives ten minutes.

Every failure on the way back (consent declined, an unknown or stale state, a
refused code, Constant Contact down) becomes a message on the connection page,
never a 500 and never a half-made connection.
"""

import logging
import re
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership
from apps.audit.models import Outcome
from apps.audit.services import audit_event_record
from apps.constantcontact import conf
from apps.constantcontact.crypto import TokenDecryptionError
from apps.constantcontact.errors import (
    ConstantContactError,
    GrantDenied,
    OAuthError,
    Throttled,
    UpstreamUnavailable,
)
from apps.constantcontact.events import announce_connected
from apps.constantcontact.forms import ReferenceFilterForm
from apps.constantcontact.oauth import (
    oauth_complete,
    oauth_disconnect,
    oauth_start,
    oauth_state_matches,
)
from apps.constantcontact.selectors import (
    api_budget_summary,
    catalog_endpoint_rows,
    connection_get,
    connection_health,
)
from apps.constantcontact.services import connection_for
from apps.accounts.access import workspace_view
from apps.accounts.selectors import user_has_mfa
from apps.core.htmx import HtmxHttpRequest, wants_fragment

logger = logging.getLogger(__name__)

# Long enough to read a consent page (and sign in to Constant Contact first),
# short enough that a state lying in an old session is useless.
ATTEMPT_TTL_SECONDS = 10 * 60
# A few tabs may be mid-connect at once (two workspaces, a retry); more is noise.
MAX_PENDING_ATTEMPTS = 3
SESSION_KEY = "cc_oauth_attempts"
# An OAuth error code is a short token (RFC 6749 §4.1.2.1); anything else is not
# shown back to the member.
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


def _connection_url(workspace_slug: str) -> str:
    return reverse("constantcontact:connection", kwargs={"workspace_slug": workspace_slug})


# --- Connection attempts in the session -----------------------------------------

def _attempt_remember(request: HttpRequest, *, state: str, verifier: str) -> None:
    now = time.time()
    attempts = [
        a for a in request.session.get(SESSION_KEY, [])
        if now - a.get("created", 0) < ATTEMPT_TTL_SECONDS
    ]
    attempts.append({
        "state": state, "verifier": verifier, "workspace_id": request.workspace.pk,
        "user_id": request.user.pk, "created": now,
    })
    request.session[SESSION_KEY] = attempts[-MAX_PENDING_ATTEMPTS:]


def _attempt_take(request: HttpRequest, state: str) -> dict[str, Any] | None:
    """The attempt this state names, removed from the session (single use), or None."""
    attempts = request.session.get(SESSION_KEY, [])
    found = None
    for attempt in attempts:
        if oauth_state_matches(expected=attempt.get("state"), received=state):
            found = attempt
    if found is None:
        return None
    request.session[SESSION_KEY] = [a for a in attempts if a is not found]
    return found


# --- The connection page and its actions ----------------------------------------

@require_GET
@workspace_view(Area.ACCOUNT, Access.READ)
def connection(request: HtmxHttpRequest) -> HttpResponse:
    conn = connection_get(workspace=request.workspace)
    return render(request, "constantcontact/connection.html", {
        "connection": conn,
        "health": connection_health(connection=conn, now=timezone.now()),
        "can_manage": request.role.allows(Area.ACCOUNT, Access.WRITE),
        "redirect_uri": conf.redirect_uri(),
    })


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def connect(request: HtmxHttpRequest) -> HttpResponse:
    url, state, verifier = oauth_start()
    _attempt_remember(request, state=state, verifier=verifier)
    logger.info("cc connect started for workspace %s", request.workspace.pk)
    if request.htmx:
        # An XHR can't follow a redirect to another origin; have htmx navigate.
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


@require_POST
@workspace_view(Area.ACCOUNT, Access.WRITE)
def disconnect(request: HtmxHttpRequest) -> HttpResponse:
    back = redirect(_connection_url(request.workspace.slug))
    conn = connection_get(workspace=request.workspace)
    if conn is None or conn.status == conn.Status.NOT_CONNECTED:
        messages.info(request, "This workspace is not connected to Constant Contact.")
        return back
    try:
        oauth_disconnect(connection=conn, actor=request.membership)
    except TokenDecryptionError:
        logger.exception("cc disconnect: stored token unreadable (workspace %s)", conn.workspace_id)
        messages.error(
            request,
            "The stored Constant Contact token can't be decrypted with the configured keys "
            "(CCADMIN_FERNET_KEYS), so it could not be revoked. Nothing was changed.",
        )
        return back
    except ConstantContactError as exc:
        messages.error(request, f"Could not disconnect: {exc.message}")
        return back
    messages.success(
        request,
        "Disconnected from Constant Contact. Nothing is synced and no campaign can be "
        "scheduled until an admin connects again.",
    )
    return back


# --- The OAuth callback (outside any workspace) ----------------------------------

_DECLINED = {
    "access_denied": (
        "You declined the connection on Constant Contact's page, so nothing changed. "
        "To connect, press Connect again and approve."
    ),
    "invalid_scope": (
        "Constant Contact refused the permissions ccadmin asks for (invalid_scope). "
        "Check that the Constant Contact application may use them, then connect again."
    ),
}


def _declined_message(code: str) -> str:
    if code in _DECLINED:
        return _DECLINED[code]
    return (
        f"Constant Contact did not authorize the connection (error: {code}). "
        "Nothing changed; try connecting again."
    )


def _exchange_failed_message(exc: ConstantContactError) -> str:
    if isinstance(exc, OAuthError) and exc.error_key == "invalid_grant":
        return (
            "Constant Contact refused the authorization code: it expired or was already "
            "used. Nothing changed; press Connect again."
        )
    if isinstance(exc, (UpstreamUnavailable, Throttled)):
        return (
            "Constant Contact's sign-in service did not answer, so the connection was not "
            "made. Try again in a minute."
        )
    if isinstance(exc, OAuthError) and exc.error_key in ("invalid_client", "unauthorized_client"):
        return (
            "Constant Contact did not accept ccadmin's client credentials "
            f"({exc.error_key}): check CC_CLIENT_ID, CC_CLIENT_SECRET and the redirect URI."
        )
    return f"The connection was not made: {exc.message}"


def _audit_refused(request: HttpRequest, *, workspace, reason: str,
                   outcome: str = Outcome.FAILURE) -> None:
    """A connection that came back and was not made (the exchange's own outcome is
    audited by oauth_complete under the same action)."""
    audit_event_record(
        action="cc.connection.connect", actor=request.user, workspace=workspace,
        target="Constant Contact connection", outcome=outcome, details={"reason": reason},
    )


@never_cache
@require_GET
def callback(request: HtmxHttpRequest) -> HttpResponse:
    """Where Constant Contact sends the admin's browser back with ?code&state (or ?error)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    attempt = _attempt_take(request, request.GET.get("state", ""))
    if attempt is None or attempt.get("user_id") != request.user.pk:
        # Possibly a forged callback (login CSRF): worth a line in the user's log.
        _audit_refused(request, workspace=None, reason="unknown_state", outcome=Outcome.DENIED)
        messages.error(
            request,
            "That Constant Contact sign-in can't be used: it was already used, it was "
            "started in another browser, or ccadmin was opened at a different address "
            "than its registered redirect URI. Nothing changed; connect again from the "
            "Constant Contact page.",
        )
        return redirect("index")

    membership = (
        Membership.objects.select_related("workspace", "role", "user")
        .filter(user=request.user, workspace_id=attempt["workspace_id"]).first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    back = redirect(_connection_url(membership.workspace.slug))
    if time.time() - attempt.get("created", 0) >= ATTEMPT_TTL_SECONDS:
        _audit_refused(request, workspace=membership.workspace, reason="expired_state")
        messages.error(
            request,
            "That Constant Contact sign-in took longer than 10 minutes, so it was not used. "
            "Nothing changed; press Connect again.",
        )
        return back
    # Checked again here, not only at Connect: the role may have changed meanwhile.
    if not membership.role.allows(Area.ACCOUNT, Access.WRITE):
        _audit_refused(request, workspace=membership.workspace, reason="not_admin",
                       outcome=Outcome.DENIED)
        raise PermissionDenied("Only an admin can connect Constant Contact.")
    if membership.workspace.require_mfa and not user_has_mfa(request.user):
        messages.warning(
            request,
            f"{membership.workspace.name} requires two-factor authentication. "
            "Set it up, then connect again.",
        )
        return redirect("mfa_activate_totp")

    if error := request.GET.get("error"):
        code = error if _ERROR_CODE.match(error) else "unknown"
        _audit_refused(request, workspace=membership.workspace, reason=code)
        messages.error(request, _declined_message(code))
        return back
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "Constant Contact sent no authorization code. Connect again.")
        return back

    zone_before = membership.workspace.time_zone
    try:
        conn = oauth_complete(
            connection=connection_for(workspace=membership.workspace), code=code,
            verifier=attempt["verifier"], actor=membership,
        )
    except GrantDenied as exc:
        messages.error(request, exc.message)
        return back
    except ConstantContactError as exc:
        logger.warning("cc connect failed for workspace %s: %r", membership.workspace_id, exc)
        messages.error(request, _exchange_failed_message(exc))
        return back
    if conn.account_name:
        messages.success(
            request, f"Connected to the Constant Contact account “{conn.account_name}”."
        )
    else:
        messages.warning(
            request,
            "Connected to Constant Contact, but the account's details could not be read "
            "just now; the connection works all the same.",
        )
    conn.workspace.refresh_from_db(fields=["time_zone"])
    if conn.workspace.time_zone != zone_before:
        messages.info(
            request,
            f"The workspace's time zone is now {conn.workspace.time_zone}, the Constant "
            "Contact account's. An admin can change it in Settings.",
        )
    # The areas start their first syncs (apps/constantcontact/events.py) and say so.
    for sentence in announce_connected(connection=conn, membership=membership):
        messages.info(request, sentence)
    return back


# --- The API reference ------------------------------------------------------------

@require_GET
@workspace_view()
def reference(request: HtmxHttpRequest) -> HttpResponse:
    form = ReferenceFilterForm(request.GET)
    form.is_valid()  # invalid fields show their error and filter nothing
    rows = catalog_endpoint_rows(role=request.role, **form.filters())
    template = "constantcontact/reference.html"
    response = render(
        request, f"{template}#results" if wants_fragment(request) else template,
        {"form": form, "rows": rows, "filtered": form.active},
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- The API budget -----------------------------------------------------------------

@require_GET
@workspace_view(Area.ACCOUNT, Access.READ)
def budget(request: HtmxHttpRequest) -> HttpResponse:
    template = "constantcontact/budget.html"
    response = render(
        request, f"{template}#figures" if wants_fragment(request) else template,
        {"budget": api_budget_summary(workspace=request.workspace, now=timezone.now())},
    )
    patch_vary_headers(response, ("HX-Request",))
    # Live figures: a cached copy would show yesterday's count as today's.
    response["Cache-Control"] = "no-store"
    return response
