"""Routers per audience: app, widget, manager, integrations, webhooks, tracking, health, dev."""
