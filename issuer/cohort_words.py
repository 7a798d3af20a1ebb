"""The words of a participant file in Polish, English and Ukrainian: its column names, and what is wrong with it."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT = "pl"

QUOTES = {"pl": ("„", "”"), "en": ("“", "”"), "uk": ("«", "»")}

LABELS: dict[str, dict[str, str]] = {
    "pl": {
        "name": "Imię i nazwisko",
        "email": "E-mail",
        "external_id": "Identyfikator uczestnika",
        "narrative": "Opis",
        "evidence_url": "Link do dowodu",
        "result": "Wynik",
        "valid_until": "Ważne do",
        "language": "Język",
    },
    "en": {
        "name": "Full name",
        "email": "E-mail",
        "external_id": "Learner ID",
        "narrative": "Narrative",
        "evidence_url": "Evidence URL",
        "result": "Result",
        "valid_until": "Valid until",
        "language": "Language",
    },
    "uk": {
        "name": "Ім’я та прізвище",
        "email": "Електронна пошта",
        "external_id": "Ідентифікатор учасника",
        "narrative": "Опис",
        "evidence_url": "Посилання на доказ",
        "result": "Результат",
        "valid_until": "Дійсний до",
        "language": "Мова",
    },
}
"""Each field's column name, as the template writes it (without the hint in brackets)."""

_HINTS = {
    "pl": {"narrative": "opcjonalnie", "valid_until": "RRRR-MM-DD", "language": "pl/en/uk"},
    "en": {"narrative": "optional", "valid_until": "YYYY-MM-DD", "language": "pl/en/uk"},
    "uk": {"narrative": "необов’язково", "valid_until": "РРРР-ММ-ДД", "language": "pl/en/uk"},
}

EXAMPLE_ROW = {
    "pl": (
        "Anna Kowalska",
        "anna.kowalska@example.org",
        "S-2026-001",
        "Ukończyła kurs i obroniła projekt końcowy.",
        "https://example.org/projekty/anna-kowalska",
        "bardzo dobry",
        "2030-06-30",
        "pl",
    ),
    "en": (
        "Anna Kowalska",
        "anna.kowalska@example.org",
        "S-2026-001",
        "Completed the course and defended the final project.",
        "https://example.org/projects/anna-kowalska",
        "very good",
        "2030-06-30",
        "en",
    ),
    "uk": (
        "Олена Шевченко",
        "olena.shevchenko@example.org",
        "S-2026-001",
        "Завершила курс і захистила підсумковий проєкт.",
        "https://example.org/projects/olena-shevchenko",
        "дуже добре",
        "2030-06-30",
        "uk",
    ),
}
"""The template's example participant, in the order of the columns."""

SHEET_TITLE = {"pl": "Uczestnicy", "en": "Participants", "uk": "Учасники"}

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "name": {
        "pl": ("Imię i nazwisko", "Imie i nazwisko", "Nazwisko i imię", "Uczestnik", "Uczestniczka", "Osoba"),
        "en": ("Full name", "Name", "Learner", "Learner name", "Participant", "Participant name", "Student name"),
        "uk": ("Ім’я та прізвище", "Ім’я і прізвище", "Прізвище та ім’я", "Прізвище, ім’я", "ПІБ", "Учасник"),
    },
    "email": {
        "pl": ("E-mail", "Email", "Adres e-mail", "Adres email", "Mail", "Adres mailowy", "E-mail uczestnika"),
        "en": ("E-mail", "Email", "E-mail address", "Email address", "Mail"),
        "uk": ("Електронна пошта", "Ел. пошта", "Електронна адреса", "Адреса електронної пошти", "E-mail"),
    },
    "external_id": {
        "pl": ("Identyfikator uczestnika", "Identyfikator", "ID", "Nr albumu", "Numer albumu", "Nr indeksu"),
        "en": ("Learner ID", "External ID", "ID", "Student ID", "Participant ID", "Identifier"),
        "uk": ("Ідентифікатор учасника", "Ідентифікатор", "ID", "Номер залікової книжки"),
    },
    "narrative": {
        "pl": ("Opis", "Uzasadnienie", "Opis osiągnięcia"),
        "en": ("Narrative", "Description"),
        "uk": ("Опис", "Обґрунтування"),
    },
    "evidence_url": {
        "pl": ("Link do dowodu", "Dowód", "Adres dowodu"),
        "en": ("Evidence URL", "Evidence", "Evidence link"),
        "uk": ("Посилання на доказ", "Доказ"),
    },
    "result": {
        "pl": ("Wynik", "Ocena", "Ocena końcowa", "Wynik końcowy"),
        "en": ("Result", "Grade", "Score"),
        "uk": ("Результат", "Оцінка"),
    },
    "valid_until": {
        "pl": ("Ważne do", "Data ważności", "Ważność", "Termin ważności"),
        "en": ("Valid until", "Expires", "Expiry date", "Expiration date"),
        "uk": ("Дійсний до", "Дійсне до", "Термін дії", "Дата закінчення"),
    },
    "language": {
        "pl": ("Język",),
        "en": ("Language",),
        "uk": ("Мова",),
    },
}
"""The column names each field is recognised by (case, accents and punctuation do not matter)."""

