"""The segments screens: the list (each segment's rules in words), a segment's
page, create and edit with the criteria builder, rename, and delete.

Pages read the mirror only; the builder's size estimate too (no API call). Each
save calls one service, which goes through the gate as the member; a Constant
Contact refusal becomes a message on the form (`upstream_error_message`), never
a 500, and leaves the mirror as it was. Builder buttons (`builder=...`) re-render
the form without saving: the whole page without JavaScript, only the builder
(`form.html#builder`) for htmx.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.constantcontact.errors import Conflict, ConstantContactError, ValidationError
from apps.constantcontact.explain import upstream_error_message
from apps.core.htmx import HtmxHttpRequest, wants_fragment
from apps.mirror.criteria import Criteria, criteria_pretty
from apps.mirror.models import Segment
from apps.mirror.selectors.segments import (
    criteria_estimate,
    criteria_vocabulary,
    segment_criteria,
)
from apps.segments.forms.builder import CriteriaBuilder
from apps.segments.forms.segments import DUPLICATE_NAME, SegmentForm, SegmentRenameForm
from apps.segments.selectors.counts import segment_count_is_current, segment_count_latest
from apps.segments.selectors.segments import (
    scheduled_campaigns_using,
    segment_facts,
    segment_for,
    segment_rows,
    segment_usage,
)
from apps.segments.services import segments as services
from apps.segments.views.sync import freshness_context

FORM = "segments/form.html"
# Constant Contact's 400 for a segment past the account's limit (as the simulator
# words it; the message is shown whatever the key, so an unknown one still reads).
LIMIT_ERROR_KEY = "segments.api.limit"
LIMIT_REACHED = ("The account has reached Constant Contact's limit of 100 segments. Delete one "
                 "you no longer need, then create this one.")


def _can_write(request: HttpRequest) -> bool:
    return request.role.allows(Area.SEGMENTS, Access.WRITE)


def may_see_size(request: HttpRequest) -> bool:
    """Whether the member may see how many contacts rules match. A size for any
    rules answers "is x@example.com a contact?" (email address is x@example.com),
    so it is contact-level data: it takes contacts read, like the exact count."""
    return request.role.allows(Area.CONTACTS, Access.READ)


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(f"segments:{name}", kwargs={"workspace_slug": request.workspace.slug, **kwargs})


def _segment(request: HttpRequest, segment_id: int) -> Segment:
    return segment_for(workspace=request.workspace, segment_id=segment_id)


# --- Pages -----------------------------------------------------------------------

@require_GET
@workspace_view(Area.SEGMENTS, Access.READ)
def segment_index(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "segments/index.html", {
        "rows": segment_rows(workspace=request.workspace),
        "usage": segment_usage(workspace=request.workspace),
        **freshness_context(request),
    })


@require_GET
@workspace_view(Area.SEGMENTS, Access.READ)
def segment_detail(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    facts = segment_facts(segment=segment, with_size=may_see_size(request))
    return render(request, "segments/detail.html", {
        "segment": segment,
        "facts": facts,
        "criteria_json": criteria_pretty(facts.criteria) if facts.criteria else
        (segment.raw or {}).get("segment_criteria", ""),
        **count_context(request, segment, segment_count_latest(segment=segment)),
        "can_write": _can_write(request),
    })


def count_context(request: HttpRequest, segment: Segment, count) -> dict:
    """What the exact-count part of a segment's page needs (the page and its poll).
    Asking for a count takes segments write (it spends about one call per 500
    contacts of the shared allowance, as a report refresh does) and contacts read
    (it lists them); seeing one takes contacts read (see may_see_size)."""
    see = may_see_size(request)
    return {
        "count": count if see else None,
        "count_current": see and count is not None and segment_count_is_current(
            count=count, segment=segment),
        "may_see_size": see,
        "can_count": see and _can_write(request),
    }


# --- Create and edit ---------------------------------------------------------------

def _builder_response(request: HtmxHttpRequest, builder: CriteriaBuilder, context: dict
                      ) -> HttpResponse:
    """Re-render after a builder button: the estimate of complete rules, no save."""
    action = request.POST.get("builder", "")
    builder.apply(action)
    criteria = builder.clean(quiet=action != "preview")
    context.update(builder=builder, estimate=_estimate(request, criteria))
    if wants_fragment(request):
        return render(request, f"{FORM}#builder", context)
    return render(request, FORM, context)


def _estimate(request: HttpRequest, criteria: Criteria | None) -> dict | None:
    """The builder's estimate; None when the rules are incomplete or the member may
    not see sizes (the form then says why, from `may_see_size`)."""
    if criteria is None or not may_see_size(request):
        return None
    return {
        "all": criteria_estimate(workspace=request.workspace, criteria=criteria),
        "sendable": criteria_estimate(workspace=request.workspace, criteria=criteria,
                                      sendable_only=True),
    }


def _upstream_error(form: SegmentForm, builder: CriteriaBuilder, exc: ConstantContactError
                    ) -> None:
    keys = {exc.error_key, *(item.get("error_key") for item in exc.errors)}
    if isinstance(exc, Conflict):
        form.add_error("name", DUPLICATE_NAME)
    elif isinstance(exc, ValidationError) and LIMIT_ERROR_KEY in keys:
        # ccadmin's copy counted fewer: segments were made in Constant Contact since.
        form.add_error(None, LIMIT_REACHED)
    elif isinstance(exc, ValidationError):
        # Constant Contact refused the rules (or the name): its own words, placed on the rules.
        builder.errors.append(f"Constant Contact refused this segment: "
                              f"{upstream_error_message(exc)}")
    else:
        form.add_error(None, upstream_error_message(exc))


@require_http_methods(["GET", "POST"])
@workspace_view(Area.SEGMENTS, Access.WRITE)
def segment_create(request: HtmxHttpRequest) -> HttpResponse:
    usage = segment_usage(workspace=request.workspace)
    vocabulary = criteria_vocabulary(workspace=request.workspace)
    context = {"usage": usage, "segment": None, "may_see_size": may_see_size(request)}
    if request.method == "GET":
        builder = CriteriaBuilder.blank(vocabulary)
        return render(request, FORM, {**context, "form": SegmentForm(), "builder": builder})
    form = SegmentForm(request.POST)
    builder = CriteriaBuilder.from_post(request.POST, vocabulary)
    context["form"] = form
    if request.POST.get("builder"):
        return _builder_response(request, builder, context)
    criteria = builder.clean()
    if form.is_valid() and criteria is not None and not usage.is_full:
        try:
            segment = services.segment_create(
                workspace=request.workspace, membership=request.membership,
                name=form.cleaned_data["name"], criteria=criteria,
            )
        except services.SegmentLimitReached:
            form.add_error(None, LIMIT_REACHED)
        except ConstantContactError as exc:
            _upstream_error(form, builder, exc)
        else:
            messages.success(request, f"Segment “{segment.name}” created.")
            return redirect(_url(request, "segment_detail", segment_id=segment.pk))
    return render(request, FORM, {**context, "builder": builder,
                                  "estimate": _estimate(request, builder.criteria)})


def _changed_upstream_message(segment: Segment) -> str:
    return (
        f"Someone changed this segment in Constant Contact after you opened this form, so "
        f"nothing was saved. It is now called “{segment.name}”; its current rules are on its "
        "page. Your version is still in the form: save again to replace theirs, or go back."
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Area.SEGMENTS, Access.WRITE)
def segment_edit(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    vocabulary = criteria_vocabulary(workspace=request.workspace)
    context = {"segment": segment, "usage": None, "may_see_size": may_see_size(request)}
    seen = (segment.raw or {}).get("edited_at") or ""
    if request.method == "GET":
        builder = CriteriaBuilder.from_criteria(
            segment_criteria(segment), vocabulary,
            raw_text=(segment.raw or {}).get("segment_criteria", ""),
        )
        criteria = builder.clean(quiet=True)
        form = SegmentForm(initial={"name": segment.name, "seen_edited_at": seen})
        return render(request, FORM, {**context, "form": form, "builder": builder,
                                      "estimate": _estimate(request, criteria)})
    form = SegmentForm(request.POST)
    builder = CriteriaBuilder.from_post(request.POST, vocabulary)
    context["form"] = form
    if request.POST.get("builder"):
        return _builder_response(request, builder, context)
    criteria = builder.clean()
    if form.is_valid() and criteria is not None:
        try:
            segment = services.segment_update(
                segment=segment, membership=request.membership, name=form.cleaned_data["name"],
                criteria=criteria, seen_edited_at=form.cleaned_data["seen_edited_at"],
            )
        except services.SegmentChangedUpstream as changed:
            data = request.POST.copy()
            data["seen_edited_at"] = (changed.segment.raw or {}).get("edited_at") or ""
            form = SegmentForm(data)
            form.is_valid()
            form.add_error(None, _changed_upstream_message(changed.segment))
            context.update(form=form, segment=changed.segment)
        except ConstantContactError as exc:
            _upstream_error(form, builder, exc)
        else:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect(_url(request, "segment_detail", segment_id=segment.pk))
    return render(request, FORM, {**context, "builder": builder,
                                  "estimate": _estimate(request, builder.criteria)})


# --- Rename and delete -------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@workspace_view(Area.SEGMENTS, Access.WRITE)
def segment_rename(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    form = SegmentRenameForm(request.POST or None, initial={"name": segment.name})
    if request.method == "POST" and form.is_valid():
        try:
            renamed = services.segment_rename(segment=segment, membership=request.membership,
                                              name=form.cleaned_data["name"])
        except Conflict:
            form.add_error("name", DUPLICATE_NAME)
        except ConstantContactError as exc:
            form.add_error(None, upstream_error_message(exc))
        else:
            messages.success(request, f"Renamed to “{renamed.name}”.")
            return redirect(_url(request, "segment_detail", segment_id=renamed.pk))
    return render(request, "segments/rename.html", {"form": form, "segment": segment})


@require_http_methods(["GET", "POST"])
@workspace_view(Area.SEGMENTS, Access.WRITE)
def segment_delete(request: HtmxHttpRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    blocked = scheduled_campaigns_using(segment=segment)
    error = ""
    if request.method == "POST" and not blocked:
        name = segment.name
        try:
            services.segment_delete(segment=segment, membership=request.membership)
        except services.SegmentInUse as in_use:
            blocked = in_use.campaigns
            error = ("Constant Contact refused: a scheduled campaign sends to this segment. "
                     "Unschedule it (or give it another audience) first.")
        except ConstantContactError as exc:
            error = upstream_error_message(exc)
        else:
            messages.success(request, f"Segment “{name}” deleted. Its contacts are still in the "
                             "account.")
            return redirect(_url(request, "segment_index"))
    return render(request, "segments/delete.html", {
        "segment": segment, "facts": segment_facts(segment=segment,
                                                   with_size=may_see_size(request)),
        "blocked": blocked,
        "error": error,
    })


urlpatterns = [
    path("segments/", segment_index, name="segment_index"),
    path("segments/new/", segment_create, name="segment_create"),
    path("segments/<int:segment_id>/", segment_detail, name="segment_detail"),
    path("segments/<int:segment_id>/edit/", segment_edit, name="segment_edit"),
    path("segments/<int:segment_id>/rename/", segment_rename, name="segment_rename"),
    path("segments/<int:segment_id>/delete/", segment_delete, name="segment_delete"),
]
