"""Participant lists that course coordinators upload to award one achievement to a whole cohort.

A CSV or XLSX file goes in as bytes; out come the rows that can be issued and, for every other row, each problem
with the row number and column name the coordinator sees in the spreadsheet. Nothing is issued, stored or fetched
here. The downloads that go back to them (the template, the results) are written here too, safe to open in Excel.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from issuer import cohort_words

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
FIELDS = ("name", "email", "external_id", "narrative", "evidence_url", "result", "valid_until", "language")
REQUIRED = ("name", "email")
LANGUAGES = ("pl", "en", "uk")
LIMITS = {"name": 200, "email": 320, "external_id": 200, "narrative": 2000, "evidence_url": 2000, "result": 200}
"""Longest value, in characters, of each text field."""

MiB = 1024 * 1024
MAX_UNZIPPED = 50 * MiB
"""An XLSX is a zip: what it may unpack to, in total, before anyone unpacks it."""
MAX_RATIO = 100
"""Compression beyond 100:1 in an entry over 1 MiB is a zip bomb, not a spreadsheet."""
MAX_COLUMNS = 200
"""Columns read, in either format; any beyond are not looked at (a worksheet may declare up to 16,384)."""

Cell = str | int | float | bool | datetime.date | datetime.time | None


@dataclass(frozen=True)
class Problem:
    """Something wrong with the file (``line`` is ``None``) or with one value in one row."""

    line: int | None
    """The spreadsheet's row number as the coordinator sees it (the header row is usually 1)."""
    field: str | None
    column: str | None
    """The column's header exactly as the file wrote it (two joined by `` + `` for first and last names)."""
    code: str
    params: dict[str, str | int] = dataclasses.field(default_factory=dict)
    """Values for the message; never the e-mail address or the name from the file."""

    def message(self, language: str) -> str:
        """The sentence in ``pl``, ``en`` or ``uk`` (Polish for any other language)."""
        return cohort_words.message(
            self.code, language, line=self.line, column=self.column, field=self.field, params=self.params
        )


