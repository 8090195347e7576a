"""Dashboards of the programme: indicators defined once, rolled up from school to académie,
with drill-down lists, charts, a map and exports (tables, the ministry's open-data shapes,
evidence packs)."""
