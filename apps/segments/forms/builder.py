"""The criteria builder: Constant Contact's segment rules as a server-rendered form.

Its shape follows the grammar (apps/mirror/criteria.py): the top level is an AND
of groups, as Constant Contact requires; each group matches all or any of its
rules; a group of one rule is written as that rule. Criteria nested deeper than
that (made with the JSON, or in Constant Contact) are shown in words and edited
as JSON.

It works without JavaScript: adding or removing a rule or a group, changing what
a rule looks at, and previewing the count are submit buttons named `builder`
(`add-rule:0`, `remove-rule:0:1`, ...) that re-render the form without saving;
with htmx, only the builder is swapped. Field names are `g<i>-type` and
`g<i>-r<j>-<part>`, with `groups` and `g<i>-rules` saying how many there are.

The JSON behind the rules is shown for experts and may be edited there: when the
posted JSON differs from what was shown (`criteria_json_shown`), it is read
instead of the rows, and checked the same way (`criteria_problems`).
"""

from dataclasses import dataclass, field as dataclass_field

from apps.mirror.criteria import (
    AND,
    ANY,
    CONTACT,
    CONTACT_FIELDS,
    CUSTOM_FIELD,
    LAST_N_CAMPAIGNS,
    LAST_N_DAYS,
    LISTS,
    NO_VALUE_OPS,
    ONE_CAMPAIGN,
    OPS,
    OR,
    PERMISSIONS,
    TAGS,
    TRACKING,
    Criteria,
    CriteriaError,
    Group,
    Kind,
    Problem,
    Rule,
    Vocabulary,
    contact_rule_kind,
    criteria_loads,
    criteria_phrases,
    criteria_pretty,
    criteria_problems,
)

# Enough for any segment a person builds by hand; a bound on what a POST may ask for.
MAX_GROUPS = 20
MAX_RULES = 20

# What the builder offers for engagement (the spec's tracking fields people use).
TRACKING_CHOICES = (
    ("opened", "Opened"),
    ("clicked", "Clicked a link in"),
    ("not_opened", "Did not open"),
    ("not_clicked", "Did not click a link in"),
)
SCOPE_CHOICES = (
    (LAST_N_DAYS, "Any sent in the last N days"),
    (ONE_CAMPAIGN, "One campaign"),
    (LAST_N_CAMPAIGNS, "Any of the last N campaigns"),
)
GROUP_TYPES = ((AND, "all of these rules"), (OR, "any of these rules"))


@dataclass
class RuleRow:
    """One rule as the form holds it. `field` says what it looks at:
    "contact:<property>", "custom:<custom field id>", "lists", "tags" or
    "tracking:<opened|clicked|...>"."""

    field: str = "contact:email_address"
    op: str = "contains"
    value: str = ""
    ids: list[str] = dataclass_field(default_factory=list)
    scope: str = LAST_N_DAYS
    campaign: str = ""
    count: str = "30"
    error: str = ""

    @property
    def source(self) -> str:
        head = self.field.partition(":")[0]
        return {"contact": CONTACT, "custom": CONTACT, "lists": LISTS, "tags": TAGS,
                "tracking": TRACKING}.get(head, "")


@dataclass
class GroupRow:
    type: str = AND
    rules: list[RuleRow] = dataclass_field(default_factory=list)
    error: str = ""


def row_to_rule(row: RuleRow) -> Rule | None:
    head, _, name = row.field.partition(":")
    if head in ("contact", "custom"):
        value = "" if row.op in NO_VALUE_OPS else row.value.strip()
        if head == "custom":
            return Rule(source=CONTACT, field=CUSTOM_FIELD, op=row.op, value=value, param=name)
        return Rule(source=CONTACT, field=name, op=row.op, value=value)
    if row.field == "lists":
        return Rule(source=LISTS, field="list_id", op=ANY, ids=tuple(row.ids))
    if row.field == "tags":
        return Rule(source=TAGS, field="tag_id", op=ANY, ids=tuple(row.ids))
    if head == "tracking":
        param = row.campaign if row.scope == ONE_CAMPAIGN else row.count.strip()
        return Rule(source=TRACKING, field=name, op=ANY, value=row.scope, param=param)
    return None


