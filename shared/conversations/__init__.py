"""Conversations between members and visitors (widget) or members (community): requests, messages, inboxes."""
