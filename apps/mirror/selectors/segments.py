"""Segments on the mirror floor: the account's segments, what their rules refer
to, and which mirrored contacts their criteria select.

    contacts = criteria_contacts(workspace=ws, criteria=criteria)  # a QuerySet
    estimate = criteria_estimate(workspace=ws, criteria=criteria)  # a count, or why not

The segments area previews a segment's size with it, campaigns count a segment
audience with it and bulk jobs select with it: all from the mirror, at no API
cost. It is an estimate: Constant Contact evaluates the same rules
(apps/mirror/criteria.py says how each is read) over its own data, which the
mirror follows a sync behind. Engagement rules read cached TrackingEvents, which
the reporting area fills; until it has cached every sent campaign a rule looks
at, the estimate says so (NotEstimable) instead of guessing.

Days are UTC calendar days, as Constant Contact stamps its times.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import math

from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Workspace
from apps.mirror.criteria import (
    ANY,
    CONTACT_FIELDS,
    CUSTOM_FIELD,
    CUSTOM_FIELD_KINDS,
    LAST_N_CAMPAIGNS,
    LAST_N_DAYS,
    LISTS,
    MAX_CAMPAIGNS,
    MAX_DAYS,
    NEGATIONS,
    NO_VALUE_OPS,
    ONE_CAMPAIGN,
    OPS,
    OR,
    TAGS,
    TRACKING,
    TRACKING_FIELDS,
    Criteria,
    CriteriaError,
    Group,
    Kind,
    Rule,
    Vocabulary,
    criteria_from_document,
    parse_count,
    parse_day,
    parse_number,
)
from apps.mirror.models import (
    Campaign,
    CampaignStatus,
    Contact,
    ContactList,
    CustomField,
    EmailActivity,
    ListMembership,
    Segment,
    Tag,
    Tagging,
    TrackingEvent,
)
from apps.mirror.selectors.audience import SENDABLE

# A value compares as a number or a day only when it reads as one (criteria.py).
NUMBER_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"

# Contact properties and the mirror's columns for them.
_COLUMNS = {
    "email_address": "email", "first_name": "first_name", "last_name": "last_name",
    "company_name": "company_name", "job_title": "job_title",
    "permission_to_send": "email_status", "birthday_month": "birthday_month",
    "birthday_day": "birthday_day", "anniversary": "anniversary",
    "created_at": "created_upstream", "updated_at": "updated_upstream",
}
_TIMESTAMPS = ("created_at", "updated_at")
_TEXT_DAYS = ("anniversary",)


class NotEstimable(Exception):
    """The mirror can't say who the criteria select; the message says why, for people."""


# --- The account's segments ------------------------------------------------------------

def segments_of(*, workspace: Workspace | int) -> QuerySet[Segment]:
    """Every mirrored segment of the workspace, by name."""
    return Segment.objects.filter(workspace=workspace)


def segments_by_cc_id(*, workspace: Workspace | int, cc_ids) -> dict[str, Segment]:
    """The mirrored segments among `cc_ids` (ints or strings), keyed by their id as text."""
    ids = [str(i) for i in cc_ids]
    if not ids:
        return {}
    return {row.cc_id: row for row in Segment.objects.filter(workspace=workspace, cc_id__in=ids)}


def segment_names(*, workspace: Workspace | int, cc_ids) -> dict[str, str]:
    """{segment id as text: name} for the mirrored segments among `cc_ids`."""
    return {cc_id: row.name for cc_id, row in segments_by_cc_id(workspace=workspace,
                                                                cc_ids=cc_ids).items()}


def campaigns_using_segment(*, workspace: Workspace | int, cc_id: str,
                            scheduled_only: bool = False) -> list[Campaign]:
    """The campaigns (not deleted) whose email goes to the segment, by name; only
    the scheduled ones with `scheduled_only`. Campaigns are few (hundreds), and
    segment_ids is a JSON list, so the match is made here rather than in SQL."""
    emails = EmailActivity.objects.filter(campaign__workspace=workspace).exclude(
        campaign__status=CampaignStatus.REMOVED).select_related("campaign")
    if scheduled_only:
        emails = emails.filter(Q(campaign__status=CampaignStatus.SCHEDULED)
                               | Q(status=CampaignStatus.SCHEDULED))
    using = [email.campaign for email in emails.only(
        "segment_ids", "status", "campaign__name", "campaign__status", "campaign__cc_id",
        "campaign__workspace_id")
        if str(cc_id) in {str(value) for value in email.segment_ids or []}]
    return sorted(using, key=lambda campaign: campaign.name.lower())


