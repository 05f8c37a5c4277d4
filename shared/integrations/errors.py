"""Why a brand platform's call or assertion was refused: one stable problem type each, no hint inside.

Each is a 401 with a generic detail: the type tells the brand's developers which check failed
(they hold the secret and the logs), the detail tells an attacker nothing more.
"""

from __future__ import annotations

from shared.errors import Unauthorized

_GENERIC = "The request could not be authenticated"


class IntegrationAuthError(Unauthorized):
    """Base of the integration authentication refusals."""

    code = "integration-unauthorized"

    def __init__(self, detail: str = _GENERIC) -> None:
        super().__init__(detail)


class SignatureMissing(IntegrationAuthError):
    code = "integration-signature-missing"


class UnknownKey(IntegrationAuthError):
    code = "integration-unknown-key"


class BadSignature(IntegrationAuthError):
    code = "integration-bad-signature"


class StaleRequest(IntegrationAuthError):
    code = "integration-stale-request"


class ReplayedRequest(IntegrationAuthError):
    code = "integration-replayed-request"


class InvalidAssertion(IntegrationAuthError):
    code = "sso-assertion-invalid"


class ExpiredAssertion(IntegrationAuthError):
    code = "sso-assertion-expired"


class ReplayedAssertion(IntegrationAuthError):
    code = "sso-assertion-replayed"
