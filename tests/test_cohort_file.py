"""Participant files as coordinators make them: Polish encodings, Excel's separators and quirks, workbooks, every
reason to refuse a file or a row, and the downloads that go back to Excel."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import random
import string
import time
import zipfile
import zlib

import openpyxl
import openpyxl.styles
import pytest

from issuer import cohort_words
from issuer.cohort_file import (
    FIELDS,
    LANGUAGES,
    MAX_FILE_BYTES,
    MAX_ROWS,
    FileRejected,
    Problem,
    Sheet,
    export_csv,
    neutralise,
    read_sheet,
    template_csv,
    template_xlsx,
)

TODAY = datetime.date(2026, 6, 1)
MiB = 1024 * 1024
NAMES = ["Łukasz Żółć", "Zofia Ścibór", "Ąnna Źdźbło-Gęś"]
HEADER = "Imię i nazwisko;E-mail;Identyfikator;Opis;Link do dowodu;Wynik;Ważne do;Język"


def read(data: bytes, filename: str = "lista.csv") -> Sheet:
    return read_sheet(data, filename, today=TODAY)


def refusal(data: bytes, filename: str = "lista.csv") -> Problem:
    with pytest.raises(FileRejected) as caught:
        read(data, filename)
    assert caught.value.problem.line is None
    return caught.value.problem


def lines(*rows: str, encoding: str = "utf-8") -> bytes:
    return "".join(f"{row}\r\n" for row in rows).encode(encoding)


def where(sheet: Sheet) -> list[tuple[int | None, str | None, str]]:
    return [(problem.line, problem.column, problem.code) for problem in sheet.problems]


def workbook(cells: dict[tuple[int, int], object]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- Encodings, separators, quoting, blank rows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "written", "delimiter"),
    [
        ("utf-8", "utf-8", ";"),
        ("utf-8-sig", "utf-8-sig", ";"),
        ("utf-16", "utf-16", "\t"),  # Excel's "Unicode text": UTF-16 with a BOM, tab-separated
        ("cp1250", "cp1250", ";"),  # Polish Excel's "CSV (rozdzielany przecinkami)"
        ("iso-8859-2", "iso-8859-2", ";"),
    ],
)
def test_polish_letters_survive_every_encoding_offices_use(encoding: str, written: str, delimiter: str) -> None:
    rows = [delimiter.join(("Imię i nazwisko", "E-mail"))]
    rows += [delimiter.join((name, f"osoba{index}@example.org")) for index, name in enumerate(NAMES)]
    sheet = read(lines(*rows, encoding=written))
    assert [row.name for row in sheet.rows] == NAMES
    assert sheet.encoding == encoding
    assert sheet.delimiter == delimiter
    assert sheet.headers == ["Imię i nazwisko", "E-mail"]
    assert sheet.format == "csv"


def test_cp1250_without_its_own_bytes_is_still_read_right() -> None:
    # Ł, Ż, ó, ł, ć have the same bytes in Windows-1250 and ISO-8859-2: either reading gives the right letters.
    sheet = read(lines("Imię i nazwisko;E-mail", "Łukasz Żółć;lukasz@example.org", encoding="cp1250"))
    assert sheet.rows[0].name == "Łukasz Żółć"
    assert sheet.encoding == "cp1250"


def test_typographic_quotes_and_dashes_mark_a_file_as_cp1250() -> None:
    # „ ” – are bytes 0x84, 0x94, 0x96: characters in Windows-1250, control characters in ISO-8859-2. Counting
    # Polish letters alone would pick ISO-8859-2 here, which reads the ± (0xB1) as ą.
    data = lines("Imię i nazwisko;E-mail;Wynik", "Jan Nowak;jan@example.org;±0,5 – „dobry”", encoding="cp1250")
    sheet = read(data)
    assert sheet.encoding == "cp1250"
    assert sheet.rows[0].result == "±0,5 – „dobry”"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_semicolon_comma_and_tab_files(delimiter: str) -> None:
    data = lines(
        delimiter.join(("Imię i nazwisko", "E-mail", "Wynik")),
        delimiter.join(("Anna Kowalska", "anna@example.org", "5")),
        delimiter.join(("Jan Nowak", "jan@example.org", "")),
    )
    sheet = read(data)
    assert sheet.delimiter == delimiter
    assert [(row.line, row.name, row.result) for row in sheet.rows] == [
        (2, "Anna Kowalska", "5"),
        (3, "Jan Nowak", None),
    ]


def test_quoted_cells_keep_separators_and_line_breaks_and_rows_keep_their_numbers() -> None:
    data = lines(
        "Imię i nazwisko,E-mail,Opis",
        '"Kowalska, Anna",anna@example.org,"Pierwsza linia',
        'druga; ze średnikiem i ""cytatem"""',
        "Jan Nowak,jan@example.org,",
        'Ola Wiśniewska,zly-adres,"a, b"',
    )
    sheet = read(data)
    assert sheet.delimiter == ","
    assert [(row.line, row.name) for row in sheet.rows] == [(2, "Kowalska, Anna"), (3, "Jan Nowak")]
    assert sheet.rows[0].narrative == 'Pierwsza linia\ndruga; ze średnikiem i "cytatem"'
    assert where(sheet) == [(4, "E-mail", "email_invalid")]  # row 4 as Excel shows it, not physical line 5


