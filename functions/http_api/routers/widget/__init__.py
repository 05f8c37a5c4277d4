"""Widget API (`/api/v1/widget/`): visitors of a brand's website, anonymous or by their visitor account."""
