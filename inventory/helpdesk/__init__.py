"""Scan to report: the public scan page, problem reports, tickets, inventory campaigns."""
