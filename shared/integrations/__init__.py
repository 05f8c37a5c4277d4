"""Brand platforms calling Popsell: signed requests (HMAC) and brand-signed assertions (JWT)."""
