"""How background jobs read in the history and the journal."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.core.jobs import Job, JobState


def init_app(_app: Flask) -> None:
    describe(
        Job,
        _l("Background job"),
        {
            "kind": _l("Kind"),
            "state": Field(
                _l("State"),
                labels={
                    JobState.QUEUED: _l("queued"),
                    JobState.RUNNING: _l("running"),
                    JobState.DONE: _l("done"),
                    JobState.FAILED: _l("failed"),
                },
            ),
            "params": _l("Parameters"),
            "done": _l("Done"),
            "total": _l("Total"),
            "result": _l("Result"),
            "error": _l("Error"),
            "attempts": _l("Attempts"),
            "user_id": _l("User"),
            "actor_label": _l("By"),
            "collectivite_id": _l("Collectivité"),
            "created_at": _l("Created on"),
            "started_at": _l("Started on"),
        },
    )
