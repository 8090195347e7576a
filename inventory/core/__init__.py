"""Cross-cutting pieces every domain may use; nothing domain-specific lives here."""
