"""Every string an operator sees, in Dutch (default) and English. One table, both complete."""

from __future__ import annotations

LANGUAGES = ("nl", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"nl": "Annotatiestraat", "en": "Annotatiestraat"},
    "login_title": {"nl": "Inloggen", "en": "Log in"},
    "operator_id": {"nl": "Je nummer", "en": "Your ID"},
    "pin": {"nl": "Pincode", "en": "PIN"},
    "login_button": {"nl": "Inloggen", "en": "Log in"},
    "login_bad_pin": {"nl": "Nummer of pincode klopt niet.", "en": "ID or PIN is not right."},
    "login_locked": {
        "nl": "Te vaak een verkeerde pincode. Wacht even en probeer opnieuw.",
        "en": "Too many wrong PINs. Wait a moment and try again.",
    },
    "login_no_hub": {
        "nl": "Nog geen verbinding met de hub. Vraag het personeel.",
        "en": "No connection to the hub yet. Ask the staff.",
    },
    "login_busy": {"nl": "Even controleren…", "en": "Checking…"},
    "status_online": {"nl": "verbonden", "en": "online"},
    "status_offline": {"nl": "offline", "en": "offline"},
    "status_syncing": {"nl": "bezig met versturen", "en": "syncing"},
    "outbox": {"nl": "te versturen", "en": "to send"},
    "done": {"nl": "klaar", "en": "done"},
    "operator": {"nl": "operator", "en": "operator"},
    "clip": {"nl": "Clip", "en": "Clip"},
    "waiting_for_work": {
        "nl": "Clips worden klaargezet…",
        "en": "Getting clips ready…",
    },
    "no_more_work": {
        "nl": "Er is nu geen werk meer. Vraag het personeel.",
        "en": "No more work right now. Ask the staff.",
    },
    "keys_labels": {"nl": "Toetsen", "en": "Keys"},
    "keys_help": {
        "nl": "r opnieuw · spatie pauze · ←/→ 2 s · [ ] snelheid · . beeldje · s overslaan · "
        "⌫ ongedaan · g grijs · b vaag · x dit raakte me · l taal · q afmelden",
        "en": "r replay · space pause · ←/→ 2 s · [ ] speed · . frame · s skip · "
        "⌫ undo · g grey · b blur · x this affected me · l language · q log out",
    },
    "video_null": {
        "nl": "Video speelt zonder beeldscherm (mpv vo=null).",
        "en": "Video plays without a screen (mpv vo=null).",
    },
    "labelled": {"nl": "Opgeslagen", "en": "Saved"},
    "undone": {"nl": "Ongedaan gemaakt", "en": "Undone"},
    "skipped": {"nl": "Overgeslagen", "en": "Skipped"},
    "nothing_to_undo": {"nl": "Niets om ongedaan te maken", "en": "Nothing to undo"},
    "alert_sent": {
        "nl": "Het personeel is ingelicht. Neem gerust pauze.",
        "en": "Staff have been told. Feel free to take a break.",
    },
    "unpaired": {
        "nl": "Deze kiosk is niet gekoppeld aan de hub. Vraag het personeel om een code.",
        "en": "This kiosk is not paired with the hub. Ask the staff for a code.",
    },
    "logged_out": {"nl": "Afgemeld", "en": "Logged out"},
}


class Translator:
    def __init__(self, language: str = "nl") -> None:
        self.language = language if language in LANGUAGES else "nl"

    def __call__(self, key: str, **kwargs: object) -> str:
        text = STRINGS[key][self.language]
        return text.format(**kwargs) if kwargs else text

    def toggle(self) -> str:
        self.language = "en" if self.language == "nl" else "nl"
        return self.language

    def label(self, nl: str, en: str) -> str:
        return nl if self.language == "nl" else en
