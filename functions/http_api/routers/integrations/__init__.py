"""Integrations API (`/api/v1/integrations/`): the brand platform's signed server-to-server calls."""
