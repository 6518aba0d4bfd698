"""Single sign-on: which sign-in methods the server offers, OIDC sign-in (a redirect to the
provider and its callback), LDAP/Active Directory sign-in with a password, and a workspace's
switch for password sign-in."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from fastapi import Request as HttpRequest
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from zhiku.accounts import password_signin
from zhiku.accounts.principal import Level
from zhiku.accounts.scope import check_unrestricted
from zhiku.accounts.secrets import same
from zhiku.api.deps import Caller, State
from zhiku.api.routers.users import SessionOut, client_address, session_out
from zhiku.api.schemas import ERRORS, Request
from zhiku.api.state import ApiState
from zhiku.core.errors import NotFound, Unauthorized, ZhikuError
from zhiku.sso import ldap, pending
from zhiku.sso.identities import DirectoryAccount
from zhiku.sso.mapping import parse_rules
from zhiku.sso.oidc import OidcClient
from zhiku.sso.signin import Attempt, sign_in

router = APIRouter(tags=["users"], responses=ERRORS)
STATE_COOKIE = "zhiku_oidc_state"
STATE_PATH = "/v1/auth/oidc"


class OidcMethod(BaseModel):
    """The OIDC provider, as the sign-in page names it."""

    name: str
    login_url: str


class MethodsOut(BaseModel):
    """The ways to sign in to this server."""

    password: bool = True
    oidc: OidcMethod | None = None
    ldap: bool = False


class LdapLoginIn(Request):
    """A directory user name (or e-mail) and password; ``workspace`` as for password login."""

    login: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    workspace: str | None = Field(default=None, max_length=128)
    cookie: bool = Field(default=False, description="Keep the session in an HttpOnly cookie.")


class SigninPolicy(BaseModel):
    """Whether members may sign in to this workspace with e-mail and password."""

    password_signin: bool


class SigninPolicyIn(Request):
    """Turn password sign-in to this workspace on or off (the instance owner keeps it)."""

    password_signin: bool


@router.get("/v1/auth/methods", response_model=MethodsOut)
def methods(state: State) -> MethodsOut:
    """The sign-in methods this server offers (for the sign-in page; no credentials)."""
    client = state.oidc
    oidc = None if client is None else OidcMethod(name=client.config.name,
                                                 login_url="/v1/auth/oidc/login")
    return MethodsOut(oidc=oidc, ldap=ldap.LdapConfig.from_settings(state.settings) is not None)


def _oidc(state: ApiState) -> OidcClient:
    if state.oidc is None:
        raise NotFound("single sign-on (OIDC) is not configured on this server")
    return state.oidc


@router.get("/v1/auth/oidc/login", status_code=302, response_class=RedirectResponse)
def oidc_login(
    state: State,
    request: HttpRequest,
    workspace: str | None = Query(default=None, max_length=128),
) -> RedirectResponse:
    """Start OIDC sign-in: redirect the browser to the provider (authorization code with PKCE
    S256, a fresh state and nonce). ``workspace`` picks one of the user's workspaces."""
    client = _oidc(state)
    redirect_uri = client.config.redirect_url or str(request.url_for("oidc_callback"))
    try:
        started = pending.start(state.db, redirect_uri, workspace)
        answer = RedirectResponse(client.authorize_url(started), status_code=302)
    except ZhikuError as exc:  # the provider is unreachable or misconfigured
        if _wants_json(request):
            raise
        return _back_to_signin(exc)
    # the state also lives in the browser that started, so a callback carried to another
    # browser (login CSRF) fails; Lax, as the provider's redirect back is a cross-site GET
    answer.set_cookie(STATE_COOKIE, started.state, max_age=pending.LIFETIME_SECONDS,
                      path=STATE_PATH, secure=request.url.scheme == "https", httponly=True,
                      samesite="lax")
    return answer


@router.get("/v1/auth/oidc/callback", name="oidc_callback", status_code=303,
            response_class=RedirectResponse)
