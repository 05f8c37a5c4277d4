"""What the routers of two audiences share (query parameters, response pages, helpers): no route here."""
