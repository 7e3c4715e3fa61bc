"""Reading an uploaded contacts file and checking every row, with no API call.

    table = read_table(data, filename="leads.csv")        # FileProblem if it can't be read
    columns = auto_mapping(table.header, fields)          # ["email", "first_name", "", ...]
    report = validate_rows(table, mapping, fields)        # every row checked, in memory

`read_table` finds the encoding (a BOM, strict UTF-8, else charset-normalizer's
best guess; a file that mixes UTF-8 with another encoding is refused, since no
single reading of it is right), the delimiter (comma, semicolon, tab or pipe:
the one that splits the first lines into the same number of cells), and
whether the first row names the columns. A workbook, a PDF, an empty file or
one without a second column or an email address is refused with a sentence
saying what to do instead.

`validate_rows` applies Constant Contact's import rules (contract §3.6 and the
spec's JsonImportContact limits): an email address on every row, at most 50
characters; names, job title, company, city, state, postal code and country at
most 50; streets 255; birthday month and day together and real; an anniversary
in one of the formats Constant Contact accepts; custom-field values of the
field's type, at most 255 characters, at most 25 per contact; and an address
only once per file (later copies are reported, not sent). It keeps each valid
row's values under Constant Contact's import column names (`email`,
`first_name`, `cf:<name>`, ...), ready to be written into the files the import
sends. It is the hot loop of the dry run: bench/import.py measures its rate.
"""

import calendar
from collections.abc import Callable, Sequence
import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
import io
import re

from charset_normalizer import from_bytes

# The standard columns a row can fill, with Constant Contact's import column name
# (contract §3.6, contacts_file_import) as the key. "birthday" is ours: a date
# whose month and day fill birthday_month and birthday_day.
STANDARD_FIELDS: tuple[tuple[str, str], ...] = (
    ("email", "Email address"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("phone", "Phone"),
    ("company_name", "Company"),
    ("job_title", "Job title"),
    ("street", "Street"),
    ("street2", "Street, second line"),
    ("city", "City"),
    ("state", "State or province"),
    ("zip", "Postal code"),
    ("country", "Country"),
    ("birthday", "Birthday (a date; month and day are kept)"),
    ("birthday_month", "Birthday month"),
    ("birthday_day", "Birthday day"),
    ("anniversary", "Anniversary"),
)
STANDARD_LABELS = dict(STANDARD_FIELDS)
# Header spellings each column is recognised by, compared squeezed (lower case,
# letters and digits only).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "e-mail", "mail", "emailaddr", "email1"),
    "first_name": ("firstname", "first", "givenname", "forename", "fname"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cell",
              "cellphone", "workphone", "homephone"),
    "company_name": ("company", "companyname", "organization", "organisation", "employer",
                     "business"),
    "job_title": ("jobtitle", "title", "position", "job"),
    "street": ("street", "streetaddress", "address", "address1", "addressline1", "street1"),
    "street2": ("street2", "address2", "addressline2"),
    "city": ("city", "town"),
    "state": ("state", "province", "region", "stateprovince", "county"),
    "zip": ("zip", "zipcode", "postcode", "postalcode"),
    "country": ("country", "countryname"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "dob"),
    "birthday_month": ("birthdaymonth", "birthmonth"),
    "birthday_day": ("birthdayday", "birthday_day", "birthdayofmonth"),
    "anniversary": ("anniversary", "anniversarydate"),
}
_BY_SYNONYM = {_syn: key for key, syns in SYNONYMS.items() for _syn in syns}

# Constant Contact's limits on an imported contact (spec JsonImportContact; contract §3.6).
MAX_EMAIL = 50
MAX_LENGTHS = {"first_name": 50, "last_name": 50, "job_title": 50, "company_name": 50,
               "phone": 50, "street": 255, "street2": 255, "city": 50, "state": 50, "zip": 50,
               "country": 50}
MAX_CUSTOM_VALUE = 255
MAX_CUSTOM_FIELDS_PER_CONTACT = 25
EXTENSIONS = (".csv", ".tsv", ".txt")
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
# How much of the file the delimiter and header guesses look at.
SNIFF_LINES = 20

