"""The verifier's words in Polish, English and Ukrainian: page text, the outcome banners, the name of every check
and a sentence for every check code.

English check sentences come from the pipeline itself, with their particulars (dates, algorithms, the issuer's
address); Polish and Ukrainian ones are written here per code, and the particulars a reader needs (dates,
reason, replacement) are shown beside them on the page.
"""

from __future__ import annotations

from http_edge.language import LANGUAGES

__all__ = ["CHECK_NAMES", "LANGUAGES", "MESSAGES", "OUTCOMES", "TEXT", "UPLOAD_ERRORS", "check_message"]

PROGRAMME = "Kompetencje jutra – Lublin inspiruje przyszłość"

TEXT: dict[str, dict[str, str]] = {
    "pl": {
        "title": "Weryfikacja poświadczenia",
        "site": "Weryfikator poświadczeń",
        "programme": PROGRAMME,
        "home_lead": "Sprawdź, czy odznaka z CV jest autentyczna i aktualna: zeskanuj kod QR, wklej link lub "
        "prześlij plik. Wynik pojawi się po kilku sekundach.",
        "scan": "Zeskanuj kod QR aparatem",
        "scan_stop": "Wyłącz aparat",
        "scanning": "Skieruj aparat na kod QR…",
        "camera_denied": "Brak dostępu do aparatu. Prosimy przesłać zdjęcie kodu QR lub wkleić link.",
        "no_camera": "Nie znaleziono aparatu. Prosimy przesłać zdjęcie kodu QR lub wkleić link.",
        "paste": "Link lub token poświadczenia",
        "paste_hint": "Link z kodu QR lub z CV (https://…) albo token JWT (eyJ…).",
        "upload": "albo prześlij plik",
        "upload_hint": "Zdjęcie lub zrzut ekranu kodu QR, odznaka PNG/SVG, certyfikat PDF, plik .jwt lub .json "
        "(do 8 MB).",
        "submit": "Sprawdź",
        "learner": "Osoba",
        "achievement": "Osiągnięcie",
        "issuer": "Wystawca",
        "issued": "Data wystawienia",
        "valid_until": "Ważne do",
        "no_expiry": "bezterminowo",
        "revocation": "Status",
        "not_revoked": "nie zostało unieważnione",
        "revoked_on": "unieważnione {date}",
        "status_unknown": "nie udało się sprawdzić",
        "no_status": "wystawca nie prowadzi listy unieważnień",
        "reason": "Powód",
        "replaced_by": "Wystawca wystawił nową kopię",
        "verify_new_copy": "Sprawdź nową kopię",
        "accredited": "Akredytowany w programie: {name}",
        "trusted": "Na liście zaufanych wystawców tego weryfikatora",
        "checked_at": "Sprawdzono {when}",
        "details": "Szczegóły techniczne",
        "details_lead": "Wszystkie sprawdzenia po kolei; najpierw te, które się nie powiodły.",
        "passed": "spełnione",
        "failed": "niespełnione",
        "skipped": "pominięte",
        "unknown": "nierozstrzygnięte",
        "another": "Sprawdź inne poświadczenie",
        "print": "Drukuj potwierdzenie",
        "download_report": "Pobierz raport (JSON)",
        "permalink": "Stały link do tego wyniku",
        "permalink_note": "Po otwarciu linku poświadczenie zostanie sprawdzone ponownie, z aktualnym statusem.",
        "receipt": "Potwierdzenie weryfikacji",
        "receipt_by": "Wystawione przez weryfikator {url}",
        "language": "Język",
        "upload_problem": "Nie udało się odczytać pliku",
        "no_such_page": "Nie ma tu takiej strony. Poświadczenie można sprawdzić poniżej.",
        "insecure_demo": "Tryb demonstracyjny: weryfikator łączy się z wystawcami bez HTTPS. Nie należy na nim "
        "polegać na co dzień.",
        "what_is_checked": "Co sprawdzamy",
        "what_is_checked_lead": "Podpis cyfrowy wystawcy, czy wystawca jest zaufany, czy treść nie została "
        "zmieniona, daty ważności i czy wystawca nie unieważnił poświadczenia.",
    },
    "en": {
        "title": "Credential verification",
        "site": "Credential verifier",
        "programme": PROGRAMME,
        "home_lead": "Check that a badge on a CV is genuine and current: scan its QR code, paste its link or "
        "upload the file. The answer takes a few seconds.",
        "scan": "Scan the QR code with the camera",
        "scan_stop": "Stop the camera",
        "scanning": "Point the camera at the QR code…",
        "camera_denied": "No access to the camera. Upload a photo of the QR code or paste the link.",
        "no_camera": "No camera found. Upload a photo of the QR code or paste the link.",
        "paste": "The credential's link or token",
        "paste_hint": "The link from the QR code or the CV (https://…), or a JWT token (eyJ…).",
        "upload": "or upload a file",
        "upload_hint": "A photo or screenshot of the QR code, a PNG/SVG badge, the PDF certificate, a .jwt or .json "
        "file (up to 8 MB).",
        "submit": "Verify",
        "learner": "Learner",
        "achievement": "Achievement",
        "issuer": "Issuer",
        "issued": "Issued on",
        "valid_until": "Valid until",
        "no_expiry": "no expiry",
        "revocation": "Status",
        "not_revoked": "not revoked",
        "revoked_on": "revoked on {date}",
        "status_unknown": "could not be checked",
        "no_status": "the issuer keeps no revocation list",
        "reason": "Reason",
        "replaced_by": "The issuer has issued a new copy",
        "verify_new_copy": "Verify the new copy",
        "accredited": "Accredited in the programme: {name}",
        "trusted": "On this verifier's list of trusted issuers",
        "checked_at": "Checked {when}",
        "details": "Technical details",
        "details_lead": "Every check in turn; those that did not pass come first.",
        "passed": "passed",
        "failed": "failed",
        "skipped": "skipped",
        "unknown": "unknown",
        "another": "Verify another credential",
        "print": "Print a receipt",
        "download_report": "Download the report (JSON)",
        "permalink": "Permanent link to this result",
        "permalink_note": "Opening the link checks the credential again, with its current status.",
        "receipt": "Verification receipt",
        "receipt_by": "Issued by the verifier at {url}",
        "language": "Language",
        "upload_problem": "The file could not be read",
        "no_such_page": "There is no such page here. Verify a credential below.",
        "insecure_demo": "Demo mode: this verifier contacts issuers without HTTPS. Do not rely on it in production.",
        "what_is_checked": "What is checked",
        "what_is_checked_lead": "The issuer's digital signature, whether the issuer is trusted, that nothing was "
        "changed, the validity dates, and whether the issuer has revoked the credential.",
    },
    "uk": {
        "title": "Перевірка посвідчення",
        "site": "Перевірка посвідчень",
        "programme": PROGRAMME,
        "home_lead": "Перевірте, чи бейдж у резюме справжній і чинний: відскануйте QR-код, вставте посилання "
        "або завантажте файл. Результат зʼявиться за кілька секунд.",
        "scan": "Сканувати QR-код камерою",
        "scan_stop": "Вимкнути камеру",
        "scanning": "Наведіть камеру на QR-код…",
        "camera_denied": "Немає доступу до камери. Завантажте фото QR-коду або вставте посилання.",
        "no_camera": "Камеру не знайдено. Завантажте фото QR-коду або вставте посилання.",
        "paste": "Посилання або токен посвідчення",
        "paste_hint": "Посилання з QR-коду чи резюме (https://…) або токен JWT (eyJ…).",
        "upload": "або завантажте файл",
        "upload_hint": "Фото чи знімок екрана QR-коду, бейдж PNG/SVG, сертифікат PDF, файл .jwt або .json (до 8 МБ).",
        "submit": "Перевірити",
        "learner": "Особа",
        "achievement": "Досягнення",
        "issuer": "Видавець",
        "issued": "Дата видачі",
        "valid_until": "Дійсне до",
        "no_expiry": "безстроково",
        "revocation": "Статус",
        "not_revoked": "не анульоване",
        "revoked_on": "анульоване {date}",
        "status_unknown": "не вдалося перевірити",
        "no_status": "видавець не веде списку анулювань",
        "reason": "Причина",
        "replaced_by": "Видавець видав нову копію",
        "verify_new_copy": "Перевірити нову копію",
        "accredited": "Акредитований у програмі: {name}",
        "trusted": "У списку довірених видавців цієї служби перевірки",
        "checked_at": "Перевірено {when}",
        "details": "Технічні подробиці",
        "details_lead": "Усі перевірки по черзі; спершу ті, що не вдалися.",
        "passed": "пройдено",
        "failed": "не пройдено",
        "skipped": "пропущено",
        "unknown": "не встановлено",
        "another": "Перевірити інше посвідчення",
        "print": "Надрукувати підтвердження",
        "download_report": "Завантажити звіт (JSON)",
        "permalink": "Постійне посилання на цей результат",
        "permalink_note": "Після відкриття посилання посвідчення буде перевірено знову, з поточним статусом.",
        "receipt": "Підтвердження перевірки",
        "receipt_by": "Видано службою перевірки {url}",
        "language": "Мова",
        "upload_problem": "Не вдалося прочитати файл",
        "no_such_page": "Такої сторінки тут немає. Перевірити посвідчення можна нижче.",
        "insecure_demo": "Демонстраційний режим: служба перевірки звертається до видавців без HTTPS. "
        "Не покладайтеся на неї в реальній роботі.",
        "what_is_checked": "Що ми перевіряємо",
        "what_is_checked_lead": "Цифровий підпис видавця, чи видавець довірений, чи вміст не змінено, строки "
        "дії та чи видавець не анулював посвідчення.",
    },
}

