"""Brands (tenants): the programme configuration every rule reads."""
