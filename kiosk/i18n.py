"""Every string an operator sees, in Dutch (default) and English. One table, both complete.

Dutch first, in plain words (B1): operators are job seekers, not all of them native speakers.
Placeholders in braces are filled by `Translator(key, **values)`.
"""

from __future__ import annotations

LANGUAGES = ("nl", "en")

STRINGS: dict[str, dict[str, str]] = {
    # ---- login ---------------------------------------------------------------------------
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
    "keys_login": {
        "nl": "Tab volgende veld · Enter inloggen · F2 English · F3 grote letters · "
        "F4 hoog contrast",
        "en": "Tab next field · Enter log in · F2 Nederlands · F3 large text · F4 high contrast",
    },
    "unpaired": {
        "nl": "Deze kiosk is niet gekoppeld aan de hub. Vraag het personeel om een code.",
        "en": "This kiosk is not paired with the hub. Ask the staff for a code.",
    },
    # ---- status line ---------------------------------------------------------------------
    "status_online": {"nl": "verbonden", "en": "online"},
    "status_offline": {"nl": "offline", "en": "offline"},
    "status_syncing": {"nl": "bezig met versturen", "en": "syncing"},
    "outbox": {"nl": "te versturen", "en": "to send"},
    "done": {"nl": "klaar", "en": "done"},
    "operator": {"nl": "operator", "en": "operator"},
    "next_break": {"nl": "pauze over", "en": "break in"},
    # ---- labelling -----------------------------------------------------------------------
    "clip": {"nl": "Clip", "en": "Clip"},
    "waiting_for_work": {"nl": "Clips worden klaargezet…", "en": "Getting clips ready…"},
    "keys_labels": {"nl": "Labels", "en": "Labels"},
    "kind_single": {
        "nl": "Eén toets: label opslaan en volgende clip.",
        "en": "One key: save the label and go to the next clip.",
    },
    "kind_multi": {
        "nl": "Kies alles wat klopt (nog eens = uit). Enter = klaar.",
        "en": "Choose all that apply (again = off). Enter = done.",
    },
    "kind_segments": {
        "nl": "A = begin, B = eind, dan een labeltoets. Zo vaak als nodig. Enter = klaar.",
        "en": "A = start, B = end, then a label key. As often as needed. Enter = done.",
    },
    "watch_rule": {
        "nl": "Bekijk eerst {percent} % van de clip.",
        "en": "Watch {percent} % of the clip first.",
    },
    "keys_help": {
        "nl": "r opnieuw · spatie pauze · ←/→ 2 s · −/+ snelheid · . beeldje · s overslaan · "
        "⌫ ongedaan · g grijs · v vaag · x dit raakte me · p pauze nemen · l English · "
        "q stoppen",
        "en": "r replay · space pause · ←/→ 2 s · −/+ speed · . frame · s skip · "
        "⌫ undo · g grey · v blur · x this affected me · p take a break · l Nederlands · "
        "q stop",
    },
    "keys_segments": {
        "nl": "a begin · b eind · Delete laatste stuk weg · Esc keuzes wissen · Enter klaar",
        "en": "a start · b end · Delete remove last part · Esc clear choices · Enter done",
    },
    "video_none": {"nl": "(geen beeld)", "en": "(no picture)"},
    "video_error": {
        "nl": "Clip {name} kan niet worden afgespeeld. We slaan hem over.",
        "en": "Clip {name} cannot be played. It is skipped.",
    },
    "video_window": {
        "nl": "De video speelt in een eigen venster.",
        "en": "The video plays in its own window.",
    },
    "video_fallback": {
        "nl": "Beeld via {output}: de betere weergave werkt hier niet ({reason})",
        "en": "Video through {output}: the better output does not work here ({reason})",
    },
    "keys_overlay": {
        "nl": "S overslaan · Backspace terug · G grijs · V vaag · X dit raakte me · P pauze",
        "en": "S skip · Backspace undo · G grey · V blur · X this affected me · P break",
    },
    "video_fallback_short": {
        "nl": "beeld: {output} (noodoplossing)",
        "en": "video: {output} (fallback)",
    },
    "video_output_terminal": {"nl": "de terminal", "en": "the terminal"},
    "video_output_window": {"nl": "een eenvoudig venster", "en": "a plain window"},
    "watched": {"nl": "bekeken", "en": "watched"},
    "greyscale_on": {"nl": "grijs", "en": "grey"},
    "blur_on": {"nl": "vaag", "en": "blurred"},
    "chosen": {"nl": "Gekozen", "en": "Chosen"},
    "segment_started": {
        "nl": "Begin (A) op {start:.1f} s — druk B bij het eind.",
        "en": "Start (A) at {start:.1f} s — press B at the end.",
    },
    "segment_pending": {
        "nl": "Stuk {start:.1f}–{end:.1f} s — druk nu een labeltoets.",
        "en": "Part {start:.1f}–{end:.1f} s — now press a label key.",
    },
    "segment_added": {
        "nl": "Stuk {start:.1f}–{end:.1f} s opgeslagen.",
        "en": "Part {start:.1f}–{end:.1f} s saved.",
    },
    "segment_unfinished": {
        "nl": "Maak het stuk eerst af: B voor het eind, dan een labeltoets.",
        "en": "Finish the part first: B for the end, then a label key.",
    },
    "mark_first": {
        "nl": "Markeer eerst een stuk: A bij het begin, B bij het eind.",
        "en": "Mark a part first: A at the start, B at the end.",
    },
    "mark_a_first": {"nl": "Druk eerst A bij het begin.", "en": "Press A at the start first."},
    "choose_one": {"nl": "Kies minstens één label.", "en": "Choose at least one label."},
    "watch_first": {
        "nl": "Bekijk de clip eerst verder (nog {seconds} s).",
        "en": "Watch more of the clip first ({seconds} s to go).",
    },
    "labelled": {"nl": "Opgeslagen", "en": "Saved"},
    "hub_key_mismatch": {
        "nl": "Een onbekende hub meldt zich; deze kiosk praat er niet mee. ({detail})",
        "en": "An unknown hub is on the network; this kiosk does not talk to it. ({detail})",
    },
    "paired": {
        "nl": "Gekoppeld met hub {fingerprint}. Vergelijk dit met het scherm van het personeel.",
        "en": "Paired with hub {fingerprint}. Compare this with the staff screen.",
    },
    "review_suggestion": {
        "nl": "Controle: het model zegt [b]{label}[/b]. Bevestig met die toets of kies een ander.",
        "en": "Review: the model says [b]{label}[/b]. Confirm with its key or choose another.",
    },
    "undone": {
        "nl": "Ongedaan gemaakt — kies opnieuw.",
        "en": "Undone — choose again.",
    },
    "skipped": {"nl": "Overgeslagen", "en": "Skipped"},
    "nothing_to_undo": {"nl": "Niets om ongedaan te maken", "en": "Nothing to undo"},
    "paused_after_alert": {
        "nl": "Het personeel weet het. De clip staat stil: spatie = verder, s = overslaan.",
        "en": "Staff know. The clip is paused: space = go on, s = skip.",
    },
    "exposure_warning": {
        "nl": "Nog {minutes} minuten kijktijd vandaag.",
        "en": "{minutes} minutes of viewing left today.",
    },
    "logged_out": {"nl": "Afgemeld", "en": "Logged out"},
    "training_right": {
        "nl": "Oefenclip: goed! Het antwoord was: {answer}.",
        "en": "Practice clip: right! The answer was: {answer}.",
    },
    "training_wrong": {
        "nl": "Oefenclip: het juiste antwoord was: {answer}.",
        "en": "Practice clip: the right answer was: {answer}.",
    },
    # ---- breaks --------------------------------------------------------------------------
    "break_title_enforced": {"nl": "Tijd voor pauze", "en": "Time for a break"},
    "break_title_voluntary": {"nl": "Pauze", "en": "Break"},
    "break_title_offered": {
        "nl": "Het personeel is ingelicht",
        "en": "Staff have been told",
    },
    "break_message_enforced": {
        "nl": "Je hebt een tijd gewerkt. Neem {minutes} minuten rust: sta op, drink wat, "
        "kijk even weg van het scherm.",
        "en": "You have worked for a while. Rest for {minutes} minutes: stand up, have a "
        "drink, look away from the screen.",
    },
    "break_message_voluntary": {
        "nl": "Neem rustig de tijd. Enter als je verder wilt.",
        "en": "Take your time. Enter when you want to go on.",
    },
    "break_message_offered": {
        "nl": "Goed dat je het zegt. Wil je nu pauze nemen ({minutes} minuten)? Praat "
        "gerust met iemand van het personeel.",
        "en": "Good that you said so. Do you want a break now ({minutes} minutes)? Feel "
        "free to talk to a member of staff.",
    },
    "break_hint_offer": {
        "nl": "Enter = pauze nemen · Esc = terug naar het werk",
        "en": "Enter = take a break · Esc = back to work",
    },
    "break_hint_enforced": {
        "nl": "De pauze loopt. Daarna kun je verder.",
        "en": "The break is running. You can go on afterwards.",
    },
    "break_hint_voluntary": {
        "nl": "Enter = weer aan het werk",
        "en": "Enter = back to work",
    },
    "break_hint_over": {
        "nl": "De pauze is voorbij. Enter = weer aan het werk",
        "en": "The break is over. Enter = back to work",
    },
    "break_hint_end": {"nl": "q = dienst stoppen", "en": "q = end the shift"},
    # ---- end of shift --------------------------------------------------------------------
    "summary_title": {"nl": "Goed gewerkt, {name}!", "en": "Well done, {name}!"},
    "summary_budget": {
        "nl": "Je hebt de kijktijd voor vandaag bereikt. Voor vandaag stopt het kijken hier.",
        "en": "You have reached today's viewing time. Viewing stops here for today.",
    },
    "sum_clips": {"nl": "Clips gelabeld", "en": "Clips labelled"},
    "sum_skipped": {"nl": "Overgeslagen", "en": "Skipped"},
    "sum_worked": {"nl": "Gewerkt", "en": "Time worked"},
    "sum_breaks": {"nl": "Pauzes", "en": "Breaks"},
    "sum_breaks_value": {"nl": "{count} ({time})", "en": "{count} ({time})"},
    "sum_exposure": {"nl": "Kijktijd vandaag", "en": "Viewing today"},
    "sum_exposure_value": {
        "nl": "{used} van {budget} minuten",
        "en": "{used} of {budget} minutes",
    },
    "sum_gold": {"nl": "Controleclips goed", "en": "Check clips right"},
    "summary_hint": {
        "nl": "Enter = afmelden · Esc = terug naar het werk",
        "en": "Enter = log out · Esc = back to work",
    },
    "summary_hint_budget": {"nl": "Enter = afmelden", "en": "Enter = log out"},
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
