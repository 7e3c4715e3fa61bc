"""Constant Contact's segment criteria: their grammar, checked and put into words.

`segment_criteria` is one JSON document serialised into a single string of at
most 20,000 characters (contract §3.5; the spec's SegmentData):

    {"version": "1.0.0", "criteria": GROUP}
    GROUP = {"type": "and" | "or", "group": [RULE | GROUP, ...]}

The spec names four data sources and how each may be grouped: `tracking` and
`contact` in and/or groups, `list_membership` and `tags` in or groups only;
without a `list_membership` rule every contact is evaluated. The top-level group
must be an "and" (the spec writes "add": a typo, read as "and" and accepted).
Its one example is a tracking rule,

    {"source": "tracking", "field": "not_opened", "op": "contains-any",
     "const_value": "last-n-campaigns", "param": "5"},

and it refuses criteria that span more than 500 campaigns or 1,825 days. The
rest of the grammar is not published. Where the spec is silent, ccadmin reads
rules as follows, and so does its simulator (ccsim/resources/segments.py),
which must agree with this module rule for rule:

- `list_membership`: field "list_id", op "contains-any", const_value a list of
  list ids — on any of them. `tags`: field "tag_id", likewise. Being or-only,
  two such rules of one source can't be ANDed in the same group.
- `contact`: field a contact property (CONTACT_FIELDS), or "custom_field" with
  the custom field's id in `param`; op one of its kind's (OPS); const_value a
  string. Text compares without regard to case; numbers as numbers (a value that
  isn't one never matches); dates as UTC calendar days written "YYYY-MM-DD" (a
  custom field or anniversary spelt otherwise never matches a date rule). The
  negative ops (`ne`, `not-contains`) match exactly the contacts their positive
  doesn't, contacts without a value included.
- `tracking`: field opened | clicked | not_opened | not_clicked (or sent,
  bounced); op "contains-any"; const_value picks the campaigns: "last-n-campaigns"
  (param N ≤ 500: the last N sent), "last-n-days" (param N ≤ 1,825: every one
  sent in the last N days) or "campaign" (param its campaign_activity_id). A
  "not_" field means: was sent one of those campaigns and opened (clicked) none.

Parsing gives `Criteria` (rules and groups as frozen dataclasses); `criteria_problems`
checks it against the account's lists, tags, fields and campaigns (a
`Vocabulary`), each problem worded for people; `criteria_phrases` puts it into
words. Nothing here touches the database: the mirror floor's selectors build the
vocabulary and evaluate criteria (apps/mirror/selectors/segments.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
import json
import re
from typing import Any, Union

VERSION = "1.0.0"
MAX_LENGTH = 20000  # segment_criteria's maxLength (spec SegmentData)
MAX_CAMPAIGNS = 500  # "do not request more than 500 email campaigns" (spec createSegment)
MAX_DAYS = 1825  # "or a date range greater than 1825 days (5 years)"
MAX_TEXT = 255  # a custom field value's limit (contract §3.4); no contact text is longer
# How deep groups may nest, the top-level group counting as one. Constant Contact's
# grammar needs two (a top-level AND of rules and or-groups); a little room is left
# for JSON written by hand. The bound also keeps every recursive walk of the rules
# (checks, words, the mirror's evaluation) far from Python's recursion limit: 20,000
# characters hold about 800 nested groups.
MAX_DEPTH = 5

AND, OR = "and", "or"
CONTACT, LISTS, TAGS, TRACKING = "contact", "list_membership", "tags", "tracking"
SOURCES = (CONTACT, LISTS, TAGS, TRACKING)
CUSTOM_FIELD = "custom_field"
ANY = "contains-any"


class Kind(StrEnum):
    """How a contact field's values compare."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    PERMISSION = "permission"


