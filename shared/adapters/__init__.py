"""Adapters: the ports implemented on SQLite / local folders (embedded default) and on Azure."""
