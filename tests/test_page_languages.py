"""Every page of the access matrix speaks one language: rendered in French, it shows no
English message of the catalogue; rendered in English, no French one.

The check reads the French catalogue (inventory/translations/fr/LC_MESSAGES/messages.po),
not the extraction: a string left out of the extraction (a template folder Babel skips, a
label built in Python without gettext) but known to the catalogue from another page is
caught here, where tests/test_translations.py, reading the same extraction, cannot see it.
The pages are each role's, on the objects in its scope, as tests/test_access_matrix.py
visits them (those the matrix lets the role open, and one page that refuses it); each
page's visible text is read with the standard library's HTML parser (text, and the title,
aria-label, placeholder and alt attributes, and the buttons' values).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from itertools import chain

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from inventory.auth.models import User
from inventory.core.mail import OutboxMessage
from inventory.grants.presets import PRESETS
from inventory.paths import ROOT
from tests.factories import ROLES, expected_answers, login, rule_url

CATALOG = ROOT / "inventory" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# Placeholders of a message: %(name)s, %s, %d, {name}.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdifr]|\{[^{}]*\}")
# What surrounds a label on a page without belonging to it ("Status :", "(optional)", "* ").
FRAME = " \u00a0\u202f:;,.·—–|()[]*"
# Routes left out, and why: they change only the session (checked in their own tests).
SKIPPED = {"auth.logout", "web.set_language", "static"}
# Elements whose text is not the page's words: scripts and styles, and machine text (a
# code to type in an import file, a serial number, a field's name), which <code> marks.
SILENT = {"script", "style", "template", "noscript", "code", "kbd", "samp"}
# The application's name, the same in both languages (the French catalogue also spells out
# "Socle numérique" for the menu entry).
PROPER_NAMES = {"Socle"}
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
# A message this short is a symbol or an abbreviation more than a word of one language.
SHORTEST = 2


def _squeeze(text: str) -> str:
    return " ".join(text.replace("%%", "%").split())


class Texts(HTMLParser):
    """The visible words of a page: text nodes and the attributes a reader hears or sees,
    without what an element marked in another language says (``lang="en"`` on the French
    page's English switch)."""

    def __init__(self, page_lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.found: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    def _muted(self) -> bool:
        return any(muted for _tag, muted in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        lang = values.get("lang", "")
        muted = tag in SILENT or bool(lang and not lang.startswith(self.page_lang))
        if tag not in {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area"}:
            self.stack.append((tag, muted))
        if self._muted() or muted:
            return
        self.found.extend(values[a] for a in ATTRIBUTES if values.get(a))
        if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
            self.found.append(values.get("value", ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        # Pop up to the matching element (browsers close the ones left open too).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._muted() and data.strip():
            self.found.append(data)


def visible_texts(html: str, lang: str) -> set[str]:
    parser = Texts(page_lang=lang)
    parser.feed(html)
    parser.close()
    texts = set()
    for raw in parser.found:
        text = _squeeze(raw)
        if text:
            texts.add(text)
            texts.add(text.strip(FRAME))
    return texts - {""}


def _pattern(message: str) -> re.Pattern[str] | None:
    """A message as a pattern a page's text must match whole, its placeholders standing for
    any text; None for a message whose own words are too few to tell a language."""
    parts = PLACEHOLDER.split(message)
    words = "".join(parts)
    if sum(c.isalpha() for c in words) < max(SHORTEST, 4 if len(parts) > 1 else 0):
        return None
    # A number's placeholder stands for a number (as the locale writes it), any other for
    # any text: "Total number of items" is no "%(num)d items".
    holes = [
        r"[\d\s.,\u00a0\u202f-]+?" if p[-1] in "di" else ".+?" for p in PLACEHOLDER.findall(message)
    ]
    pattern = re.escape(parts[0]) + "".join(
        h + re.escape(p) for h, p in zip(holes, parts[1:], strict=True)
    )
    return re.compile(pattern + r"\Z", re.DOTALL)


@dataclass
class Catalogue:
    """The messages that must not show on a page of each language: an English msgid on a
    French page (its French differs, or is missing), a French msgstr on an English page.
    A message spelt the same in both languages somewhere in the catalogue is ambiguous
    ("Type", "Date", "Article") and left out."""

    forbidden: dict[str, dict[str, str]]  # lang -> text -> the message it is
    patterns: dict[str, list[tuple[re.Pattern[str], str]]]

    @classmethod
    def read(cls) -> Catalogue:
        with CATALOG.open("rb") as f:
            catalog = read_po(f, locale="fr")
        english: dict[str, str] = {}
        french: dict[str, str] = {}
        every_id: set[str] = set()
        every_string: set[str] = set()
        for message in catalog:
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else message.string
            strings = [] if message.fuzzy else [s for s in strings if s]
            ids = [_squeeze(i) for i in ids]
            strings = [_squeeze(s) for s in strings]
            every_id.update(ids)
            every_string.update(strings)
            for msgid in ids:
                if msgid not in strings:
                    english.setdefault(msgid, msgid)
            for msgstr in strings:
                if msgstr not in ids:
                    french.setdefault(msgstr, f"{msgstr} (French of {ids[0]!r})")
        # A msgid that is also some message's French, or the reverse: legitimate on either
        # page ("Date" is the French of "When" and its own msgid).
        for text in every_string | PROPER_NAMES:
            english.pop(text, None)
        for text in every_id | PROPER_NAMES:
            french.pop(text, None)
        forbidden: dict[str, dict[str, str]] = {"fr": {}, "en": {}}
        patterns: dict[str, list[tuple[re.Pattern[str], str]]] = {"fr": [], "en": []}
        for lang, messages in (("fr", english), ("en", french)):
            for text, label in messages.items():
                if PLACEHOLDER.search(text):
                    pattern = _pattern(text)
                    if pattern is not None:
                        patterns[lang].append((pattern, label))
                elif sum(c.isalpha() for c in text) >= SHORTEST:
                    forbidden[lang][text] = label
        return cls(forbidden, patterns)

    def leaks(self, lang: str, text: str) -> str | None:
        """The message of the other language this text is, if it is one."""
        if text in self.forbidden[lang]:
            return self.forbidden[lang][text]
        for pattern, label in self.patterns[lang]:
            if pattern.match(text):
                return label
        return None


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.read()


# Leaks this test found that another part of issue 22 removes (point 2: the history and the
# journal show what the database stores, table names and enum codes, until each model
# declares its labels). The list only shrinks: a leak gone from every page must be struck.
KNOWN_LEAKS: dict[str, dict[str, str]] = {"fr": {}, "en": {}}


def world_data(db_session) -> set[str]:
    """What the world's builders typed, shown as it was typed in any language: the
    accounts' names ("Formateur"), the programme's volets (in French, as the official
    texts name them), the mails of the outbox (written in the default language)."""
    users = db_session.scalars(select(User.name)).all()
    mails = db_session.execute(select(OutboxMessage.subject, OutboxMessage.body)).all()
    volets = [v["label"] for scheme in PRESETS for v in scheme["rules"]["volets"]]
    return {_squeeze(t) for t in [*users, *volets, *(part for m in mails for part in m)] if t}


def test_the_catalogue_tells_languages_apart(catalogue) -> None:
    """What the page test relies on: an untranslated English label is forbidden on a French
    page, its French on an English page, a message with placeholders matched whatever fills
    them, and a word both languages spell alike allowed on both."""
    assert catalogue.leaks("fr", "Sign in") == "Sign in"
    assert catalogue.leaks("en", "Se connecter")
    assert catalogue.leaks("fr", "Se connecter") is None
    assert catalogue.leaks("en", "Sign in") is None
    filled = [p for p, label in catalogue.patterns["fr"] if "%(" in label and " of " in label]
    assert filled, "no message with placeholders was read"
    opened = "Open the ticket: http://127.0.0.1:5000/tickets/1"
    assert catalogue.leaks("fr", opened) == "Open the ticket: %(url)s"
    assert catalogue.leaks("en", "Ouvrir le ticket : http://127.0.0.1:5000/tickets/1")
    assert catalogue.leaks("en", opened) is None
    assert catalogue.leaks("fr", "Rennes Nord") is None


def test_the_page_reader_sees_labels_and_skips_code_and_the_other_language() -> None:
    html = (
        '<html lang="fr"><head><title>Accueil</title><style>p{}</style></head><body>'
        '<button type="submit" lang="en">English</button><p>Bonjour <b>le monde</b></p>'
        '<script>var history = "History";</script>'
        '<input type="submit" value="Save"><input type="text" value="typed text">'
        '<a href="/" aria-label="Back" title="Home">x</a><img src="a.png" alt="Logo">'
        '<input placeholder="Search…"></body></html>'
    )
    assert visible_texts(html, "fr") == {
        "Accueil",
        "Bonjour",
        "le monde",
        "Save",
        "Back",
        "Home",
        "x",
        "Logo",
        "Search…",
    }


def _pages(app, access_world, lang):
    """(role, url, html) of every page each role may open, rendered in ``lang``."""
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "GET" in r.methods and r.endpoint not in SKIPPED and "<filename>" not in r.rule
    ]
    for role_name in ROLES:
        client = app.test_client()
        if role_name != "anonymous":
            assert login(client, access_world["emails"][role_name]).status_code == 302
        assert client.post("/language", data={"lang": lang}).status_code == 302
        refused = False  # the refusal page is one page: read once per role
        for rule in rules:
            access = app.view_functions[rule.endpoint].access_rule
            expected = expected_answers(role_name, access, "GET", rule, "in")
            if 200 not in expected and (refused or 404 not in expected):
                continue
            url = rule_url(rule, access, access_world["objects"], "in")
            response = client.get(url)
            if response.status_code in {200, 404} and response.mimetype == "text/html":
                refused = refused or response.status_code == 404
                yield role_name, url, response.get_data(as_text=True)
            response.close()


def _forms_sent_empty(app, access_world, lang):
    """(role, url, html) of every form sent empty, as its error summary and messages show:
    the public ones (sign-in, a report from a label) by a visitor, the others by the
    administrator, who may open them all. After every page, as a form sent empty may be
    accepted and change what the pages show."""
    rules = list(app.url_map.iter_rules())
    get_paths = {r.rule for r in rules if "GET" in r.methods}
    for role_name in ("anonymous", "admin"):
        client = app.test_client()
        if role_name != "anonymous":
            assert login(client, access_world["emails"][role_name]).status_code == 302
        assert client.post("/language", data={"lang": lang}).status_code == 302
        for rule in rules:
            if "POST" not in rule.methods or rule.endpoint in SKIPPED | {"auth.login"}:
                continue
            access = app.view_functions[rule.endpoint].access_rule
            public = access.action is None
            if (role_name == "anonymous") != public or rule.rule not in get_paths:
                continue
            url = rule_url(rule, access, access_world["objects"], "in")
            response = client.post(url, data={})
            if response.status_code in {200, 400, 422} and response.mimetype == "text/html":
                yield role_name, f"POST {url}", response.get_data(as_text=True)
            response.close()
        if role_name == "anonymous":
            wrong = client.post("/login", data={"email": "nobody@example.org", "password": "x"})
            yield role_name, "POST /login", wrong.get_data(as_text=True)


@pytest.mark.one_engine
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_speaks_one_language(app, access_world, db_session, catalogue, lang) -> None:
    seen: dict[str, set[str]] = defaultdict(set)  # text -> the pages that show it
    pages = 0
    rendered = chain(_pages(app, access_world, lang), _forms_sent_empty(app, access_world, lang))
    for role_name, url, html in rendered:
        pages += 1
        assert re.search(rf'<html lang="{lang}(-[A-Z]{{2}})?"', html), f"{url}: <html lang>"
        for text in visible_texts(html, lang):
            seen[text].add(f"{role_name} {url}")
    assert pages > 150, f"only {pages} pages rendered: is the world built?"
    data = world_data(db_session)
    known = KNOWN_LEAKS[lang]
    leaks = []
    for text, where in sorted(seen.items()):
        message = catalogue.leaks(lang, text)
        if message is not None and text not in data and text not in known:
            shown = sorted(where)
            more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
            leaks.append(f"{text!r} = {message!r} on {', '.join(shown[:3])}{more}")
    other = "English" if lang == "fr" else "French"
    gone = sorted(t for t in known if t not in seen or catalogue.leaks(lang, t) is None)
    assert not gone, f"leaks gone: strike them from KNOWN_LEAKS[{lang!r}]: {gone}"
    assert not leaks, f"{len(leaks)} {other} text(s) on {lang} pages:\n" + "\n".join(leaks)