def test_blank_rows_are_skipped_and_numbers_stay_those_of_the_spreadsheet() -> None:
    data = lines(
        "",
        ";;",
        "Imię i nazwisko;E-mail",  # row 3
        "Anna Kowalska;anna@example.org",
        ";",
        "   ;  \u00a0 ",
        "Jan Nowak;nie-adres",  # row 7
        "Ola Wiśniewska;ola@example.org",
        "",
    )
    sheet = read(data)
    assert [row.line for row in sheet.rows] == [4, 8]
    assert where(sheet) == [(7, "E-mail", "email_invalid")]
    assert sheet.total == 3


def test_excels_sep_line_names_the_separator_and_is_not_counted() -> None:
    sheet = read(lines("sep=,", "Imię i nazwisko,E-mail", "Anna Kowalska,x"))
    assert sheet.delimiter == ","
    assert where(sheet) == [(2, "E-mail", "email_invalid")]


def test_values_are_trimmed_and_spaces_in_names_collapsed() -> None:
    data = lines("Imię i nazwisko;E-mail;Wynik", "  Anna \t Maria\u00a0\u00a0Kowalska \u200b; anna@example.org ; 5 ")
    row = read(data).rows[0]
    assert (row.name, row.email, row.result) == ("Anna Maria Kowalska", "anna@example.org", "5")


def test_first_and_last_name_columns_are_joined() -> None:
    sheet = read(
        lines(
            "Imię;Nazwisko;E-mail",
            "Łukasz;Żółć;lukasz@example.org",
            "Zofia;;zofia@example.org",
            ";;nikt@example.org",
        )
    )
    assert [(row.line, row.name) for row in sheet.rows] == [(2, "Łukasz Żółć")]
    assert sheet.mapping["name"] == "Imię + Nazwisko"
    assert where(sheet) == [(3, "Nazwisko", "missing"), (4, "Imię", "missing"), (4, "Nazwisko", "missing")]


@pytest.mark.parametrize(
    ("header", "row", "name"),
    [
        ("First name,Last name,Email", "Anna,Kowalska,anna@example.org", "Anna Kowalska"),
        ("Ім'я;Прізвище;Електронна пошта", "Олена;Шевченко;olena@example.org", "Олена Шевченко"),
        ("Ім’я;E-mail", "Олена Шевченко;olena@example.org", "Олена Шевченко"),  # «ім’я» alone is the whole name
    ],
)
def test_names_in_english_and_ukrainian_columns(header: str, row: str, name: str) -> None:
    assert read(lines(header, row)).rows[0].name == name


def test_columns_that_hold_no_field_are_reported_not_refused() -> None:
    sheet = read(lines("Lp.;Imię i nazwisko;Telefon;E-mail;Uwagi", "1;Anna Kowalska;600 100 200;anna@example.org;"))
    assert sheet.ignored == ["Lp.", "Telefon", "Uwagi"]
    assert sheet.mapping == {"name": "Imię i nazwisko", "email": "E-mail"}
    assert len(sheet.rows) == 1


# --- Headers -------------------------------------------------------------------------------------------------------

SPELLINGS = {
    "name": [
        "imię i nazwisko",
        "imie i nazwisko",
        "nazwisko i imię",
        "uczestnik",
        "name",
        "full name",
        "learner",
        "ім'я",
        "ім’я та прізвище",
        "піб",
        "IMIĘ  I  NAZWISKO:",
        "Imię i nazwisko *",
    ],
    "email": ["e-mail", "email", "adres e-mail", "mail", "електронна пошта", "ел. пошта", "E-MAIL (wymagany)"],
    "external_id": ["identyfikator", "id", "nr albumu", "numer albumu", "learner id", "external id", "ідентифікатор"],
    "narrative": ["opis", "uzasadnienie", "narrative", "опис"],
    "evidence_url": ["dowód", "link do dowodu", "evidence", "evidence url", "доказ"],
    "result": ["wynik", "ocena", "result", "grade", "результат", "оцінка"],
    "valid_until": ["ważne do", "data ważności", "valid until", "expires", "дійсний до"],
    "language": ["język", "language", "мова", "JEZYK"],
}
SPELLINGS["valid_until"] += ["WAZNE DO", "Wazne_do"]  # no accent where there is one
SPELLINGS["evidence_url"] += ["Link do dowódu"]  # an accent where there is none


