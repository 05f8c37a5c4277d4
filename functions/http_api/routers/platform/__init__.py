"""Routes of no audience: the tracking redirect (`/t/`) and health, mounted at start; the local blob
folder's served files (`/api/v1/files/`) and the dev-only surfaces (`/api/v1/dev/`), mounted by mode."""
