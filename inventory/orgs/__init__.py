"""Organisation registry: académies, départements, circonscriptions, collectivités, schools."""