def header_row(field: str, spelling: str) -> str:
    others = {"name": "Imię i nazwisko", "email": "E-mail"}
    return ";".join([spelling] + [header for other, header in others.items() if other != field])


@pytest.mark.parametrize(
    ("field", "spelling"), [(field, spelling) for field, spellings in SPELLINGS.items() for spelling in spellings]
)
def test_headers_are_recognised_in_three_languages_whatever_the_case_accents_and_punctuation(
    field: str, spelling: str
) -> None:
    sheet = read(lines(header_row(field, spelling)))
    assert sheet.mapping[field] == spelling
    assert sheet.ignored == []


def test_every_spelling_the_messages_offer_is_recognised() -> None:
    for field, by_language in cohort_words.HEADERS.items():
        for spellings in by_language.values():
            for spelling in spellings:
                assert read(lines(header_row(field, spelling))).mapping[field] == spelling


# --- Files refused as a whole --------------------------------------------------------------------------------------


def ods() -> bytes:
    return zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})


@functools.cache
def zip_bomb(*, corrupt: bool) -> bytes:
    """One entry of 60 MiB of zeros (about 60 KB compressed). Corrupted, it cannot be unpacked at all: a reader
    that tried would fail with a zlib error instead of refusing the file for its size."""
    if corrupt:
        data = bytearray(zip_bomb(corrupt=False))
        with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
            info = archive.getinfo("xl/worksheets/sheet1.xml")
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        data[start : start + 64] = bytes(byte ^ 0xFF for byte in data[start : start + 64])
        return bytes(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
            for _ in range(60):
                entry.write(bytes(MiB))
    return buffer.getvalue()


def over_limit_rows() -> bytes:
    return lines("Imię i nazwisko;E-mail", *(f"Osoba {n};osoba{n}@example.org" for n in range(MAX_ROWS + 1)))


FILE_CASES = [
    ("too_large", lambda: b"a" * (MAX_FILE_BYTES + 1)),
    ("empty", lambda: b""),
    ("empty", lambda: b"\xef\xbb\xbf\r\n;;;\r\n  \t;\r\n"),
    ("unknown_format", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    ("unknown_format", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    ("unknown_format", lambda: b"Imi\x00\x01\x02binary"),
    ("unknown_format", lambda: b"<!DOCTYPE html><html><table><tr><td>Anna</td></tr></table>"),  # a web page as .xls
    ("unknown_format", ods),
    ("xls_unsupported", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Workbook".ljust(64, b"\x00")),
    (
        "xlsx_encrypted",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le"),
    ),
    ("xlsx_broken", lambda: b"PK\x03\x04" + bytes(100)),
    ("xlsx_broken", lambda: workbook({(1, 1): "Imię i nazwisko"})[:-200]),  # cut off: no central directory
    ("xlsx_broken", lambda: zipped({"[Content_Types].xml": b"<", "xl/workbook.xml": b"not xml"})),
    ("xlsx_too_large", lambda: zip_bomb(corrupt=False)),
    ("encoding", lambda: lines("Imi\x81 i nazwisko;E-mail", encoding="latin-1")),  # 0x81: undefined in cp1250
    ("encoding", lambda: b"\xef\xbb\xbfImi\xea;E-mail\r\n"),  # a UTF-8 BOM before Windows-1250 bytes
    ("encoding", lambda: b"\xff\xfeI\x00m\x00i"),  # UTF-16 cut in the middle of a character
    ("csv_malformed", lambda: lines("Imię i nazwisko;E-mail", '"' + "x" * 140_000 + '";a@example.org')),
    ("no_header", lambda: lines("Anna Kowalska;anna@example.org", "Jan Nowak;jan@example.org")),
    ("missing_column", lambda: lines("Imię i nazwisko;Telefon")),
    ("duplicate_column", lambda: lines("E-mail;Imię i nazwisko;Adres e-mail")),
    ("personal_id_column", lambda: lines("Imię i nazwisko;E-mail;PESEL")),
    ("too_many_rows", over_limit_rows),
]


@pytest.mark.parametrize(("code", "make"), FILE_CASES, ids=[f"{code}-{n}" for n, (code, _) in enumerate(FILE_CASES)])
def test_files_that_cannot_be_used_are_refused_with_a_reason(code: str, make: object) -> None:
    assert callable(make)
    assert refusal(make()).code == code


def test_the_format_is_told_by_content_not_by_name() -> None:
    book = workbook({(1, 1): "Imię i nazwisko", (1, 2): "E-mail", (2, 1): "Anna", (2, 2): "anna@example.org"})
    assert read(book, "lista.csv").format == "xlsx"
    assert read(lines("Imię i nazwisko;E-mail"), "lista.xlsx").format == "csv"
    assert refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "lista.xlsx").code == "xls_unsupported"


def test_old_excel_files_are_refused_with_advice_to_save_them_again() -> None:
    problem = refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "lista.xls")
    assert ".xlsx" in problem.message("pl") and "CSV" in problem.message("pl")
    assert "Save As" in problem.message("en")


def test_a_zip_bomb_is_refused_by_its_declared_sizes_without_being_unpacked() -> None:
    bomb = zip_bomb(corrupt=True)
    assert len(bomb) < 200_000
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive, pytest.raises((zlib.error, zipfile.BadZipFile)):
        archive.read("xl/worksheets/sheet1.xml")  # unpacking it fails: so a refusal for size means no unpacking
    problem = refusal(bomb, "lista.xlsx")
    assert problem.code == "xlsx_too_large"
    assert problem.params == {"limit_mb": 50}


def test_a_small_entry_compressed_beyond_reason_is_refused_too() -> None:
    squeezed = zipped({"[Content_Types].xml": b"<Types/>", "xl/sharedStrings.xml": bytes(2 * MiB)})
    assert refusal(squeezed).code == "xlsx_too_large"
    # Ordinary compression of the same size passes the check (and then fails as the non-workbook it is).
    ordinary = zipped({"[Content_Types].xml": b"<Types/>", "xl/sharedStrings.xml": random.Random(0).randbytes(2 * MiB)})
    assert refusal(ordinary).code == "xlsx_broken"


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("Imię i nazwisko;Telefon", "email"),
        ("Nazwisko;E-mail", "name"),
        ("Imię;E-mail", "name"),  # Polish «imię» is the first name only
    ],
)
def test_a_missing_required_column_is_named_with_the_headings_that_would_do(header: str, missing: str) -> None:
    problem = refusal(lines(header, "x;y"))
    assert (problem.code, problem.field) == ("missing_column", missing)
    message = problem.message("pl")
    assert "„Adres e-mail”" in message if missing == "email" else "„Nazwisko i imię”" in message
    assert "„Imię” i „Nazwisko”" in message if missing == "name" else True
    assert "“Email address”" in problem.message("en") if missing == "email" else "“Full name”" in problem.message("en")


