"""National-scale benchmarks, run by ``scripts/bench`` (never collected by pytest)."""