# An address with one @, no spaces, and a dot in the domain: what Constant
# Contact's import takes (a stricter check would refuse real addresses).
EMAIL_RE = re.compile(r"^[^@\s,;<>\"()\[\]]+@[^@\s,;<>\"()\[\]]+\.[^@\s,;<>\"()\[\].]+$")
_SQUEEZE = re.compile(r"[^a-z0-9]+")
# The anniversary formats Constant Contact accepts (contract §2.2).
_ANNIVERSARY = (
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), "mdy"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), "mdy"),
)
_MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
_DAY_MONTH = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?$")
_MONTH_DAY = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+\d{4})?$")
_SHORT_MD = re.compile(r"^(\d{1,2})/(\d{1,2})$")
# Valid UTF-8 sequences of two bytes or more: in a file that is not valid UTF-8
# as a whole, they mean two encodings were mixed (a UTF-8 export pasted into a
# Windows-1252 one, say).
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                             rb"|[\xf0-\xf4][\x80-\xbf]{3}")


class FileProblem(Exception):
    """The file can't be imported as it is; the message says why and what to do."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def squeeze(text: str) -> str:
    return _SQUEEZE.sub("", text.lower())


# --- Reading the file ----------------------------------------------------------------

@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # the line in the file each row starts on
    encoding: str
    delimiter: str
    has_header: bool

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    def samples(self, column: int, count: int = 3) -> list[str]:
        values = []
        for row in self.rows:
            if column < len(row) and row[column].strip():
                values.append(row[column].strip())
                if len(values) == count:
                    break
        return values


def _refuse_non_text(data: bytes, filename: str) -> None:
    name = filename.lower()
    if data.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xls", ".ods", ".numbers")):
        raise FileProblem("This is a spreadsheet workbook, not a CSV file. Open it in your "
                          "spreadsheet program and save it as “CSV UTF-8”, then upload that.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem("This is an old Excel (.xls) workbook, not a CSV file. Save it as "
                          "“CSV UTF-8” and upload that.")
    if data.startswith(b"%PDF"):
        raise FileProblem("This is a PDF, not a CSV file. Export the contacts from where they "
                          "live as CSV and upload that.")
    if not name.endswith(EXTENSIONS):
        raise FileProblem("Upload a .csv or .tsv file (comma- or tab-separated text). Other "
                          "file types can't be read as contacts.")


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding. Raises FileProblem."""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, data = "utf-8-sig", data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FileProblem("The file starts like UTF-16 text but isn't: save it again as "
                              "“CSV UTF-8”.")
    else:
        encoding = "utf-8"
    if b"\x00" in data[:8192]:
        raise FileProblem("This is not a text file (it holds binary data). Save the contacts "
                          "as “CSV UTF-8” and upload that.")
    try:
        return data.decode("utf-8"), encoding
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    if _UTF8_MULTIBYTE.search(data):
        line = data.count(b"\n", 0, bad_at) + 1
        raise FileProblem(
            f"The file mixes text encodings: most of it is UTF-8, but line {line:,} is not. "
            "Open it in your spreadsheet program and save it again as “CSV UTF-8”, so every "
            "name comes through right."
        )
    best = from_bytes(data).best()
    if best is None or not best.encoding:
        raise FileProblem("The file's text encoding could not be recognised. Save it as "
                          "“CSV UTF-8” and upload that.")
    return str(best), best.encoding