@pytest.mark.parametrize(
    ("header", "field", "column", "other"),
    [
        ("E-mail;Imię i nazwisko;Adres e-mail", "email", "Adres e-mail", "E-mail"),
        ("Imię;Imiona;Nazwisko;E-mail", "name", "Imiona", "Imię"),
    ],
)
def test_two_columns_for_one_field_are_refused(header: str, field: str, column: str, other: str) -> None:
    problem = refusal(lines(header))
    assert (problem.code, problem.field, problem.column, problem.params) == (
        "duplicate_column",
        field,
        column,
        {"other": other},
    )
    assert problem.message("pl").startswith(f"Kolumny „{other}” i „{column}” oznaczają to samo")


@pytest.mark.parametrize(
    "header", ["PESEL", "nr pesel", "Numer PESEL", "national id", "РНОКПП", "Identyfikator (PESEL)", "PESEL ucznia"]
)
def test_a_national_id_column_is_refused_so_we_never_take_the_numbers(header: str) -> None:
    problem = refusal(lines(f"Imię i nazwisko;E-mail;{header}", "Anna;anna@example.org;44051401359"))
    assert (problem.code, problem.column) == ("personal_id_column", header)
    assert "usuń tę kolumnę" in problem.message("pl")


def test_ten_thousand_rows_are_accepted_and_one_more_is_refused() -> None:
    rows = [f"Osoba {n};osoba{n}@example.org" for n in range(MAX_ROWS)]
    sheet = read(lines("Imię i nazwisko;E-mail", *rows[:5000], "", ";", *rows[5000:]))  # blank rows do not count
    assert (len(sheet.rows), sheet.total, sheet.problems) == (MAX_ROWS, MAX_ROWS, [])
    assert sheet.rows[-1].line == MAX_ROWS + 3
    problem = refusal(over_limit_rows())
    assert problem.params == {"rows": MAX_ROWS + 1, "limit": MAX_ROWS}
    assert "10,001" in problem.message("en") and "10,000" in problem.message("en")
    assert "10\u00a0001" in problem.message("pl")


