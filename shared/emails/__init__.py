"""Emails: templates per locale, the queue message, and the idempotent send pipeline."""
