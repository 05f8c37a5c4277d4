"""Member signup and login for the App."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import Field

from functions.http_api.access import access
from functions.http_api.deps import ContainerDep, client_ip
from functions.http_api.problems import other_success, problem_responses
from shared.emails.address import EmailAddress
from shared.identity import login as login_service
from shared.identity import signup as signup_service
from shared.identity.auth import AuthContext, auth_context
from shared.identity.models import CamelModel
from shared.identity.sessions import TokenPair
from shared.identity.signup import MemberSignup
from shared.identity.social_login import SocialSignupDetails, social_login

router = APIRouter(tags=["App: authentication"])
APP = "/api/v1/app/{brand_id}/auth"


class InboxNotice(CamelModel):
    """The same answer whatever the account's state: nothing here tells whether an address is known."""

    message: str


class TokenPairRead(CamelModel):
    """An App session: a 15-minute access token and a rotating refresh token."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the token scheme, not a secret
    expires_in: int
    refresh_expires_in: int
    member_id: str

    @classmethod
    def of(cls, pair: TokenPair) -> TokenPairRead:
        return cls(access_token=pair.access_token, refresh_token=pair.refresh_token, token_type=pair.token_type,
                   expires_in=pair.expires_in, refresh_expires_in=pair.refresh_expires_in, member_id=pair.subject)


class SocialLoginRead(TokenPairRead):
    created: bool


class EmailVerification(CamelModel):
    token: str = Field(min_length=1, max_length=200)


class VerifiedRead(CamelModel):
    member_id: str
    status: str


class EmailOnly(CamelModel):
    email: EmailAddress


class Credentials(CamelModel):
    email: EmailAddress
    password: str = Field(max_length=200)


class RefreshRequest(CamelModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordResetConfirm(CamelModel):
    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(max_length=200)


class SocialLogin(CamelModel):
    provider: Literal["google", "apple", "facebook"]
    id_token: str = Field(min_length=1, max_length=10_000)
    accept_terms: bool = False
    terms_version: str | None = Field(None, min_length=1, max_length=40)
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=80)
    alias: str | None = Field(None, max_length=80)
    preferred_language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


def _ctx(container: ContainerDep, brand_id: str, request: Request) -> AuthContext:
    # The client IP is hashed inside auth_context at once; the clear value goes no further.
    return auth_context(container=container, brand_id=brand_id, ip=client_ip(request),
                        user_agent=request.headers.get("user-agent"))


_CHECK_INBOX = InboxNotice(message="If this address can be used, an email is on its way.")


@router.post(f"{APP}/signup", status_code=202, response_model=InboxNotice, **access("public"),
             responses=problem_responses(403, 404, 409, 422))
def signup(brand_id: str, body: MemberSignup, request: Request, container: ContainerDep) -> InboxNotice:
    """Sign up as a member: the account stays pending until the emailed link is followed."""
    signup_service.signup(ctx=_ctx(container, brand_id, request), data=body, now=container.clock.now())
    return _CHECK_INBOX


@router.post(f"{APP}/verify-email", response_model=VerifiedRead, **access("public"),
             responses=problem_responses(404, 410, 422))
def verify_email(brand_id: str, body: EmailVerification, request: Request, container: ContainerDep) -> VerifiedRead:
    """Confirm an email address with the single-use link's token: the account becomes active."""
    member = signup_service.verify_email(ctx=_ctx(container, brand_id, request), token=body.token,
                                         now=container.clock.now())
    return VerifiedRead(member_id=member.id, status=member.status)


@router.post(f"{APP}/verify-email/resend", status_code=202, response_model=InboxNotice, **access("public"),
             responses=problem_responses(403, 404, 422))
def resend_verification(brand_id: str, body: EmailOnly, request: Request, container: ContainerDep) -> InboxNotice:
    """Send the verification link again (the same answer for any address)."""
    signup_service.resend_verification(ctx=_ctx(container, brand_id, request), email=body.email,
                                       now=container.clock.now())
    return _CHECK_INBOX


@router.post(f"{APP}/login", response_model=TokenPairRead, **access("public"),
             responses=problem_responses(401, 403, 404, 422, 429))
def login(brand_id: str, body: Credentials, request: Request, container: ContainerDep) -> TokenPairRead:
    """Log in with email and password: an access token (15 min) and a refresh token."""
    pair = login_service.login(ctx=_ctx(container, brand_id, request), email=body.email, password=body.password,
                               now=container.clock.now())
    return TokenPairRead.of(pair)


@router.post(f"{APP}/refresh", response_model=TokenPairRead, **access("public"),
             responses=problem_responses(401, 404, 422))
def refresh(brand_id: str, body: RefreshRequest, request: Request, container: ContainerDep) -> TokenPairRead:
    """Trade a refresh token for a new pair; a refresh token used twice ends the session."""
    pair = login_service.refresh(ctx=_ctx(container, brand_id, request), refresh_token=body.refresh_token,
                                 now=container.clock.now())
    return TokenPairRead.of(pair)


@router.post(f"{APP}/logout", status_code=204, **access("public"), responses=problem_responses(404, 422))
def logout(brand_id: str, body: RefreshRequest, request: Request, container: ContainerDep) -> Response:
    """End the session of this refresh token (its access token lapses within 15 minutes)."""
    login_service.logout(ctx=_ctx(container, brand_id, request), refresh_token=body.refresh_token,
                         now=container.clock.now())
    return Response(status_code=204)


@router.post(f"{APP}/password-reset/request", status_code=202, response_model=InboxNotice, **access("public"),
             responses=problem_responses(403, 404, 422))
def request_password_reset(brand_id: str, body: EmailOnly, request: Request, container: ContainerDep) -> InboxNotice:
    """Ask for a password-reset link (the same answer for any address)."""
    login_service.request_password_reset(ctx=_ctx(container, brand_id, request), email=body.email,
                                         now=container.clock.now())
    return _CHECK_INBOX


@router.post(f"{APP}/password-reset/confirm", status_code=204, **access("public"),
             responses=problem_responses(404, 410, 422))
def confirm_password_reset(brand_id: str, body: PasswordResetConfirm, request: Request,
                           container: ContainerDep) -> Response:
    """Choose a new password with a reset link's token; every open session ends."""
    login_service.confirm_password_reset(ctx=_ctx(container, brand_id, request), token=body.token,
                                         new_password=body.new_password, now=container.clock.now())
    return Response(status_code=204)


@router.post(f"{APP}/social", response_model=SocialLoginRead, **access("public"),
             responses={**problem_responses(401, 403, 404, 422),
                        **other_success(201, SocialLoginRead, "Signed up now, on this first login")})
def social(brand_id: str, body: SocialLogin, request: Request, container: ContainerDep,
           response: Response) -> SocialLoginRead:
    """Log in (or sign up on first use) with a Google, Apple or Facebook ID token."""
    details = SocialSignupDetails(
        accept_terms=body.accept_terms, terms_version=body.terms_version, first_name=body.first_name,
        last_name=body.last_name, alias=body.alias, preferred_language=body.preferred_language,
    )
    pair, created = social_login(ctx=_ctx(container, brand_id, request), provider=body.provider, id_token=body.id_token,
                                 details=details, now=container.clock.now())
    if created:
        response.status_code = 201
    return SocialLoginRead(**TokenPairRead.of(pair).model_dump(), created=created)