# field -> (label, kind). Labels read after "Contacts whose ...".
CONTACT_FIELDS: dict[str, tuple[str, Kind]] = {
    "email_address": ("email address", Kind.TEXT),
    "first_name": ("first name", Kind.TEXT),
    "last_name": ("last name", Kind.TEXT),
    "company_name": ("company", Kind.TEXT),
    "job_title": ("job title", Kind.TEXT),
    "permission_to_send": ("email permission", Kind.PERMISSION),
    "birthday_month": ("birthday month", Kind.NUMBER),
    "birthday_day": ("birthday day", Kind.NUMBER),
    "anniversary": ("anniversary", Kind.DATE),
    "created_at": ("date added", Kind.DATE),
    "updated_at": ("last update", Kind.DATE),
}
# A custom field's `type` (contract §3.4) -> how its values compare; the rest are text.
CUSTOM_FIELD_KINDS = {"number": Kind.NUMBER, "currency": Kind.NUMBER, "date": Kind.DATE,
                      "datetime": Kind.DATE}

# op -> how it reads, per kind. "last-n-days" takes a number of days.
OPS: dict[Kind, dict[str, str]] = {
    Kind.TEXT: {"eq": "is", "ne": "is not", "contains": "contains",
                "not-contains": "does not contain", "starts-with": "starts with",
                "empty": "is empty", "not-empty": "is not empty"},
    Kind.NUMBER: {"eq": "is", "ne": "is not", "gt": "is more than", "gte": "is at least",
                  "lt": "is less than", "lte": "is at most", "empty": "is empty",
                  "not-empty": "is not empty"},
    Kind.DATE: {"eq": "is", "lt": "is before", "gt": "is after",
                "last-n-days": "is within the last", "empty": "is empty",
                "not-empty": "is not empty"},
    Kind.PERMISSION: {"eq": "is", "ne": "is not"},
}
NO_VALUE_OPS = ("empty", "not-empty")
# Each negative op matches exactly what its positive doesn't (see the module docstring).
NEGATIONS = {"ne": "eq", "not-contains": "contains"}

# Constant Contact's permission_to_send values (contract §3.1), as marketers say them.
PERMISSIONS = {
    "explicit": "subscribed (explicit)",
    "implicit": "subscribed (implicit)",
    "pending_confirmation": "pending confirmation",
    "unsubscribed": "unsubscribed",
    "temp_hold": "on temporary hold",
    "not_set": "not set",
}

# field -> (what it reads as, the tracking event kind it looks at, negated)
TRACKING_FIELDS: dict[str, tuple[str, str, bool]] = {
    "opened": ("opened", "open", False),
    "clicked": ("clicked a link in", "click", False),
    "not_opened": ("did not open", "open", True),
    "not_clicked": ("did not click a link in", "click", True),
    "sent": ("were sent", "send", False),
    "bounced": ("bounced from", "bounce", False),
}
LAST_N_CAMPAIGNS, LAST_N_DAYS, ONE_CAMPAIGN = "last-n-campaigns", "last-n-days", "campaign"
TRACKING_SCOPES = (LAST_N_DAYS, ONE_CAMPAIGN, LAST_N_CAMPAIGNS)

_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_COUNT = re.compile(r"^[0-9]{1,6}$")


class CriteriaError(ValueError):
    """The criteria aren't a segment document at all; the message says why."""


@dataclass(frozen=True)
class Rule:
    source: str
    field: str = ""
    op: str = ""
    value: str = ""  # const_value of contact and tracking rules
    ids: tuple[str, ...] = ()  # const_value of list_membership and tags rules
    param: str = ""


@dataclass(frozen=True)
class Group:
    type: str
    items: tuple[Union[Rule, "Group"], ...] = ()


@dataclass(frozen=True)
class Criteria:
    root: Group
    version: str = VERSION

    @property
    def is_empty(self) -> bool:
        return not self.root.items


@dataclass(frozen=True)
class Vocabulary:
    """What rules refer to by id, from the mirror: names, and custom fields' types.
    An id missing here is one the account no longer has (or ccadmin never saw)."""

    lists: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    custom_fields: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # (label, type)
    campaigns: Mapping[str, str] = field(default_factory=dict)  # activity id -> campaign name


