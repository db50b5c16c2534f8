"""Request dependencies: the service, and the authenticated principal with its permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from api.service import Service
from core.access import Action, Principal
from core.accounts import principal_for_api_key, principal_for_user
from core.store import utc_now

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Pipeline key")
oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False, description="User token")


# Dependencies that only compute are `async def`: FastAPI runs a plain `def` dependency in a worker thread, a hop that
# costs more CPU than the work itself. Those that may touch the database (get_principal) stay plain `def`.


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def issue_token(service: Service, username: str) -> str:
    expires = utc_now() + timedelta(minutes=service.settings.token_ttl_minutes)
    return jwt.encode({"sub": username, "exp": expires}, service.jwt_secret, algorithm="HS256")


def get_principal(
    service: ServiceDep,
    key: Annotated[str | None, Depends(api_key_header)],
    token: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    """From an API key or a bearer token; 401 with the reason otherwise. Who a key or user is comes from the
    service's `PrincipalCache` (a revocation takes effect within its few seconds)."""
    if key:
        principal = service.principals.get("key", key, lambda: principal_for_api_key(service.store, key))
        if principal is None:
            raise HTTPException(401, "unknown API key")
        return principal
    if token:
        try:
            claims = jwt.decode(token, service.jwt_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise HTTPException(401, "token expired") from None
        except jwt.InvalidTokenError:
            raise HTTPException(401, "invalid token") from None
        username = str(claims["sub"])  # the signature and expiry are checked on every request, above
        principal = service.principals.get("user", username, lambda: principal_for_user(service.store, username))
        if principal is None:
            raise HTTPException(401, "the token's user no longer exists")
        return principal
    raise HTTPException(401, "authentication required: an X-API-Key header or a bearer token")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(action: Action) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: PrincipalDep) -> Principal:
        if not principal.can(action):
            raise HTTPException(403, f"role {principal.role.value} may not {action.value}")
        return principal

    return check
