"""The registry at national scale: Annuaire import rate and the filtered school list.

Generates a synthetic Annuaire de l'éducation in the ministry's format (50,000 schools
over the 101 départements, with well-formed UAIs, INSEE codes, SIRETs and
circonscriptions), imports it through the real importer, adds 300,000 classrooms, then
times ``/ecoles`` with several filters, at a first and at a deep page. The same list is
timed again on a 1,000-school registry, and the ratio between the two sizes reported.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_registry [--postgres] [--scale 0.1]``.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask

from tests.benchmarks.common import (
    Admin,
    Backend,
    Result,
    Stats,
    Target,
    analyze,
    bench_app,
    log,
    signed_in_admin,
    stopwatch,
    time_calls,
    time_requests,
)

NAME = "registry"
SCHOOLS = 50_000
CLASSROOMS = 300_000
SMALL_SCHOOLS = 1_000
SEED = 20_260_901
RUNS, WARMUP = 50, 3
BUDGET = 10.0  # seconds per timed series at most (10 runs at least)

IMPORT_RATE = Target(">=", 5_000, "rows/s")
LIST_P95 = Target("<", 50, "ms")
SIZE_RATIO = Target("<=", 1.5, "×")

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
# The columns of the ministry's file that the importer reads, as it spells them.
HEADER = (
    "Identifiant_de_l_etablissement",
    "Nom_etablissement",
    "Type_etablissement",
    "Statut_public_prive",
    "Adresse_1",
    "Code_postal",
    "Code_commune",
    "Nom_commune",
    "Code_departement",
    "Libelle_departement",
    "Code_academie",
    "Libelle_academie",
    "Ecole_maternelle",
    "Ecole_elementaire",
    "Telephone",
    "Mail",
    "Appartenance_Education_Prioritaire",
    "SIREN_SIRET",
    "nom_circonscription",
    "code_circonscription",
    "latitude",
    "longitude",
    "etat",
    "code_nature",
    "libelle_nature",
)

# Académies by their ministry code; the metropolitan départements are spread over the
# first 25 in order (a synthetic map, the real one matters not for timings).
METRO_ACADEMIES = (
    ("01", "Paris"),
    ("02", "Aix-Marseille"),
    ("03", "Besançon"),
    ("04", "Bordeaux"),
    ("06", "Clermont-Ferrand"),
    ("07", "Dijon"),
    ("08", "Grenoble"),
    ("09", "Lille"),
    ("10", "Lyon"),
    ("11", "Montpellier"),
    ("12", "Nancy-Metz"),
    ("13", "Poitiers"),
    ("14", "Rennes"),
    ("15", "Strasbourg"),
    ("16", "Toulouse"),
    ("17", "Nantes"),
    ("18", "Orléans-Tours"),
    ("19", "Amiens"),
    ("22", "Limoges"),
    ("23", "Nice"),
    ("24", "Créteil"),
    ("25", "Versailles"),
    ("70", "Normandie"),
    ("26", "Reims"),
    ("05", "Caen"),
)
OTHER_ACADEMIES = {
    "02A": ("27", "Corse"),
    "02B": ("27", "Corse"),
    "971": ("32", "Guadeloupe"),
    "972": ("31", "Martinique"),
    "973": ("33", "Guyane"),
    "974": ("28", "La Réunion"),
    "976": ("43", "Mayotte"),
}
# The first three characters of a UAI, when they are not the département code.
UAI_PREFIX = {"02A": "620", "02B": "720"}

PEOPLE = (
    ("Jules Ferry", 6),
    ("Jean Jaurès", 9),
    ("Victor Hugo", 8),
    ("Louis Pasteur", 8),
    ("Jean Moulin", 6),
    ("Jacques Prévert", 7),
    ("Paul Bert", 4),
    ("Marie Curie", 5),
    ("Jean de la Fontaine", 5),
    ("Anatole France", 4),
    ("Jean Macé", 3),
    ("Condorcet", 2),
    ("Louise Michel", 3),
    ("Simone Veil", 3),
    ("Georges Brassens", 3),
    ("Antoine de Saint-Exupéry", 4),
    ("Pierre et Marie Curie", 3),
    ("Jean Zay", 2),
    ("Albert Camus", 2),
    ("Robert Doisneau", 1),
    ("Marcel Pagnol", 3),
    ("Charles Perrault", 3),
    ("Françoise Dolto", 3),
    ("Henri Wallon", 1),
    ("Joliot-Curie", 2),
    ("Paul Langevin", 2),
    ("Romain Rolland", 1),
    ("Olympe de Gouges", 1),
    ("Les Tilleuls", 4),
    ("Les Érables", 2),
    ("Les Marronniers", 3),
    ("Les Lilas", 2),
    ("Le Centre", 3),
    ("du Bourg", 4),
    ("de la Mairie", 2),
    ("Les Cerisiers", 2),
    ("Arc-en-ciel", 2),
    ("Les Coquelicots", 2),
    ("Les Platanes", 2),
    ("La Source", 1),
)
CIRCO_PREFIX = "Circonscription d'inspection du 1er degré de "
COMMON_WORD = "ferry"  # in about one school name in thirty, as in the real Annuaire
TOWN_ROOTS = (
    "Martin",
    "Pierre",
    "Germain",
    "Laurent",
    "Julien",
    "Étienne",
    "Denis",
    "Rémy",
    "Mont",
    "Val",
    "Bourg",
    "Ville",
    "Champ",
    "Font",
    "Roche",
    "Bois",
    "Chapelle",
    "Pont",
    "Fleury",
    "Marcilly",
    "Aubigny",
    "Beaumont",
    "Villeneuve",
    "Neuville",
    "Montigny",
    "Longueville",
    "Rivière",
    "Chaumont",
    "Clairefont",
    "Verneuil",
)
TOWN_PREFIXES = ("Saint-", "Sainte-", "Le ", "La ", "Les ", "", "", "", "")
TOWN_SUFFIXES = (
    "",
    "",
    "",
    "",
    "-sur-Loire",
    "-sur-Marne",
    "-en-Bresse",
    "-les-Bains",
    "-le-Château",
    "-sous-Bois",
    "-la-Forêt",
    "-du-Lac",
    "-en-Vexin",
    "-sur-Mer",
)
STREETS = (
    "rue de la République",
    "rue Jean Jaurès",
    "place de la Mairie",
    "rue des Écoles",
    "avenue Victor Hugo",
    "chemin des Vignes",
    "rue du Stade",
    "allée des Tilleuls",
    "rue Pasteur",
    "grande rue",
)
NATURES = (  # (share, maternelle, élémentaire, code_nature, libellé)
    (35, "1", "0", "101", "ECOLE MATERNELLE"),
    (1, "1", "0", "103", "ECOLE MATERNELLE D APPLICATION"),
    (38, "0", "1", "151", "ECOLE DE NIVEAU ELEMENTAIRE"),
    (24, "1", "1", "151", "ECOLE DE NIVEAU ELEMENTAIRE"),
    (1, "0", "1", "152", "ECOLE ELEMENTAIRE D APPLICATION"),
    (1, "0", "1", "153", "ECOLE DE NIVEAU ELEMENTAIRE SPECIALISEE"),
)
DOM_CENTRES = {
    "971": (16.2, -61.5),
    "972": (14.6, -61.0),
    "973": (4.9, -52.3),
    "974": (-21.1, 55.5),
    "976": (-12.8, 45.2),
}


# -- identifiers ---------------------------------------------------------------------------
def uai(first7: str) -> str:
    return first7 + UAI_LETTERS[int(first7) % 23]


def luhn_key(digits: str) -> str:
    """The digit that makes ``digits`` + key pass the Luhn check (SIREN, SIRET)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):  # the key will sit at position 0
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def departement_codes() -> list[str]:
    metro = [f"{n:03d}" for n in range(1, 96) if n != 20]
    return [*metro[:19], "02A", "02B", *metro[19:], "971", "972", "973", "974", "976"]


