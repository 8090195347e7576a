"""The REST API: personal tokens (tokens.py, their pages in views.py), the bearer
authentication and problem details of /api/v1 (auth.py), its schemas (schemas.py), its
endpoints (v1.py) over the same services and policy as the pages, and its description
with the browsable page (docs.py)."""
