"""The members' CRM: contacts, their consent state machine, sources, blacklist and visibility."""
