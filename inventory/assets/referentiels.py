"""Socle référentiels and their requirements: the shipped preset, the administrator's edits.

A funding scheme points to its référentiel (``FundingScheme.referentiel``, in grants: the
arrow goes from grants to assets). Exactly one référentiel is current: its active
requirements make every socle figure, and any change to them is reflected in the
per-classroom summary in the same transaction (:mod:`inventory.assets.socle`) and in the
dashboards' summaries when next read. Every change is in the change log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import (
    Capability,
    EquipmentCategory,
    Referentiel,
    RequirementKind,
    RequirementLevel,
    ServiceKind,
    SocleRequirement,
    WorkKind,
    join_capabilities,
)
from inventory.core import policy
from inventory.core.audit import AuditRecord
from inventory.core.errors import DomainError
from inventory.core.policy import Action, Subject


class ReferentielError(DomainError):
    pass


LEVEL_LABELS = {
    RequirementLevel.CLASSROOM: _l("Each classroom"),
    RequirementLevel.SCHOOL: _l("Each school"),
    RequirementLevel.DIRECTION: _l("The school director"),
}
KIND_LABELS = {
    RequirementKind.ITEMS: _l("Items in service, works or services"),
    RequirementKind.CAPABILITIES: _l("Capabilities brought by items in service"),
    RequirementKind.RATIO: _l("Items per target classrooms"),
}
CAPABILITY_LABELS = {
    Capability.IMAGE: _l("image capture"),
    Capability.MICROPHONE: _l("microphone"),
    Capability.SPEAKERS: _l("speakers"),
}

# The référentiels shipped with Socle; a scheme preset names its référentiel by code.
SNEE_2021: dict[str, Any] = {
    "code": "snee-2021",
    "name": "Socle numérique de base — AAP SNEE 2021",
    "note": (
        "Référentiel du ministère pour l'appel à projets « socle numérique dans les écoles "
        "élémentaires » (2021), tel que le résument la DSDEN 27 et l'ERUN 58. Le visualiseur "
        "est facultatif. Exigences par défaut : vérifiez-les avec votre convention."
    ),
    "requirements": [
        {
            "code": "affichage_collectif",
            "level": "classroom",
            "label_fr": "Affichage collectif fixe (VP, VPI, TNI ou ENI)",
            "label_en": "Fixed collective display (projector, VPI, TNI or ENI)",
            "category_codes": "tni,vpi,eni,vp",
        },
        {
            "code": "poste_enseignant",
            "level": "classroom",
            "label_fr": "Poste enseignant",
            "label_en": "Teacher laptop",
            "category_codes": "poste_enseignant",
        },
        {
            "code": "connexion",
            "level": "classroom",
            "label_fr": "Connexion à internet (filaire ou Wi-Fi)",
            "label_en": "Internet connection (wired or wifi)",
            "category_codes": "borne_wifi",
            "work_kinds": "cabling,wifi",
        },
        {
            "code": "captation",
            "level": "classroom",
            "kind": "capabilities",
            "label_fr": "Captation d'image, micro et haut-parleurs",
            "label_en": "Image capture, microphone and speakers",
            "capabilities": "image,microphone,speakers",
        },
        {
            "code": "equipement_mobile",
            "level": "school",
            "kind": "ratio",
            "label_fr": "Équipement mobile des élèves (tablettes ou portables)",
            "label_en": "Mobile pupil equipment (tablets or laptops)",
            "category_codes": "tablette,pc_eleve",
            "minimum": 0,
            "ratio_items": 10,
            "ratio_classes": 4,
        },
        {
            "code": "chariot_mdm",
            "level": "school",
            "label_fr": "Chariot de recharge ou gestion des appareils (MDM)",
            "label_en": "Charging cart or device management (MDM)",
            "category_codes": "classe_mobile",
            "service_kinds": "mdm",
        },
        {
            "code": "wifi_ecole",
            "level": "school",
            "label_fr": "Bornes Wi-Fi de l'école",
            "label_en": "School wifi access points",
            "category_codes": "borne_wifi",
            "work_kinds": "wifi",
        },
        {
            "code": "partage",
            "level": "school",
            "label_fr": "Partage des travaux (ENT ou cloud)",
            "label_en": "A way to share work (ENT or cloud)",
            "service_kinds": "ent,cloud",
        },
        {
            "code": "direction_poste",
            "level": "direction",
            "label_fr": "Ordinateur de la direction",
            "label_en": "Head teacher's computer",
            "category_codes": "poste_direction",
        },
        {
            "code": "direction_connexion",
            "level": "direction",
            "label_fr": "Connexion de la direction",
            "label_en": "Head teacher's connection",
            "category_codes": "borne_wifi",
            "work_kinds": "cabling,wifi,internet",
        },
        {
            "code": "direction_copieur",
            "level": "direction",
            "label_fr": "Copieur multifonction en réseau",
            "label_en": "Networked multifunction printer",
            "category_codes": "copieur",
        },
    ],
}
PRESETS = {SNEE_2021["code"]: SNEE_2021}


def _requirement_of(data: dict[str, Any], position: int) -> SocleRequirement:
    return SocleRequirement(
        code=data["code"],
        level=RequirementLevel(data["level"]),
        kind=RequirementKind(data.get("kind", "items")),
        label_fr=data["label_fr"],
        label_en=data["label_en"],
        category_codes=data.get("category_codes", ""),
        work_kinds=data.get("work_kinds", ""),
        service_kinds=data.get("service_kinds", ""),
        capabilities=data.get("capabilities", ""),
        minimum=data.get("minimum", 1),
        ratio_items=data.get("ratio_items"),
        ratio_classes=data.get("ratio_classes"),
        active=True,
        position=position,
    )


def install_preset(session: Session, code: str) -> Referentiel | None:
    """The shipped référentiel of that code, created when missing (current when no other
    is); None for a code Socle does not ship. An existing one is never touched: its
    requirements may have been adjusted since. The caller commits."""
    found = session.scalar(select(Referentiel).where(Referentiel.code == code))
    if found is not None or code not in PRESETS:
        return found
    preset = PRESETS[code]
    has_current = session.scalar(select(Referentiel.id).where(Referentiel.is_current.is_(True)))
    referentiel = Referentiel(
        code=preset["code"],
        name=preset["name"],
        note=preset["note"],
        is_current=has_current is None,
        requirements=[_requirement_of(r, i) for i, r in enumerate(preset["requirements"])],
    )
    session.add(referentiel)
    session.flush()
    return referentiel


# -- reading -------------------------------------------------------------------------------
def all_referentiels(session: Session) -> list[Referentiel]:
    stmt = (
        select(Referentiel)
        .options(selectinload(Referentiel.requirements))
        .order_by(Referentiel.is_current.desc(), Referentiel.name)
    )
    return list(session.scalars(stmt))


def referentiel_detail(session: Session, user: Subject, referentiel_id: int) -> Referentiel:
    ref = policy.load_or_404(user, Referentiel, referentiel_id, session)
    session.scalars(
        select(Referentiel)
        .where(Referentiel.id == ref.id)
        .options(selectinload(Referentiel.requirements))
    ).all()
    return ref


def grouped(requirements: list[SocleRequirement]) -> list[tuple[Any, list[SocleRequirement]]]:
    """Requirements by level, in the levels' order: (level label, requirements)."""
    return [
        (LEVEL_LABELS[level], [r for r in requirements if r.level is level])
        for level in RequirementLevel
        if any(r.level is level for r in requirements)
    ]


