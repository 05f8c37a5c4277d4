"""Popsell's product code: domain rules, services, ports and adapters (no Azure Functions, no FastAPI)."""