FIRST_NAME = ("Imię", "Imie", "Imiona", "First name", "Given name", "Forename", "Ім’я")
LAST_NAME = ("Nazwisko", "Last name", "Surname", "Family name", "Прізвище")
NAME_WHEN_ALONE = ("Ім’я",)
"""Ukrainian «ім’я» is the whole name, unless a «прізвище» column stands beside it."""

PERSONAL_ID = (
    "PESEL",
    "Nr PESEL",
    "Numer PESEL",
    "National ID",
    "National ID number",
    "Personal ID number",
    "Personal identity number",
    "РНОКПП",
    "ІПН",
    "Податковий номер",
)
"""Columns of national identity numbers, which the programme never takes."""

_SPLIT_NAME = {
    "pl": "albo dwie kolumny: „Imię” i „Nazwisko”",
    "en": "or two columns: “First name” and “Last name”",
    "uk": "або два стовпці: «Ім’я» і «Прізвище»",
}

LANGUAGE_VALUES = {
    "pl": ("pl", "pol", "polski", "polska", "polish", "польська"),
    "en": ("en", "eng", "angielski", "english", "англійська"),
    "uk": ("uk", "ua", "ukr", "ukraiński", "ukrainian", "українська"),
}
"""What a coordinator may write in the language column, by the language it means."""

_ROW = {"pl": "Wiersz {line}", "en": "Row {line}", "uk": "Рядок {line}"}
_COLUMN = {"pl": ", kolumna {column}", "en": ", column {column}", "uk": ", стовпець {column}"}

