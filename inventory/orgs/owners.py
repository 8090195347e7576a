"""Who owns the schools of an Annuaire file: the collectivité behind each SIREN.

A public school's ``SIREN_SIRET`` is the SIRET of the body that owns it; the Annuaire
gives no name for it. What the whole file says of each SIREN decides what it is, so that
the order of the rows does not matter:

- a classic commune SIREN (21…) names its commune (:func:`identifiers.communes_of_siren`):
  it is that commune, wherever its schools lie;
- a SIREN whose schools all lie in one commune is that commune (a commune nouvelle has a
  newer 200… SIREN, like any intercommunal body);
- a SIREN whose schools lie in several communes is an intercommunal body (EPCI, syndicat,
  SIVOS carrying an RPI), given a readable provisional name until an administrator
  names it and sets its kind.

A commune has one collectivité. When two SIRENs would be the same commune, the one
already registered for it keeps it, then a classic commune SIREN, then the one with more
schools there (then the smaller number); the others are intercommunal bodies, and the
import warns of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from inventory.core.text import fold
from inventory.orgs import identifiers as ids

# The registry's data are in French (commune and school names are): the names the import
# writes are too, whatever the language of the person importing.
DATA_LOCALE = "fr"
NAMED_COMMUNES = 3


@dataclass(frozen=True)
class Registered:
    """A collectivité already registered with a SIREN: the commune it is (INSEE code),
    or None for another kind; ``provisional`` while its name and kind are the import's."""

    commune: str | None
    provisional: bool


@dataclass(frozen=True)
class OwnerPlan:
    """What a SIREN is, as the whole file (and the registry) shows it."""

    siren: str
    # The INSEE code of the commune it is; None for an intercommunal body.
    commune: str | None
    # The communes of its schools (and its registered members), sorted.
    communes: tuple[str, ...]
    # The département of most of its schools.
    departement: str
    # A commune it would be, whose collectivité is another SIREN's (reported as a warning).
    taken_by: str | None = None


def plan_owners(
    schools: dict[str, dict[str, int]],
    *,
    registered: dict[str, Registered],
    commune_holders: dict[str, str | None],
    members: dict[str, set[str]],
    known: set[str],
) -> dict[str, OwnerPlan]:
    """Decide every SIREN of a file at once.

    ``schools``: SIREN → INSEE code → its public schools there, in the file;
    ``registered``: SIREN → the collectivité registered with it;
    ``commune_holders``: INSEE code → the SIREN of the commune's registered collectivité
    (None when it has none), for every commune that has one;
    ``members``: SIREN → INSEE codes of its registered member communes;
    ``known``: every INSEE code of the registry and of the file.
    """
    claims: dict[str, list[tuple[int, int, str]]] = {}
    communes_of: dict[str, set[str]] = {}
    groups: set[str] = set()
    for siren, counts in schools.items():
        communes = set(counts) | members.get(siren, set())
        communes_of[siren] = communes
        reg = registered.get(siren)
        if reg is not None and reg.commune is not None:
            claim: tuple[int, str] | None = (0, reg.commune)
        elif reg is not None and not reg.provisional:
            claim = None  # named by a person: what it is stays theirs
        else:
            encoded = [c for c in ids.communes_of_siren(siren) if c in communes or c in known]
            if encoded:
                claim = (1, encoded[0])
            elif len(communes) == 1:
                claim = (2, next(iter(communes)))
            else:
                claim = None
        if claim is None:
            groups.add(siren)
        else:
            rank, insee = claim
            claims.setdefault(insee, []).append((rank, -counts.get(insee, 0), siren))
    commune_of: dict[str, str] = {}
    taken: dict[str, str] = {}
    for insee, claimants in claims.items():
        if insee not in commune_holders:
            eligible = claimants
        elif (holder := commune_holders[insee]) is not None:
            # The commune's collectivité has its SIREN: no other SIREN is that commune.
            eligible = [c for c in claimants if c[2] == holder]
        else:
            # It has none: a SIREN not registered yet may be it (its SIREN is set then);
            # one registered for another collectivité may not (a commune has one).
            eligible = [c for c in claimants if c[2] not in registered]
        winner = min(eligible)[2] if eligible else None
        for _rank, _schools, siren in claimants:
            if siren == winner:
                commune_of[siren] = insee
            else:
                groups.add(siren)
                taken[siren] = insee
    plans = {}
    for siren, counts in schools.items():
        communes = communes_of[siren]
        plans[siren] = OwnerPlan(
            siren=siren,
            commune=commune_of.get(siren),
            communes=tuple(sorted(communes)),
            departement=_main_departement(counts),
            taken_by=taken.get(siren),
        )
    return plans


def _main_departement(counts: dict[str, int]) -> str:
    per_dept: dict[str, int] = {}
    for insee, n in counts.items():
        dept = ids.departement_of_insee(insee)
        per_dept[dept] = per_dept.get(dept, 0) + n
    return min(per_dept, key=lambda d: (-per_dept[d], d))


def provisional_name(commune_names: Iterable[str]) -> str:
    """A readable name for an intercommunal body known only by its schools' communes, in
    the registry's language: 'Regroupement des communes Brécé, Noyal-sur-Vilaine et
    Servon-sur-Vilaine', past three communes 'Regroupement des communes Acigné, Brécé et
    4 autres'. Flagged provisional where it is stored, for an administrator to replace."""
    names = sorted(set(commune_names), key=lambda n: (fold(n), n)) or ["?"]
    count = len(names)
    with force_locale(DATA_LOCALE):
        if count == 1:
            listed = names[0]
        elif count <= NAMED_COMMUNES:
            listed = _("%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])
        else:
            listed = ngettext(
                "%(names)s and %(num)d other",
                "%(names)s and %(num)d others",
                count - (NAMED_COMMUNES - 1),
                names=", ".join(names[: NAMED_COMMUNES - 1]),
            )
        name = ngettext(
            "Grouping of the commune %(communes)s",
            "Grouping of the communes %(communes)s",
            count,
            communes=listed,
        )
    return name[:200]
