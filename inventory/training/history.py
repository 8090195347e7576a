"""How training sessions read in the history and the journal, declared at start-up."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.training.choices import FORMAT_LABELS, MODE_LABELS, STATUS_LABELS
from inventory.training.models import TrainingSession


def init_app(_app: Flask) -> None:
    describe(
        TrainingSession,
        _l("Training session"),
        {
            "title": _l("Title"),
            "starts_at": _l("Starts at"),
            "duration_minutes": _l("Duration (minutes)"),
            "mode": Field(_l("Mode"), labels=MODE_LABELS),
            "format": Field(_l("Format"), labels=FORMAT_LABELS),
            "status": Field(_l("Status"), labels=STATUS_LABELS),
            "place": _l("Place"),
            "teachers": _l("Teachers"),
            "directors": _l("School directors"),
            "municipal_staff": _l("Municipal staff"),
            "satisfaction": _l("Satisfaction (1 to 5)"),
            "feedback": _l("Feedback"),
            "notes": _l("Notes"),
            "expense_id": _l("Invoice"),
            "created_by_id": _l("Created by"),
            "created_at": _l("Created on"),
            "schools": _l("Schools"),
            "topics": _l("Topics"),
            "categories": _l("Equipment categories"),
            "assets": _l("Equipment"),
            "trainers": _l("Trainers"),
            "attendees": Field(_l("Named participants"), "number"),
            "follow_ups": _l("Follow-up actions"),
            "documents": _l("Documents"),
        },
    )
