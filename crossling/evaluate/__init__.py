"""Evaluation of checkpoints: metrics (metrics.py), the suite that writes results.json (suite.py),
and comparisons across checkpoints (report.py)."""
