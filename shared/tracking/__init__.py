"""Tracking and attribution: share links, the redirect, site events, counters, visits."""