def oidc_callback(
    state: State,
    request: HttpRequest,
    code: str | None = Query(default=None, max_length=4096),
    state_: str | None = Query(default=None, alias="state", max_length=512),
    error: str | None = Query(default=None, max_length=256),
    error_description: str | None = Query(default=None, max_length=1024),
) -> RedirectResponse:
    """Finish OIDC sign-in: check the state, exchange the code, verify the ID token, map the
    user's groups to workspace roles and open a session in the same cookies password sign-in
    sets; then send the browser to the console (with ``sso_error`` when it failed)."""
    client = _oidc(state)
    hours = state.settings.api_session_hours
    try:
        token = _finish(state, client, request, code, state_, error, error_description, hours)
    except ZhikuError as exc:
        if _wants_json(request):
            raise
        return _back_to_signin(exc)
    answer = RedirectResponse("/#/kbs", status_code=303)
    answer.delete_cookie(STATE_COOKIE, path=STATE_PATH)
    session_out(token, hours, cookie=True, request=request, response=answer)
    return answer


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("accept", "").startswith("application/json")


def _back_to_signin(exc: ZhikuError) -> RedirectResponse:
    """The browser back on the console's sign-in page, which shows the reason."""
    answer = RedirectResponse("/?" + urlencode({"sso_error": exc.message}) + "#/login",
                              status_code=303)
    answer.delete_cookie(STATE_COOKIE, path=STATE_PATH)
    return answer


def _finish(state: ApiState, client: OidcClient, request: HttpRequest, code: str | None,
            state_: str | None, error: str | None, error_description: str | None,
            hours: float) -> str:
    sent = request.cookies.get(STATE_COOKIE, "")

    def who() -> tuple[DirectoryAccount, str | None]:
        if error:
            raise Unauthorized(f"the identity provider refused: {error_description or error}")
        if not state_ or not code:
            raise Unauthorized("the identity provider's answer has no code or state")
        if not sent or not same(sent, state_):
            raise Unauthorized("the sign-in state does not match this browser; start again")
        started = pending.finish(state.db, state_)
        return client.account(code, started), started.workspace

    rules = parse_rules(state.settings.sso_role_mapping)
    return sign_in(state.auth, who, rules,
                   Attempt("oidc", client_address(request), hours))


@router.post("/v1/auth/ldap/login", response_model=SessionOut)
def ldap_login(body: LdapLoginIn, state: State, request: HttpRequest,
               response: Response) -> SessionOut:
    """Sign in with a directory (LDAP / Active Directory) user name and password; the user's
    directory groups map to workspace roles (409 ``choose_workspace`` as for password login;
    429 after repeated failures)."""
    config = ldap.LdapConfig.from_settings(state.settings)
    if config is None:
        raise NotFound("directory (LDAP) sign-in is not configured on this server")
    hours = state.settings.api_session_hours
    rules = parse_rules(state.settings.sso_role_mapping)
    address = client_address(request)
    attempt = Attempt("ldap", address, hours, login_hint=body.login, choose=True)
    token = sign_in(state.auth,
                    lambda: (ldap.authenticate(config, body.login, body.password), body.workspace),
                    rules, attempt, guard=lambda: state.guard.attempt(body.login, address))
    return session_out(token, hours, cookie=body.cookie, request=request, response=response)


@router.get("/v1/workspace/signin", response_model=SigninPolicy)
def signin_policy(caller: Caller, state: State) -> SigninPolicy:
    """Whether password sign-in to this workspace is on (callers not limited to some names)."""
    check_unrestricted(caller, Level.READ)
    return SigninPolicy(password_signin=password_signin.allowed(state.db, caller.workspace_id))


@router.patch("/v1/workspace/signin", response_model=SigninPolicy)
def change_signin_policy(body: SigninPolicyIn, caller: Caller, state: State) -> SigninPolicy:
    """Turn password sign-in to this workspace on or off (admins not limited to some names).
    Off, members sign in through single sign-on or the directory; the instance owner (the
    first account) keeps password sign-in so a broken directory never locks everyone out."""
    on = password_signin.change(state.auth, caller, body.password_signin)
    return SigninPolicy(password_signin=on)