def _cells(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (StopIteration, csv.Error):
        return []


def sniff_delimiter(text: str, filename: str) -> str:
    """The delimiter that splits the first lines into the same number of cells
    (more than one); a tab for .tsv files when it does. Raises FileProblem."""
    lines = [line for line in text.splitlines()[: SNIFF_LINES * 2] if line.strip()]
    lines = lines[:SNIFF_LINES]
    order = ("\t",) + DELIMITERS if filename.lower().endswith(".tsv") else DELIMITERS
    best, best_score = "", (0, 0)
    for delimiter in order:
        counts = [len(_cells(line, delimiter)) for line in lines]
        if not counts or max(counts) < 2:
            continue
        typical = max(set(counts), key=counts.count)
        score = (counts.count(typical), typical)  # the most lines alike, then the most cells
        if typical >= 2 and score > best_score:
            best, best_score = delimiter, score
    if best:
        return best
    # One column: fine when it is a column of addresses.
    if lines and any("@" in line for line in lines[:3]):
        return ","
    raise FileProblem("This doesn't look like a CSV file: no line splits into columns with "
                      "commas, semicolons or tabs, and none holds an email address.")


def _looks_like_header(first: list[str], second: list[str] | None) -> bool:
    if any("@" in cell for cell in first):
        return False
    if any(squeeze(cell) in _BY_SYNONYM or cell.strip().lower().startswith("cf:")
           for cell in first):
        return True
    # Labels over data: the second row holds an address where the first doesn't.
    return bool(second) and any("@" in cell for cell in second)


def read_table(data: bytes, *, filename: str, has_header: bool | None = None) -> Table:
    """The file as rows of cells. Raises FileProblem for anything that isn't a
    readable CSV file of contacts."""
    if not data.strip():
        raise FileProblem("The file is empty. Choose the file that holds the contacts.")
    _refuse_non_text(data, filename)
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text, filename)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    line = 1
    try:
        for cells in reader:
            # Blank lines and rows of empty cells (",,,", common at a sheet's end) go.
            if "".join(cells).strip():
                rows.append(cells)
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise FileProblem(f"Line {line:,} can't be read as CSV ({exc}). Check its quotes.")
    if not rows:
        raise FileProblem("The file is empty: it holds no rows. Choose the file that holds "
                          "the contacts.")
    if has_header is None:
        has_header = _looks_like_header(rows[0], rows[1] if len(rows) > 1 else None)
    width = max(len(row) for row in rows[:200])
    if has_header:
        header = [cell.strip() for cell in rows[0]]
        rows, lines = rows[1:], lines[1:]
    else:
        header = []
    header += [""] * (width - len(header))
    header = [name or f"Column {i}" for i, name in enumerate(header, start=1)]
    return Table(header=header, rows=rows, lines=lines, encoding=encoding,
                 delimiter=delimiter, has_header=has_header)


# --- Mapping columns -----------------------------------------------------------------

@dataclass(frozen=True)
class FieldSpec:
    """A custom field as the import sees it."""

    key: str  # "cf:<Constant Contact id>": what a mapping names
    label: str
    name: str  # Constant Contact's name for it: the import column is "cf:<name>"
    type: str
    choices: tuple[str, ...] = ()

    @property
    def column(self) -> str:
        return f"cf:{self.name}"


def custom_field_key(cc_id: str) -> str:
    return f"cf:{cc_id}"


def auto_mapping(header: Sequence[str], fields: Sequence[FieldSpec]) -> list[str]:
    """A target per column ("" to skip it): standard fields by their usual names,
    custom fields by label or name (with or without "cf:"). Each target once."""
    by_name: dict[str, str] = {}
    for spec in fields:
        by_name.setdefault(squeeze(spec.label), spec.key)
        by_name.setdefault(squeeze(spec.name), spec.key)
    taken: set[str] = set()
    mapping = []
    for column in header:
        text = column.strip()
        if text.lower().startswith("cf:"):
            text = text[3:]
            target = by_name.get(squeeze(text), "")
        else:
            target = _BY_SYNONYM.get(squeeze(text)) or by_name.get(squeeze(text), "")
        if target in taken:
            target = ""
        if target:
            taken.add(target)
        mapping.append(target)
    return mapping


# --- Checking rows -----------------------------------------------------------------

@dataclass
class RowProblem:
    line: int
    email: str
    message: str


@dataclass
class ValidationReport:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    columns: list[str] = field(default_factory=list)  # Constant Contact's names, in order
    # (line, email, data or None, status, message) for every row, in file order.
    results: list[tuple[int, str, dict | None, str, str]] = field(default_factory=list)

    @property
    def problems(self) -> list[RowProblem]:
        return [RowProblem(line, email, message)
                for line, email, data, status, message in self.results if data is None]


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _anniversary(value: str) -> str | None:
    """The value if Constant Contact takes it as an anniversary, else None."""
    if len(value) > 10:
        return None
    for pattern, order in _ANNIVERSARY:
        match = pattern.match(value)
        if match:
            a, b, c = (int(g) for g in match.groups())
            year, month, day = (a, b, c) if order == "ymd" else (c, a, b)
            return value if _real_date(year, month, day) else None
    return None


