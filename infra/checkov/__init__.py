"""This project's own checkov checks (`make lint`: checkov --external-checks-dir infra/checkov)."""
