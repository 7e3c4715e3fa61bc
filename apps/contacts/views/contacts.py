"""The contact screens: the searchable list, a contact's page (with adding to and
removing from lists and tags), create, edit, delete and the sign-up-form upsert.

Pages read the mirror only. Each action calls one service, which goes through
the gate as the member; a Constant Contact refusal becomes a message on the
form or page (`upstream_error_message`), never a 500, and the form keeps what
the member typed. The edit form carries, signed, the values and fingerprint of
the contact it was opened with: the service refuses to write over a contact
that changed upstream since, and the form comes back showing the difference.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import Conflict, ConstantContactError
from apps.constantcontact.explain import upstream_error_message
from apps.contacts.forms.contacts import (
    ContactCreateForm,
    ContactEditForm,
    ContactFilterForm,
    ContactSignUpForm,
)
from apps.contacts.selectors.contacts import (
    PAGE_SIZE,
    SORT_COLUMNS,
    SORT_LABELS,
    Cursor,
    Sort,
    contact_count,
    contact_filter_choices,
    contact_for_email,
    contact_get,
    contact_page,
    page_span,
)
from apps.contacts.selectors.contacts import (
    contact_detail as contact_detail_read,
)
from apps.contacts.selectors.custom_fields import custom_field_rows
from apps.contacts.selectors.lists import contact_list_for
from apps.contacts.selectors.tags import tag_for
from apps.contacts.services import contacts as services
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.mirror.models import Contact, CustomField, EmailStatus
from apps.mirror.selectors.contacts import ContactFilters, contact_filter
from apps.mirror.selectors.tracking import contact_activity

LIST_TEMPLATE = "contacts/contacts/list.html"
DETAIL_TEMPLATE = "contacts/contacts/detail.html"
FORM_TEMPLATE = "contacts/contacts/form.html"
DELETE_TEMPLATE = "contacts/contacts/delete.html"
SIGNUP_TEMPLATE = "contacts/contacts/signup.html"

EDIT_SALT = "contacts.contact_edit"
# An edit form older than this is re-opened rather than trusted: its fingerprint
# is still checked, but a day-old form is more likely a forgotten tab.
EDIT_MAX_AGE_SECONDS = 24 * 3600
REMOVED = "This contact was deleted in Constant Contact, so it can't be changed here."
# Dates read best newest first; text columns A to Z.
DESCENDING_FIRST = {"updated", "created"}


def _can_write(request: HttpRequest) -> bool:
    return request.role.allows(Area.CONTACTS, Access.WRITE)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"contacts:{name}", kwargs={"workspace_slug": request.workspace.slug,
                                              **kwargs})


def _detail_url(request: HttpRequest, contact: Contact) -> str:
    return _url(request, "contact_detail", contact_id=contact.pk)


def _custom_fields(request: HttpRequest) -> list[CustomField]:
    return list(custom_field_rows(workspace=request.workspace))


# --- The list -------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One contact as the list shows it, prepared here rather than in the template:
    fifty rows of includes, URL reversals and date filters cost more than the query."""

    contact: Contact
    url: str
    name: str
    status: str
    status_class: str
    status_title: str
    updated: str
    updated_iso: str
    created: str
    created_iso: str


def _day(value: datetime | None) -> tuple[str, str]:
    if value is None:
        return "—", ""
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y}", local.isoformat()


def _rows(contacts: list[Contact], list_url: str) -> list[Row]:
    rows = []
    for c in contacts:
        if c.deleted_upstream:
            status, css = "Removed", "badge-failure"
            title = f"Deleted in Constant Contact on {_day(c.deleted_upstream)[0]}"
        elif c.email_status == EmailStatus.UNSUBSCRIBED:
            status, css, title = "Unsubscribed", "badge-denied", c.get_email_status_display()
        elif c.email_status in (EmailStatus.EXPLICIT, EmailStatus.IMPLICIT):
            status, css, title = "Subscribed", "badge-success", c.get_email_status_display()
        else:
            status, css = c.get_email_status_display(), ""
            title = "Subscribed, but Constant Contact won't email them yet"
        name = ", ".join(part for part in (c.last_name, c.first_name) if part)
        updated, updated_iso = _day(c.updated_upstream)
        created, created_iso = _day(c.created_upstream)
        rows.append(Row(
            # The detail URL is the list's URL plus the id (see urlpatterns below).
            contact=c, url=f"{list_url}{c.pk}/", name=name, status=status, status_class=css,
            status_title=title, updated=updated, updated_iso=updated_iso, created=created,
            created_iso=created_iso,
        ))
    return rows


