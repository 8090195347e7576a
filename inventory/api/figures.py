"""/api/v1 figures: the socle and dashboard figures of a level (the reader's scope, an
académie, a département, a circonscription, a collectivité, a school, a classroom), with
the table of its children, from the dashboards' own service (reports.dashboard)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields

from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, Int, Query, Text
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.reports import indicators as ind
from inventory.reports.dashboard import Dashboard, dashboard, socle_state
from inventory.reports.indicators import Facts, Grain
from inventory.reports.levels import ARGS, MODELS, Level, load_level
from inventory.web import allow

# The levels' paths, in the API's words.
PATHS = {
    Level.ACADEMIE: "academies",
    Level.DEPARTEMENT: "departements",
    Level.CIRCONSCRIPTION: "circonscriptions",
    Level.COLLECTIVITE: "collectivites",
    Level.ECOLE: "schools",
    Level.CLASSROOM: "classrooms",
}


class FiguresQuery(Query):
    children = fields.Boolean(
        load_default=True, metadata={"description": N_("Include the table of the children")}
    )


def _values(facts: Facts, grain: Grain) -> dict[str, float | int | None]:
    """Every indicator that can be told at this grain, by its code."""
    return {i.code: i.value(facts) for i in ind.INDICATORS if i.applies(grain)}


class ChildRow(Schema):
    level = Text()
    id = Int(allow_none=True, metadata={"description": N_("None: without that parent")})
    name = Text(allow_none=True)
    code = Text()
    socle = Text(metadata={"description": N_("complete, partial, none or no_target")})
    indicators = fields.Dict(keys=Text(), values=fields.Float(allow_none=True))


class ChildTableSchema(Schema):
    level = Text()
    rows = fields.List(fields.Nested(ChildRow))


class FiguresSchema(Schema):
    level = Text()
    object_id = Int(allow_none=True)
    grain = Text(metadata={"description": N_("school or classroom")})
    socle = Text(metadata={"description": N_("complete, partial, none or no_target")})
    indicators = fields.Dict(
        keys=Text(),
        values=fields.Float(allow_none=True),
        metadata={"description": N_("The dashboard's figures by code (percent, counts, days)")},
    )
    facts = fields.Dict(
        keys=Text(),
        values=Int(),
        metadata={"description": N_("The counts the figures are computed from")},
    )
    tables = fields.List(fields.Nested(ChildTableSchema))


def _answer(board: Dashboard, children: bool) -> dict[str, Any]:
    totals = board.totals
    return {
        "level": board.level.value,
        "object_id": board.object_id,
        "grain": board.grain.value,
        "socle": socle_state(totals).value,
        "indicators": _values(totals, board.grain),
        "facts": dict(zip(ind.FACTS, totals.counts, strict=True)),
        "tables": [
            {
                "level": t.level.value,
                "rows": [
                    {
                        "level": r.level.value,
                        "id": r.key,
                        "name": r.name,
                        "code": r.code,
                        "socle": socle_state(r.facts).value,
                        "indicators": _values(r.facts, t.grain),
                    }
                    for r in t.rows
                ],
            }
            for t in board.tables
        ]
        if children
        else [],
    }


SUMMARIES["get/figures"] = _l("The socle and dashboard figures of everything you may see.")
SUMMARIES.update(
    {
        f"get/figures/{path}/{{{ARGS[level]}}}": _l(
            "The socle and dashboard figures of this level, with its children's."
        )
        for level, path in PATHS.items()
    }
)


@blp.route("/figures", methods=["GET"])
@blp.arguments(FiguresQuery, location="query")
@blp.response(200, FiguresSchema)
@problems(422)
@allow(Action.READ)
def figures(args: dict[str, Any]) -> Any:
    """The socle and dashboard figures of everything you may see."""
    return _answer(dashboard(db.session, current_user, Level.SCOPE), args["children"])


def _route(level: Level) -> None:
    arg = ARGS[level]

    @blp.arguments(FiguresQuery, location="query")
    @blp.response(200, FiguresSchema)
    @problems(422)
    @allow(Action.READ, on=(MODELS[level], arg))
    def view(args: dict[str, Any], **kwargs: int) -> Any:
        """The socle and dashboard figures of this level, with its children's."""
        obj = load_level(db.session, current_user, level, kwargs[arg])
        return _answer(dashboard(db.session, current_user, level, obj), args["children"])

    view.__name__ = f"figures_{level.value}"
    blp.route(f"/figures/{PATHS[level]}/<int:{arg}>", methods=["GET"], endpoint=view.__name__)(view)


for _level in PATHS:
    _route(_level)