class FileRejected(Exception):
    """The whole file cannot be used; ``problem`` says why (its ``line`` is ``None``)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


@dataclass(frozen=True)
class Row:
    """One participant whose every value passed its checks: ready to be issued a credential."""

    line: int
    name: str
    email: str
    external_id: str | None
    narrative: str | None
    evidence_url: str | None
    result: str | None
    valid_until: datetime.date | None
    language: str | None
    """``pl``, ``en`` or ``uk``; ``None`` when the file does not say (the issuer then uses Polish)."""


@dataclass(frozen=True)
class Sheet:
    """A participant file as read: how it was written, which column holds what, and what each row holds."""

    format: str
    """``csv`` or ``xlsx``."""
    encoding: str | None
    """``utf-8``, ``utf-8-sig``, ``utf-16``, ``cp1250`` or ``iso-8859-2``; ``None`` for a workbook."""
    delimiter: str | None
    headers: list[str]
    mapping: dict[str, str]
    """Field → the header it was read from (``Imię + Nazwisko`` when the name is in two columns)."""
    ignored: list[str]
    """Headers of columns that hold no field: not read, and worth telling the coordinator about."""
    rows: list[Row]
    problems: list[Problem]
    total: int
    """Non-empty data rows in the file, valid or not."""


def _rejected(code: str, *, field: str | None = None, column: str | None = None, **params: str | int) -> FileRejected:
    return FileRejected(Problem(None, field, column, code, params))


def read_sheet(data: bytes, filename: str, *, today: datetime.date) -> Sheet:
    """Read a participant list and check every row; ``valid_until`` must fall after ``today``.

    The content decides the format, whatever ``filename`` says (it is not used: a CSV saved as ``.xls`` is still
    read as CSV). Raises :class:`FileRejected` when the file as a whole cannot be used.
    """
    if len(data) > MAX_FILE_BYTES:
        raise _rejected("too_large", limit_mb=MAX_FILE_BYTES // MiB)
    encoding = delimiter = None
    if data.startswith(b"PK\x03\x04"):
        _check_zip(data)
        with contextlib.closing(_xlsx_rows(data, data_only=True)) as cells:
            table = _whole_table(cells, xlsx=True)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE container: old Excel, or a password-protected XLSX
        raise _rejected("xlsx_encrypted" if "EncryptedPackage".encode("utf-16-le") in data else "xls_unsupported")
    else:
        text, encoding = _decode(data)
        text, delimiter = _delimiter(text)
        table = _whole_table(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), xlsx=False)
    columns = _columns(table.headers)
    rows, problems = _check_rows(table.rows, columns, today)
    if encoding is None and any(problem.code == "missing" for problem in problems):
        problems = _explain_formulas(data, problems, columns)
    return Sheet(
        format="xlsx" if encoding is None else "csv",
        encoding=encoding,
        delimiter=delimiter,
        headers=table.headers,
        mapping={field: _column(columns, field) for field in columns.sources},
        ignored=columns.ignored,
        rows=rows,
        problems=problems,
        total=table.total,
    )


# --- Reading the bytes -------------------------------------------------------------------------------------------

_NOT_TABLES = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"{\\rtf", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_POLISH = frozenset("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")


def _decode(data: bytes) -> tuple[str, str]:
    """The text and the name of its encoding. Raises :class:`FileRejected` for a file that is not text."""
    if data.startswith(_NOT_TABLES):
        raise _rejected("unknown_format")
    text, encoding = _decoded(data)
    start = text.lstrip()[:20].lower()
    if "\x00" in text or start.startswith(("<!doctype", "<html", "<?xml", "<table")):  # binary, or a web page
        raise _rejected("unknown_format")
    return text, encoding


def _decoded(data: bytes) -> tuple[str, str]:
    """A BOM decides; else UTF-8 if the bytes are UTF-8; else the 8-bit Polish code page that fits better."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\x00" in data:  # no text file in any 8-bit encoding or UTF-8 has NUL bytes
        raise _rejected("unknown_format")
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise _rejected("encoding") from None
    # Bytes 0x80–0x9F are letters in Windows-1250 (Ś, ś, Ź, ź, „…) but control characters in ISO-8859-2: with
    # any of them, only Windows-1250 fits (and five of them it leaves undefined: then neither does).
    try:
        windows = data.decode("cp1250")
    except UnicodeDecodeError:
        raise _rejected("encoding") from None
    if re.search(b"[\x80-\x9f]", data):
        return windows, "cp1250"
    iso = data.decode("iso-8859-2")
    polish = sum(char in _POLISH for char in iso) - sum(char in _POLISH for char in windows)
    return (iso, "iso-8859-2") if polish > 0 else (windows, "cp1250")


_SEPARATOR_LINE = re.compile("sep=([;,\t])\r?\n")


def _delimiter(text: str) -> tuple[str, str]:
    """The text to read and its delimiter: ``;``, ``,`` or TAB, whichever splits the header line into the most
    cells (``;`` on a tie). A first line ``sep=;`` names it instead; Excel hides that line, so it is dropped and
    rows keep the numbers Excel shows."""
    declared = _SEPARATOR_LINE.match(text)
    if declared:
        return text[declared.end() :], declared.group(1)
    for line in text.splitlines():
        if line.strip(" \t;,"):
            return text, max(";,\t", key=lambda delimiter: len(next(csv.reader([line], delimiter=delimiter))))
    return text, ";"


def _check_zip(data: bytes) -> None:
    """Refuses a zip bomb by the sizes its directory declares; Python's zipfile never unpacks past them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as broken:
        raise _rejected("xlsx_broken") from broken
    unzipped = sum(entry.file_size for entry in entries)
    squeezed = any(entry.file_size > MiB and entry.file_size > MAX_RATIO * entry.compress_size for entry in entries)
    if unzipped > MAX_UNZIPPED or squeezed:
        raise _rejected("xlsx_too_large", limit_mb=MAX_UNZIPPED // MiB)
    if not any(entry.filename.startswith("xl/") for entry in entries):  # a document, an ODS spreadsheet, a plain zip
        raise _rejected("unknown_format")


def _xlsx_rows(data: bytes, *, data_only: bool) -> Generator[Sequence[Cell], None, None]:
    """The first worksheet's rows, one per worksheet row (missing rows come as empty ones)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # read what is there, not what the file claims is there
        yield from sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    finally:
        workbook.close()


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[tuple[int, Sequence[Cell]]]
    total: int


