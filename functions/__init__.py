"""Trigger adapters only: parse the trigger's input, call one service in `shared/`, map the result."""