# -- writing -------------------------------------------------------------------------------
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_REF_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


@dataclass
class RequirementFields:
    """What an administrator sets on a requirement; ``check`` validates it."""

    code: str
    level: RequirementLevel
    kind: RequirementKind
    label_fr: str
    label_en: str
    categories: list[str] = field(default_factory=list)
    work_kinds: list[str] = field(default_factory=list)
    service_kinds: list[str] = field(default_factory=list)
    capabilities: list[str] = field(default_factory=list)
    minimum: int = 1
    ratio_items: int | None = None
    ratio_classes: int | None = None
    active: bool = True
    position: int = 0

    def check(self, known_categories: set[str]) -> RequirementFields:
        self.code = (self.code or "").strip().lower()
        self.label_fr = " ".join((self.label_fr or "").split())
        self.label_en = " ".join((self.label_en or "").split()) or self.label_fr
        if not _CODE.fullmatch(self.code):
            raise ReferentielError(
                _l("A code has 1 to 40 lower-case letters, digits, '-' or '_'."), field="code"
            )
        if not self.label_fr:
            raise ReferentielError(_l("Give the requirement its French label."), field="label_fr")
        unknown = sorted(set(self.categories) - known_categories)
        if unknown:
            raise ReferentielError(
                _l("Unknown categories: %(codes)s.", codes=", ".join(unknown)), field="categories"
            )
        # Known values only, in their enums' order.
        self.work_kinds = [k.value for k in WorkKind if k.value in set(self.work_kinds)]
        self.service_kinds = [k.value for k in ServiceKind if k.value in set(self.service_kinds)]
        self.capabilities = [c.value for c in Capability if c.value in set(self.capabilities)]
        if self.minimum is None or not 0 <= self.minimum <= 10_000:
            raise ReferentielError(
                _l("The minimum is a number of items from 0 to 10,000."), field="minimum"
            )
        school_wide = self.level is not RequirementLevel.CLASSROOM
        if self.service_kinds and not school_wide:
            raise ReferentielError(
                _l("Digital services cover schools: a classroom requirement cannot count them."),
                field="service_kinds",
            )
        if self.kind is RequirementKind.CAPABILITIES:
            if not self.capabilities:
                raise ReferentielError(_l("Choose the capabilities asked."), field="capabilities")
            self.categories, self.work_kinds, self.service_kinds = [], [], []
            self.ratio_items = self.ratio_classes = None
        elif self.kind is RequirementKind.RATIO:
            if not school_wide:
                raise ReferentielError(
                    _l("A ratio per target classrooms is a school requirement."), field="level"
                )
            if not self.categories:
                raise ReferentielError(_l("Choose the categories counted."), field="categories")
            for name in ("ratio_items", "ratio_classes"):
                value = getattr(self, name)
                if value is None or not 1 <= value <= 1000:
                    raise ReferentielError(
                        _l("A ratio is a number of items per number of classrooms, from 1."),
                        field=name,
                    )
            self.capabilities = []
        else:
            if not (self.categories or self.work_kinds or self.service_kinds):
                raise ReferentielError(
                    _l("Choose what meets it: categories of items, works or services."),
                    field="categories",
                )
            self.capabilities = []
            self.ratio_items = self.ratio_classes = None
        return self

    def values(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "kind": self.kind,
            "label_fr": self.label_fr,
            "label_en": self.label_en,
            "category_codes": ",".join(self.categories),
            "work_kinds": ",".join(self.work_kinds),
            "service_kinds": ",".join(self.service_kinds),
            "capabilities": join_capabilities(self.capabilities),
            "minimum": self.minimum,
            "ratio_items": self.ratio_items,
            "ratio_classes": self.ratio_classes,
            "active": self.active,
            "position": self.position,
        }


