"""Bot tokens encrypted at rest and webhook secrets kept only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    # The first key encrypts; every listed key decrypts, so keys can be rotated.
    return MultiFernet([Fernet(key) for key in settings.BOT_TOKEN_KEYS])


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("bot token cannot be decrypted with BOT_TOKEN_KEYS") from None


def new_webhook_secret() -> str:
    """A secret Telegram accepts in `secret_token` (1-256 chars of A-Z, a-z, 0-9, _ and -)."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str | bytes) -> str:
    raw = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(raw).hexdigest()


def secret_matches(secret: str | bytes, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())
