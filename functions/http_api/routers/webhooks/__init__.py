"""Webhooks (`/api/v1/webhooks/`): callbacks of the email provider."""
