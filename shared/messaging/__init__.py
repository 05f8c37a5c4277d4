"""Messaging: the local worker that drives the queue handlers the Service Bus triggers call."""