@dataclass(frozen=True)
class Problem:
    path: tuple[int, ...]  # indexes from the top group down to the rule or group; () = all
    message: str


# --- Reading and writing the document --------------------------------------------

def criteria_loads(text: Any) -> Criteria:
    """`segment_criteria` (a JSON string) as Criteria; CriteriaError if it isn't one."""
    if not isinstance(text, str) or not text.strip():
        raise CriteriaError("The criteria are empty.")
    if len(text) > MAX_LENGTH:
        raise CriteriaError(f"The criteria are longer than Constant Contact's limit of "
                            f"{MAX_LENGTH:,} characters.")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CriteriaError(f"This is not valid JSON: {exc}.") from None
    except RecursionError:
        # Brackets nested thousands deep: the parser gives up before _group's bound.
        raise CriteriaError(_too_deep("The criteria")) from None
    return criteria_from_document(document)


def _too_deep(where: str) -> str:
    return (f"{where} nest groups more than {MAX_DEPTH} deep. Constant Contact's segments "
            "need two levels: rules at the top, combined with AND, and groups of rules that "
            "match all or any of them.")


def criteria_from_document(document: Any) -> Criteria:
    """The parsed JSON document as Criteria; CriteriaError if its shape is wrong."""
    if not isinstance(document, dict) or not isinstance(document.get("criteria"), dict):
        raise CriteriaError('The JSON must be an object with a "criteria" group.')
    version = document.get("version", VERSION)
    if not isinstance(version, str):
        raise CriteriaError('"version" must be a string such as "1.0.0".')
    root = _group(document["criteria"], "The top-level group", depth=1)
    if root.type == "add":
        root = Group(type=AND, items=root.items)
    return Criteria(root=root, version=version)


def _group(data: dict, where: str, *, depth: int) -> Group:
    kind = data.get("type")
    if kind not in (AND, OR, "add"):
        raise CriteriaError(f'{where} needs "type": "and" or "or".')
    items = data.get("group")
    if not isinstance(items, list):
        raise CriteriaError(f'{where} needs a "group" array of rules.')
    parsed: list[Rule | Group] = []
    for number, item in enumerate(items, 1):
        label = f"{where}, item {number}" if where != "The top-level group" else f"Item {number}"
        if not isinstance(item, dict):
            raise CriteriaError(f"{label} is not an object.")
        if "group" in item:
            if depth >= MAX_DEPTH:
                raise CriteriaError(_too_deep("The criteria"))
            nested = _group(item, label, depth=depth + 1)
            parsed.append(Group(type=AND if nested.type == "add" else nested.type,
                                items=nested.items))
        else:
            parsed.append(_rule(item, label))
    return Group(type=kind, items=tuple(parsed))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _rule(data: dict, where: str) -> Rule:
    source = data.get("source")
    if source not in SOURCES:
        raise CriteriaError(f'{where} has an unknown "source" {source!r}; Constant Contact '
                            "knows contact, list_membership, tags and tracking.")
    raw = data.get("const_value")
    if source in (LISTS, TAGS):
        if isinstance(raw, list):
            ids = tuple(_text(v) for v in raw if _text(v))
        else:
            ids = tuple(part.strip() for part in _text(raw).split(",") if part.strip())
        return Rule(source=source, field=_text(data.get("field")), op=_text(data.get("op")),
                    ids=ids, param=_text(data.get("param")))
    if isinstance(raw, list | dict):
        raise CriteriaError(f'{where}: "const_value" must be a single value.')
    return Rule(source=source, field=_text(data.get("field")), op=_text(data.get("op")),
                value=_text(raw), param=_text(data.get("param")))


def criteria_document(criteria: Criteria) -> dict:
    return {"version": criteria.version, "criteria": _group_document(criteria.root)}


def _group_document(group: Group) -> dict:
    return {"type": group.type, "group": [
        _group_document(item) if isinstance(item, Group) else _rule_document(item)
        for item in group.items
    ]}