OUTCOMES: dict[str, dict[str, tuple[str, str]]] = {
    # outcome: (headline, what it means for the reader); {date} and {reason} are filled in where known.
    "pl": {
        "valid": ("Ważne", "Poświadczenie jest autentyczne i aktualne: sprawdzono podpis, wystawcę, daty i status."),
        "revoked": (
            "Unieważnione {date}",
            "Wystawca unieważnił to poświadczenie. Nie potwierdza ono już kwalifikacji tej osoby.",
        ),
        "suspended": ("Zawieszone", "Wystawca czasowo zawiesił to poświadczenie. Na razie nie należy na nim polegać."),
        "expired": (
            "Wygasło {date} (autentyczne, ale nieaktualne)",
            "Poświadczenie jest autentyczne i nie zostało zmienione, ale jego okres ważności minął.",
        ),
        "not_yet_valid": (
            "Jeszcze nieważne — ważne od {date}",
            "Poświadczenie jest autentyczne, ale zaczyna obowiązywać dopiero od tej daty.",
        ),
        "key_compromised": (
            "Niewiarygodne — klucz wystawcy został przejęty",
            "Wystawca zgłosił, że klucz, którym podpisano to poświadczenie, mógł wpaść w niepowołane ręce. "
            "Nie należy polegać na tej kopii.",
        ),
        "forged": (
            "Fałszywe lub zmienione — nie należy na nim polegać",
            "Podpis wystawcy nie zgadza się z treścią: ktoś zmienił to poświadczenie albo je podrobił.",
        ),
        "untrusted": (
            "Nieznany wystawca — nie należy na nim polegać",
            "Wystawcy nie ma wśród zaufanych wystawców programu, więc nie potwierdzamy jego poświadczeń.",
        ),
        "not_found": (
            "Nie ma takiego poświadczenia",
            "Wystawca nie ma poświadczenia pod tym adresem. Link może być błędny albo niepełny.",
        ),
        "not_a_credential": (
            "To nie jest poświadczenie, które da się sprawdzić",
            "Wklejony tekst lub plik nie zawiera poświadczenia. Prosimy sprawdzić, czy skopiowano cały link lub token.",
        ),
        "indeterminate": (
            "Nie można teraz sprawdzić — prosimy spróbować później",
            "Nie udało się połączyć z wystawcą lub rejestrem. To nie znaczy, że poświadczenie jest fałszywe.",
        ),
    },
    "en": {
        "valid": ("Valid", "The credential is genuine and current: signature, issuer, dates and status checked."),
        "revoked": (
            "Revoked on {date}",
            "The issuer has withdrawn this credential. It no longer confirms this person's qualification.",
        ),
        "suspended": ("Suspended", "The issuer has suspended this credential for now. Do not rely on it at present."),
        "expired": (
            "Expired on {date} (genuine, but no longer current)",
            "The credential is genuine and unaltered, but its validity period has ended.",
        ),
        "not_yet_valid": (
            "Not valid yet — valid from {date}",
            "The credential is genuine, but it takes effect only from that date.",
        ),
        "key_compromised": (
            "Untrustworthy — the issuer's key was compromised",
            "The issuer reported that the key this credential was signed with may be in the wrong hands. "
            "Do not rely on this copy.",
        ),
        "forged": (
            "Forged or altered — do not rely on it",
            "The issuer's signature does not match the content: someone changed or forged this credential.",
        ),
        "untrusted": (
            "Unknown issuer — do not rely on it",
            "The issuer is not among the programme's trusted issuers, so its credentials are not confirmed.",
        ),
        "not_found": (
            "No such credential",
            "The issuer knows no credential at this address. The link may be wrong or incomplete.",
        ),
        "not_a_credential": (
            "This is not a credential that can be verified",
            "The pasted text or file holds no credential. Check that the whole link or token was copied.",
        ),
        "indeterminate": (
            "Cannot be checked right now — try again later",
            "The issuer or the registry could not be reached. This does not mean the credential is forged.",
        ),
    },
    "uk": {
        "valid": ("Дійсне", "Посвідчення справжнє й чинне: підпис, видавця, дати та статус перевірено."),
        "revoked": (
            "Анульоване {date}",
            "Видавець анулював це посвідчення. Воно більше не підтверджує кваліфікацію цієї особи.",
        ),
        "suspended": ("Призупинене", "Видавець тимчасово призупинив це посвідчення. Наразі на нього не покладайтеся."),
        "expired": (
            "Строк дії минув {date} (справжнє, але неактуальне)",
            "Посвідчення справжнє й не змінене, але строк його дії закінчився.",
        ),
        "not_yet_valid": (
            "Ще не дійсне — дійсне з {date}",
            "Посвідчення справжнє, але набуває чинності лише з цієї дати.",
        ),
        "key_compromised": (
            "Ненадійне — ключ видавця скомпрометовано",
            "Видавець повідомив, що ключ, яким підписано це посвідчення, міг потрапити в чужі руки. "
            "Не покладайтеся на цю копію.",
        ),
        "forged": (
            "Підроблене або змінене — не покладайтеся на нього",
            "Підпис видавця не відповідає вмісту: хтось змінив або підробив це посвідчення.",
        ),
        "untrusted": (
            "Невідомий видавець — не покладайтеся на нього",
            "Видавця немає серед довірених видавців програми, тож його посвідчення не підтверджуються.",
        ),
        "not_found": (
            "Такого посвідчення немає",
            "У видавця немає посвідчення за цією адресою. Посилання може бути хибним або неповним.",
        ),
        "not_a_credential": (
            "Це не посвідчення, яке можна перевірити",
            "Вставлений текст або файл не містить посвідчення. Перевірте, чи посилання або токен скопійовано повністю.",
        ),
        "indeterminate": (
            "Зараз неможливо перевірити — спробуйте пізніше",
            "Не вдалося звʼязатися з видавцем або реєстром. Це не означає, що посвідчення підроблене.",
        ),
    },
}

