"""Backups of the document store: hourly and monthly snapshots in blob storage, and their restore."""
