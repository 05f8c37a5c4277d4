"""The daily anonymised snapshot of the store for the brand's data warehouse (docs/warehouse-export.md)."""