CHECK_NAMES: dict[str, dict[str, str]] = {
    "pl": {
        "retrieval": "Pobranie od wystawcy",
        "format": "Format",
        "header": "Nagłówek",
        "issuer": "Wystawca",
        "key": "Klucz wystawcy",
        "signature": "Podpis cyfrowy",
        "claims": "Zgodność danych",
        "schema": "Schemat Open Badges 3.0",
        "validity": "Okres ważności",
        "status": "Unieważnienie",
        "internal": "Weryfikator",
    },
    "en": {
        "retrieval": "Retrieval from the issuer",
        "format": "Format",
        "header": "Header",
        "issuer": "Issuer",
        "key": "Issuer's key",
        "signature": "Digital signature",
        "claims": "Consistency of the data",
        "schema": "Open Badges 3.0 schema",
        "validity": "Validity period",
        "status": "Revocation",
        "internal": "Verifier",
    },
    "uk": {
        "retrieval": "Отримання від видавця",
        "format": "Формат",
        "header": "Заголовок",
        "issuer": "Видавець",
        "key": "Ключ видавця",
        "signature": "Цифровий підпис",
        "claims": "Узгодженість даних",
        "schema": "Схема Open Badges 3.0",
        "validity": "Строк дії",
        "status": "Анулювання",
        "internal": "Служба перевірки",
    },
}