def _rule_document(rule: Rule) -> dict:
    out: dict[str, Any] = {"source": rule.source, "field": rule.field, "op": rule.op}
    if rule.source in (LISTS, TAGS):
        out["const_value"] = list(rule.ids)
    elif rule.op not in NO_VALUE_OPS:
        out["const_value"] = rule.value
    if rule.param:
        out["param"] = rule.param
    return out


def criteria_dumps(criteria: Criteria) -> str:
    """The single string `segment_criteria` takes (compact: the limit counts characters)."""
    return json.dumps(criteria_document(criteria), separators=(",", ":"), ensure_ascii=False)


def criteria_pretty(criteria: Criteria) -> str:
    """The document indented, for people reading or editing it."""
    return json.dumps(criteria_document(criteria), indent=2, ensure_ascii=False)


# --- What a rule compares ---------------------------------------------------------

def contact_rule_kind(rule: Rule, vocabulary: Vocabulary | None = None) -> Kind | None:
    """How a contact rule's field compares; None for a field nobody knows."""
    if rule.field == CUSTOM_FIELD:
        if vocabulary is None or rule.param not in vocabulary.custom_fields:
            return None
        return CUSTOM_FIELD_KINDS.get(vocabulary.custom_fields[rule.param][1], Kind.TEXT)
    known = CONTACT_FIELDS.get(rule.field)
    return known[1] if known else None


def parse_number(value: str) -> Decimal | None:
    """A value as a number, the one way both sides read it (see the docstring)."""
    if not _NUMBER.match(value or ""):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def parse_day(value: str) -> date | None:
    """"2025-05-03" as a date; the first ten characters of a longer ISO value count."""
    text = (value or "")[:10]
    if not _DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_count(value: str, highest: int) -> int | None:
    """A whole number from 1 to `highest` (days, campaigns); None otherwise."""
    if not _COUNT.match(value or ""):
        return None
    number = int(value)
    return number if 1 <= number <= highest else None


# --- Checking against the account ---------------------------------------------------

def criteria_problems(criteria: Criteria, vocabulary: Vocabulary) -> list[Problem]:
    """Everything Constant Contact would refuse, or that can't mean what the member
    wants, each worded for people and placed by its path; [] when all is well."""
    problems: list[Problem] = []
    if criteria.root.type != AND:
        problems.append(Problem((), "The top level must combine its rules with AND, as "
                                "Constant Contact requires: put rules that are alternatives "
                                "into a group that matches any of them."))
    if criteria.is_empty:
        problems.append(Problem((), "Add at least one rule."))
    _check_group(criteria.root, (), vocabulary, problems)
    if len(criteria_dumps(criteria)) > MAX_LENGTH:
        problems.append(Problem((), f"These rules are longer than Constant Contact's limit of "
                                f"{MAX_LENGTH:,} characters. Remove some."))
    return problems


def _check_group(group: Group, path: tuple[int, ...], vocabulary: Vocabulary,
                 problems: list[Problem]) -> None:
    if path and not group.items:
        problems.append(Problem(path, "This group has no rules: add one or remove the group."))
    if group.type == AND:
        for source, what in ((LISTS, "Lists"), (TAGS, "Tags")):
            if sum(1 for item in group.items
                   if isinstance(item, Rule) and item.source == source) > 1:
                problems.append(Problem(path, f"{what} can only be combined with OR (Constant "
                                        f"Contact's rule): put them in one rule, which matches "
                                        f"contacts with any of them."))
    for index, item in enumerate(group.items):
        here = (*path, index)
        if isinstance(item, Group):
            _check_group(item, here, vocabulary, problems)
        else:
            message = rule_problem(item, vocabulary)
            if message:
                problems.append(Problem(here, message))


def rule_problem(rule: Rule, vocabulary: Vocabulary) -> str:
    """What is wrong with one rule, or ""."""
    if rule.source in (LISTS, TAGS):
        return _membership_problem(rule, vocabulary)
    if rule.source == TRACKING:
        return _tracking_problem(rule, vocabulary)
    return _contact_problem(rule, vocabulary)


