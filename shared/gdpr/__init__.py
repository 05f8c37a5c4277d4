"""The GDPR engine: exports, erasure, retention (grown by later issues)."""