def _category_codes(session: Session) -> set[str]:
    return set(session.scalars(select(EquipmentCategory.code)))


def save_requirement(
    session: Session,
    user: Subject,
    referentiel: Referentiel,
    requirement: SocleRequirement | None,
    fields: RequirementFields,
) -> SocleRequirement:
    """Add a requirement to ``referentiel``, or change one of its requirements."""
    policy.require(user, Action.ADMIN)
    fields = fields.check(_category_codes(session))
    clash = select(SocleRequirement.id).where(
        SocleRequirement.referentiel_id == referentiel.id, SocleRequirement.code == fields.code
    )
    if requirement is not None:
        clash = clash.where(SocleRequirement.id != requirement.id)
    if session.scalar(clash):
        raise ReferentielError(
            _l("This référentiel already has a requirement %(code)s.", code=fields.code),
            field="code",
        )
    if requirement is None:
        requirement = SocleRequirement(referentiel=referentiel, **fields.values())
        session.add(requirement)
    else:
        if requirement.referentiel_id != referentiel.id:
            raise policy.Denied()
        for key, value in fields.values().items():
            if getattr(requirement, key) != value:
                setattr(requirement, key, value)
    session.commit()
    return requirement


def set_active(
    session: Session, user: Subject, requirement: SocleRequirement, active: bool
) -> SocleRequirement:
    """Deactivate a requirement (kept, and shown as such), or activate it again."""
    policy.require(user, Action.ADMIN)
    if requirement.active != active:
        requirement.active = active
        session.commit()
    return requirement


