"""Ports: the small interfaces every outside system sits behind."""