# --- Rows ----------------------------------------------------------------------------------------------------------

ROW_CASES = [
    ("name", "", "missing"),
    ("name", "A" * 201, "too_long"),
    ("name", "Anna\x07 Kowalska", "control_characters"),
    ("name", "Anna \u202eKowalska", "control_characters"),  # a right-to-left override would disguise the name
    ("email", "", "missing"),
    ("email", "anna.example.org", "email_invalid"),
    ("email", "anna@example", "email_invalid"),
    ("email", "anna kowalska@example.org", "email_invalid"),
    ("email", "anna..kowalska@example.org", "email_invalid"),
    ("email", "anna@example..org", "email_invalid"),
    ("email", ".anna@example.org", "email_invalid"),
    ("email", "anna@example.org, jan@example.org", "email_multiple"),
    ("email", "a" * 64 + "@" + ("b" * 60 + ".") * 5 + "org", "too_long"),
    ("external_id", "X" * 201, "too_long"),
    ("external_id", "S\x1b12", "control_characters"),
    ("external_id", "44051401359", "personal_id_value"),  # a valid PESEL in an id column
    ("narrative", "x" * 2001, "too_long"),
    ("narrative", "ok\x08", "control_characters"),
    ("evidence_url", "example.org/projekt", "url_invalid"),
    ("evidence_url", "ftp://example.org/projekt", "url_invalid"),
    ("evidence_url", "javascript:alert(1)", "url_invalid"),
    ("evidence_url", "https://exa mple.org/", "url_invalid"),
    ("evidence_url", "https://example.org/" + "a" * 2000, "too_long"),
    ("result", "5" * 201, "too_long"),
    ("valid_until", "jutro", "date_invalid"),
    ("valid_until", "31.02.2030", "date_impossible"),
    ("valid_until", "06/30/2030", "date_impossible"),  # month first is not how Poland writes dates
    ("valid_until", "2026-06-01", "date_not_future"),  # today
    ("valid_until", "9001-01-01", "date_out_of_range"),
    ("language", "de", "language_unknown"),
]
COLUMNS = dict(zip(FIELDS, HEADER.split(";"), strict=True))


def participant(line: int, **values: str) -> str:
    row = {
        "name": f"Osoba {line}",
        "email": f"osoba{line}@example.org",
        "external_id": f"S{line}",
        "narrative": "",
        "evidence_url": "",
        "result": "",
        "valid_until": "",
        "language": "",
    }
    row.update(values)
    return ";".join(row[field] for field in FIELDS)


def test_every_field_problem_is_reported_with_its_row_and_column() -> None:
    rows = [participant(line, **{field: value}) for line, (field, value, _) in enumerate(ROW_CASES, start=2)]
    sheet = read(lines(HEADER, *rows, participant(len(ROW_CASES) + 2)))
    assert where(sheet) == [(line, COLUMNS[field], code) for line, (field, _, code) in enumerate(ROW_CASES, start=2)]
    assert [row.line for row in sheet.rows] == [len(ROW_CASES) + 2]
    assert sheet.total == len(ROW_CASES) + 1
    assert all(problem.field in FIELDS for problem in sheet.problems)
    # No address from the file is ever carried in a problem (messages and logs show params).
    assert not any("@" in str(value) for problem in sheet.problems for value in problem.params.values())


def test_problem_params_say_what_the_message_needs() -> None:
    rows = [
        participant(2, name="A" * 201),
        participant(3, valid_until="30.05.2026"),
        participant(4, language="Deutsch"),
    ]
    problems = read(lines(HEADER, *rows)).problems
    assert [problem.params for problem in problems] == [
        {"length": 201, "limit": 200},
        {"value": "30.05.2026", "today": "2026-06-01"},
        {"value": "Deutsch"},
    ]
    assert problems[0].message("pl") == (
        "Wiersz 2, kolumna „Imię i nazwisko”: tekst jest za długi (długość: 201, dozwolone najwyżej 200 znaków)."
    )
    assert problems[1].message("en") == (
        "Row 3, column “Ważne do”: the expiry date “30.05.2026” should be later than today (2026-06-01)."
    )
    assert problems[2].message("uk").startswith("Рядок 4, стовпець «Język»: невідома мова «Deutsch»")


