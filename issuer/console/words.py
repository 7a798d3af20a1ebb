"""The console's words in Polish, English and Ukrainian.

Each area of the console keeps its words beside its pages and adds them here with :func:`add`, which refuses a
set that lacks a word in one language or takes a key another area already uses.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("pl", "en", "uk")
WORDS: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}


def add(words: Mapping[str, Mapping[str, str]]) -> None:
    keys = set(words["pl"])
    for lang in LANGUAGES:
        if set(words[lang]) != keys:
            missing = sorted(keys ^ set(words[lang]))
            raise ValueError(f"console words differ between languages ({lang}): {missing[:5]}")
    taken = keys & set(WORDS["pl"])
    if taken:
        raise ValueError(f"console words defined twice: {sorted(taken)[:5]}")
    for lang in LANGUAGES:
        WORDS[lang].update(words[lang])


add(
    {
        "pl": {
            "console": "Panel organizatora",
            "language": "Język",
            "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
            "skip_to_content": "Przejdź do treści",
            "nav_dashboard": "Pulpit",
            "nav_achievements": "Odznaki",
            "nav_issue": "Wydaj jedną",
            "nav_cohorts": "Wydaj grupie",
            "nav_credentials": "Wydane",
            "nav_audit": "Dziennik zdarzeń",
            "nav_api_keys": "Klucze API",
            "nav_profile": "Profil organizatora",
            "nav_staff": "Zespół",
            "nav_providers": "Organizatorzy",
            "nav_account": "Moje konto",
            "nav_main": "Menu panelu",
            "sign_out": "Wyloguj",
            "signed_in_as": "Zalogowano jako {name}",
            "role_owner": "właściciel",
            "role_issuer": "wystawca",
            "role_viewer": "podgląd",
            "role_operator": "operator programu",
            "read_only": "Widzisz tę stronę w trybie podglądu: możesz przeglądać, ale nie zmieniać.",
            "save": "Zapisz",
            "cancel": "Anuluj",
            "back": "Wróć",
            "search": "Szukaj",
            "none_yet": "Nic tu jeszcze nie ma.",
            "error_heading": "Tego nie da się zrobić",
            "error_not_allowed": "Twoja rola nie pozwala na to działanie. Poproś właściciela konta organizatora.",
            "error_form_rejected": "Formularz wygasł albo nie pochodzi z panelu. Otwórz stronę ponownie i spróbuj jeszcze raz.",
            "error_not_found": "Nie ma takiej strony.",
            "fix_fields": "Popraw zaznaczone pola:",
            "done_saved": "Zapisano.",
        },
        "en": {
            "console": "Provider console",
            "language": "Language",
            "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
            "skip_to_content": "Skip to content",
            "nav_dashboard": "Dashboard",
            "nav_achievements": "Badges",
            "nav_issue": "Issue one",
            "nav_cohorts": "Issue to a group",
            "nav_credentials": "Issued",
            "nav_audit": "Audit log",
            "nav_api_keys": "API keys",
            "nav_profile": "Provider profile",
            "nav_staff": "Team",
            "nav_providers": "Providers",
            "nav_account": "My account",
            "nav_main": "Console menu",
            "sign_out": "Sign out",
            "signed_in_as": "Signed in as {name}",
            "role_owner": "owner",
            "role_issuer": "issuer",
            "role_viewer": "viewer",
            "role_operator": "programme operator",
            "read_only": "You see this page read-only: you can look, not change.",
            "save": "Save",
            "cancel": "Cancel",
            "back": "Back",
            "search": "Search",
            "none_yet": "Nothing here yet.",
            "error_heading": "This cannot be done",
            "error_not_allowed": "Your role does not allow this. Ask your provider's owner.",
            "error_form_rejected": "The form has expired or did not come from the console. Open the page again and retry.",
            "error_not_found": "There is no such page.",
            "fix_fields": "Please correct the marked fields:",
            "done_saved": "Saved.",
        },
        "uk": {
            "console": "Панель організатора",
            "language": "Мова",
            "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
            "skip_to_content": "Перейти до змісту",
            "nav_dashboard": "Огляд",
            "nav_achievements": "Бейджі",
            "nav_issue": "Видати один",
            "nav_cohorts": "Видати групі",
            "nav_credentials": "Видані",
            "nav_audit": "Журнал подій",
            "nav_api_keys": "Ключі API",
            "nav_profile": "Профіль організатора",
            "nav_staff": "Команда",
            "nav_providers": "Організатори",
            "nav_account": "Мій обліковий запис",
            "nav_main": "Меню панелі",
            "sign_out": "Вийти",
            "signed_in_as": "Ви увійшли як {name}",
            "role_owner": "власник",
            "role_issuer": "видавець",
            "role_viewer": "перегляд",
            "role_operator": "оператор програми",
            "read_only": "Ви бачите цю сторінку в режимі перегляду: можна дивитися, але не змінювати.",
            "save": "Зберегти",
            "cancel": "Скасувати",
            "back": "Назад",
            "search": "Шукати",
            "none_yet": "Тут ще нічого немає.",
            "error_heading": "Цього зробити не можна",
            "error_not_allowed": "Ваша роль не дозволяє цієї дії. Зверніться до власника облікового запису організатора.",
            "error_form_rejected": "Форма застаріла або надіслана не з панелі. Відкрийте сторінку знову й повторіть.",
            "error_not_found": "Такої сторінки немає.",
            "fix_fields": "Виправте позначені поля:",
            "done_saved": "Збережено.",
        },
    }
)
