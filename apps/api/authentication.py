"""Who a request speaks for: the API key it carries, resolved on every request.

djangorestframework-api-key offers a permission class only, which leaves `request.user`
anonymous; this authentication class puts a `KeyHolder` there instead, so tenancy, throttling
and logs see which key (by its prefix, never the secret) and which owner a request is for.

Nothing is cached: a key revoked or expired in the admin is refused by the very next request.
The cost is one indexed query by prefix and one SHA-512 per request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.api.models import APIKey

logger = logging.getLogger(__name__)

HEADER = "X-API-Key"
KEYWORD = "Api-Key"  # Authorization: Api-Key <key>
# The library's keys: 8 letters or digits, a dot, 32 more. Checked before any query, so junk
# never reaches the database.
KEY_FORMAT = re.compile(r"([A-Za-z0-9]{8})\.[A-Za-z0-9]{32}")


@dataclass(frozen=True)
class KeyHolder:
    """The caller as `request.user`: one owner's key, or a staff key."""

    key_prefix: str
    owner_id: int | None  # apps.bots Owner pk; None for a staff key
    is_staff: bool

    # What DRF and Django ask of `request.user`.
    is_authenticated = True
    is_anonymous = False

    def __str__(self) -> str:
        return f"key {self.key_prefix} ({'staff' if self.is_staff else f'owner {self.owner_id}'})"


class APIKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[KeyHolder, APIKey] | None:
        key = key_from(request)
        if key is None:
            return None  # IsAuthenticated answers 401 with how to send a key
        match = KEY_FORMAT.fullmatch(key)
        api_key = APIKey.objects.filter(prefix=match[1]).first() if match else None
        if api_key is None or not api_key.is_valid(key):
            # Nothing of what was sent is logged: it may be a secret of some other system.
            logger.info("api: refused a key that matches none")
            raise AuthenticationFailed("This API key is not valid.")
        if api_key.revoked:
            logger.info("api: refused revoked key %s", api_key.prefix)
            raise AuthenticationFailed("This API key has been revoked.")
        if api_key.expiry_date is not None and api_key.expiry_date <= timezone.now():
            logger.info("api: refused expired key %s", api_key.prefix)
            raise AuthenticationFailed("This API key has expired.")
        holder = KeyHolder(api_key.prefix, api_key.owner_id, api_key.is_staff)
        return holder, api_key

    def authenticate_header(self, request: Request) -> str:
        # A value here makes DRF answer 401 (not 403) when the key is missing or refused.
        return KEYWORD


def key_from(request: Request) -> str | None:
    """The key from `X-API-Key: <key>` or `Authorization: Api-Key <key>`, if either is sent."""
    key = request.META.get("HTTP_X_API_KEY", "")
    if not key:
        keyword, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        key = value if keyword.lower() == KEYWORD.lower() else ""
    return key.strip() or None