def test_a_row_can_have_several_problems_each_reported() -> None:
    sheet = read(lines(HEADER, participant(2, email="zły adres", valid_until="wczoraj", language="xx")))
    assert where(sheet) == [
        (2, "E-mail", "email_invalid"),
        (2, "Ważne do", "date_invalid"),
        (2, "Język", "language_unknown"),
    ]
    assert sheet.rows == []


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2030-06-30", datetime.date(2030, 6, 30)),
        ("30.06.2030", datetime.date(2030, 6, 30)),
        ("30-06-2030", datetime.date(2030, 6, 30)),
        ("30/06/2030", datetime.date(2030, 6, 30)),
        ("1.7.2030 r.", datetime.date(2030, 7, 1)),
        ("2030-06-30 00:00:00", datetime.date(2030, 6, 30)),
        ("2026-06-02", datetime.date(2026, 6, 2)),  # tomorrow
    ],
)
def test_valid_until_in_the_ways_people_write_dates(written: str, expected: datetime.date) -> None:
    sheet = read(lines(HEADER, participant(2, valid_until=written)))
    assert sheet.problems == []
    assert sheet.rows[0].valid_until == expected


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("pl", "pl"),
        ("PL", "pl"),
        ("polski", "pl"),
        ("Polish", "pl"),
        ("польська", "pl"),
        ("pl-PL", "pl"),
        ("en", "en"),
        ("angielski", "en"),
        ("English", "en"),
        ("англійська", "en"),
        ("uk", "uk"),
        ("ukraiński", "uk"),
        ("Ukrainian", "uk"),
        ("українська", "uk"),
        ("uk-UA", "uk"),
        ("", None),
    ],
)
def test_language_as_code_or_name(written: str, code: str | None) -> None:
    sheet = read(lines(HEADER, participant(2, language=written)))
    assert sheet.problems == []
    assert sheet.rows[0].language == code


def test_an_optional_row_comes_back_whole() -> None:
    row = participant(
        2,
        narrative="Projekt końcowy",
        evidence_url="https://example.org/projekt?id=1",
        result="bardzo dobry",
        valid_until="30.06.2030",
        language="en",
    )
    (parsed,) = read(lines(HEADER, row)).rows
    assert parsed.external_id == "S2"
    assert parsed.narrative == "Projekt końcowy"
    assert parsed.evidence_url == "https://example.org/projekt?id=1"
    assert (parsed.result, parsed.valid_until, parsed.language) == ("bardzo dobry", datetime.date(2030, 6, 30), "en")


def test_duplicates_in_the_file_by_email_of_any_case_and_by_external_id() -> None:
    sheet = read(
        lines(
            "Imię i nazwisko;E-mail;Identyfikator",
            "Anna Kowalska;Anna.Kowalska@Example.org;S1",  # 2
            "Jan Nowak;jan@example.org;S2",  # 3
            "Ola Wiśniewska;ola@example.org;",  # 4
            "Anna K.; anna.kowalska@EXAMPLE.ORG ;S9",  # 5: the same address
            "Janek Nowak;janek@example.org;S2",  # 6: the same id
            "Anna Kowalska;ANNA.KOWALSKA@example.org;S2",  # 7: both, and a third time
            "Bez Id;bez@example.org;",  # 8: no id is no duplicate
        )
    )
    assert [row.line for row in sheet.rows] == [2, 3, 4, 8]
    assert [(p.line, p.field, p.column, p.code, p.params) for p in sheet.problems] == [
        (5, "email", "E-mail", "duplicate_in_file", {"other": 2}),
        (6, "external_id", "Identyfikator", "duplicate_in_file", {"other": 3}),
        (7, "email", "E-mail", "duplicate_in_file", {"other": 2}),
        (7, "external_id", "Identyfikator", "duplicate_in_file", {"other": 3}),
    ]
    assert sheet.problems[0].message("pl") == (
        "Wiersz 5, kolumna „E-mail”: ta sama wartość co w wierszu 2; każdy uczestnik może wystąpić w pliku tylko raz."
    )


# --- Workbooks -----------------------------------------------------------------------------------------------------


