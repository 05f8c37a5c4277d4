"""Contacts' rights pages (`/api/v1/contacts/`): people a brand holds data on prove an address to use their rights."""