MESSAGES: dict[str, dict[str, str]] = {
    # Sentences by check code; "ok:<check>" is what a passed check says.
    "pl": {
        "ok:retrieval": "Poświadczenie pobrano od zaufanego wystawcy.",
        "ok:format": "Token ma poprawną postać podpisanego JWT.",
        "ok:header": "Nagłówek podaje dozwolony algorytm podpisu i tylko dozwolone pola.",
        "ok:issuer": "Wystawca jest zaufany.",
        "ok:key": "Klucz, którym podpisano token, opublikował sam wystawca.",
        "ok:signature": "Podpis jest prawidłowy: treść nie została zmieniona.",
        "ok:claims": "Dane w tokenie zgadzają się z treścią poświadczenia.",
        "ok:schema": "Poświadczenie jest zgodne ze standardem Open Badges 3.0.",
        "vc_data_model": "Poświadczenie jest zgodne z modelem danych W3C VC 2.0 (nie jest odznaką Open Badges).",
        "ok:validity": "Poświadczenie jest w okresie ważności.",
        "ok:status": "Lista statusów wystawcy potwierdza, że poświadczenie nie zostało unieważnione.",
        "not_checked": "Nie sprawdzono, ponieważ wcześniejsze sprawdzenie się nie powiodło.",
        "no_status_list": "Wystawca nie prowadzi dla tego poświadczenia listy unieważnień.",
        "malformed": "To nie jest poprawny token JWT: brakuje w nim części albo jest uszkodzony.",
        "unsupported_algorithm": "Algorytm podpisu jest niedozwolony lub nie pasuje do klucza wystawcy.",
        "header_not_allowed": "Nagłówek tokenu zawiera niedozwolone pola.",
        "invalid_key": "Klucz podany w tokenie jest niepoprawny.",
        "untrusted_issuer": "Wystawcy nie ma na liście zaufanych wystawców programu.",
        "unknown_key": "Wystawca nie publikuje klucza, którym podpisano token.",
        "keys_unavailable": "Nie udało się pobrać kluczy wystawcy; prosimy spróbować ponownie później.",
        "bad_signature": "Podpis się nie zgadza: token zmieniono lub sfałszowano.",
        "claims_mismatch": "Dane w tokenie nie zgadzają się z treścią poświadczenia.",
        "legacy_format": "To token w starym formacie VC 1.1 (pole 'vc'), którego nie przyjmujemy.",
        "schema_invalid": "Poświadczenie nie jest zgodne ze schematem Open Badges 3.0.",
        "unknown_context": "Poświadczenie używa pojęć spoza znanych słowników; nie da się go odczytać jednoznacznie.",
        "expired": "Okres ważności poświadczenia minął.",
        "not_yet_valid": "Poświadczenie nie jest jeszcze ważne.",
        "status_unavailable": "Sprawdzono podpis i wystawcę; nie udało się sprawdzić statusu unieważnienia.",
        "revoked": "Wystawca unieważnił to poświadczenie.",
        "suspended": "Wystawca zawiesił to poświadczenie.",
        "key_compromised": "Wystawca zgłosił klucz podpisu jako przejęty; niczemu, co nim podpisano, nie można ufać.",
        "registry_unavailable": "Nie udało się odczytać rejestru zaufanych wystawców programu.",
        "not_found": "Wystawca nie ma takiego poświadczenia.",
        "credential_unavailable": "Nie udało się pobrać poświadczenia od wystawcy.",
        "unsupported_context": "Nieznana weryfikatorowi wersja Open Badges; poświadczenia nie można sprawdzić.",
        "unsupported_link": "To nie jest link do poświadczenia zaufanego wystawcy (…/credentials/<id>).",
        "internal_error": "Błąd wewnętrzny weryfikatora; prosimy spróbować ponownie później.",
    },
    "uk": {
        "ok:retrieval": "Посвідчення отримано від довіреного видавця.",
        "ok:format": "Токен має правильний формат підписаного JWT.",
        "ok:header": "Заголовок вказує дозволений алгоритм підпису й лише дозволені поля.",
        "ok:issuer": "Видавець довірений.",
        "ok:key": "Ключ, яким підписано токен, опублікував сам видавець.",
        "ok:signature": "Підпис правильний: вміст не змінено.",
        "ok:claims": "Дані в токені збігаються зі змістом посвідчення.",
        "ok:schema": "Посвідчення відповідає стандарту Open Badges 3.0.",
        "vc_data_model": "Посвідчення відповідає моделі даних W3C VC 2.0 (це не бейдж Open Badges).",
        "ok:validity": "Посвідчення в межах строку дії.",
        "ok:status": "Список статусів видавця підтверджує, що посвідчення не анульоване.",
        "not_checked": "Не перевірено, оскільки попередня перевірка не вдалася.",
        "no_status_list": "Видавець не веде для цього посвідчення списку анулювань.",
        "malformed": "Це некоректний токен JWT: бракує частин або його пошкоджено.",
        "unsupported_algorithm": "Алгоритм підпису недозволений або не відповідає ключу видавця.",
        "header_not_allowed": "Заголовок токена містить недозволені поля.",
        "invalid_key": "Ключ, указаний у токені, некоректний.",
        "untrusted_issuer": "Видавця немає у списку довірених видавців програми.",
        "unknown_key": "Видавець не публікує ключа, яким підписано токен.",
        "keys_unavailable": "Не вдалося отримати ключі видавця; спробуйте пізніше.",
        "bad_signature": "Підпис не збігається: токен змінено або підроблено.",
        "claims_mismatch": "Дані в токені не збігаються зі змістом посвідчення.",
        "legacy_format": "Це токен у старому форматі VC 1.1 (поле 'vc'), який ми не приймаємо.",
        "schema_invalid": "Посвідчення не відповідає схемі Open Badges 3.0.",
        "unknown_context": "Посвідчення використовує поняття поза відомими словниками; його не можна прочитати "
        "однозначно.",
        "expired": "Строк дії посвідчення минув.",
        "not_yet_valid": "Посвідчення ще не набуло чинності.",
        "status_unavailable": "Підпис і видавця перевірено; не вдалося перевірити, чи посвідчення не анульоване.",
        "revoked": "Видавець анулював це посвідчення.",
        "suspended": "Видавець призупинив це посвідчення.",
        "key_compromised": "Видавець оголосив ключ підпису скомпрометованим; нічому, що ним підписано, не "
        "можна довіряти.",
        "registry_unavailable": "Не вдалося прочитати реєстр довірених видавців програми.",
        "not_found": "У видавця немає такого посвідчення.",
        "credential_unavailable": "Не вдалося отримати посвідчення від видавця.",
        "unsupported_context": "Невідома службі перевірки версія Open Badges; посвідчення неможливо перевірити.",
        "unsupported_link": "Це не посилання на посвідчення довіреного видавця (…/credentials/<id>).",
        "internal_error": "Внутрішня помилка служби перевірки; спробуйте пізніше.",
    },
}