def test_a_workbook_is_read_with_its_own_row_numbers_dates_numbers_and_uncalculated_formulas() -> None:
    book = workbook(
        {
            # row 1 left empty: the header is on row 2
            (2, 1): "Imię i nazwisko",
            (2, 2): "E-mail",
            (2, 3): "Nr albumu",
            (2, 4): "Ważne do",
            (2, 5): "Wynik",
            (3, 1): "Łukasz Żółć",
            (3, 2): "lukasz@example.org",
            (3, 3): 123456.0,
            (3, 4): datetime.datetime(2030, 6, 30),
            (3, 5): "=2+3",  # optional: a formula never calculated is an empty cell
            # row 4 empty
            (5, 1): "Zofia Ścibór",
            (5, 2): '=LOWER("ZOFIA@EXAMPLE.ORG")',  # openpyxl writes no cached value, as some generators do
            (6, 1): "Ąnna Źdźbło",
            (7, 1): "Jan Nowak",
            (7, 2): "jan@example.org",
            (7, 3): 7,
            (7, 4): datetime.date(2031, 1, 15),
            (7, 5): 4.5,
        }
    )
    sheet = read(book, "lista.xlsx")
    assert (sheet.format, sheet.encoding, sheet.delimiter) == ("xlsx", None, None)
    assert sheet.headers == ["Imię i nazwisko", "E-mail", "Nr albumu", "Ważne do", "Wynik"]
    assert [(row.line, row.name, row.external_id, row.valid_until, row.result) for row in sheet.rows] == [
        (3, "Łukasz Żółć", "123456", datetime.date(2030, 6, 30), None),
        (7, "Jan Nowak", "7", datetime.date(2031, 1, 15), "4.5"),
    ]
    assert where(sheet) == [(5, "E-mail", "formula_without_value"), (6, "E-mail", "missing")]
    assert sheet.total == 4
    assert "formuł" in sheet.problems[0].message("pl")


def test_a_cell_formatted_on_the_last_row_of_the_sheet_does_not_stall_reading() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Imię i nazwisko", "E-mail"])
    sheet.append(["Anna Kowalska", "anna@example.org"])
    sheet.cell(row=1_048_575, column=1).font = openpyxl.styles.Font(bold=True)  # formatted, empty
    sheet.cell(row=1_048_576, column=1).value = "Jan Nowak"
    sheet.cell(row=1_048_576, column=2).value = "nie-adres"
    buffer = io.BytesIO()
    book.save(buffer)
    started = time.perf_counter()
    parsed = read(buffer.getvalue(), "lista.xlsx")
    assert time.perf_counter() - started < 10  # about 1.5 s; checking each empty row cell by cell took 35 s
    assert [row.line for row in parsed.rows] == [2]
    assert where(parsed) == [(1_048_576, "E-mail", "email_invalid")]
    assert parsed.total == 2


def test_a_past_date_cell_in_a_workbook_is_refused() -> None:
    book = workbook(
        {
            (1, 1): "Name",
            (1, 2): "Email",
            (1, 3): "Valid until",
            (2, 1): "Anna",
            (2, 2): "anna@example.org",
            (2, 3): datetime.datetime(2020, 1, 1, 12, 0),
        }
    )
    sheet = read(book)
    assert [(p.line, p.column, p.code, p.params) for p in sheet.problems] == [
        (2, "Valid until", "date_not_future", {"value": "2020-01-01", "today": "2026-06-01"})
    ]


# --- Templates -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_csv_template_opens_in_polish_excel_and_reads_back(language: str) -> None:
    data = template_csv(language)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    header, example, end = text.split("\r\n")
    assert end == ""
    assert header.split(";") == list(cohort_words.template_headers(language))
    assert example.split(";") == list(cohort_words.EXAMPLE_ROW[language])
    sheet = read(data)
    assert sorted(sheet.mapping) == sorted(FIELDS)
    assert (sheet.ignored, sheet.problems, len(sheet.rows)) == ([], [], 1)
    assert sheet.rows[0].language == language


