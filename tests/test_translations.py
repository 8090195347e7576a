"""The French catalog covers every message of the source tree, and the language switch works."""

from __future__ import annotations

import re
from datetime import date, datetime
from fnmatch import fnmatch
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from flask_babel import format_date, get_locale, gettext

from inventory.paths import ROOT

CATALOG = ROOT / "inventory" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# The keywords of scripts/i18n: Babel's defaults plus `-k _l -k lazy_gettext
# -k lazy_pgettext:1c,2`.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdifr]")


def _ignored_dirs() -> list[str]:
    """The folder patterns scripts/i18n gives ``pybabel extract --ignore-dirs``: Babel's
    default skips every folder starting with "_" (templates/_partials, templates/_macros),
    so the script names its own."""
    script = (ROOT / "scripts" / "i18n").read_text(encoding="utf-8")
    found = re.search(r"--ignore-dirs\s+'([^']*)'", script)
    assert found, "scripts/i18n no longer passes --ignore-dirs: Babel would skip _partials"
    return found.group(1).split()


def _scanned(path: str) -> bool:
    """The folders scripts/i18n reads: all but those its --ignore-dirs names."""
    name = Path(path).name
    return not any(fnmatch(name, pattern) for pattern in _ignored_dirs())


def _extracted_messages(root: Path) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """(context, msgid singular) -> (msgid,) or (msgid, msgid_plural), as `pybabel extract`
    sees them."""
    with (root / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(root / "babel.cfg"))
    messages: dict[tuple[str | None, str], tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, directory_filter=_scanned
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        if ids[0]:
            messages[(context, ids[0])] = ids
    return messages


def test_the_extraction_reads_every_template_and_python_file() -> None:
    """Every template and every module of the package is read by the extraction
    (scripts/i18n's), the shared partials and macros included: a string in a file it skips
    would never reach the catalogue."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(ROOT / "babel.cfg"))
    read: set[str] = set()
    for _message in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=_scanned,
        callback=lambda filename, _method, _options: read.add(filename),
    ):
        pass
    wanted = {
        str(p.relative_to(ROOT))
        for p in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "inventory").rglob("*.py")]
        if "__pycache__" not in p.parts
    }
    assert any(name.startswith("templates/_partials/") for name in wanted)
    assert not wanted - read, f"files the extraction skips: {sorted(wanted - read)}"


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("%%", "")))


def test_every_message_has_a_french_translation() -> None:
    messages = _extracted_messages(ROOT)
    assert len(messages) > 100, "the extraction found almost nothing: check babel.cfg"
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="fr")

    missing: list[str] = []
    fuzzy: list[str] = []
    bad_placeholders: list[str] = []
    for (context, msgid), ids in sorted(messages.items(), key=lambda m: (m[0][1], m[0][0] or "")):
        entry = catalog.get(msgid, context=context)
        if context is not None:
            msgid = f"{msgid} (context: {context})"
        if entry is None:
            missing.append(msgid)
            continue
        forms = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
        if len(ids) > 1 and len(forms) != catalog.num_plurals:
            missing.append(msgid)
            continue
        if not all(form and form.strip() for form in forms):
            missing.append(msgid)
            continue
        if entry.fuzzy:
            fuzzy.append(msgid)
            continue
        for index, form in enumerate(forms):
            # The singular form (index 0) needs the msgid's placeholders; the other
            # forms those of msgid_plural.
            source = ids[0] if index == 0 or len(ids) == 1 else ids[1]
            lost = _placeholders(source) - _placeholders(form)
            if lost:
                bad_placeholders.append(f"{msgid!r} -> {form!r} lacks {sorted(lost)}")

    problems = []
    if missing:
        problems.append(
            f"{len(missing)} msgid(s) without a French translation in {CATALOG.name} "
            "(run scripts/i18n, then translate them):\n" + "\n".join(f"  {m!r}" for m in missing)
        )
    if fuzzy:
        problems.append(
            f"{len(fuzzy)} fuzzy translation(s):\n" + "\n".join(f"  {m!r}" for m in fuzzy)
        )
    if bad_placeholders:
        problems.append("placeholders lost in translation:\n  " + "\n  ".join(bad_placeholders))
    assert not problems, "\n".join(problems)


def test_placeholder_pattern() -> None:
    assert _placeholders("%(n)d of %(total)s, %s and %d, 100%% sure") == {
        "%(n)d",
        "%(total)s",
        "%s",
        "%d",
    }


def test_login_page_is_french_by_default_and_english_on_request(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Se connecter" in html
    assert '<html lang="fr">' in html

    switched = client.post("/language", data={"lang": "en", "next": "/login"})
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/login")

    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sign in" in html
    assert "Se connecter" not in html
    assert '<html lang="en-GB">' in html


def test_english_pages_write_dates_day_first_as_in_britain(app, login_as) -> None:
    """English pages take their messages from the source (English) catalogue and their dates
    from en_GB: 7 Dec 2026 and 07/12/2026, 14:30, never Dec 7, 2026 or 12/7/26, 2:30 PM."""
    client = login_as("admin")
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    page = client.get("/journal")  # the account's creation, with its date and time
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en-GB">' in html
    assert "Change log" in html and "Journal des modifications" not in html
    now = datetime.now(ZoneInfo("Europe/Paris"))
    assert now.strftime("%d/%m/%Y") in html  # the short form: day, month, four-digit year
    assert re.search(r"\b\d{1,2}/\d{1,2}/\d{2}\b(?!/|\d)", html) is None  # no US 12/7/26
    assert re.search(r"\b\d{1,2}:\d{2}\s?[AP]M\b", html) is None  # a 24-hour clock

    # The medium form, as the lists write a day: "7 Dec 2026", not "Dec 7, 2026".
    with app.test_request_context("/?lang=en"):
        assert str(get_locale()) == "en_GB"
        assert format_date(date(2026, 12, 7), "medium") == "7 Dec 2026"
        assert format_date(date(2026, 12, 7), "short") == "07/12/2026"
        assert gettext("Sign in") == "Sign in"
    with app.test_request_context("/?lang=fr"):
        assert format_date(date(2026, 12, 7), "medium") == "7 déc. 2026"
        assert gettext("Sign in") == "Se connecter"
