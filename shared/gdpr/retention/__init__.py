"""Retention: rules declared once (`rules.py`), one runner reading only what is due (`runner.py`).

See docs/retention.md and docs/decisions/0011-retention-framework.md.
"""
