"""Funding schemes, dossiers, expenses linked to items, state aid and payments."""