def _small_number(text: str) -> int | None:
    """A cell of a few ASCII digits as a number. Not str.isdigit(): "²" is a
    digit to it but not to int(), and a file is anyone's input."""
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 4 else None


def _month(value: str) -> int | None:
    text = value.strip().lower().rstrip(".")
    number = _small_number(text)
    if number is not None:
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(text)


def _month_day(value: str) -> tuple[int, int] | None:
    """(month, day) of a birthday written as a date, or None."""
    text = value.strip().lower()
    for pattern, order in _ANNIVERSARY:
        match = pattern.match(text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            year, month, day = (a, b, c) if order == "ymd" else (c, a, b)
            return (month, day) if _real_date(year, month, day) else None
    match = _SHORT_MD.match(text)
    if match:
        month, day = int(match.group(1)), int(match.group(2))
    elif match := _MONTH_DAY.match(text):
        month, day = _MONTHS.get(match.group(1)), int(match.group(2))
    elif match := _DAY_MONTH.match(text):
        month, day = _MONTHS.get(match.group(2)), int(match.group(1))
    else:
        return None
    # 2000 is a leap year: 29 February is a birthday.
    return (month, day) if month and _real_date(2000, month, day) else None


def _iso_date(value: str) -> str | None:
    found = _month_day(value)
    if found is None:
        return None
    for pattern, order in _ANNIVERSARY:
        match = pattern.match(value.strip())
        if match:
            a, b, c = (int(g) for g in match.groups())
            year, month, day = (a, b, c) if order == "ymd" else (c, a, b)
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _custom_check(spec: FieldSpec) -> Callable[[str], tuple[str | None, str]]:
    """A function value -> (the value to send or None, why not)."""
    label = spec.label
    kind = spec.type

    def length_ok(value: str) -> tuple[str | None, str]:
        if len(value) > MAX_CUSTOM_VALUE:
            return None, f"{label} is longer than {MAX_CUSTOM_VALUE} characters"
        return value, ""

    if kind in ("number", "currency"):
        def check(value: str) -> tuple[str | None, str]:
            try:
                number = Decimal(value.replace(",", "") if kind == "currency" else value)
            except InvalidOperation:
                return None, f"{label} must be a number, not “{value[:40]}”"
            if not number.is_finite():
                return None, f"{label} must be a number, not “{value[:40]}”"
            return length_ok(value)
        return check
    if kind == "boolean":
        def check(value: str) -> tuple[str | None, str]:
            lower = value.lower()
            if lower in _TRUE:
                return "true", ""
            if lower in _FALSE:
                return "false", ""
            return None, f"{label} must be yes or no, not “{value[:40]}”"
        return check
    if kind == "date":
        def check(value: str) -> tuple[str | None, str]:
            iso = _iso_date(value)
            if iso is None:
                return None, (f"{label} must be a date (YYYY-MM-DD or MM/DD/YYYY), "
                              f"not “{value[:40]}”")
            return iso, ""
        return check
    if kind == "datetime":
        def check(value: str) -> tuple[str | None, str]:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                if _iso_date(value) is None:
                    return None, (f"{label} must be a date and time (YYYY-MM-DDTHH:MM), "
                                  f"not “{value[:40]}”")
            return length_ok(value)
        return check
    if kind in ("single_select", "multi_select") and spec.choices:
        choices = {choice.lower(): choice for choice in spec.choices}

        def check(value: str) -> tuple[str | None, str]:
            parts = [value] if kind == "single_select" else [
                p.strip() for p in re.split(r"[;,]", value) if p.strip()]
            picked = []
            for part in parts:
                choice = choices.get(part.lower())
                if choice is None:
                    return None, f"{label} has no choice “{part[:40]}”"
                picked.append(choice)
            return length_ok(",".join(picked))
        return check
    return length_ok


def cc_columns(mapping: Sequence[str], fields: Sequence[FieldSpec]) -> list[str]:
    """The import file's header for this mapping (Constant Contact's column names)."""
    specs = {spec.key: spec for spec in fields}
    columns = ["email"]
    for target in mapping:
        if not target or target == "email":
            continue
        if target == "birthday":
            columns += ["birthday_month", "birthday_day"]
        elif target in specs:
            columns.append(specs[target].column)
        elif target in STANDARD_LABELS:
            columns.append(target)
    return list(dict.fromkeys(columns))


def validate_rows(table: Table, mapping: Sequence[str],
                  fields: Sequence[FieldSpec]) -> ValidationReport:
    """Check every row of `table` under `mapping` (a target per column)."""
    specs = {spec.key: spec for spec in fields}
    email_at = mapping.index("email") if "email" in mapping else None
    report = ValidationReport(columns=cc_columns(mapping, fields))
    if email_at is None:
        return report
    # One plan per mapped column: (index, target, CC column, check), built once.
    plain, custom = [], []
    birthday_at = month_at = day_at = anniversary_at = None
    for index, target in enumerate(mapping):
        if not target or target == "email":
            continue
        if target in MAX_LENGTHS:
            plain.append((index, target, MAX_LENGTHS[target], STANDARD_LABELS[target]))
        elif target == "birthday":
            birthday_at = index
        elif target == "birthday_month":
            month_at = index
        elif target == "birthday_day":
            day_at = index
        elif target == "anniversary":
            anniversary_at = index
        elif target in specs:
            custom.append((index, specs[target].column, _custom_check(specs[target])))
    seen: dict[str, int] = {}
    results = report.results
    match_email = EMAIL_RE.match
    for cells, line in zip(table.rows, table.lines):
        width = len(cells)
        email = cells[email_at].strip() if email_at < width else ""
        problems = []
        if not email:
            problems.append("no email address")
        elif len(email) > MAX_EMAIL:
            problems.append(f"the email address is longer than {MAX_EMAIL} characters")
        elif not match_email(email):
            problems.append(f"“{email[:60]}” is not a valid email address")
        data = {"email": email}
        for index, target, limit, label in plain:
            if index < width:
                value = cells[index].strip()
                if value:
                    if len(value) > limit:
                        problems.append(f"{label} is longer than {limit} characters")
                    data[target] = value
        month = day = None
        if birthday_at is not None and birthday_at < width and cells[birthday_at].strip():
            found = _month_day(cells[birthday_at])
            if found is None:
                problems.append(f"“{cells[birthday_at].strip()[:40]}” is not a birthday")
            else:
                month, day = found
        if month_at is not None and month_at < width and cells[month_at].strip():
            month = _month(cells[month_at])
            if month is None:
                problems.append("the birthday month must be 1 to 12 or a month's name")
        if day_at is not None and day_at < width and cells[day_at].strip():
            text = cells[day_at].strip()
            day = _small_number(text)
            if day is not None and not 1 <= day <= 31:
                day = None
            if day is None:
                problems.append("the birthday day must be 1 to 31")
        if (month is None) != (day is None) and not problems:
            problems.append("a birthday needs both its month and its day")
        elif month is not None and day is not None:
            if not _real_date(2000, month, day):
                problems.append(f"there is no day {day} in {calendar.month_name[month]}")
            data["birthday_month"] = str(month)
            data["birthday_day"] = str(day)
        if anniversary_at is not None and anniversary_at < width:
            value = cells[anniversary_at].strip()
            if value:
                if _anniversary(value) is None:
                    problems.append(f"“{value[:40]}” is not an anniversary date Constant "
                                    "Contact takes (YYYY-MM-DD or MM/DD/YYYY)")
                data["anniversary"] = value
        filled = 0
        for index, column, check in custom:
            if index < width:
                value = cells[index].strip()
                if value:
                    sent, why = check(value)
                    if sent is None:
                        problems.append(why)
                    else:
                        data[column] = sent
                        filled += 1
        if filled > MAX_CUSTOM_FIELDS_PER_CONTACT:
            problems.append(f"more than {MAX_CUSTOM_FIELDS_PER_CONTACT} custom fields")
        report.rows += 1
        if problems:
            report.invalid += 1
            message = "; ".join(problems)
            results.append((line, email, None, "invalid", message[:1].upper() + message[1:]))
            continue
        key = email.lower()
        first = seen.get(key)
        if first is not None:
            report.duplicates += 1
            results.append((line, email, None, "duplicate",
                            f"The same address as line {first:,}: only that line is sent"))
            continue
        seen[key] = line
        report.valid += 1
        results.append((line, email, data, "valid", ""))
    return report
