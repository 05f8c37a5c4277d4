"""Privacy by design: keyed hashing of identifiers and PII-free logging."""