def rule_to_row(rule: Rule) -> RuleRow | None:
    """The row showing `rule`, or None when the builder can't show it."""
    if rule.source == CONTACT:
        if rule.field == CUSTOM_FIELD:
            return RuleRow(field=f"custom:{rule.param}", op=rule.op, value=rule.value)
        if rule.field in CONTACT_FIELDS:
            return RuleRow(field=f"contact:{rule.field}", op=rule.op, value=rule.value)
        return None
    if rule.source in (LISTS, TAGS):
        if rule.op != ANY:
            return None
        return RuleRow(field="lists" if rule.source == LISTS else "tags", op=ANY,
                       ids=list(rule.ids))
    if rule.source == TRACKING:
        if rule.field not in dict(TRACKING_CHOICES) or rule.value not in dict(SCOPE_CHOICES):
            return None
        row = RuleRow(field=f"tracking:{rule.field}", op=ANY, scope=rule.value)
        if rule.value == ONE_CAMPAIGN:
            row.campaign = rule.param
        else:
            row.count = rule.param
        return row
    return None


def groups_from_criteria(criteria: Criteria) -> list[GroupRow] | None:
    """The builder's groups for `criteria`, or None when they nest deeper than it shows."""
    groups = []
    for item in criteria.root.items:
        if isinstance(item, Rule):
            row = rule_to_row(item)
            if row is None:
                return None
            groups.append(GroupRow(type=AND, rules=[row]))
            continue
        rows = []
        for inner in item.items:
            row = rule_to_row(inner) if isinstance(inner, Rule) else None
            if row is None:
                return None
            rows.append(row)
        groups.append(GroupRow(type=item.type, rules=rows))
    return groups


def where(path: tuple[int, ...]) -> str:
    """A problem's place in the JSON, for people: "Item 2, rule 1"."""
    if not path:
        return ""
    parts = [f"Item {path[0] + 1}"] + [f"rule {index + 1}" for index in path[1:]]
    return ", ".join(parts) + ": "