def _cursor(request: HttpRequest, name: str, sort: Sort) -> tuple[Cursor | None, bool]:
    """The cursor in ?after= or ?before=, and whether one was given but unusable
    (an old link after the sort changed, or a mangled one)."""
    text = request.GET.get(name, "")
    if not text:
        return None, False
    try:
        return Cursor.decode(text, sort), False
    except ValueError:
        return None, True


def _start(request: HttpRequest) -> int | None:
    """The ?start= position hint the previous page's link carried (see page_span)."""
    text = request.GET.get("start", "")
    if not text.isdigit() or len(text) > 9:
        return None
    return int(text)


@require_GET
@workspace_view(Area.CONTACTS, Access.READ)
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    lists, tags = contact_filter_choices(workspace=request.workspace)
    form = ContactFilterForm(request.GET, lists=lists, tags=tags)
    form.is_valid()
    sort = form.sort
    filters = ContactFilters(
        q=form.value("q") or "",
        contact_list=form.lists.get(form.value("list")),
        tag=form.tags.get(form.value("tag")),
        status=form.value("status") or "",
    )
    after, bad_after = _cursor(request, "after", sort)
    before, bad_before = _cursor(request, "before", sort)
    # The text search is answered by contact_page and contact_count themselves, which
    # read each way of matching from its own index (see apps/contacts/selectors).
    contacts = contact_filter(workspace=request.workspace, filters=filters.without_search())
    page = contact_page(contacts=contacts, sort=sort, after=after,
                        before=None if after else before, search=filters.q)
    count = contact_count(workspace=request.workspace, filters=filters, contacts=contacts)
    span = page_span(page=page, start=_start(request), total=count,
                     first_page=after is None and before is None)

    # Links keep the filters; sorting or filtering starts again from the first page.
    query = request.GET.copy()
    for name in ("after", "before", "sort", "start"):
        query.pop(name, None)
    filter_query = query.urlencode()
    headers = []
    for key in SORT_COLUMNS:
        if key == sort.key:
            target = sort.toggled()
        else:
            target = Sort(key, key in DESCENDING_FIRST)
        headers.append({
            "key": key, "label": SORT_LABELS[key], "param": target.param,
            "active": key == sort.key, "descending": sort.descending,
        })
    response = render(
        request,
        f"{LIST_TEMPLATE}#results" if wants_fragment(request) else LIST_TEMPLATE,
        {
            "form": form,
            "filters": filters,
            "page": page,
            # "1–50 of 2,973"; the next and previous links carry where their page starts.
            "span": span,
            "next_start": span.last + 1 if span else "",
            "previous_start": max(1, span.first - PAGE_SIZE) if span else "",
            "rows": _rows(page.contacts, _url(request, "contact_list")),
            "page_size": PAGE_SIZE,
            "count": count,
            "sort": sort,
            "headers": headers,
            "filter_query": filter_query,
            "bad_cursor": bad_after or bad_before,
            "can_write": _can_write(request),
            # Bulk actions (apps/bulk) start from here: checkboxes and "all N matching".
            "can_bulk": request.role.allows(Area.BULK, Access.WRITE),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- One contact ----------------------------------------------------------------

@require_GET
@workspace_view(Area.CONTACTS, Access.READ)
def contact_detail(request: HtmxHttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(workspace=request.workspace, contact_id=contact_id)
    # Email activity is report data: it shows only to members who may read reports
    # as well (this page already needs contacts read). Read from the reports cache.
    may_see_activity = request.role.allows(Area.REPORTS, Access.READ)
    return render(request, DETAIL_TEMPLATE, {
        "detail": contact_detail_read(contact=contact),
        "contact": contact,
        "can_write": _can_write(request),
        "may_see_activity": may_see_activity,
        "activity": (contact_activity(workspace=request.workspace, contact_cc_id=contact.cc_id)
                     if may_see_activity else None),
    })


def _membership_change(request: HttpRequest, contact_id: int, change, target,
                       done: str) -> HttpResponse:
    contact = contact_get(workspace=request.workspace, contact_id=contact_id)
    if contact.deleted_upstream:
        messages.error(request, REMOVED)
        return redirect(_detail_url(request, contact))
    try:
        change(contact, target)
    except services.ContactRefused as exc:
        messages.error(request, str(exc))
    except ConstantContactError as exc:
        messages.error(request, upstream_error_message(exc))
    else:
        messages.success(request, done)
    return redirect(_detail_url(request, contact))


def _posted(request: HttpRequest, name: str, lookup):
    """The workspace's list or tag whose id the form posted, or None (missing,
    not a number, gone, or another workspace's: the same answer for all)."""
    try:
        return lookup(int(request.POST.get(name, "")))
    except (ValueError, Http404):
        return None


@require_POST
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_list_add(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact_get(workspace=request.workspace, contact_id=contact_id)  # 404 before anything else
    contact_list = _posted(request, "list", lambda pk: contact_list_for(
        workspace=request.workspace, list_id=pk))
    if contact_list is None:
        messages.error(request, "Choose one of the lists shown to add the contact to.")
        return redirect(_url(request, "contact_detail", contact_id=contact_id))
    return _membership_change(
        request, contact_id,
        lambda contact, target: services.contact_list_add(
            workspace=request.workspace, membership=request.membership, contact=contact,
            contact_list=target),
        contact_list, f"Added to the list {contact_list.name}.",
    )


@require_POST
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_list_remove(request: HttpRequest, contact_id: int, list_id: int) -> HttpResponse:
    contact_list = contact_list_for(workspace=request.workspace, list_id=list_id)
    return _membership_change(
        request, contact_id,
        lambda contact, target: services.contact_list_remove(
            workspace=request.workspace, membership=request.membership, contact=contact,
            contact_list=target),
        contact_list, f"Removed from the list {contact_list.name}.",
    )


@require_POST
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_tag_add(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact_get(workspace=request.workspace, contact_id=contact_id)
    tag = _posted(request, "tag", lambda pk: tag_for(workspace=request.workspace, tag_id=pk))
    if tag is None:
        messages.error(request, "Choose one of the tags shown to add to the contact.")
        return redirect(_url(request, "contact_detail", contact_id=contact_id))
    return _membership_change(
        request, contact_id,
        lambda contact, target: services.contact_tag_add(
            workspace=request.workspace, membership=request.membership, contact=contact,
            tag=target),
        tag, f"Tagged {tag.name}.",
    )


@require_POST
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_tag_remove(request: HttpRequest, contact_id: int, tag_id: int) -> HttpResponse:
    tag = tag_for(workspace=request.workspace, tag_id=tag_id)
    return _membership_change(
        request, contact_id,
        lambda contact, target: services.contact_tag_remove(
            workspace=request.workspace, membership=request.membership, contact=contact,
            tag=target),
        tag, f"Removed the tag {tag.name}.",
    )


# --- Create ---------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_create(request: HttpRequest) -> HttpResponse:
    custom_fields = _custom_fields(request)
    duplicate = None
    if request.method == "POST":
        form = ContactCreateForm(request.POST, workspace=request.workspace,
                                 custom_fields=custom_fields)
        if form.is_valid():
            new = services.NewContact(
                values=form.values(), permission=form.cleaned_data["permission"],
                lists=list(form.cleaned_data["lists"]), tags=list(form.cleaned_data["tags"]),
                choice_ids=form.choice_ids(),
            )
            try:
                contact = services.contact_create(
                    workspace=request.workspace, membership=request.membership, new=new,
                    custom_fields=custom_fields,
                )
            except Conflict:
                # 409: the address exists (perhaps unsubscribed, perhaps not mirrored yet).
                email = form.cleaned_data["email"]
                duplicate = {"email": email,
                             "contact": contact_for_email(workspace=request.workspace,
                                                          email=email)}
                form.add_error("email", "Constant Contact already has a contact with this "
                                        "email address.")
            except services.ContactRefused as exc:
                form.add_error(None, str(exc))
            except ConstantContactError as exc:
                form.add_error(None, upstream_error_message(exc))
            else:
                messages.success(request, f"Created {contact}.")
                return redirect(_detail_url(request, contact))
    else:
        form = ContactCreateForm(workspace=request.workspace, custom_fields=custom_fields)
    return render(request, FORM_TEMPLATE, {
        "form": form, "creating": True, "duplicate": duplicate,
        "action": _url(request, "contact_create"),
    })


# --- Edit -----------------------------------------------------------------------

def _opened_token(contact: Contact, fingerprint: dict, values: dict[str, str]) -> str:
    return signing.dumps({"contact": contact.pk, "fp": fingerprint, "values": values},
                         salt=EDIT_SALT, compress=True)


def _opened_read(contact: Contact, token: str) -> dict | None:
    try:
        opened = signing.loads(token, salt=EDIT_SALT, max_age=EDIT_MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(opened, dict) or opened.get("contact") != contact.pk:
        return None
    return opened


def _edit_page(request: HttpRequest, contact: Contact, form, token: str, *,
               difference=None, stale: bool = False) -> HttpResponse:
    return render(request, FORM_TEMPLATE, {
        "form": form, "contact": contact, "creating": False, "opened_token": token,
        "difference": difference, "stale": stale,
        "action": _url(request, "contact_edit", contact_id=contact.pk),
    })


@require_http_methods(["GET", "POST"])
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(workspace=request.workspace, contact_id=contact_id)
    if contact.deleted_upstream:
        messages.error(request, REMOVED)
        return redirect(_detail_url(request, contact))
    custom_fields = _custom_fields(request)

    if request.method == "GET":
        # The form opens on Constant Contact's copy, not the mirror's: the member
        # edits what is there now, and its fingerprint guards the save.
        try:
            document = services.contact_fetch(workspace=request.workspace,
                                              membership=request.membership, contact=contact)
        except ConstantContactError as exc:
            messages.error(request, upstream_error_message(exc))
            return redirect(_detail_url(request, contact))
        if document.get("deleted_at"):
            messages.error(request, REMOVED)
            return redirect(_detail_url(request, contact))
        values = services.contact_form_values(document=document, custom_fields=custom_fields)
        form = ContactEditForm(initial=values, custom_fields=custom_fields, opened=values)
        token = _opened_token(contact, services.contact_fingerprint(document), values)
        return _edit_page(request, contact, form, token)

    token = request.POST.get("opened", "")
    opened = _opened_read(contact, token)
    if opened is None:
        form = ContactEditForm(request.POST, custom_fields=custom_fields)
        form.is_valid()
        return _edit_page(request, contact, form, "", stale=True)
    opened_values, fingerprint = opened["values"], opened["fp"]
    form = ContactEditForm(request.POST, custom_fields=custom_fields, opened=opened_values)
    if not form.is_valid():
        return _edit_page(request, contact, form, token)
    submitted = form.values()
    changes = {k: v for k, v in submitted.items() if v != opened_values.get(k, "")}
    if not changes:
        messages.info(request, "Nothing was changed, so nothing was sent to Constant Contact.")
        return redirect(_detail_url(request, contact))
    try:
        services.contact_update(
            workspace=request.workspace, membership=request.membership, contact=contact,
            changes=changes, expected_hash=fingerprint["hash"], custom_fields=custom_fields,
            choice_ids=form.choice_ids(),
        )
    except services.ContactChangedUpstream as exc:
        document = exc.document
        now_values = services.contact_form_values(document=document, custom_fields=custom_fields)
        difference = services.contact_difference(
            opened_values=opened_values, opened_fingerprint=fingerprint, document=document,
            submitted=submitted, custom_fields=custom_fields,
        )
        rebased = services.contact_form_rebase(
            opened_values=opened_values, submitted=submitted, document=document,
            custom_fields=custom_fields,
        )
        form = ContactEditForm(initial=rebased, custom_fields=custom_fields, opened=now_values)
        new_token = _opened_token(contact, services.contact_fingerprint(document), now_values)
        return _edit_page(request, contact, form, new_token, difference=difference)
    except Conflict:
        form.add_error("email", "Another contact in Constant Contact already uses this address.")
    except services.ContactRefused as exc:
        form.add_error(None, str(exc))
    except ConstantContactError as exc:
        form.add_error(None, upstream_error_message(exc))
    else:
        messages.success(request, f"Saved {contact}.")
        return redirect(_detail_url(request, contact))
    return _edit_page(request, contact, form, token)


# --- Delete ---------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_delete(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(workspace=request.workspace, contact_id=contact_id)
    if contact.deleted_upstream:
        messages.info(request, "This contact is already removed.")
        return redirect(_detail_url(request, contact))
    error = ""
    if request.method == "POST":
        try:
            services.contact_delete(workspace=request.workspace, membership=request.membership,
                                    contact=contact)
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            messages.success(request, f"Deleted {contact}. Constant Contact keeps it as "
                                      "removed; it no longer receives email.")
            return redirect(_url(request, "contact_list"))
    return render(request, DELETE_TEMPLATE, {"contact": contact, "error": error})


# --- Sign-up form upsert --------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.CONTACTS, Access.WRITE)
def contact_signup_upsert(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        email = request.GET.get("email", "")[:254]
        known = contact_for_email(workspace=request.workspace, email=email)
        form = ContactSignUpForm(workspace=request.workspace, initial={"email": email},
                                 unsubscribed_contact=None)
        return render(request, SIGNUP_TEMPLATE, {"form": form, "known": known})

    known = contact_for_email(workspace=request.workspace, email=request.POST.get("email", ""))
    unsubscribed = known if known is not None and known.status == "unsubscribed" else None
    form = ContactSignUpForm(request.POST, workspace=request.workspace,
                             unsubscribed_contact=unsubscribed)
    if form.is_valid():
        data = form.cleaned_data
        signup = services.SignUp(
            email=data["email"], lists=list(data["lists"]), first_name=data["first_name"],
            last_name=data["last_name"], job_title=data["job_title"],
            company_name=data["company_name"], phone_number=data["phone_number"],
        )
        try:
            outcome = services.contact_signup_upsert(
                workspace=request.workspace, membership=request.membership, signup=signup)
        except services.ContactRefused as exc:
            form.add_error(None, str(exc))
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            if outcome.created:
                messages.success(request, f"Created {signup.email} with explicit permission "
                                          "and added it to the lists.")
            else:
                messages.success(request, f"Updated {signup.email}: added to the lists, and its "
                                          "permission is now explicit (subscribed).")
            if outcome.contact is None:
                messages.warning(request, "Constant Contact took the change but could not be "
                                          "read back just now; the next sync will show it here.")
                return redirect(_url(request, "contact_list"))
            return redirect(_detail_url(request, outcome.contact))
    return render(request, SIGNUP_TEMPLATE, {"form": form, "known": known})


urlpatterns = [
    path("contacts/", contact_list, name="contact_list"),
    path("contacts/new/", contact_create, name="contact_create"),
    path("contacts/sign-up-form/", contact_signup_upsert, name="contact_signup_upsert"),
    path("contacts/<int:contact_id>/", contact_detail, name="contact_detail"),
    path("contacts/<int:contact_id>/edit/", contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/delete/", contact_delete, name="contact_delete"),
    path("contacts/<int:contact_id>/lists/add/", contact_list_add, name="contact_list_add"),
    path("contacts/<int:contact_id>/lists/<int:list_id>/remove/", contact_list_remove,
         name="contact_list_remove"),
    path("contacts/<int:contact_id>/tags/add/", contact_tag_add, name="contact_tag_add"),
    path("contacts/<int:contact_id>/tags/<int:tag_id>/remove/", contact_tag_remove,
         name="contact_tag_remove"),
]
