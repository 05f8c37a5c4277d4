"""Calling the real Functions entry point: `function_app.app`'s HTTP function with `azure.functions` requests.

What depends on the host (no socket peer, headers as Azure's front end sends them, the request and
response objects of the Python worker) is tested through here, not only through the ASGI test client.
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from typing import Any

import azure.functions as func


def indexed_functions() -> list:
    """The app's functions as the host indexes them (once per process there; tests may ask again)."""
    import function_app

    function_app.app.functions_bindings = None  # the SDK's check of unique names, kept per index run
    return function_app.app.get_functions()


@cache
def http_function():
    """The user function of the app's one HTTP trigger (AsgiFunctionApp's `http_app_func`)."""
    for function in indexed_functions():
        if any(binding.get_dict_repr()["type"] == "httpTrigger" for binding in function.get_bindings()):
            return function.get_user_function()
    raise AssertionError("function_app has no HTTP function")


def call(method: str, path: str, *, headers: dict[str, str] | None = None, json_body: Any = None,
         body: bytes = b"") -> func.HttpResponse:
    """One request through the Functions entry point, as the Python worker hands it over."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    request = func.HttpRequest(method=method, url=f"https://popsell-api.azurewebsites.net{path}",
                               headers=headers or {}, body=body)
    return asyncio.run(http_function()(request, None))