def test_the_polish_template_header_is_the_one_coordinators_know() -> None:
    assert ";".join(cohort_words.template_headers("pl")) == (
        "Imię i nazwisko;E-mail;Identyfikator uczestnika;Opis (opcjonalnie);Link do dowodu;Wynik;"
        "Ważne do (RRRR-MM-DD);Język (pl/en/uk)"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_xlsx_template_is_formatted_and_reads_back(language: str) -> None:
    data = template_xlsx(language)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    assert [cell.value for cell in sheet[1]] == list(cohort_words.template_headers(language))
    assert all(cell.font.bold for cell in sheet[1])
    assert all(sheet.column_dimensions[letter].width >= 8 for letter in "ABCDEFGH")
    assert sheet.column_dimensions["B"].number_format == "@"  # e-mail as text
    assert sheet["G2"].is_date and sheet["G2"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"
    parsed = read(data, "szablon.xlsx")
    assert sorted(parsed.mapping) == sorted(FIELDS)
    assert (parsed.problems, len(parsed.rows)) == ([], 1)
    assert parsed.rows[0].valid_until == datetime.date(2030, 6, 30)


# --- Downloads for Excel -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+1", "+48 123", "-5", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Anna", "1.5", "", "Łukasz Żółć", " =1", "a=b", "'już"])
def test_other_cells_are_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell


def test_export_csv_is_for_polish_excel_and_safe() -> None:
    data = export_csv([("Wiersz", "Imię", "Wynik"), (2, "=1+1", None), (3, "Anna; Maria", datetime.date(2030, 6, 30))])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text == 'Wiersz;Imię;Wynik\r\n2;\'=1+1;\r\n3;"Anna; Maria";2030-06-30\r\n'
    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[2] == ["3", "Anna; Maria", "2030-06-30"]


def test_every_cell_of_an_export_is_neutralised_including_numbers() -> None:
    text = export_csv([(-5, "+48 123", "@x")]).decode("utf-8-sig")
    assert text == "'-5;'+48 123;'@x\r\n"


# --- Messages ------------------------------------------------------------------------------------------------------

CALLER_CODES = {"already_issued", "not_issuable", "unknown"}
"""Codes the issuing job records on rows (and the fallback): they have messages, read_sheet never makes them."""


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_code_read_sheet_makes_is_exercised_here_and_has_a_message() -> None:
    exercised = {code for code, _ in FILE_CASES} | {code for _, _, code in ROW_CASES}
    exercised |= {"formula_without_value", "duplicate_in_file"}  # made by the workbook and duplicate tests
    assert exercised == set(cohort_words.MESSAGES["pl"]) - CALLER_CODES


def test_messages_exist_for_every_code_in_all_three_languages_with_the_same_placeholders() -> None:
    codes = set(cohort_words.MESSAGES["pl"])
    for language in LANGUAGES:
        assert set(cohort_words.MESSAGES[language]) == codes
        for code in codes:
            assert placeholders(cohort_words.MESSAGES[language][code]) == placeholders(
                cohort_words.MESSAGES["pl"][code]
            ), (language, code)


SAMPLE_PARAMS: dict[str, dict[str, str | int]] = {
    "too_large": {"limit_mb": 5},
    "xlsx_too_large": {"limit_mb": 50},
    "duplicate_column": {"other": "E-mail"},
    "too_many_rows": {"rows": 10_001, "limit": 10_000},
    "too_long": {"length": 201, "limit": 200},
    "date_invalid": {"value": "jutro"},
    "date_impossible": {"value": "31.02.2030"},
    "date_out_of_range": {"value": "9001-01-01"},
    "date_not_future": {"value": "2020-01-01", "today": "2026-06-01"},
    "language_unknown": {"value": "de"},
    "duplicate_in_file": {"other": 12},
    "not_issuable": {"reason": "the achievement was archived"},
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_reads_whole_in_every_language(language: str) -> None:
    opening, closing = cohort_words.QUOTES[language]
    for code in cohort_words.MESSAGES[language]:
        row = Problem(14, "email", "Adres", code, SAMPLE_PARAMS.get(code, {})).message(language)
        whole_file = Problem(None, "email", "Adres", code, SAMPLE_PARAMS.get(code, {})).message(language)
        for text in (row, whole_file):
            assert "{" not in text and "}" not in text and "?" not in text, (code, text)
        assert "14, " in row and f"{opening}Adres{closing}" in row, (code, row)
        if code in {code for code, _ in FILE_CASES}:
            assert whole_file[0].isupper() and "14" not in whole_file, (code, whole_file)


def test_the_sentence_a_coordinator_reads() -> None:
    problem = Problem(14, "email", "E-mail", "email_invalid", {})
    assert problem.message("pl").startswith("Wiersz 14, kolumna „E-mail”: to nie jest adres e-mail")
    assert problem.message("en").startswith("Row 14, column “E-mail”: this is not an e-mail address")
    assert problem.message("uk").startswith("Рядок 14, стовпець «E-mail»: це не адреса електронної пошти")
    assert problem.message("de") == problem.message("pl")


def test_problems_the_issuing_job_records_read_well_too() -> None:
    assert Problem(7, "email", None, "already_issued", {}).message("en") == (
        "Row 7: this participant already holds the credential."
    )
    assert Problem(7, None, None, "not_issuable", {"reason": "x"}).message("pl") == (
        "Wiersz 7: nie udało się wystawić poświadczenia: x"
    )
    assert Problem(7, None, None, "something_new", {}).message("en") == "Row 7: error (something_new)."
