"""How a scope narrows helpdesk data: by the school the ticket or campaign is about."""

from __future__ import annotations

from sqlalchemy import select, true

from inventory.core import policy
from inventory.helpdesk.models import (
    CampaignScan,
    InventoryCampaign,
    ProblemType,
    Ticket,
    TicketFollower,
    TicketMessage,
    TicketPhoto,
)
from inventory.orgs.access import visible_ecole_ids

policy.register(ProblemType, lambda s: true())
policy.register(Ticket, lambda s: Ticket.ecole_id.in_(visible_ecole_ids(s)))
policy.register(InventoryCampaign, lambda s: InventoryCampaign.ecole_id.in_(visible_ecole_ids(s)))
policy.register(
    TicketMessage,
    lambda s: TicketMessage.ticket_id.in_(
        select(Ticket.id).where(Ticket.ecole_id.in_(visible_ecole_ids(s)))
    ),
)
policy.register(
    TicketFollower,
    lambda s: TicketFollower.ticket_id.in_(
        select(Ticket.id).where(Ticket.ecole_id.in_(visible_ecole_ids(s)))
    ),
)
policy.register(
    TicketPhoto,
    lambda s: TicketPhoto.ticket_id.in_(
        select(Ticket.id).where(Ticket.ecole_id.in_(visible_ecole_ids(s)))
    ),
)
policy.register(
    CampaignScan,
    lambda s: CampaignScan.campaign_id.in_(
        select(InventoryCampaign.id).where(InventoryCampaign.ecole_id.in_(visible_ecole_ids(s)))
    ),
)