class CriteriaBuilder:
    """The builder's state for one request: its groups, or the JSON an expert
    typed, and what is wrong with them."""

    def __init__(self, *, vocabulary: Vocabulary, groups: list[GroupRow] | None = None,
                 json_text: str = "", json_edited: bool = False):
        self.vocabulary = vocabulary
        self.groups = groups if groups is not None else []
        # None: the criteria nest deeper than the builder shows; they live in the JSON.
        self.json_only = groups is None
        self.json_text = json_text
        self.json_edited = json_edited
        self.errors: list[str] = []  # about the whole criteria
        self.json_errors: list[str] = []
        self.criteria: Criteria | None = None  # set by clean(), when all is well

    # --- Making one -------------------------------------------------------------
    @classmethod
    def blank(cls, vocabulary: Vocabulary) -> "CriteriaBuilder":
        first = RuleRow(field="lists", op=ANY) if vocabulary.lists else RuleRow()
        builder = cls(vocabulary=vocabulary, groups=[GroupRow(type=AND, rules=[first])])
        builder.json_text = builder.rows_json()
        return builder

    @classmethod
    def from_criteria(cls, criteria: Criteria | None, vocabulary: Vocabulary,
                      raw_text: str = "") -> "CriteriaBuilder":
        if criteria is None:
            # Unreadable upstream criteria: show them as Constant Contact sent them.
            return cls(vocabulary=vocabulary, groups=None, json_text=raw_text)
        groups = groups_from_criteria(criteria)
        return cls(vocabulary=vocabulary, groups=groups, json_text=criteria_pretty(criteria))

    @classmethod
    def from_post(cls, data, vocabulary: Vocabulary) -> "CriteriaBuilder":
        json_text = (data.get("criteria_json") or "").replace("\r\n", "\n")
        shown = (data.get("criteria_json_shown") or "").replace("\r\n", "\n")
        edited = json_text.strip() != shown.strip()
        if data.get("editor") == "json":
            return cls(vocabulary=vocabulary, groups=None, json_text=json_text,
                       json_edited=edited)
        groups = []
        for i in range(_bounded(data.get("groups"), MAX_GROUPS)):
            rules = []
            for j in range(_bounded(data.get(f"g{i}-rules"), MAX_RULES)):
                prefix = f"g{i}-r{j}-"
                rules.append(RuleRow(
                    field=data.get(f"{prefix}field") or "",
                    op=data.get(f"{prefix}op") or "",
                    value=data.get(f"{prefix}value") or "",
                    ids=[v for v in data.getlist(f"{prefix}ids") if v],
                    scope=data.get(f"{prefix}scope") or LAST_N_DAYS,
                    campaign=data.get(f"{prefix}campaign") or "",
                    count=data.get(f"{prefix}count") or "",
                ))
            group_type = data.get(f"g{i}-type")
            groups.append(GroupRow(type=group_type if group_type in (AND, OR) else AND,
                                   rules=rules))
        return cls(vocabulary=vocabulary, groups=groups, json_text=json_text, json_edited=edited)

    # --- Changing it without saving -------------------------------------------------
    def apply(self, action: str) -> None:
        """Carry out a builder button: add-group, add-rule:<g>, remove-rule:<g>:<r>,
        remove-group:<g>, load-json, or refresh/preview (re-render only)."""
        if self.json_edited or action == "load-json":
            self.load_json()
            return
        if self.json_only:
            return
        verb, *args = action.split(":")
        try:
            indexes = [int(a) for a in args]
        except ValueError:
            return
        # A button names rows by position; a forged or stale one (negative, past the
        # end) names no row and changes nothing. Negative indexes must not count from
        # the end, as Python's would.
        group = self.groups[indexes[0]] if indexes and 0 <= indexes[0] < len(self.groups) \
            else None
        if verb == "add-group" and len(self.groups) < MAX_GROUPS:
            self.groups.append(GroupRow(type=AND, rules=[RuleRow()]))
        elif verb == "add-rule" and len(indexes) == 1 and group is not None:
            if len(group.rules) < MAX_RULES:
                group.rules.append(RuleRow())
        elif verb == "remove-rule" and len(indexes) == 2 and group is not None:
            if 0 <= indexes[1] < len(group.rules):
                group.rules.pop(indexes[1])
            if not group.rules:
                self.groups.pop(indexes[0])
        elif verb == "remove-group" and len(indexes) == 1 and group is not None:
            self.groups.pop(indexes[0])

    def load_json(self) -> None:
        """Read the JSON the member typed into the rows (or keep it as JSON when the
        builder can't show it)."""
        try:
            criteria = criteria_loads(self.json_text)
        except CriteriaError as exc:
            self.json_errors = [str(exc)]
            return
        groups = groups_from_criteria(criteria)
        self.json_only = groups is None
        self.groups = groups or []
        self.json_edited = False
        self.json_text = criteria_pretty(criteria)

    # --- Checking ----------------------------------------------------------------
    def clean(self, *, quiet: bool = False) -> Criteria | None:
        """The criteria, when every rule is complete and Constant Contact would take
        them; None otherwise, with each problem on its row, group or the form
        (unless `quiet`: a rule just added is not yet an error)."""
        if self.json_only or self.json_edited:
            return self._clean_json(quiet=quiet)
        rules_ok = True
        items: list[Rule | Group] = []
        for group in self.groups:
            rules = []
            for row in group.rules:
                rule = row_to_rule(row)
                if rule is None:
                    if not quiet:
                        row.error = "Choose what this rule looks at."
                    rules_ok = False
                else:
                    rules.append(rule)
            if len(rules) == 1:
                items.append(rules[0])
            else:
                items.append(Group(type=group.type, items=tuple(rules)))
        criteria = Criteria(root=Group(type=AND, items=tuple(items)))
        self.json_text = criteria_pretty(criteria)
        if not rules_ok:
            return None
        problems = criteria_problems(criteria, self.vocabulary)
        if problems:
            if not quiet:
                for problem in problems:
                    self._place(problem)
            return None
        self.criteria = criteria
        return criteria

    def _clean_json(self, *, quiet: bool) -> Criteria | None:
        try:
            criteria = criteria_loads(self.json_text)
        except CriteriaError as exc:
            self.json_errors = [str(exc)]
            return None
        problems = criteria_problems(criteria, self.vocabulary)
        if problems:
            if not quiet:
                self.json_errors = [f"{where(p.path)}{p.message}" for p in problems]
            return None
        self.criteria = criteria
        return criteria

    def _place(self, problem: Problem) -> None:
        path = problem.path
        if not path or path[0] >= len(self.groups):
            self.errors.append(problem.message)
            return
        group = self.groups[path[0]]
        if len(path) == 1:
            if len(group.rules) == 1:
                group.rules[0].error = problem.message
            else:
                group.error = problem.message
        elif path[1] < len(group.rules):
            group.rules[path[1]].error = problem.message

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.json_errors or any(
            group.error or any(row.error for row in group.rules) for group in self.groups))

    # --- Showing it ----------------------------------------------------------------
    def rows_json(self) -> str:
        rules = []
        for group in self.groups:
            converted = [rule for rule in map(row_to_rule, group.rules) if rule is not None]
            rules.append(converted[0] if len(converted) == 1
                         else Group(type=group.type, items=tuple(converted)))
        return criteria_pretty(Criteria(root=Group(type=AND, items=tuple(rules))))

    def json_phrases(self) -> list[str]:
        """The JSON's rules in words, when the builder can't show them as rows."""
        try:
            criteria = criteria_loads(self.json_text)
        except CriteriaError:
            return []
        return criteria_phrases(criteria, self.vocabulary)

    def field_options(self, selected: str) -> list[tuple[str, list[tuple[str, str, bool]]]]:
        vocabulary = self.vocabulary
        contact = [(f"contact:{name}", label.capitalize(), f"contact:{name}" == selected)
                   for name, (label, _) in CONTACT_FIELDS.items()]
        custom = sorted(((f"custom:{cc_id}", label, f"custom:{cc_id}" == selected)
                         for cc_id, (label, _) in vocabulary.custom_fields.items()),
                        key=lambda option: option[1].lower())
        membership = [("lists", "Is on a list", selected == "lists"),
                      ("tags", "Has a tag", selected == "tags")]
        tracking = [(f"tracking:{name}", label, f"tracking:{name}" == selected)
                    for name, label in TRACKING_CHOICES]
        options = [("Lists and tags", membership), ("Contact details", contact)]
        if custom:
            options.append(("Custom fields", custom))
        options.append(("Email engagement", tracking))
        known = {value for _, group in options for value, _, _ in group}
        if selected and selected not in known:
            # A custom field deleted since: keep it visible so the error makes sense.
            options.append(("No longer in the account", [(selected, "A deleted field", True)]))
        return options

    def render_groups(self) -> list[dict]:
        return [{
            "index": i, "type": group.type, "error": group.error,
            "type_options": [(value, label, value == group.type) for value, label in GROUP_TYPES],
            "rules": [self._render_row(i, j, row) for j, row in enumerate(group.rules)],
            "can_add_rule": len(group.rules) < MAX_RULES,
        } for i, group in enumerate(self.groups)]

    def _render_row(self, i: int, j: int, row: RuleRow) -> dict:
        context = {
            "index": j, "prefix": f"g{i}-r{j}-", "error": row.error, "source": row.source,
            "field_options": self.field_options(row.field), "remove": f"remove-rule:{i}:{j}",
        }
        if row.field in ("lists", "tags"):
            names = self.vocabulary.lists if row.field == "lists" else self.vocabulary.tags
            chosen = set(row.ids)
            choices = sorted(names.items(), key=lambda item: item[1].lower())
            choices += [(cc_id, f"Deleted ({cc_id})") for cc_id in row.ids if cc_id not in names]
            context["id_options"] = [(cc_id, name, cc_id in chosen) for cc_id, name in choices]
            context["what"] = "lists" if row.field == "lists" else "tags"
        elif row.source == TRACKING:
            context["scope_options"] = [(v, label, v == row.scope) for v, label in SCOPE_CHOICES]
            context["scope"] = row.scope
            context["campaign_options"] = [
                (cc_id, name, cc_id == row.campaign)
                for cc_id, name in sorted(self.vocabulary.campaigns.items(),
                                          key=lambda item: item[1].lower())
            ]
            context["count"] = row.count
        elif row.source == CONTACT:
            rule = row_to_rule(row)
            kind = contact_rule_kind(rule, self.vocabulary) or Kind.TEXT
            ops = OPS[kind]
            op = row.op if row.op in ops else next(iter(ops))
            row.op = op
            context.update({
                "op_options": [(value, label, value == op) for value, label in ops.items()],
                "needs_value": op not in NO_VALUE_OPS,
                "value": row.value,
                "kind": "days" if op == "last-n-days" else kind.value,
                "permission_options": [(value, label.capitalize(), value == row.value)
                                       for value, label in PERMISSIONS.items()],
            })
        return context


def _bounded(value, highest: int) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        return 0
    return max(0, min(number, highest))
