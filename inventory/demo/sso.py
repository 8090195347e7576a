"""The demo's sign-in providers: ProConnect (its preset) with a rule that opens the town's
agents an account, and the académie's CAS; both hidden from the sign-in page until an
administrator gives them a real client id and secret (/admin/sso)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from inventory.auth import providers
from inventory.auth.sso_models import ProviderKind
from inventory.core.policy import Role, ScopeKind

from .accounts import Places, Setup


def load_providers(session: Session, places: Places) -> Iterator[str]:
    if any(p.code == "proconnect" for p in providers.list_providers(session, Setup())):
        return
    preset = providers.PROCONNECT
    proconnect = providers.save_provider(
        session,
        Setup(),
        None,
        providers.ProviderFields(
            code=str(preset["code"]),
            kind=ProviderKind.OIDC,
            label=str(preset["label"]),
            server_url=str(preset["server_url"]),
            client_id="socle-demo",
            scopes=str(preset["scopes"]),
            acr_values=str(preset["acr_values"]),
            claim_email=str(preset["claim_email"]),
            claim_name=str(preset["claim_name"]),
            emails_verified=True,
            allow_jit=True,
            enabled=False,
        ),
    )
    if places.town.siren:
        # A SIRET starts with its organisation's SIREN; the town hall's is its first one.
        providers.add_rule(
            session,
            Setup(),
            proconnect,
            claim="siret",
            value=f"{places.town.siren}00011",
            role=Role.TECHNICIEN,
            scope_kind=ScopeKind.COLLECTIVITE,
            ref_id=places.town.id,
        )
    cas = providers.save_provider(
        session,
        Setup(),
        None,
        providers.ProviderFields(
            code="academie",
            kind=ProviderKind.CAS,
            label=f"Académie de {places.academie.name}",
            server_url="https://cas.ac-creteil.fr/cas",
            claim_email="mail",
            claim_name="displayName",
            emails_verified=True,
            allow_jit=True,
            enabled=False,
        ),
    )
    providers.add_rule(
        session,
        Setup(),
        cas,
        claim=providers.EMAIL_DOMAIN,
        value="ac-creteil.fr",
        role=Role.AUDITEUR,
        scope_kind=ScopeKind.ACADEMIE,
        ref_id=places.academie.id,
    )
    yield "Sign-in providers: ProConnect and the académie's CAS (hidden until configured)"