def segment_criteria(segment: Segment) -> Criteria | None:
    """The segment's criteria, or None when Constant Contact's were unreadable."""
    try:
        return criteria_from_document(segment.criteria)
    except CriteriaError:
        return None


def criteria_vocabulary(*, workspace: Workspace | int) -> Vocabulary:
    """What rules name by id — lists, tags, custom fields, campaigns — from the mirror."""
    campaigns = {
        cc_id: name for cc_id, name in EmailActivity.objects.filter(
            campaign__workspace=workspace,
        ).exclude(campaign__status=CampaignStatus.REMOVED).values_list("cc_id", "campaign__name")
    }
    return Vocabulary(
        lists=dict(ContactList.objects.filter(workspace=workspace).values_list("cc_id", "name")),
        tags=dict(Tag.objects.filter(workspace=workspace).values_list("cc_id", "name")),
        custom_fields={
            cc_id: (label, kind) for cc_id, label, kind in CustomField.objects.filter(
                workspace=workspace).values_list("cc_id", "label", "type")
        },
        campaigns=campaigns,
    )


# --- Who the criteria select -------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """A segment's size from the mirror, or why the mirror can't tell."""

    count: int | None
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.count is not None


def criteria_contacts(*, workspace: Workspace | int, criteria: Criteria,
                      today: date | None = None) -> QuerySet[Contact]:
    """The mirrored contacts (not removed) the criteria select. Raises NotEstimable
    when the mirror lacks what a rule needs (tracking data, a custom field)."""
    today = today or timezone.now().astimezone(UTC).date()
    q = _Evaluator(workspace=workspace, today=today).group(criteria.root)
    return Contact.objects.filter(workspace=workspace, deleted_upstream__isnull=True).filter(q)


def criteria_estimate(*, workspace: Workspace | int, criteria: Criteria,
                      sendable_only: bool = False, today: date | None = None) -> Estimate:
    """How many mirrored contacts the criteria select (only those Constant Contact
    would email, with `sendable_only`); no API call."""
    try:
        contacts = criteria_contacts(workspace=workspace, criteria=criteria, today=today)
    except NotEstimable as exc:
        return Estimate(count=None, reason=str(exc))
    if sendable_only:
        contacts = contacts.filter(email_status__in=SENDABLE)
    return Estimate(count=contacts.count())


def segment_contacts(*, segment: Segment, today: date | None = None) -> QuerySet[Contact]:
    """The mirrored contacts (not removed) the segment's criteria select: a bulk
    job's "a segment" selection, or a campaign's audience. Raises NotEstimable when
    the criteria can't be read or the mirror lacks what a rule needs."""
    criteria = segment_criteria(segment)
    if criteria is None:
        raise NotEstimable("Constant Contact's criteria for this segment could not be read, "
                           "so ccadmin can't tell who is in it.")
    return criteria_contacts(workspace=segment.workspace_id, criteria=criteria, today=today)


def segment_estimate(*, segment: Segment, sendable_only: bool = False) -> Estimate:
    criteria = segment_criteria(segment)
    if criteria is None:
        return Estimate(count=None, reason="Constant Contact's criteria for this segment could "
                        "not be read, so ccadmin can't estimate it.")
    return criteria_estimate(workspace=segment.workspace_id, criteria=criteria,
                             sendable_only=sendable_only)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


_NOTHING = Q(pk__in=[])