def make_current(session: Session, user: Subject, referentiel: Referentiel) -> Referentiel:
    """Make ``referentiel`` the one every socle figure is computed by."""
    policy.require(user, Action.ADMIN)
    if referentiel.is_current:
        return referentiel
    for other in session.scalars(
        select(Referentiel).where(
            Referentiel.is_current.is_(True), Referentiel.id != referentiel.id
        )
    ):
        other.is_current = False
    # The former one is written first: at most one is current at any moment.
    session.flush()
    referentiel.is_current = True
    session.commit()
    return referentiel


@dataclass
class ReferentielFields:
    code: str
    name: str
    note: str | None = None

    def check(self) -> ReferentielFields:
        self.code = (self.code or "").strip().lower()
        self.name = " ".join((self.name or "").split())
        self.note = (self.note or "").strip() or None
        if not _REF_CODE.fullmatch(self.code):
            raise ReferentielError(
                _l("A code has 1 to 60 lower-case letters, digits, '-' or '_'."), field="code"
            )
        if not self.name:
            raise ReferentielError(_l("Give the référentiel a name."), field="name")
        return self


def _check_code_free(session: Session, code: str, referentiel_id: int | None) -> None:
    clash = select(Referentiel.id).where(Referentiel.code == code)
    if referentiel_id is not None:
        clash = clash.where(Referentiel.id != referentiel_id)
    if session.scalar(clash):
        raise ReferentielError(_l("The code %(code)s is already used.", code=code), field="code")


def save_referentiel(
    session: Session, user: Subject, referentiel: Referentiel, fields: ReferentielFields
) -> Referentiel:
    """Rename a référentiel, or change its code or note."""
    policy.require(user, Action.ADMIN)
    fields = fields.check()
    _check_code_free(session, fields.code, referentiel.id)
    for key, value in fields.__dict__.items():
        if getattr(referentiel, key) != value:
            setattr(referentiel, key, value)
    session.commit()
    return referentiel


def copy_referentiel(
    session: Session, user: Subject, source: Referentiel, fields: ReferentielFields
) -> Referentiel:
    """A new référentiel (not current) with a copy of every requirement of ``source``:
    the start of another programme's, adjusted from there."""
    policy.require(user, Action.ADMIN)
    fields = fields.check()
    _check_code_free(session, fields.code, None)
    copy = Referentiel(
        code=fields.code,
        name=fields.name,
        note=fields.note,
        is_current=False,
        requirements=[
            SocleRequirement(
                **{
                    key: getattr(r, key)
                    for key in (
                        "code",
                        "level",
                        "kind",
                        "label_fr",
                        "label_en",
                        "category_codes",
                        "work_kinds",
                        "service_kinds",
                        "capabilities",
                        "minimum",
                        "ratio_items",
                        "ratio_classes",
                        "active",
                        "position",
                    )
                }
            )
            for r in source.requirements
        ],
    )
    session.add(copy)
    session.commit()
    return copy


def next_position(referentiel: Referentiel) -> int:
    return max((r.position for r in referentiel.requirements), default=-1) + 1


def history(session: Session, user: Subject, referentiel: Referentiel) -> list[AuditRecord]:
    """The latest changes of a référentiel and of its requirements."""
    ids = [r.id for r in referentiel.requirements]
    stmt = select(AuditRecord).where(
        or_(
            and_(
                AuditRecord.object_type == Referentiel.__tablename__,
                AuditRecord.object_id == referentiel.id,
            ),
            and_(
                AuditRecord.object_type == SocleRequirement.__tablename__,
                AuditRecord.object_id.in_(ids),
            ),
        )
    )
    stmt = policy.visible(user, stmt, AuditRecord).order_by(AuditRecord.id.desc()).limit(50)
    return list(session.scalars(stmt))
