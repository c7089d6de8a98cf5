"""Dutch (default) and English texts of the dashboard. `?lang=en` or the `lang` cookie picks."""

from __future__ import annotations

LANGS = ("nl", "en")
DEFAULT_LANG = "nl"

TEXTS: dict[str, tuple[str, str]] = {
    # frame
    "app": ("Annotatiestraat", "Annotatiestraat"),
    "kiosks": ("Kiosks", "Kiosks"),
    "operators": ("Operators", "Operators"),
    "progress": ("Voortgang", "Progress"),
    "quality": ("Kwaliteit", "Quality"),
    "logout": ("Uitloggen", "Log out"),
    "login": ("Inloggen", "Log in"),
    "username": ("Gebruikersnaam", "Username"),
    "password": ("Wachtwoord", "Password"),
    "bad_login": ("Gebruikersnaam of wachtwoord klopt niet.", "Username or password is wrong."),
    "too_many": (
        "Te veel mislukte pogingen voor deze naam; probeer het over een minuut opnieuw.",
        "Too many failed attempts for this name; try again in a minute.",
    ),
    "login_expired": (
        "Het formulier was verlopen; probeer het opnieuw.",
        "The form had expired; please try again.",
    ),
    "role_staff": ("medewerker", "staff"),
    "role_lead": ("projectleider", "project lead"),
    "live": ("live", "live"),
    "live_off": ("geen verbinding", "not connected"),
    "forbidden": (
        "Geen toegang: deze pagina is alleen voor projectleiders.",
        "No access: this page is for project leads only.",
    ),
    "csrf": (
        "Het formulier is verlopen of niet van deze site. Laad de pagina opnieuw.",
        "The form has expired or did not come from this site. Reload the page.",
    ),
    "not_found": ("Niet gevonden.", "Not found."),
    "db_down": (
        "Database onbereikbaar sinds {since}",
        "Database unreachable since {since}",
    ),
    "db_down_body": (
        "Deze site-hub kan de database van het programma niet bereiken ({reason}). De kiosks "
        "labelen door met wat ze al hebben; alles komt één keer aan zodra de verbinding terug "
        "is. Deze pagina laadt zichzelf opnieuw.",
        "This site hub cannot reach the program's database ({reason}). The kiosks go on "
        "labelling what they have; everything arrives once when the link is back. This page "
        "reloads itself.",
    ),
    "back": ("Terug", "Back"),
    # kiosks
    "kiosk": ("Kiosk", "Kiosk"),
    "status": ("Status", "Status"),
    "online": ("online", "online"),
    "offline": ("offline", "offline"),
    "last_seen": ("Laatst gezien", "Last seen"),
    "operator": ("Operator", "Operator"),
    "outbox": ("Te versturen", "Outbox"),
    "cache": ("Cache", "Cache"),
    "version": ("Versie", "Version"),
    "paired_at": ("Gekoppeld", "Paired"),
    "pair": ("Nieuwe kiosk koppelen", "Pair a new kiosk"),
    "pair_help": (
        "Typ deze code op de kiosk. Eenmalig te gebruiken, geldig tot {until}.",
        "Type this code at the kiosk. It works once and is valid until {until}.",
    ),
    "open_codes": ("Open koppelcodes", "Open pairing codes"),
    "pairing_alarm": (
        "Koppelen: {wrong} foute codes van {sources} adressen sinds de start; {withdrawn} keer "
        "zijn de open codes ingetrokken; {refused} pogingen niet bekeken (te snel of "
        "geblokkeerd); geblokkeerd nu: {locked}. Maak zo nodig een nieuwe code.",
        "Pairing: {wrong} wrong codes from {sources} addresses since start; open codes "
        "withdrawn {withdrawn} times; {refused} attempts not looked at (too fast or locked "
        "out); locked out now: {locked}. Make a new code if you need one.",
    ),
    "login_alarm": (
        "Inloggen: {n} foute wachtwoorden voor {user} vanaf {source}; die combinatie is even "
        "geblokkeerd (opheffen: straat-hub user unlock).",
        "Login: {n} wrong passwords for {user} from {source}; that pair is locked out for a "
        "while (lift it: straat-hub user unlock).",
    ),
    "refused_alarm": (
        "Kiosk {kiosk}: {n} berichten geweigerd ({reason}), laatst: {detail}",
        "Kiosk {kiosk}: {n} messages refused ({reason}), last: {detail}",
    ),
    "fingerprint_help": (
        "Na het koppelen toont de kiosk de sleutel van de hub; die moet gelijk zijn aan:",
        "After pairing the kiosk shows the hub's key; it must be the same as:",
    ),
    "unpair": ("Ontkoppelen", "Unpair"),
    "confirm_unpair": (
        "Kiosk {id} ontkoppelen? Hij krijgt dan geen werk meer tot hij opnieuw is gekoppeld.",
        "Unpair kiosk {id}? It gets no more work until it is paired again.",
    ),
    "confirm_deactivate": (
        "{id} deactiveren? Deze operator kan dan niet meer inloggen.",
        "Deactivate {id}? This operator can then no longer log in.",
    ),
    "no_kiosks": ("Nog geen kiosks gekoppeld.", "No kiosks paired yet."),
    "kiosks_online": ("online", "online"),
    "site": ("Site", "Site"),
    "sites": ("Sites", "Sites"),
    "all_sites": ("Alle sites", "All sites"),
    "this_site": ("deze hub", "this hub"),
    "site_filter": ("Toon kiosks van", "Show kiosks of"),
    "site_filter_labels": ("Labels en doorvoer van", "Labels and throughput of"),
    # operators
    "add_operator": ("Operator toevoegen", "Add an operator"),
    "op_id": ("Id (inlognaam)", "Id (login name)"),
    "name": ("Naam", "Name"),
    "pin": ("PIN (4–8 cijfers)", "PIN (4–8 digits)"),
    "new_pin": ("Nieuwe PIN", "New PIN"),
    "add": ("Toevoegen", "Add"),
    "hours_today": ("Uren vandaag", "Hours today"),
    "hours_week": ("Uren deze week", "Hours this week"),
    "clips_today": ("Clips vandaag", "Clips today"),
    "clips_total": ("Clips totaal", "Clips in total"),
    "exposure": ("Blootstelling vandaag", "Exposure today"),
    "hours_today_week": ("Uren vandaag / week", "Hours today / week"),
    "clips_today_total": ("Clips vandaag / totaal", "Clips today / in total"),
    "breaks": ("Pauzes vandaag", "Breaks today"),
    "alerts": ("Meldingen", "Alerts"),
    "gold_accuracy": ("Gold-score", "Gold accuracy"),
    "agreement": ("Overeenstemming", "Agreement"),
    "active": ("actief", "active"),
    "inactive": ("gedeactiveerd", "deactivated"),
    "locked": ("geblokkeerd", "locked"),
    "set_pin": ("PIN instellen", "Set PIN"),
    "deactivate": ("Deactiveren", "Deactivate"),
    "activate": ("Activeren", "Activate"),
    "statement": ("Verklaring", "Statement"),
    "actions": ("Acties", "Actions"),
    "open_alerts": ("Meldingen ‘dit raakte me’", "‘This affected me’ alerts"),
    "acknowledge": ("Gezien", "Acknowledge"),
    "acknowledged": ("gezien", "acknowledged"),
    "no_alerts": ("Geen meldingen.", "No alerts."),
    "clip": ("Clip", "Clip"),
    "time": ("Tijd", "Time"),
    "no_operators": ("Nog geen operators.", "No operators yet."),
    "quality_note": (
        "Overeenstemming: aandeel labels gelijk aan de consensus. Gold-score: aandeel goed op "
        "controle-items. Blootstelling: tijd dat clips in beeld waren. — = nog geen gegevens.",
        "Agreement: share of labels equal to the consensus. Gold accuracy: share right on "
        "check items. Exposure: time clips were on screen. — = no data yet.",
    ),
    # results of actions
    "ok_operator_added": ("Operator {id} toegevoegd.", "Operator {id} added."),
    "ok_pin_set": ("Nieuwe PIN voor {id} ingesteld.", "New PIN set for {id}."),
    "ok_deactivated": ("{id} gedeactiveerd.", "{id} deactivated."),
    "ok_activated": ("{id} geactiveerd.", "{id} activated."),
    "ok_alert_ack": ("Melding afgehandeld.", "Alert acknowledged."),
    "ok_unpaired": ("Kiosk {id} ontkoppeld.", "Kiosk {id} unpaired."),
    "ok_pair_code": ("Koppelcode {code} gemaakt.", "Pairing code {code} made."),
    "ok_repair_code": (
        "Koppelcode {code} gemaakt: die koppelt alleen kiosk {id} opnieuw, met een nieuwe sleutel.",
        "Pairing code {code} made: it re-pairs kiosk {id} only, with a new key.",
    ),
    "repair": ("Opnieuw koppelen", "Re-pair"),
    "err_bad_id": (
        "Een id is 1 tot 64 tekens: letters, cijfers, punt, liggend streepje, koppelteken.",
        "An id is 1 to 64 characters: letters, digits, dot, underscore, hyphen.",
    ),
    "err_bad_name": ("Een naam is 1 tot 100 tekens.", "A name is 1 to 100 characters."),
    "err_bad_pin": ("Een PIN is 4 tot 8 cijfers.", "A PIN is 4 to 8 digits."),
    "err_exists": ("Operator {id} bestaat al.", "Operator {id} exists already."),
    "err_not_found": ("{what} bestaat niet.", "{what} does not exist."),
    "err_bad_date": ("Datum als JJJJ-MM-DD.", "Dates as YYYY-MM-DD."),
    # progress
    "clips": ("Clips", "Clips"),
    "done": ("Klaar", "Done"),
    "backlog": ("Nog te doen", "Backlog"),
    "votes_needed": ("Labels nog nodig", "Labels still needed"),
    "labels": ("Labels", "Labels"),
    "last_hour": ("Labels laatste uur", "Labels last hour"),
    "operators_active": ("Actieve operators", "Active operators"),
    "throughput": ("Labels per uur (laatste 24 uur)", "Labels per hour (last 24 hours)"),
    "agreement_time": ("Overeenstemming per dag", "Agreement per day"),
    "distribution": ("Verdeling over de labels", "Votes per label"),
    "label": ("Label", "Label"),
    "votes": ("Stemmen", "Votes"),
    "share": ("Aandeel", "Share"),
    "no_data": ("Nog geen gegevens.", "No data yet."),
    # quality
    "alpha": ("Krippendorffs alfa", "Krippendorff's alpha"),
    "kappa": ("Fleiss’ kappa", "Fleiss’ kappa"),
    "alpha_short": ("Alfa", "Alpha"),
    "specific_agreement": ("Specifieke overeenstemming", "Specific agreement"),
    "agreement_consensus": ("Gelijk aan consensus", "Agrees with consensus"),
    "agreement_others": ("Gelijk aan collega’s", "Agrees with others"),
    "estimated_accuracy": ("Geschatte nauwkeurigheid", "Estimated accuracy"),
    "q_agreement_with_consensus": ("Labels gelijk aan consensus", "Labels agreeing with consensus"),
    "q_mean_confidence": ("Gemiddelde zekerheid", "Mean confidence"),
    "q_low_confidence_clips": ("Clips met lage zekerheid", "Clips with low confidence"),
    "q_gold_accuracy": ("Gold-score (iedereen)", "Gold accuracy (everyone)"),
    "q_majority_vote_gold_accuracy": ("Meerderheidsstem op gold", "Majority vote on gold"),
    "q_consensus_differs": ("Consensus ≠ meerderheid (clips)", "Consensus ≠ majority (clips)"),
    "calibration": ("Hoe ver de zekerheid te vertrouwen is", "How far to trust the confidence"),
    "calibration_note": (
        "Een zekerheid van 0,9 hoort 9 van de 10 keer te kloppen. Staven: het aandeel juist "
        "per zekerheidsklasse; stippellijn: perfect. ECE: de gemiddelde afwijking.",
        "A confidence of 0.9 should be right 9 times in 10. Bars: the share right per "
        "confidence bin; dashed line: perfect. ECE: the mean gap.",
    ),
    "cal_held_out_gold": (
        "Gold-clips, gefit zonder hun antwoorden",
        "Gold clips, fitted without their answers",
    ),
    "cal_simulated": (
        "Verwacht: gesimuleerd uit het model",
        "Expected: simulated from the model",
    ),
    "cal_figure": ("ECE {ece} over {n} clips", "ECE {ece} over {n} clips"),
    "pairwise": ("Paarsgewijze overeenstemming", "Pairwise agreement"),
    "clips_compared": ("Clips met 2+ stemmen", "Clips with 2+ votes"),
    "source": ("Consensus", "Consensus"),
    "method_ds": ("Dawid–Skene (hub.consensus)", "Dawid–Skene (hub.consensus)"),
    "method_mv_hub": ("meerderheidsstem (hub.consensus)", "majority vote (hub.consensus)"),
    "method_mv": ("meerderheidsstem", "majority vote"),
    "per_label": ("Per label", "Per label"),
    "per_operator": ("Per operator", "Per operator"),
    "confusion": (
        "Verwarringsmatrix: consensus (rij) × gegeven label (kolom)",
        "Confusion matrix: consensus (row) × label given (column)",
    ),
    "gold_confusion": (
        "Gold: juiste antwoord (rij) × gegeven label (kolom)",
        "Gold: right answer (row) × label given (column)",
    ),
    "gold_labels": ("Labels op gold", "Labels on gold"),
    "compared": ("Vergeleken", "Compared"),
    "export": ("Export (meerderheidsstem)", "Export (majority vote)"),
    # statement
    "statement_title": ("Werkervaringsverklaring", "Work experience statement"),
    "statement_intro": (
        "Hierbij verklaren wij dat {name} in de periode van {start} tot en met {end} als "
        "AI-operator heeft gewerkt aan het project {project}: het bekijken en labelen van korte "
        "videofragmenten voor een dataset waarmee systemen voor kunstmatige intelligentie "
        "worden getraind.",
        "We hereby state that {name} worked as an AI operator on the project {project} from "
        "{start} to {end}: viewing and labelling short video clips for a dataset used to train "
        "artificial intelligence systems.",
    ),
    "tasks": ("Taken", "Tasks"),
    "task_1": (
        "Videofragmenten beoordelen volgens een vast labelschema ({labels}).",
        "Judging video clips against a fixed label schema ({labels}).",
    ),
    "task_2": (
        "Nauwkeurig en consequent werken; de kwaliteit wordt gemeten met controle-items "
        "(gold) en met de overeenstemming met collega’s.",
        "Working accurately and consistently; quality is measured with check items (gold) "
        "and by agreement with colleagues.",
    ),
    "task_3": (
        "Zelfstandig werken aan een computerwerkplek volgens een werk- en pauzeschema, "
        "met aandacht voor het eigen welzijn.",
        "Working independently at a computer workstation to a work and break schedule, "
        "looking after one’s own wellbeing.",
    ),
    "figures": ("Gegevens", "Figures"),
    "period": ("Periode", "Period"),
    "hours": ("Gewerkte uren (u:mm)", "Hours worked (h:mm)"),
    "days_worked": ("Gewerkte dagen", "Days worked"),
    "sessions": ("Werksessies", "Work sessions"),
    "clips_done": ("Gelabelde clips", "Clips labelled"),
    "clips_per_hour": ("Clips per uur", "Clips per hour"),
    "workstations": ("Werkplekken", "Workstations"),
    "by_day": ("Per dag", "Per day"),
    "breaks_taken": ("Pauzes", "Breaks"),
    "breaks_list": ("Pauzes", "Breaks"),
    "break_start": ("Begin", "Start"),
    "break_minutes": ("Minuten", "Minutes"),
    "break_kind": ("Soort", "Kind"),
    "break_enforced": ("volgens schema", "scheduled"),
    "break_own": ("zelf genomen", "own choice"),
    "no_breaks": ("Geen pauzes gemeld.", "No breaks reported."),
    "date": ("Datum", "Date"),
    "from": ("Van", "From"),
    "to": ("Tot en met", "To (inclusive)"),
    "show": ("Tonen", "Show"),
    "print": ("Afdrukken / PDF", "Print / PDF"),
    "place_date": ("Plaats en datum", "Place and date"),
    "signature": ("Handtekening namens de organisatie", "Signature on behalf of the organisation"),
    "made_by": ("Gemaakt op {date} door hub {hub}.", "Made on {date} by hub {hub}."),
    "quality_all": (
        "Kwaliteit (over al het werk)",
        "Quality (over all work)",
    ),
}


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def tr(lang: str, key: str, **values: object) -> str:
    nl, en = TEXTS[key]
    text = en if lang == "en" else nl
    return text.format(**values) if values else text