def _whole_table(source: Iterable[Sequence[Cell]], *, xlsx: bool) -> _Table:
    """The header (first non-empty row) and the non-empty rows after it, each with its spreadsheet row number."""
    try:
        return _table(source)
    except FileRejected:
        raise
    except csv.Error as malformed:
        raise _rejected("csv_malformed") from malformed
    except Exception as broken:  # whatever a damaged workbook makes the XLSX reader raise
        if not xlsx:
            raise
        raise _rejected("xlsx_broken") from broken


def _table(source: Iterable[Sequence[Cell]]) -> _Table:
    headers: list[str] | None = None
    total = 0
    rows: list[tuple[int, Sequence[Cell]]] = []
    for line, cells in enumerate(source, start=1):
        # A cell formatted far down (Excel users do, by accident) makes a workbook yield a million empty rows:
        # counting None runs in C, so skipping them stays quick.
        if cells.count(None) == len(cells) or all(_text(cell) == "" for cell in cells):
            continue
        if headers is None:
            headers = [_text(cell) for cell in cells[:MAX_COLUMNS]]
            while headers and not headers[-1]:
                headers.pop()
            continue
        total += 1
        if total <= MAX_ROWS:
            rows.append((line, cells[: len(headers)]))
    if headers is None:
        raise _rejected("empty")
    if total > MAX_ROWS:
        raise _rejected("too_many_rows", rows=total, limit=MAX_ROWS)
    return _Table(headers, rows, total)


def _explain_formulas(data: bytes, problems: list[Problem], columns: _Columns) -> list[Problem]:
    """A required XLSX cell that reads as empty may hold a formula no spreadsheet program ever calculated: its
    cached value, the only one we read, is missing. Reading the file again for formulas tells the two apart."""
    missing = {problem.line for problem in problems if problem.code == "missing"}
    last = max(line for line in missing if line is not None)
    formulas = set()
    with contextlib.closing(_xlsx_rows(data, data_only=False)) as rows:
        for line, cells in enumerate(rows, start=1):
            if line > last:
                break
            if line in missing:
                formulas |= {(line, index) for index, cell in enumerate(cells) if _is_formula(cell)}
    return [
        dataclasses.replace(problem, code="formula_without_value")
        if problem.code == "missing" and (problem.line, columns.index.get(problem.column or "")) in formulas
        else problem
        for problem in problems
    ]


def _is_formula(cell: object) -> bool:
    return (isinstance(cell, str) and cell.startswith("=")) or isinstance(cell, ArrayFormula | DataTableFormula)


# --- Headers -----------------------------------------------------------------------------------------------------


def _key(text: str) -> str:
    """What a header is compared by: no case, accents, punctuation, spaces or hints in brackets."""
    text = unicodedata.normalize("NFKD", re.sub(r"\(.*?\)|\[.*?\]", "", text).casefold().replace("ł", "l"))
    return "".join(char for char in text if char.isalnum() and char != "ʼ")  # accents decompose into non-letters


def _roles() -> dict[str, str]:
    roles = {_key(text): "first_name" for text in cohort_words.FIRST_NAME}
    roles |= {_key(text): "last_name" for text in cohort_words.LAST_NAME}
    for field, by_language in cohort_words.HEADERS.items():
        roles |= {_key(text): field for spellings in by_language.values() for text in spellings}
    return roles


_ROLES = _roles()
_PERSONAL_ID = frozenset(_key(text) for text in cohort_words.PERSONAL_ID)
_NAME_WHEN_ALONE = frozenset(_key(text) for text in cohort_words.NAME_WHEN_ALONE)


@dataclass(frozen=True)
class _Columns:
    sources: dict[str, list[tuple[int, str]]]
    """Field → the (index, header) of the column(s) it is read from, in the order of FIELDS."""
    ignored: list[str]
    index: dict[str, int]
    """Header → its column index, for the columns that are read."""