def _membership_problem(rule: Rule, vocabulary: Vocabulary) -> str:
    lists = rule.source == LISTS
    if rule.op != ANY or rule.field != ("list_id" if lists else "tag_id"):
        return ("Constant Contact matches lists only as “on any of these lists”."
                if lists else "Constant Contact matches tags only as “has any of these tags”.")
    if not rule.ids:
        return "Choose at least one list." if lists else "Choose at least one tag."
    known = vocabulary.lists if lists else vocabulary.tags
    missing = [i for i in rule.ids if i not in known]
    if missing:
        return (f"{len(missing)} of the chosen {'lists' if lists else 'tags'} no longer "
                f"exist{'s' if len(missing) == 1 else ''} in the account: choose others.")
    return ""


def _tracking_problem(rule: Rule, vocabulary: Vocabulary) -> str:
    if rule.field not in TRACKING_FIELDS:
        return "Choose opened, clicked or did not open."
    if rule.op != ANY or rule.value not in TRACKING_SCOPES:
        return "Choose which campaigns: one campaign, those sent in the last N days, or the " \
               "last N campaigns."
    if rule.value == ONE_CAMPAIGN:
        if not rule.param:
            return "Choose a campaign."
        if rule.param not in vocabulary.campaigns:
            return "That campaign is not in ccadmin's copy of the account: choose another."
        return ""
    if rule.value == LAST_N_DAYS and parse_count(rule.param, MAX_DAYS) is None:
        return f"Enter a number of days from 1 to {MAX_DAYS:,} (Constant Contact looks back " \
               "at most five years)."
    if rule.value == LAST_N_CAMPAIGNS and parse_count(rule.param, MAX_CAMPAIGNS) is None:
        return f"Enter a number of campaigns from 1 to {MAX_CAMPAIGNS}, the most Constant " \
               "Contact evaluates."
    return ""


def _contact_problem(rule: Rule, vocabulary: Vocabulary) -> str:
    if rule.field == CUSTOM_FIELD and rule.param not in vocabulary.custom_fields:
        return "That custom field no longer exists in the account: choose another field."
    kind = contact_rule_kind(rule, vocabulary)
    if kind is None:
        return "Choose a contact field."
    ops = OPS[kind]
    if rule.op not in ops:
        allowed = ", ".join(f"“{text}”" for text in ops.values())
        return f"For this field, choose one of {allowed}."
    if rule.op in NO_VALUE_OPS:
        return ""
    value = rule.value
    if not value:
        return "Enter a value."
    if len(value) > MAX_TEXT:
        return f"Enter at most {MAX_TEXT} characters."
    if rule.op == "last-n-days":
        if parse_count(value, MAX_DAYS) is None:
            return f"Enter a number of days from 1 to {MAX_DAYS:,}."
    elif kind == Kind.NUMBER and parse_number(value) is None:
        return "Enter a number, such as 42 or 9.5."
    elif kind == Kind.DATE and (not _DAY.match(value) or parse_day(value) is None):
        return "Enter a date as YYYY-MM-DD, such as 2025-05-03."
    elif kind == Kind.PERMISSION and value not in PERMISSIONS:
        return "Choose one of Constant Contact's email permissions."
    return ""


# --- In words -----------------------------------------------------------------------

def criteria_phrases(criteria: Criteria, vocabulary: Vocabulary) -> list[str]:
    """One phrase per top-level rule or group, each reading after “Contacts …”; they
    all hold at once (the top level is an AND). [] means every contact."""
    return [_phrase(item, vocabulary) for item in criteria.root.items]


def criteria_sentence(criteria: Criteria, vocabulary: Vocabulary) -> str:
    """The whole criteria as one sentence, for a table cell."""
    phrases = criteria_phrases(criteria, vocabulary)
    if not phrases:
        return "Every contact"
    joiner = " and " if criteria.root.type == AND else " or "
    text = joiner.join(phrases)
    return f"Contacts {text}"


