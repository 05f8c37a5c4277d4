"""Service Bus queue triggers: each converts the trigger's message and calls one shared handler."""