def insee_code(dept: str, number: int) -> str:
    """Département + commune number: 35238, 2A004, 97411 (DOM: 3 + 2 characters)."""
    if dept.startswith("97"):
        return f"{dept}{number:02d}"
    return f"{dept[1:]}{number:03d}"


def commune_siren(dept: str, number: int) -> str:
    """A commune's SIREN: 21 + département + 0 + commune number + key (212000046 Ajaccio,
    219740115 Saint-Denis de La Réunion)."""
    if dept.startswith("97"):
        base = f"2197{dept[2]}{number:03d}"
    elif dept in ("02A", "02B"):
        base = f"21200{number:03d}"
    else:
        base = f"21{dept[1:]}0{number:03d}"
    return base + luhn_key(base)


def postal_code(dept: str, number: int) -> str:
    if dept.startswith("97"):
        return f"{dept}{number % 100:02d}"
    if dept in ("02A", "02B"):
        return f"20{number:03d}"
    return f"{dept[1:]}{number:03d}"


def siret(siren: str, establishment: int) -> str:
    base = f"{siren}{establishment % 10_000:04d}"
    return base + luhn_key(base)


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# -- the synthetic Annuaire ------------------------------------------------------------------
@dataclass
class Commune:
    insee: str
    name: str
    postal: str
    siren: str
    lat: float
    lon: float
    schools: int = 0


