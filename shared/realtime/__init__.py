"""Realtime pushes for the features: negotiate a client's connection, publish after a store write (docs/realtime.md)."""
