"""Domain events: what happened in one feature, for the features that react to it (docs/events.md)."""