def _columns(headers: list[str]) -> _Columns:
    """Which column holds which field. Raises :class:`FileRejected` for a national id column, a field in two
    columns, or a required field in none."""
    found: dict[str, list[tuple[int, str]]] = {}
    ignored = []
    for position, header in enumerate(headers):
        if not header:
            continue
        key = _key(header)
        # The hint in brackets counts here: "Identyfikator (PESEL)" is a PESEL column.
        whole = "".join(char for char in header.casefold() if char.isalnum())
        if key in _PERSONAL_ID or "pesel" in whole or "рнокпп" in whole:
            raise _rejected("personal_id_column", column=header)
        role = _ROLES.get(key)
        if role is None:
            ignored.append(header)
        else:
            found.setdefault(role, []).append((position, header))
    if not found:
        raise _rejected("no_header")
    for role, hits in found.items():
        if len(hits) > 1:
            field = "name" if role in ("first_name", "last_name") else role
            raise _rejected("duplicate_column", field=field, column=hits[1][1], other=hits[0][1])
    first, last = found.pop("first_name", None), found.pop("last_name", None)
    if "name" not in found and first and last:
        found["name"] = first + last
    elif "name" not in found and first and not last and _key(first[0][1]) in _NAME_WHEN_ALONE:
        found["name"] = first
    else:
        ignored += [header for _, header in (first or []) + (last or [])]
    for field in REQUIRED:
        if field not in found:
            raise _rejected("missing_column", field=field)
    sources = {field: found[field] for field in FIELDS if field in found}
    read = {header: position for hits in sources.values() for position, header in hits}
    return _Columns(sources, sorted(ignored, key=headers.index), read)


# --- Rows --------------------------------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, code: str, **params: str | int) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _check_rows(
    table: list[tuple[int, Sequence[Cell]]], columns: _Columns, today: datetime.date
) -> tuple[list[Row], list[Problem]]:
    """The valid rows, and every problem of the others in row order. The first row with an e-mail address or an
    external id stays valid; a later row repeating it is refused."""
    rows: list[Row] = []
    problems: list[Problem] = []
    first_seen: dict[tuple[str, str], int] = {}
    for line, cells in table:
        texts, valid_until, found = _check_row(line, cells, columns, today)
        for field in ("email", "external_id"):
            value = texts.get(field)
            if value is None or any(problem.field == field for problem in found):
                continue
            key = (field, value.casefold() if field == "email" else value)
            if key in first_seen:
                found.append(
                    Problem(line, field, _column(columns, field), "duplicate_in_file", {"other": first_seen[key]})
                )
            else:
                first_seen[key] = line
        if found:
            problems += sorted(found, key=lambda problem: FIELDS.index(problem.field or "name"))
            continue
        rows.append(
            Row(
                line=line,
                name=str(texts["name"]),
                email=str(texts["email"]),
                external_id=texts.get("external_id"),
                narrative=texts.get("narrative"),
                evidence_url=texts.get("evidence_url"),
                result=texts.get("result"),
                valid_until=valid_until,
                language=texts.get("language"),
            )
        )
    return rows, problems


def _column(columns: _Columns, field: str) -> str:
    return " + ".join(header for _, header in columns.sources[field])


def _check_row(
    line: int, cells: Sequence[Cell], columns: _Columns, today: datetime.date
) -> tuple[dict[str, str | None], datetime.date | None, list[Problem]]:
    texts: dict[str, str | None] = {}
    valid_until = None
    problems = []
    for field, sources in columns.sources.items():
        raw = [cells[index] if index < len(cells) else None for index, _ in sources]
        parts = [_text(cell) for cell in raw]
        if field in REQUIRED and not all(parts):
            empty = [header for (_, header), part in zip(sources, parts, strict=True) if not part]
            problems += [Problem(line, field, header, "missing") for header in empty]
            continue
        if not any(parts):
            continue
        try:
            if field == "valid_until":
                valid_until = _valid_until(raw[0], today)
            else:
                texts[field] = _TEXT_CHECKS[field](" ".join(parts))
        except _Invalid as invalid:
            problems.append(Problem(line, field, _column(columns, field), invalid.code, invalid.params))
    return texts, valid_until, problems


