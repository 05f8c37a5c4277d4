"""Print the OpenAPI document of every route (local dev mode, so dev-only routes are documented too).

`make openapi` writes it to docs/openapi.json; a test fails when the committed copy is stale, so
every API change shows in review.
"""

from __future__ import annotations

import json
import sys
import tempfile

from functions.http_api.app import create_app
from shared.config import Settings


def document() -> dict:
    """The OpenAPI document, independent of the machine's environment."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, env="local", data_dir=data_dir, blobs="folder", dev_endpoints=True)
        return create_app(settings).openapi()


if __name__ == "__main__":
    json.dump(document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
