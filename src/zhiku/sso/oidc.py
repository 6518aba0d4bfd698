"""OpenID Connect sign-in (authorization code with PKCE S256) against one provider.

The provider is found through its discovery document; the ID token's signature is checked
against the provider's JWKS (fetched again once when a token names an unknown key, as after a
key rotation), then its issuer, audience, expiry and nonce. Claims the ID token leaves out
(groups, e-mail) are read from the userinfo endpoint when the provider has one.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx

from zhiku.core.errors import InvalidInput, MissingDependency, ProviderError, Unauthorized
from zhiku.core.settings import Settings
from zhiku.sso.identities import DirectoryAccount
from zhiku.sso.pending import Pending

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")
LEEWAY_SECONDS = 60
METADATA_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """The provider and this server's registration with it."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    scopes: str = "openid email profile"
    groups_claim: str = "groups"
    name: str = "SSO"
    redirect_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """The configuration, or None when OIDC sign-in is not set up."""
        if not settings.oidc_issuer or not settings.oidc_client_id:
            return None
        secret = settings.oidc_client_secret
        return cls(
            issuer=settings.oidc_issuer.rstrip("/"), client_id=settings.oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scopes=settings.oidc_scopes, groups_claim=settings.oidc_groups_claim,
            name=settings.oidc_provider_name, redirect_url=settings.oidc_redirect_url,
        )

    @property
    def scope(self) -> str:
        """The scopes asked for, openid first."""
        words = self.scopes.split()
        return " ".join(["openid", *(w for w in words if w != "openid")])


class OidcClient:
    """Sign-in with one provider; metadata and keys are cached for the process."""

    def __init__(self, config: OidcConfig, *, timeout: float = 10.0) -> None:
        self.config = config
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._fetched = 0.0
        self._jwks: dict[str, Any] | None = None

    @classmethod
    def of(cls, settings: Settings) -> OidcClient | None:
        """The client of the configured provider, or None when OIDC is not set up."""
        config = OidcConfig.from_settings(settings)
        return None if config is None else cls(config)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # -- the provider ---------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The discovery document, whose issuer must be the configured one exactly."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched > METADATA_SECONDS:
                url = self.config.issuer + "/.well-known/openid-configuration"
                doc = self._get_json(url)
                if str(doc.get("issuer", "")).rstrip("/") != self.config.issuer:
                    raise ProviderError(
                        f"the discovery document at {url} names issuer "
                        f"{doc.get('issuer')!r}, not the configured {self.config.issuer!r}"
                    )
                self._metadata, self._fetched, self._jwks = doc, time.monotonic(), None
            return self._metadata

    def signing_keys(self, refresh: bool = False) -> dict[str, Any]:
        """The provider's JWKS (fetched again with ``refresh``)."""
        if self._jwks is None or refresh:
            self._jwks = self._get_json(str(self.metadata()["jwks_uri"]))
        return self._jwks

    def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer = self._http.get(url, **kwargs)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"the identity provider did not answer {url}: {exc}") from exc
        if not isinstance(data, dict):
            raise ProviderError(f"the identity provider sent no JSON object from {url}")
        return data

    # -- the flow -------------------------------------------------------------------------
    def authorize_url(self, pending: Pending) -> str:
        """Where to send the browser: the provider's authorization endpoint with state, nonce
        and the PKCE S256 challenge."""
        query = {
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": pending.redirect_uri, "scope": self.config.scope,
            "state": pending.state, "nonce": pending.nonce,
            "code_challenge": pending.code_challenge, "code_challenge_method": "S256",
        }
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}"

    def account(self, code: str, pending: Pending) -> DirectoryAccount:
        """Exchange the code, verify the ID token, and say who signed in."""
        tokens = self._exchange(code, pending)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthorized("the identity provider sent no ID token")
        claims = self.verify_id_token(id_token, pending.nonce)
        endpoint = self.metadata().get("userinfo_endpoint")
        access = tokens.get("access_token")
        if endpoint and isinstance(access, str):
            info = self._get_json(str(endpoint), headers={"Authorization": f"Bearer {access}"})
            if info.get("sub") == claims["sub"]:  # another subject's claims are not theirs
                claims = {**info, **claims}
        return account_from_claims(self.config, claims)

    def _exchange(self, code: str, pending: Pending) -> dict[str, Any]:
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": pending.redirect_uri, "code_verifier": pending.code_verifier}
        headers: dict[str, str] = {}
        if self.config.client_secret:  # client_secret_basic
            headers["Authorization"] = basic_auth(self.config.client_id,
                                                  self.config.client_secret)
        else:  # a public client: PKCE alone
            data["client_id"] = self.config.client_id
        try:
            answer = self._http.post(str(self.metadata()["token_endpoint"]), data=data,
                                     headers=headers)
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderError(f"the identity provider's token endpoint failed: {exc}") from exc
        if answer.status_code != 200 or not isinstance(body, dict):
            error: object = answer.status_code
            if isinstance(body, dict):
                error = body.get("error_description") or body.get("error") or error
            raise Unauthorized(f"the identity provider refused the sign-in code: {error}")
        return body

    def verify_id_token(self, id_token: str, nonce: str | None) -> dict[str, Any]:
        """The ID token's claims once its signature (by the provider's keys), issuer,
        audience, expiry and ``nonce`` check out; else ``Unauthorized`` saying which failed."""
        try:
            from joserfc import jwt
            from joserfc.errors import JoseError
            from joserfc.jwk import KeySet
        except ImportError as exc:
            raise MissingDependency("OIDC sign-in needs pip install 'zhiku[sso]'") from exc
        keys = self.signing_keys()
        if _key_id(id_token) not in {k.get("kid") for k in keys.get("keys", [])}:
            keys = self.signing_keys(refresh=True)  # a rotation: fetched again, once a token
        try:
            key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]
            token = jwt.decode(id_token, key_set, algorithms=list(ALGORITHMS))
        except JoseError as exc:
            raise Unauthorized(f"the ID token's signature does not verify: {exc}") from exc
        except ValueError as exc:
            raise Unauthorized(f"the ID token is malformed: {exc}") from exc
        claims = token.claims
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.config.issuer},
            "sub": {"essential": True},
            "aud": {"essential": True, "value": self.config.client_id},
            "exp": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        try:
            jwt.JWTClaimsRegistry(leeway=LEEWAY_SECONDS, **options).validate(claims)
        except JoseError as exc:
            raise Unauthorized(f"the ID token was refused: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise Unauthorized("the ID token was refused: it was issued to another client (azp)")
        return claims


def _key_id(token: str) -> object:
    """The ``kid`` of a JWS's header, or None when it has none or cannot be read."""
    try:
        header = token.split(".", 1)[0]
        data = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return data.get("kid") if isinstance(data, dict) else None


def basic_auth(client_id: str, secret: str) -> str:
    """The client_secret_basic header: both parts form-encoded first (RFC 6749 2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def account_from_claims(config: OidcConfig, claims: dict[str, Any]) -> DirectoryAccount:
    """The directory account the verified claims describe."""
    groups = claims.get(config.groups_claim, [])
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        raise InvalidInput(f"the {config.groups_claim!r} claim is not a list of groups")
    email = claims.get("email") or claims.get("preferred_username") or ""
    return DirectoryAccount(
        provider=config.issuer, subject=str(claims["sub"]), email=str(email),
        name=str(claims.get("name") or ""), groups=[str(g) for g in groups],
        email_verified=claims.get("email_verified") is not False,
    )
