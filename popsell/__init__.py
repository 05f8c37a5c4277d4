"""Popsell Functions' composition root: it builds the adapters, services and handlers the entry points use."""