MESSAGES: dict[str, dict[str, str]] = {
    "pl": {
        "too_large": "Plik jest za duży: może mieć najwyżej {limit_mb} MB. Podziel listę na kilka plików.",
        "empty": "Plik jest pusty.",
        "unknown_format": "To nie jest plik CSV ani XLSX. Zapisz arkusz w Excelu jako „Skoroszyt programu Excel "
        "(.xlsx)” albo „CSV UTF-8 (rozdzielany przecinkami)”.",
        "xls_unsupported": "To plik w starym formacie Excela (.xls), którego nie odczytujemy. Otwórz go w Excelu, "
        "wybierz „Zapisz jako” i zapisz jako „Skoroszyt programu Excel (.xlsx)” albo „CSV UTF-8”.",
        "xlsx_encrypted": "Skoroszyt jest chroniony hasłem. Usuń hasło (Plik → Informacje → Chroń skoroszyt), "
        "zapisz plik i prześlij go ponownie.",
        "xlsx_broken": "Pliku XLSX nie da się odczytać: jest uszkodzony albo niekompletny. Otwórz go w Excelu, "
        "zapisz ponownie i prześlij jeszcze raz.",
        "xlsx_too_large": "Skoroszyt po rozpakowaniu byłby za duży (ponad {limit_mb} MB) albo jest podejrzanie "
        "mocno skompresowany. Usuń zbędne arkusze i obrazy albo zapisz listę jako CSV.",
        "encoding": "Nie udało się rozpoznać kodowania znaków w pliku. Zapisz go w Excelu jako „CSV UTF-8 "
        "(rozdzielany przecinkami)”.",
        "csv_malformed": "Pliku CSV nie da się odczytać: któraś komórka jest bardzo długa albo cudzysłów nie jest "
        "zamknięty. Zapisz arkusz ponownie jako CSV.",
        "no_header": "Nie rozpoznaliśmy nazw kolumn. Pierwszy wypełniony wiersz musi je zawierać, np. "
        "„Imię i nazwisko” i „E-mail”.",
        "missing_column": "Brakuje kolumny {label}. Jej nagłówek może brzmieć: {accepted}.",
        "duplicate_column": "Kolumny {other} i {column} oznaczają to samo ({label}); zostaw tylko jedną.",
        "personal_id_column": "Kolumna {column} zawiera numery PESEL lub inne numery identyfikacyjne. Nie "
        "przyjmujemy ich, bo zbieramy tylko niezbędne dane osobowe: usuń tę kolumnę i prześlij plik ponownie.",
        "too_many_rows": "Liczba wierszy z danymi: {rows}, a jednorazowo można przesłać najwyżej {limit}. "
        "Podziel listę na kilka plików.",
        "missing": "brak wartości, a to pole jest wymagane.",
        "formula_without_value": "komórka zawiera formułę bez obliczonej wartości. Otwórz plik w Excelu, zapisz "
        "go ponownie i prześlij jeszcze raz (albo wklej wartości w miejsce formuł).",
        "too_long": "tekst jest za długi (długość: {length}, dozwolone najwyżej {limit} znaków).",
        "control_characters": "zawiera niewidoczne znaki sterujące; wpisz tę wartość ponownie.",
        "email_invalid": "to nie jest adres e-mail (poprawny wygląda np. tak: anna.nowak@example.org).",
        "email_multiple": "w komórce jest więcej niż jeden adres; każdy uczestnik potrzebuje jednego adresu "
        "w swoim wierszu.",
        "url_invalid": "to nie jest pełny adres strony internetowej (powinien zaczynać się od https:// albo http://).",
        "date_invalid": "{value} to nie data; wpisz ją jako RRRR-MM-DD (np. 2030-06-30) albo DD.MM.RRRR.",
        "date_impossible": "takiego dnia nie ma w kalendarzu ({value}).",
        "date_out_of_range": "rok w dacie {value} jest spoza zakresu 1970–9000.",
        "date_not_future": "data ważności {value} powinna być późniejsza niż dzisiejsza ({today}).",
        "language_unknown": "nieznany język {value}; wpisz pl, en albo uk (puste pole oznacza polski).",
        "personal_id_value": "to wygląda na numer PESEL, a numerów PESEL nie przyjmujemy. Użyj innego "
        "identyfikatora (np. numeru albumu) albo zostaw pole puste.",
        "duplicate_in_file": "ta sama wartość co w wierszu {other}; każdy uczestnik może wystąpić w pliku tylko raz.",
        "already_issued": "ten uczestnik ma już to poświadczenie.",
        "not_issuable": "nie udało się wystawić poświadczenia: {reason}",
        "unknown": "błąd ({code}).",
    },
    "en": {
        "too_large": "The file is too large: it may have at most {limit_mb} MB. Split the list into several files.",
        "empty": "The file is empty.",
        "unknown_format": "This is not a CSV or XLSX file. In Excel, save the sheet as “Excel Workbook (.xlsx)” "
        "or “CSV UTF-8 (Comma delimited)”.",
        "xls_unsupported": "This file is in the old Excel format (.xls), which we cannot read. Open it in Excel, "
        "choose “Save As” and save it as “Excel Workbook (.xlsx)” or “CSV UTF-8”.",
        "xlsx_encrypted": "The workbook is password-protected. Remove the password (File → Info → Protect "
        "Workbook), save the file and upload it again.",
        "xlsx_broken": "The XLSX file cannot be read: it is damaged or incomplete. Open it in Excel, save it "
        "again and upload it once more.",
        "xlsx_too_large": "Unpacked, the workbook would be too large (over {limit_mb} MB) or it is suspiciously "
        "highly compressed. Remove unneeded sheets and pictures, or save the list as CSV.",
        "encoding": "The file's character encoding could not be recognised. In Excel, save it as “CSV UTF-8 "
        "(Comma delimited)”.",
        "csv_malformed": "The CSV file cannot be read: a cell is extremely long or a quotation mark is never "
        "closed. Save the sheet as CSV again.",
        "no_header": "No column names were recognised. The first filled-in row must name the columns, e.g. "
        "“Full name” and “E-mail”.",
        "missing_column": "The {label} column is missing. Its heading may be: {accepted}.",
        "duplicate_column": "The columns {other} and {column} mean the same ({label}); keep only one of them.",
        "personal_id_column": "The column {column} holds PESEL or other national identity numbers. We do not "
        "accept them, as we collect only the personal data we need: remove the column and upload the file again.",
        "too_many_rows": "The file has {rows} rows of data, and at most {limit} can be uploaded at once. "
        "Split the list into several files.",
        "missing": "empty, but this value is required.",
        "formula_without_value": "the cell holds a formula that was never calculated. Open the file in Excel, "
        "save it again and upload it once more (or paste values instead of formulas).",
        "too_long": "the text is too long ({length} characters; at most {limit}).",
        "control_characters": "contains invisible control characters; type the value again.",
        "email_invalid": "this is not an e-mail address (a correct one looks like anna.nowak@example.org).",
        "email_multiple": "the cell holds more than one address; each participant needs one address on their own row.",
        "url_invalid": "this is not a full web address (it should start with https:// or http://).",
        "date_invalid": "{value} is not a date; write it as YYYY-MM-DD (e.g. 2030-06-30) or DD.MM.YYYY.",
        "date_impossible": "there is no such day in the calendar ({value}).",
        "date_out_of_range": "the year in {value} is outside 1970–9000.",
        "date_not_future": "the expiry date {value} should be later than today ({today}).",
        "language_unknown": "unknown language {value}; write pl, en or uk (an empty cell means Polish).",
        "personal_id_value": "this looks like a PESEL number, and we do not accept national identity numbers. "
        "Use another identifier (such as a student number) or leave the cell empty.",
        "duplicate_in_file": "the same as on row {other}; each participant may appear only once in the file.",
        "already_issued": "this participant already holds the credential.",
        "not_issuable": "the credential could not be issued: {reason}",
        "unknown": "error ({code}).",
    },
    "uk": {
        "too_large": "Файл завеликий: щонайбільше {limit_mb} МБ. Розділіть список на кілька файлів.",
        "empty": "Файл порожній.",
        "unknown_format": "Це не файл CSV і не XLSX. В Excel збережіть таблицю як «Книга Excel (.xlsx)» або "
        "«CSV UTF-8 (розділювач — кома)».",
        "xls_unsupported": "Це файл у старому форматі Excel (.xls), який ми не читаємо. Відкрийте його в Excel, "
        "виберіть «Зберегти як» і збережіть як «Книга Excel (.xlsx)» або «CSV UTF-8».",
        "xlsx_encrypted": "Книгу захищено паролем. Зніміть пароль (Файл → Відомості → Захистити книгу), "
        "збережіть файл і завантажте його знову.",
        "xlsx_broken": "Файл XLSX не вдається прочитати: він пошкоджений або неповний. Відкрийте його в Excel, "
        "збережіть ще раз і завантажте знову.",
        "xlsx_too_large": "Розпакована книга була б завеликою (понад {limit_mb} МБ) або вона підозріло сильно "
        "стиснута. Видаліть зайві аркуші й зображення або збережіть список як CSV.",
        "encoding": "Не вдалося розпізнати кодування символів у файлі. В Excel збережіть його як «CSV UTF-8 "
        "(розділювач — кома)».",
        "csv_malformed": "Файл CSV не вдається прочитати: якась клітинка надто довга або лапки не закриті. "
        "Збережіть таблицю як CSV ще раз.",
        "no_header": "Не вдалося розпізнати назви стовпців. Перший заповнений рядок має їх містити, напр. "
        "«Ім’я та прізвище» і «Електронна пошта».",
        "missing_column": "Бракує стовпця {label}. Його заголовок може бути таким: {accepted}.",
        "duplicate_column": "Стовпці {other} і {column} означають те саме ({label}); залиште лише один.",
        "personal_id_column": "Стовпець {column} містить номери PESEL або інші ідентифікаційні номери. Ми їх не "
        "приймаємо, бо збираємо лише необхідні персональні дані: видаліть цей стовпець і завантажте файл знову.",
        "too_many_rows": "Кількість рядків із даними: {rows}, а за один раз можна завантажити щонайбільше "
        "{limit}. Розділіть список на кілька файлів.",
        "missing": "порожньо, а це поле обов’язкове.",
        "formula_without_value": "клітинка містить формулу без обчисленого значення. Відкрийте файл в Excel, "
        "збережіть його ще раз і завантажте знову (або вставте значення замість формул).",
        "too_long": "текст задовгий (довжина: {length}, дозволено щонайбільше {limit} символів).",
        "control_characters": "містить невидимі керівні символи; введіть значення ще раз.",
        "email_invalid": "це не адреса електронної пошти (правильна має вигляд, напр., anna.nowak@example.org).",
        "email_multiple": "у клітинці більше однієї адреси; кожен учасник має мати одну адресу у своєму рядку.",
        "url_invalid": "це не повна вебадреса (вона має починатися з https:// або http://).",
        "date_invalid": "{value} — не дата; запишіть її як РРРР-ММ-ДД (напр., 2030-06-30) або ДД.ММ.РРРР.",
        "date_impossible": "такого дня немає в календарі ({value}).",
        "date_out_of_range": "рік у даті {value} поза межами 1970–9000.",
        "date_not_future": "дата {value} має бути пізнішою за сьогоднішню ({today}).",
        "language_unknown": "невідома мова {value}; напишіть pl, en або uk (порожня клітинка означає польську).",
        "personal_id_value": "це схоже на номер PESEL, а національних ідентифікаційних номерів ми не приймаємо. "
        "Використайте інший ідентифікатор (напр., номер залікової книжки) або залиште клітинку порожньою.",
        "duplicate_in_file": "те саме, що в рядку {other}; кожен учасник може бути у файлі лише один раз.",
        "already_issued": "цей учасник уже має це посвідчення.",
        "not_issuable": "не вдалося видати посвідчення: {reason}",
        "unknown": "помилка ({code}).",
    },
}
"""Each problem code's sentence. Placeholders come from the problem's ``params``, plus ``{line}``, ``{column}``
and, when the problem names a field, ``{label}`` and ``{accepted}``."""