class _Evaluator:
    """Criteria as one Q over Contact, rule by rule (the semantics: criteria.py)."""

    def __init__(self, *, workspace: Workspace | int, today: date):
        self.workspace = workspace
        self.today = today
        self._field_types: dict[str, str] | None = None

    def group(self, group: Group) -> Q:
        parts = [self.group(item) if isinstance(item, Group) else self.rule(item)
                 for item in group.items]
        if not parts:
            return Q()  # an empty group holds no condition: everyone
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined | part) if group.type == OR else (combined & part)
        return combined

    def rule(self, rule: Rule) -> Q:
        if rule.source in (LISTS, TAGS):
            return self.membership(rule)
        if rule.source == TRACKING:
            return self.tracking(rule)
        return self.contact(rule)

    # Lists and tags ---------------------------------------------------------------------
    def membership(self, rule: Rule) -> Q:
        if rule.op != ANY:
            raise NotEstimable("A list or tag rule uses a comparison ccadmin doesn't know.")
        if rule.source == LISTS:
            rows = ListMembership.objects.filter(contact=OuterRef("pk"),
                                                 contact_list__cc_id__in=list(rule.ids))
        else:
            rows = Tagging.objects.filter(contact=OuterRef("pk"), tag__cc_id__in=list(rule.ids))
        return Q(Exists(rows))

    # Contact details --------------------------------------------------------------------
    def custom_field_types(self) -> dict[str, str]:
        if self._field_types is None:
            self._field_types = dict(CustomField.objects.filter(
                workspace=self.workspace).values_list("cc_id", "type"))
        return self._field_types

    def contact(self, rule: Rule) -> Q:
        if rule.field == CUSTOM_FIELD:
            field_type = self.custom_field_types().get(rule.param)
            if field_type is None:
                raise NotEstimable("A rule uses a custom field that is not in ccadmin's copy "
                                   "of the account; a contacts sync brings it.")
            kind = CUSTOM_FIELD_KINDS.get(field_type, Kind.TEXT)
        elif rule.field in CONTACT_FIELDS:
            kind = CONTACT_FIELDS[rule.field][1]
        else:
            raise NotEstimable(f"A rule uses the contact field “{rule.field}”, which ccadmin "
                               "doesn't know.")
        if rule.op not in OPS[kind]:
            raise NotEstimable(f"A rule compares with “{rule.op}”, which ccadmin doesn't know "
                               "for that field.")
        positive = NEGATIONS.get(rule.op)
        if positive is not None:
            return ~self.contact_positive(rule, kind, positive)
        return self.contact_positive(rule, kind, rule.op)

    def contact_positive(self, rule: Rule, kind: Kind, op: str) -> Q:
        if rule.field == CUSTOM_FIELD:
            return self.custom_field(rule.param, kind, op, rule.value)
        column = _COLUMNS[rule.field]
        if op in NO_VALUE_OPS:
            if kind in (Kind.TEXT, Kind.PERMISSION) or rule.field in _TEXT_DAYS:
                present = ~Q(**{column: ""}) & Q(**{f"{column}__isnull": False})
            else:
                present = Q(**{f"{column}__isnull": False})
            return present if op == "not-empty" else ~present
        value = rule.value
        if kind == Kind.PERMISSION:
            return Q(**{column: value})
        if kind == Kind.TEXT:
            lookup = {"eq": "iexact", "contains": "icontains", "starts-with": "istartswith"}[op]
            return Q(**{f"{column}__{lookup}": value})
        if kind == Kind.NUMBER:
            return self.integer_column(column, op, value)
        if rule.field in _TIMESTAMPS:
            return self.timestamp_column(column, op, value)
        return self.text_day_column(column, op, value)

    def integer_column(self, column: str, op: str, value: str) -> Q:
        """Birthday month and day: whole numbers, compared with any number."""
        number = parse_number(value)
        if number is None:
            return _NOTHING
        whole = number == number.to_integral_value()
        if op == "eq":
            return Q(**{column: int(number)}) if whole else _NOTHING
        floor, ceil = math.floor(number), math.ceil(number)
        bounds = {"gt": ("gt", floor), "gte": ("gte", ceil), "lt": ("lt", ceil),
                  "lte": ("lte", floor)}
        lookup, bound = bounds[op]
        return Q(**{f"{column}__{lookup}": bound})

    def days_back(self, value: str) -> tuple[date, date]:
        days = parse_count(value, MAX_DAYS)
        if days is None:
            raise NotEstimable("A rule looks back an impossible number of days.")
        return self.today - timedelta(days=days), self.today

    def timestamp_column(self, column: str, op: str, value: str) -> Q:
        if op == "last-n-days":
            first, last = self.days_back(value)
            return Q(**{f"{column}__gte": _day_start(first),
                        f"{column}__lt": _day_start(last + timedelta(days=1))})
        day = parse_day(value)
        if day is None:
            raise NotEstimable("A rule compares with a date that isn't one.")
        if op == "eq":
            return Q(**{f"{column}__gte": _day_start(day),
                        f"{column}__lt": _day_start(day + timedelta(days=1))})
        if op == "lt":
            return Q(**{f"{column}__lt": _day_start(day)})
        return Q(**{f"{column}__gte": _day_start(day + timedelta(days=1))})

    def text_day_column(self, column: str, op: str, value: str) -> Q:
        """A date kept as text (the anniversary): compared as "YYYY-MM-DD" text."""
        looks_like_a_day = Q(**{f"{column}__regex": DAY_PATTERN})
        if op == "last-n-days":
            first, last = self.days_back(value)
            # Any text after the day (a time) sorts after the bare day: stop before tomorrow.
            return looks_like_a_day & Q(**{f"{column}__gte": first.isoformat(),
                                           f"{column}__lt": (last + timedelta(days=1)).isoformat()})
        day = parse_day(value)
        if day is None:
            raise NotEstimable("A rule compares with a date that isn't one.")
        text, after = day.isoformat(), (day + timedelta(days=1)).isoformat()
        if op == "eq":
            return looks_like_a_day & Q(**{f"{column}__startswith": text})
        if op == "lt":
            return looks_like_a_day & Q(**{f"{column}__lt": text})
        return looks_like_a_day & Q(**{f"{column}__gte": after})

    def custom_field(self, field_id: str, kind: Kind, op: str, value: str) -> Q:
        if op in NO_VALUE_OPS:
            present = Q(_CustomFieldTest(field_id, "present"))
            return present if op == "not-empty" else ~present
        if kind == Kind.NUMBER:
            number = parse_number(value)
            if number is None:
                return _NOTHING
            return Q(_CustomFieldTest(field_id, "number", op, number))
        if kind == Kind.DATE:
            if op == "last-n-days":
                first, last = self.days_back(value)
                return Q(_CustomFieldTest(field_id, "day-range", "", first.isoformat(),
                                          last.isoformat()))
            day = parse_day(value)
            if day is None:
                raise NotEstimable("A rule compares with a date that isn't one.")
            return Q(_CustomFieldTest(field_id, "day", op, day.isoformat()))
        return Q(_CustomFieldTest(field_id, "text", op, value.lower()))

    # Engagement -----------------------------------------------------------------------
    def tracking(self, rule: Rule) -> Q:
        known = TRACKING_FIELDS.get(rule.field)
        if known is None or rule.op != ANY:
            raise NotEstimable(f"An engagement rule (“{rule.field}”) is one ccadmin can't "
                               "estimate.")
        _, kind, negated = known
        activity_ids = self.campaigns_in_scope(rule)
        if not activity_ids:
            return _NOTHING  # no campaign in scope was sent: nobody opened, nobody was sent

        def events(event_kind: str) -> Exists:
            return Exists(TrackingEvent.objects.filter(
                workspace=self.workspace, activity_id__in=activity_ids, kind=event_kind,
                contact_cc_id=OuterRef("cc_id"),
            ))

        if negated:
            return Q(events(TrackingEvent.Kind.SEND)) & ~Q(events(kind))
        return Q(events(kind))

    def campaigns_in_scope(self, rule: Rule) -> list[str]:
        """The sent campaign activities a tracking rule looks at; NotEstimable unless
        the reporting area has cached tracking data for every one of them."""
        sent = EmailActivity.objects.filter(campaign__workspace=self.workspace).filter(
            Q(sent_at__isnull=False) | Q(status=CampaignStatus.DONE)
        )
        if rule.value == ONE_CAMPAIGN:
            if not EmailActivity.objects.filter(campaign__workspace=self.workspace,
                                                cc_id=rule.param).exists():
                raise NotEstimable("An engagement rule names a campaign that is not in "
                                   "ccadmin's copy of the account; a campaigns sync brings it.")
            rows = sent.filter(cc_id=rule.param)
        elif rule.value == LAST_N_DAYS:
            first, _ = self.days_back(rule.param)
            rows = sent.filter(sent_at__gte=_day_start(first))
        elif rule.value == LAST_N_CAMPAIGNS:
            count = parse_count(rule.param, MAX_CAMPAIGNS)
            if count is None:
                raise NotEstimable("An engagement rule asks for an impossible number of "
                                   "campaigns.")
            rows = sent.order_by(F("sent_at").desc(nulls_last=True), "-pk")[:count]
        else:
            raise NotEstimable("An engagement rule picks its campaigns in a way ccadmin "
                               "doesn't know.")
        scope = dict(rows.values_list("cc_id", "campaign__name"))
        cached = set(TrackingEvent.objects.filter(
            workspace=self.workspace, activity_id__in=list(scope), kind=TrackingEvent.Kind.SEND,
        ).values_list("activity_id", flat=True).distinct())
        missing = sorted(name for cc_id, name in scope.items() if cc_id not in cached)
        if missing:
            names = ", ".join(f"“{name}”" for name in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise NotEstimable(
                f"Engagement rules can't be estimated yet: the Reports area hasn't cached who "
                f"was sent, opened or clicked {names}{more}. Constant Contact's exact count "
                "covers them."
            )
        return list(scope)


class _CustomFieldTest(Expression):
    """Whether the contact's `custom_fields` JSON list (as Constant Contact sends
    it: [{"custom_field_id", "value"}]) holds a value of one field that passes a
    test. SQL per database, since Django has no lookup inside JSON arrays that
    works on both SQLite and PostgreSQL; the values are parameters."""

    conditional = True

    def __init__(self, field_id: str, test: str, op: str = "", *values):
        super().__init__(output_field=BooleanField())
        self.column = F("custom_fields")
        self.field_id, self.test, self.op, self.values = field_id, test, op, values

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.column)
        postgres = connection.vendor == "postgresql"
        if postgres:
            rows = (f"jsonb_array_elements(CASE WHEN jsonb_typeof({column}) = 'array' "
                    f"THEN {column} ELSE '[]'::jsonb END) AS cf(item)")
            field_id, value = "cf.item ->> 'custom_field_id'", "cf.item ->> 'value'"
            matches, number = "~", f"({value})::numeric"
        else:
            rows = (f"json_each(CASE WHEN json_type({column}) = 'array' "
                    f"THEN {column} ELSE '[]' END) AS cf")
            field_id = "json_extract(cf.value, '$.custom_field_id')"
            value = "json_extract(cf.value, '$.value')"
            matches, number = "REGEXP", f"CAST({value} AS REAL)"
        params: list = [*column_params, *column_params, self.field_id]
        lowered = f"LOWER({value})"
        if self.test == "present":
            condition = f"{value} IS NOT NULL AND {value} <> ''"
        elif self.test == "text":
            needle = self.values[0]
            if self.op == "eq":
                condition = f"{lowered} = %s"
            elif postgres:
                position = f"POSITION(%s IN {lowered})"
                condition = f"{position} > 0" if self.op == "contains" else f"{position} = 1"
            else:
                position = f"INSTR({lowered}, %s)"
                condition = f"{position} > 0" if self.op == "contains" else f"{position} = 1"
            params.append(needle)
        elif self.test == "number":
            sign = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[self.op]
            condition = f"(CASE WHEN {value} {matches} %s THEN {number} END) {sign} %s"
            bound = self.values[0] if postgres else float(self.values[0])
            params += [NUMBER_PATTERN, bound]
        else:
            day = f"(CASE WHEN {value} {matches} %s THEN SUBSTR({value}, 1, 10) END)"
            if self.test == "day-range":
                condition = f"{day} >= %s AND {day} <= %s"
                params += [DAY_PATTERN, self.values[0], DAY_PATTERN, self.values[1]]
            else:
                sign = {"eq": "=", "lt": "<", "gt": ">"}[self.op]
                condition = f"{day} {sign} %s"
                params += [DAY_PATTERN, self.values[0]]
        return f"EXISTS (SELECT 1 FROM {rows} WHERE {field_id} = %s AND {condition})", params


def sendable(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Of `contacts`, those Constant Contact would email (explicit or implicit permission)."""
    return contacts.filter(email_status__in=SENDABLE)

