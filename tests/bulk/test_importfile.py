"""Reading and checking an uploaded file, with no API call: encodings, BOM,
delimiters, the header row, the automatic mapping, every bad-input case the
issue names, and Constant Contact's limits on each row."""

import pytest

from apps.bulk.importfile import (
    FieldSpec,
    FileProblem,
    auto_mapping,
    read_table,
    validate_rows,
)


def test_a_bom_semicolons_and_a_header_are_found():
    data = "\ufeffE-mail;Vorname;Nachname\nanna@example.com;Anna;Schmidt\n".encode("utf-8")
    table = read_table(data, filename="kunden.csv")
    assert table.encoding == "utf-8-sig"
    assert table.delimiter == ";"
    assert table.has_header
    assert table.header == ["E-mail", "Vorname", "Nachname"]
    assert table.rows == [["anna@example.com", "Anna", "Schmidt"]]


def test_tsv_and_a_file_without_header():
    data = b"bo@example.com\tBo\nal@example.com\tAl\n"
    table = read_table(data, filename="people.tsv")
    assert table.delimiter == "\t"
    assert not table.has_header
    assert table.header == ["Column 1", "Column 2"]
    assert len(table.rows) == 2


def test_a_windows_1252_file_is_read_by_charset_normalizer():
    data = "email,first_name\nzoe@example.com,Zoë Müller Françoise\n".encode("cp1252") * 1
    table = read_table(data, filename="legacy.csv")
    assert table.rows[0][1] == "Zoë Müller Françoise"


@pytest.mark.parametrize("data, name, words", [
    (b"PK\x03\x04 rest of a zip", "contacts.xlsx", "workbook"),
    (b"%PDF-1.4 something", "contacts.pdf", "PDF"),
    (b"email\nx@example.com\n", "contacts.json", ".csv or .tsv"),
    (b"", "empty.csv", "empty"),
    (b"   \n\n", "blank.csv", "empty"),
    (b"email,name\n\xc3\xa9mile@example.com,\xc3\x89mile\nzo\xe9@example.com,Zo\xe9\n",
     "mixed.csv", "mixes text encodings"),
])
def test_files_that_cannot_be_contacts_are_refused_with_a_reason(data, name, words):
    with pytest.raises(FileProblem) as caught:
        read_table(data, filename=name)
    assert words in caught.value.message


def test_columns_map_themselves_standard_and_custom():
    fields = [FieldSpec(key="cf:1", label="Shoe size", name="shoe_size", type="number")]
    header = ["Email Address", "Given name", "Surname", "Mobile", "Organisation", "Title",
              "Shoe size", "Birthday", "Whatever"]
    assert auto_mapping(header, fields) == [
        "email", "first_name", "last_name", "phone", "company_name", "job_title", "cf:1",
        "birthday", ""]


def test_validation_catches_bad_emails_duplicates_types_and_lengths():
    fields = [FieldSpec(key="cf:1", label="Shoe size", name="shoe_size", type="number")]
    data = ("email,first,size,birthday\n"
            "ok@example.com,Ann,42,1990-03-04\n"
            "not-an-email,Bob,40,\n"
            "OK@example.com,Dup,41,\n"
            f"long@example.com,{'x' * 51},40,\n"
            "shoe@example.com,Sam,big,\n"
            "bday@example.com,Kim,39,02/30/1990\n").encode()
    table = read_table(data, filename="f.csv")
    report = validate_rows(table, ["email", "first_name", "cf:1", "birthday"], fields)
    assert (report.rows, report.valid, report.invalid, report.duplicates) == (6, 1, 4, 1)
    messages = {line: message for line, _e, _d, _s, message in report.results}
    assert "not a valid email" in messages[3]
    assert "same address as line 2" in messages[4]
    assert "longer than 50" in messages[5]
    assert "must be a number" in messages[6]
    assert "not a birthday" in messages[7]
    ok = report.results[0][2]
    assert ok == {"email": "ok@example.com", "first_name": "Ann", "cf:shoe_size": "42",
                  "birthday_month": "3", "birthday_day": "4"}
    assert report.columns == ["email", "first_name", "cf:shoe_size", "birthday_month",
                              "birthday_day"]