def _text(cell: Cell) -> str:
    """A cell as trimmed text: an integral number without ``.0``, a date as ``2030-06-30``."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        # Text pasted from web pages brings no-break and zero-width spaces nobody can see.
        return cell.strip().strip("\u200b\ufeff").strip()
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else f"{cell:.15g}"
    if isinstance(cell, datetime.datetime) and cell.time() == datetime.time():
        return cell.date().isoformat()
    if isinstance(cell, datetime.date | datetime.time):
        return cell.isoformat()
    return str(cell)


_SPACES = re.compile("[ \t\r\n\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_HIDDEN = frozenset(("Cc", "Cf", "Co", "Cs", "Zl", "Zp"))
"""Control, format (bidirectional overrides among them), private-use and line-separator characters: nothing a
name or an identifier on a certificate may contain, as they can make it display as something else."""


def _printable(text: str, *, hidden: frozenset[str] = _HIDDEN, allowed: str = "") -> None:
    if text.isprintable():  # no character of any hidden category: the usual case, decided fast
        return
    if any(unicodedata.category(char) in hidden and char not in allowed for char in text):
        raise _Invalid("control_characters")


def _length(field: str, text: str) -> None:
    if len(text) > LIMITS[field]:
        raise _Invalid("too_long", length=len(text), limit=LIMITS[field])


def _name(text: str) -> str:
    text = _SPACES.sub(" ", text)
    _printable(text)
    _length("name", text)
    return text


_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)", re.IGNORECASE)


def _email(text: str) -> str:
    """One plausible address. Whether it receives mail only sending can tell."""
    if text.count("@") > 1:
        raise _Invalid("email_multiple")
    _length("email", text)
    local, _, domain = text.partition("@")
    plausible = _LOCAL.fullmatch(local) and _DOMAIN.fullmatch(domain) and ".." not in local
    if not plausible or local.startswith(".") or local.endswith("."):
        raise _Invalid("email_invalid")
    return text


def _external_id(text: str) -> str:
    _printable(text)
    _length("external_id", text)
    if _looks_like_pesel(text):
        raise _Invalid("personal_id_value")
    return text


def _looks_like_pesel(text: str) -> bool:
    """Eleven digits with a valid PESEL check digit and birth date: a national identity number used as an id."""
    if len(text) != 11 or not text.isascii() or not text.isdigit():
        return False
    digits = [int(char) for char in text]
    weighted = sum(weight * digit for weight, digit in zip((1, 3, 7, 9, 1, 3, 7, 9, 1, 3), digits[:10], strict=True))
    if (10 - weighted % 10) % 10 != digits[10]:
        return False
    month = int(text[2:4])
    century = {0: 1900, 20: 2000, 40: 2100, 60: 2200, 80: 1800}[month // 20 * 20]
    try:
        datetime.date(century + int(text[:2]), month % 20, int(text[4:6]))
    except ValueError:
        return False
    return True


def _narrative(text: str) -> str:
    text = text.replace("\r\n", "\n")
    _printable(text, hidden=frozenset(("Cc",)), allowed="\n\t")
    _length("narrative", text)
    return text


def _evidence_url(text: str) -> str:
    _length("evidence_url", text)
    try:
        parts = urlsplit(text)
        absolute = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number, a broken IPv6 address
        absolute = False
    if not absolute or any(char.isspace() or unicodedata.category(char) == "Cc" for char in text):
        raise _Invalid("url_invalid")
    return text


def _result(text: str) -> str:
    _printable(text, hidden=frozenset(("Cc",)))
    _length("result", text)
    return text


_LANGUAGE_VALUES = {_key(value): code for code, values in cohort_words.LANGUAGE_VALUES.items() for value in values}
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})[-_][A-Za-z0-9]{2,8}")


def _language(text: str) -> str:
    """``pl``, ``en`` or ``uk`` from a code, a tag such as ``uk-UA`` or the language's name in any of the three."""
    tag = _LANGUAGE_TAG.fullmatch(text)
    code = _LANGUAGE_VALUES.get(_key(tag.group(1) if tag else text))
    if code is None:
        raise _Invalid("language_unknown", value=text[:40])
    return code