def _phrase(item: Rule | Group, vocabulary: Vocabulary) -> str:
    if isinstance(item, Group):
        parts = [_phrase(inner, vocabulary) for inner in item.items]
        if not parts:
            return "(an empty group)"
        if len(parts) == 1:
            return parts[0]
        text = (" or " if item.type == OR else " and ").join(parts)
        return f"({text})"
    return rule_phrase(item, vocabulary)


def _quoted(names: list[str], joiner: str) -> str:
    quoted = [f"“{name}”" for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {joiner} {quoted[-1]}"


def rule_phrase(rule: Rule, vocabulary: Vocabulary) -> str:
    """One rule in words, e.g. "on the list “VIP”", "whose first name is “Ava”"."""
    if rule.source == LISTS:
        names = [vocabulary.lists.get(i, f"deleted list {i}") for i in rule.ids]
        return (f"on the list {_quoted(names, 'or')}" if len(names) == 1
                else f"on any of the lists {_quoted(names, 'or')}")
    if rule.source == TAGS:
        names = [vocabulary.tags.get(i, f"deleted tag {i}") for i in rule.ids]
        return (f"tagged {_quoted(names, 'or')}" if len(names) == 1
                else f"tagged with any of {_quoted(names, 'or')}")
    if rule.source == TRACKING:
        return _tracking_phrase(rule, vocabulary)
    return _contact_phrase(rule, vocabulary)


# Negative tracking rules: (one campaign, several campaigns).
_NEGATED = {"not_opened": ("did not open it", "opened none of them"),
            "not_clicked": ("did not click a link in it", "clicked a link in none of them")}


def _tracking_phrase(rule: Rule, vocabulary: Vocabulary) -> str:
    verb, _, negated = TRACKING_FIELDS.get(rule.field, (rule.field or "?", "", False))
    if rule.value == ONE_CAMPAIGN:
        name = vocabulary.campaigns.get(rule.param, f"campaign {rule.param}")
        if negated:
            return f"who were sent the campaign “{name}” but {_NEGATED[rule.field][0]}"
        return f"who {verb} the campaign “{name}”"
    if rule.value == LAST_N_DAYS:
        days = parse_count(rule.param, MAX_DAYS)
        span = f"{days:,} day{'s' if days != 1 else ''}" if days else f"{rule.param} days"
        if negated:
            return f"who were sent a campaign in the last {span} but {_NEGATED[rule.field][1]}"
        return f"who {verb} any campaign sent in the last {span}"
    count = parse_count(rule.param, MAX_CAMPAIGNS)
    which = "the last campaign" if count == 1 else f"any of the last {count or rule.param} " \
        "campaigns"
    if negated:
        return f"who were sent {which} but {_NEGATED[rule.field][1 if count != 1 else 0]}"
    return f"who {verb} {which}"


def _contact_phrase(rule: Rule, vocabulary: Vocabulary) -> str:
    if rule.field == CUSTOM_FIELD:
        label = vocabulary.custom_fields.get(rule.param, (f"deleted field {rule.param}", ""))[0]
    else:
        label = CONTACT_FIELDS.get(rule.field, (rule.field or "?", Kind.TEXT))[0]
    kind = contact_rule_kind(rule, vocabulary) or Kind.TEXT
    op = OPS[kind].get(rule.op, rule.op)
    if rule.op in NO_VALUE_OPS:
        return f"whose {label} {op}"
    return f"whose {label} {op} {value_in_words(rule, kind)}"


def value_in_words(rule: Rule, kind: Kind) -> str:
    value = rule.value
    if rule.op == "last-n-days":
        days = parse_count(value, MAX_DAYS)
        return f"{days:,} day{'s' if days != 1 else ''}" if days else f"{value} days"
    if kind == Kind.NUMBER:
        number = parse_number(value)
        return f"{number:,}" if number is not None else f"“{value}”"
    if kind == Kind.DATE:
        day = parse_day(value)
        return f"{day.day} {day:%b %Y}" if day else f"“{value}”"
    if kind == Kind.PERMISSION:
        return PERMISSIONS.get(value, f"“{value}”")
    return f"“{value}”"