UPLOAD_ERRORS: dict[str, dict[str, str]] = {
    # Why an uploaded file gave nothing to verify, by the code of verifier.uploads.UploadRejected.
    "pl": {
        "too_large": "Plik jest za duży.",
        "empty": "Plik jest pusty.",
        "unsupported_type": "Nieobsługiwany rodzaj pliku. Prosimy przesłać zdjęcie kodu QR, odznakę PNG/SVG, PDF, "
        ".jwt lub .json.",
        "no_credential_in_png": "Ten obraz PNG nie jest odznaką z zapisanym poświadczeniem ani nie zawiera kodu QR.",
        "no_credential_in_svg": "Ten plik SVG nie zawiera zapisanego poświadczenia.",
        "no_credential_in_pdf": "Ten PDF nie zawiera poświadczenia (certyfikaty Odznaki mają je w załączniku).",
        "no_qr_found": "Na zdjęciu nie znaleziono czytelnego kodu QR. Prosimy zrobić ostre zdjęcie z bliska, na "
        "wprost.",
        "unreadable_image": "Nie udało się odczytać obrazu.",
        "bad_json": "Plik JSON jest niepoprawny albo nie opisuje poświadczenia.",
        "bad_pdf": "Nie udało się odczytać pliku PDF.",
        "bad_svg": "Nie udało się bezpiecznie odczytać pliku SVG.",
        "image_too_large": "Obraz ma za dużo pikseli. Prosimy przesłać zrzut ekranu lub mniejsze zdjęcie.",
        "no_credential_in_json": "Ten plik JSON nie zawiera poświadczenia z linkiem wystawcy ani podpisanego tokenu.",
    },
    "en": {
        "too_large": "The file is too large.",
        "empty": "The file is empty.",
        "unsupported_type": "Unsupported file type. Upload a photo of the QR code, a PNG/SVG badge, a PDF, .jwt or "
        ".json.",
        "no_credential_in_png": "This PNG image is neither a badge with a credential baked in nor a picture of a "
        "QR code.",
        "no_credential_in_svg": "This SVG file holds no baked credential.",
        "no_credential_in_pdf": "This PDF holds no credential (Odznaka certificates carry it as an attachment).",
        "no_qr_found": "No readable QR code was found in the picture. Take it close up, straight and in focus.",
        "unreadable_image": "The image could not be read.",
        "bad_json": "The JSON file is invalid or does not describe a credential.",
        "bad_pdf": "The PDF file could not be read.",
        "bad_svg": "The SVG file could not be read safely.",
        "image_too_large": "The image has too many pixels. Upload a screenshot or a smaller photo.",
        "no_credential_in_json": "This JSON file holds neither a credential with its issuer's link nor a signed token.",
    },
    "uk": {
        "too_large": "Файл завеликий.",
        "empty": "Файл порожній.",
        "unsupported_type": "Непідтримуваний тип файлу. Завантажте фото QR-коду, бейдж PNG/SVG, PDF, .jwt або .json.",
        "no_credential_in_png": "Це зображення PNG не є бейджем із вбудованим посвідченням і не містить QR-коду.",
        "no_credential_in_svg": "Цей файл SVG не містить вбудованого посвідчення.",
        "no_credential_in_pdf": "Цей PDF не містить посвідчення (сертифікати Odznaka мають його у вкладенні).",
        "no_qr_found": "На фото не знайдено читабельного QR-коду. Сфотографуйте зблизька, рівно й чітко.",
        "unreadable_image": "Не вдалося прочитати зображення.",
        "bad_json": "Файл JSON неправильний або не описує посвідчення.",
        "bad_pdf": "Не вдалося прочитати файл PDF.",
        "bad_svg": "Не вдалося безпечно прочитати файл SVG.",
        "image_too_large": "Зображення має забагато пікселів. Завантажте знімок екрана або менше фото.",
        "no_credential_in_json": "Цей файл JSON не містить ні посвідчення з посиланням видавця, ні підписаного токена.",
    },
}


def check_message(lang: str, check_id: str, code: str, status: str, english: str) -> str:
    """The sentence for one check in ``lang``: English as the pipeline wrote it, the others by code."""
    if lang not in MESSAGES:
        return english
    if status == "passed" and code == "ok":
        return MESSAGES[lang].get(f"ok:{check_id}", english)
    return MESSAGES[lang].get(code, english)