_TEXT_CHECKS = {
    "name": _name,
    "email": _email,
    "external_id": _external_id,
    "narrative": _narrative,
    "evidence_url": _evidence_url,
    "result": _result,
    "language": _language,
}

_DATE = re.compile(
    r"(?:(?P<iso_year>\d{4})-(?P<iso_month>\d{1,2})-(?P<iso_day>\d{1,2})"
    r"|(?P<day>\d{1,2})(?P<separator>[./-])(?P<month>\d{1,2})(?P=separator)(?P<year>\d{4}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?(?:\s*r\.?)?"  # a time some exports add (ignored); Polish "r." ("roku")
)


def _valid_until(cell: Cell, today: datetime.date) -> datetime.date:
    """A date after ``today``: a date cell, ``2030-06-30``, or day first as ``30.06.2030``, ``30-06-2030`` or
    ``30/06/2030`` (as in Poland and Ukraine; never month first)."""
    if isinstance(cell, datetime.date):
        day = cell.date() if isinstance(cell, datetime.datetime) else cell
        shown = day.isoformat()
    else:
        text = _text(cell)
        shown = text[:40]
        match = _DATE.fullmatch(text)
        if match is None:
            raise _Invalid("date_invalid", value=shown)
        parts = match.groupdict()
        year, month, number = (int(parts[f"iso_{name}"] or parts[name]) for name in ("year", "month", "day"))
        if not 1970 <= year <= 9000:
            raise _Invalid("date_out_of_range", value=shown)
        try:
            day = datetime.date(year, month, number)
        except ValueError:
            raise _Invalid("date_impossible", value=shown) from None
    if not 1970 <= day.year <= 9000:
        raise _Invalid("date_out_of_range", value=shown)
    if day <= today:
        raise _Invalid("date_not_future", value=shown, today=today.isoformat())
    return day


# --- Downloads ---------------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """The cell with an apostrophe in front if a spreadsheet would take it for a formula (OWASP's advice on CSV
    injection): ``=HYPERLINK(…)`` in a name must stay text when a coordinator opens the results in Excel."""
    return f"'{cell}" if cell.startswith(_FORMULA_START) else cell


def export_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as a CSV that Polish Excel opens directly: UTF-8 with a BOM, ``;`` between cells, CRLF line ends,
    every cell neutralised. ``None`` is an empty cell, a date is written ``2030-06-30``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise("" if cell is None else str(cell)) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def template_csv(language: str) -> bytes:
    """The header row in ``pl``, ``en`` or ``uk`` (Polish otherwise) and one example participant, as a CSV."""
    lang = language if language in LANGUAGES else cohort_words.DEFAULT
    return export_csv([cohort_words.template_headers(lang), cohort_words.EXAMPLE_ROW[lang]])


def template_xlsx(language: str) -> bytes:
    """The same as :func:`template_csv`, as a workbook: the header bold and frozen, columns wide enough to read,
    e-mail and id columns kept as text (so Excel drops no leading zero and makes no link), dates as dates."""
    lang = language if language in LANGUAGES else cohort_words.DEFAULT
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has its first sheet
    sheet.title = cohort_words.SHEET_TITLE[lang]
    headers = cohort_words.template_headers(lang)
    example: list[object] = list(cohort_words.EXAMPLE_ROW[lang])
    example[FIELDS.index("valid_until")] = datetime.date.fromisoformat(str(example[FIELDS.index("valid_until")]))
    sheet.append(headers)
    sheet.append(example)
    formats = {"email": "@", "external_id": "@", "valid_until": "yyyy-mm-dd"}
    for position, (field, header) in enumerate(zip(FIELDS, headers, strict=True), start=1):
        letter = get_column_letter(position)
        sheet.cell(row=1, column=position).font = Font(bold=True)
        width = max(len(header), len(str(cohort_words.EXAMPLE_ROW[lang][position - 1])))
        sheet.column_dimensions[letter].width = min(width + 2, 60)
        if field in formats:
            sheet.column_dimensions[letter].number_format = formats[field]
            sheet.cell(row=2, column=position).number_format = formats[field]
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