_QUOTED = ("column", "other", "value", "label")
"""Placeholders that stand for something written in the file, shown between the language's quotation marks
(``other`` is quoted only when it is a column name, not a row number)."""
_COUNTS = ("rows", "limit", "length")
"""Numbers written with thousands grouped; row numbers are not, as the spreadsheet shows them without."""


def template_headers(language: str) -> tuple[str, ...]:
    """The template's header row in that language: each field's column name with its hint in brackets."""
    lang = language if language in LABELS else DEFAULT
    return tuple(
        f"{label} ({_HINTS[lang][field]})" if field in _HINTS[lang] else label for field, label in LABELS[lang].items()
    )


def quote(text: str, language: str) -> str:
    opening, closing = QUOTES.get(language, QUOTES[DEFAULT])
    return f"{opening}{text}{closing}"


def number(value: int, language: str) -> str:
    """``10 001`` in Polish and Ukrainian (a no-break space between thousands), ``10,001`` in English."""
    grouped = f"{value:,}"
    return grouped if language == "en" else grouped.replace(",", "\u00a0")


def accepted_headers(field: str, language: str) -> str:
    """The column names a field is recognised by, in that language, ready for a sentence."""
    spellings = ", ".join(quote(text, language) for text in HEADERS.get(field, {}).get(language, ()))
    return f"{spellings} {_SPLIT_NAME[language]}" if field == "name" else spellings


class _Values(dict[str, str]):
    """Fills a placeholder the stored problem lacks with a question mark instead of failing the whole page."""

    def __missing__(self, key: str) -> str:
        return "?"


def message(
    code: str,
    language: str,
    *,
    line: int | None,
    column: str | None,
    field: str | None,
    params: Mapping[str, str | int],
) -> str:
    """The sentence a course coordinator reads: ``Wiersz 14, kolumna „E-mail”: to nie jest adres e-mail (…)``."""
    lang = language if language in MESSAGES else DEFAULT
    values = _Values(code=code)
    for key, value in params.items():
        shown = number(value, lang) if key in _COUNTS and isinstance(value, int) else str(value)
        values[key] = quote(shown, lang) if key in _QUOTED and isinstance(value, str) else shown
    if column is not None:
        values["column"] = quote(column, lang)
    if field in LABELS[lang]:
        values["label"] = quote(LABELS[lang][field], lang)
        values["accepted"] = accepted_headers(field, lang)
    text = MESSAGES[lang].get(code, MESSAGES[lang]["unknown"]).format_map(values)
    if line is None:
        return text
    where = _ROW[lang].format(line=line) + (_COLUMN[lang].format(column=values["column"]) if column else "")
    return f"{where}: {text}"