@dataclass
class Synthetic:
    csv: bytes
    rows: int
    communes: int
    circonscriptions: int
    biggest_departement: str
    natures: dict[str, int]


def _spread(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), at least 1 each."""
    scale = sum(weights)
    shares = [total * w / scale for w in weights]
    counts = [max(1, int(s)) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: shares[i] - counts[i], reverse=True)
    i = 0
    while sum(counts) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > total:
        j = max(range(len(counts)), key=lambda k: counts[k])
        counts[j] -= 1
    return counts


def synthetic_annuaire(n_schools: int, seed: int = SEED) -> Synthetic:
    """An Annuaire extract of ``n_schools`` primary schools, deterministic for a seed."""
    rng = random.Random(seed)
    depts = departement_codes()
    metro = [d for d in depts if d not in OTHER_ACADEMIES]
    academy_of = {
        d: METRO_ACADEMIES[i * len(METRO_ACADEMIES) // len(metro)] for i, d in enumerate(metro)
    }
    academy_of.update(OTHER_ACADEMIES)
    weights = [rng.lognormvariate(0, 0.55) * (0.35 if d in DOM_CENTRES else 1) for d in depts]
    per_dept = _spread(n_schools, weights)
    people, people_weights = zip(*PEOPLE, strict=True)
    nature_weights = [n[0] for n in NATURES]

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    n_communes = n_circos = 0
    natures: dict[str, int] = {}
    for d_index, (dept, count) in enumerate(zip(depts, per_dept, strict=True)):
        acad_code, acad_name = academy_of[dept]
        prefix = UAI_PREFIX.get(dept, dept)
        dept_label = f"Département {dept}"
        if dept in DOM_CENTRES:
            lat0, lon0 = DOM_CENTRES[dept]
            max_communes = 90
        else:
            lat0, lon0 = rng.uniform(42.5, 50.5), rng.uniform(-4.0, 7.5)
            max_communes = 900
        # Communes: about 0.6 per school, a few large towns and many villages.
        numbers = sorted(
            rng.sample(range(1, max_communes + 10), min(max_communes, max(1, count * 6 // 10)))
        )
        communes = []
        for number in numbers:
            insee = insee_code(dept, number)
            name = rng.choice(TOWN_PREFIXES) + rng.choice(TOWN_ROOTS) + rng.choice(TOWN_SUFFIXES)
            postal = postal_code(dept, rng.randrange(1000))
            communes.append(
                Commune(
                    insee,
                    name,
                    postal,
                    commune_siren(dept, number),
                    lat0 + rng.uniform(-0.6, 0.6),
                    lon0 + rng.uniform(-0.8, 0.8),
                )
            )
        rank_weights = [1 / (r + 1) ** 0.6 for r in range(len(communes))]
        rng.shuffle(rank_weights)
        # UAIs: distinct numbers within the département, shared by schools and circos.
        n_circ = max(1, round(count / 33))
        uai_numbers = rng.sample(range(10_000), count + n_circ)
        circos = [
            (
                uai(f"{prefix}{uai_numbers[count + i]:04d}"),
                f"{CIRCO_PREFIX}{communes[i * len(communes) // n_circ].name}"
                + (f" {i + 1}" if i else ""),
            )
            for i in range(n_circ)
        ]
        # Intercommunal owners (SIVOS and the like), whose SIREN does not start with 21.
        syndicats = [f"25{d_index:03d}{k:03d}" for k in range(max(1, count // 200))]
        syndicats = [s + luhn_key(s) for s in syndicats]
        picks = rng.choices(range(len(communes)), weights=rank_weights, k=count)
        for k, ci in enumerate(picks):
            commune = communes[ci]
            commune.schools += 1
            share = rng.choices(NATURES, weights=nature_weights)[0]
            _, mat, elem, code_nature, libelle = share
            kind = {("1", "0"): "maternelle", ("0", "1"): "élémentaire"}.get(
                (mat, elem), "primaire"
            )
            natures[kind] = natures.get(kind, 0) + 1
            person = rng.choices(people, weights=people_weights)[0]
            name = f"Ecole {kind} {person}"
            if rng.random() < 0.12:
                name += rng.choice((" A", " B", " 1", " 2"))
            private = rng.random() < 0.09
            if private:
                base = f"7{rng.randrange(10**7):07d}"
                owner = base + luhn_key(base)
            elif rng.random() < 0.04:
                owner = rng.choice(syndicats)
            else:
                owner = commune.siren
            school_siret = "" if rng.random() < 0.03 else siret(owner, commune.schools * 7 + 11)
            circo_uai, circo_name = circos[ci * n_circ // len(communes)]
            code = uai(f"{prefix}{uai_numbers[k]:04d}")
            etat = rng.choices(("OUVERT", "A FERMER", "A OUVRIR"), weights=(985, 10, 5))[0]
            writer.writerow(
                (
                    code,
                    name,
                    "Ecole",
                    "Privé" if private else "Public",
                    f"{rng.randrange(1, 120)} {rng.choice(STREETS)}",
                    commune.postal,
                    commune.insee,
                    commune.name,
                    dept,
                    dept_label,
                    acad_code,
                    acad_name,
                    mat,
                    elem,
                    f"0{rng.randrange(1, 6)}{rng.randrange(10**8):08d}",
                    f"ce.{code}@ac-{_fold(acad_name).replace(' ', '-')}.fr",
                    rng.choices(("", "REP", "REP+"), weights=(80, 15, 5))[0],
                    school_siret,
                    circo_name,
                    circo_uai,
                    f"{commune.lat + rng.uniform(-0.02, 0.02):.6f}",
                    f"{commune.lon + rng.uniform(-0.02, 0.02):.6f}",
                    etat,
                    code_nature,
                    libelle,
                )
            )
        n_communes += sum(1 for c in communes if c.schools)
        n_circos += n_circ
    biggest = depts[max(range(len(depts)), key=lambda i: per_dept[i])]
    return Synthetic(
        csv=b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"),
        rows=n_schools,
        communes=n_communes,
        circonscriptions=n_circos,
        biggest_departement=biggest,
        natures=natures,
    )


# -- building a registry ---------------------------------------------------------------------
def import_registry(app: Flask, data: Synthetic) -> float:
    """Import through the real service, as an upload would; returns the rows per second."""
    from inventory.core import audit
    from inventory.extensions import db
    from inventory.orgs.importers import import_annuaire

    with app.app_context(), audit.acting_as(audit.Actor(None, "bench")):
        with stopwatch() as elapsed:
            report = import_annuaire(db.session, data.csv, "annuaire-bench.csv")
        db.session.remove()
    if report.rejected or report.created != data.rows:
        sample = "; ".join(f"line {r.line}: {r.reason}" for r in report.rejected[:5])
        raise AssertionError(
            f"synthetic Annuaire not imported cleanly: {report.summary()} {sample}"
        )
    return report.rows / elapsed()


def classroom_counts(n_schools: int, total: int, seed: int) -> list[int]:
    """Classrooms per school, 2 to 14, adding up to exactly ``total``."""
    rng = random.Random(seed)
    mean = total / n_schools
    counts = [max(1, round(rng.triangular(2, 2 * mean - 1, mean))) for _ in range(n_schools)]
    diff = total - sum(counts)
    while diff:
        i = rng.randrange(n_schools)
        step = 1 if diff > 0 else -1
        if 1 <= counts[i] + step <= 14:
            counts[i] += step
            diff -= step
    return counts


def add_classrooms(app: Flask, total: int, seed: int = SEED, batch: int = 20_000) -> None:
    """Bulk-insert ``total`` classrooms over the schools (setup, not measured), then fill
    the summaries the ORM hooks would have written."""
    from sqlalchemy import insert, select

    from inventory.assets.socle import refresh as socle_refresh
    from inventory.extensions import db
    from inventory.orgs.models import Classroom, Ecole

    now = datetime.now(UTC)
    with app.app_context():
        ids = list(db.session.scalars(select(Ecole.id).order_by(Ecole.id)))
        rows: list[dict[str, Any]] = []
        for ecole_id, n in zip(ids, classroom_counts(len(ids), total, seed), strict=True):
            for i in range(1, n + 1):
                rows.append(
                    {
                        "ecole_id": ecole_id,
                        "name": f"Classe {i}",
                        "position": i,
                        "levels": "",
                        "pupils": 24,
                        "estimated": True,
                        "created_at": now,
                    }
                )
        for start in range(0, len(rows), batch):
            db.session.execute(insert(Classroom.__table__), rows[start : start + batch])
        # What the ORM hooks would have kept up to date: the socle summary of classrooms.
        socle_refresh(db.session.connection())
        db.session.commit()
        db.session.remove()


# -- the school list -------------------------------------------------------------------------
@dataclass(frozen=True)
class ListScenario:
    key: str
    label: str
    args: dict[str, Any]
    deep: str | None = None  # "last" or "90%"


SCENARIOS = (
    ListScenario("dept", "dept + nature, page 1", {"nature": "elementaire"}),
    ListScenario("dept_deep", "dept + nature, last page", {"nature": "elementaire"}, "last"),
    ListScenario("search", f"q={COMMON_WORD}, page 1", {"q": COMMON_WORD}),
    ListScenario("all_deep", "no filter, page at 90%", {}, "90%"),
)


@dataclass
class ListTiming:
    url: str
    page: int
    pages: int
    request: Stats  # GET /ecoles through the test client
    query: Stats  # list_schools() + classroom_counts() alone
    html_bytes: int


def _filters(args: dict[str, Any]) -> Any:
    """The filters the view builds from these query arguments."""
    from inventory.orgs.models import SchoolNature
    from inventory.orgs.services import SchoolFilters

    return SchoolFilters(
        q=args.get("q", ""),
        departement=args.get("departement"),
        nature=SchoolNature(args["nature"]) if "nature" in args else None,
    )


def time_list(
    app: Flask, data: Synthetic, runs: int = RUNS, budget: float = BUDGET
) -> tuple[dict[str, ListTiming], dict[str, float]]:
    """Each scenario timed as requests, and its list query alone; then what the page
    spends on its filter form (diagnostics)."""
    from sqlalchemy import select

    from inventory.extensions import db
    from inventory.orgs import services
    from inventory.orgs.models import Departement

    client = signed_in_admin(app)
    admin = Admin()
    per_page = app.config["PAGE_SIZE"]
    out: dict[str, ListTiming] = {}
    with app.app_context():
        dept_id = db.session.scalar(
            select(Departement.id).where(Departement.code == data.biggest_departement)
        )
        db.session.remove()
    for sc in SCENARIOS:
        args = dict(sc.args)
        if sc.key.startswith("dept"):
            args = {"departement": dept_id, **args}
        filters = _filters(args)
        with app.app_context():
            pages = services.list_schools(db.session, admin, filters, 1, per_page).pages
            db.session.remove()
        page = {"last": pages, "90%": max(1, round(pages * 0.9))}.get(sc.deep or "", 1)
        if page > 1:
            args["page"] = page
        url = f"/ecoles?{urlencode(args)}"
        request = time_requests(client, url, runs=runs, warmup=WARMUP, budget=budget)
        html_bytes = len(client.get(url).data)

        def query(filters: Any = filters, page: int = page) -> None:
            found = services.list_schools(db.session, admin, filters, page, per_page)
            services.classroom_counts(db.session, [e.id for e in found.items])
            db.session.remove()

        with app.app_context():
            query_stats = time_calls(query, runs=runs, warmup=WARMUP, budget=budget)
        out[sc.key] = ListTiming(url, page, pages, request, query_stats, html_bytes)
        log(
            f"  GET {url} (page {page} of {pages}): median {request.median:.1f} ms, "
            f"p95 {request.p95:.1f} ms over {len(request.samples)}; list query alone "
            f"p95 {query_stats.p95:.1f} ms"
        )
    with app.app_context():

        def choices() -> None:
            services.filter_choices(db.session, admin)
            db.session.remove()

        choice_stats = time_calls(choices, runs=10, warmup=1, budget=budget)
        found = services.filter_choices(db.session, admin)
        options = sum(
            len(x)
            for x in (
                found.academies,
                found.departements,
                found.circonscriptions,
                found.collectivites,
            )
        )
        db.session.remove()
    return out, {"options": options, "choices_ms": choice_stats.median}


# -- the benchmark ---------------------------------------------------------------------------
def build(app: Flask, n_schools: int, n_classrooms: int) -> tuple[Synthetic, float]:
    with stopwatch() as elapsed:
        data = synthetic_annuaire(n_schools)
    log(
        f"  generated {data.rows:,} schools, {data.communes:,} communes, "
        f"{data.circonscriptions:,} circonscriptions ({len(data.csv) / 1e6:.1f} MB) "
        f"in {elapsed():.1f}s"
    )
    rate = import_registry(app, data)
    log(f"  imported at {rate:,.0f} rows/s")
    with stopwatch() as elapsed:
        add_classrooms(app, n_classrooms)
    log(f"  added {n_classrooms:,} classrooms in {elapsed():.1f}s")
    analyze(app)
    return data, rate


def _size(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def run(backend: Backend, *, scale: float = 1.0, runs: int = RUNS) -> list[Result]:
    """The registry benchmark on one engine. ``scale`` shrinks the large registry (0.1:
    5,000 schools) for a quick try; the small one stays at 1,000 schools."""
    schools = max(SMALL_SCHOOLS, round(SCHOOLS * scale))
    classrooms = round(CLASSROOMS * schools / SCHOOLS)
    small = SMALL_SCHOOLS
    big_label, small_label = _size(schools), _size(small)
    results = []
    log(f"{backend.name}: registry of {schools:,} schools, {classrooms:,} classrooms")
    with bench_app(backend) as app:
        data, rate = build(app, schools, classrooms)
        big, big_page = time_list(app, data, runs)
    results.append(Result(f"Annuaire import, {schools:,} rows", rate, "rows/s", IMPORT_RATE))
    log(f"{backend.name}: registry of {small:,} schools")
    with bench_app(backend) as app:
        data, _ = build(app, small, round(CLASSROOMS * small / SCHOOLS))
        little, little_page = time_list(app, data, runs)
    for sc in SCENARIOS:
        t = big[sc.key]
        detail = f"GET {t.url}: page {t.page} of {t.pages}, {len(t.request.samples)} runs"
        results.append(Result(f"/ecoles {sc.label} @{big_label}: median", t.request.median, "ms"))
        results.append(
            Result(f"/ecoles {sc.label} @{big_label}: p95", t.request.p95, "ms", LIST_P95, detail)
        )
    for sc in SCENARIOS:
        ratio = big[sc.key].request.median / little[sc.key].request.median
        results.append(
            Result(
                f"/ecoles {sc.label}: median {big_label} / {small_label}", ratio, "×", SIZE_RATIO
            )
        )
    # Where the time goes (no targets: the are on the page as served): the list
    # queries alone, and the filter form around them.
    for sc in SCENARIOS:
        results.append(
            Result(f"  list query alone, {sc.label} @{big_label}: p95", big[sc.key].query.p95, "ms")
        )
    for sc in SCENARIOS:
        ratio = big[sc.key].query.median / little[sc.key].query.median
        results.append(
            Result(
                f"  list query alone, {sc.label}: median {big_label} / {small_label}", ratio, "×"
            )
        )
    for label, page_info, timing in (
        (big_label, big_page, big),
        (small_label, little_page, little),
    ):
        results.append(Result(f"  filter form @{label}: <option>s rendered", page_info["options"]))
        results.append(
            Result(
                f"  filter form @{label}: filter_choices() median", page_info["choices_ms"], "ms"
            )
        )
        results.append(
            Result(f"  /ecoles page size @{label}", timing["dept"].html_bytes / 1024, "KiB")
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
