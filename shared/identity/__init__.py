"""Identity and access: tokens, principals and access levels."""
