"""Password hashing and API tokens (standard library only)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from app.config import settings


def hash_password(password: str) -> str:
    # PBKDF2 is slow on purpose: tens of milliseconds of CPU per call.
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), salt.encode(), settings.password_hash_iterations
    )
    return f"pbkdf2_sha256${settings.password_hash_iterations}${salt}${digest.hex()}"


def verify_password(password: str, hashed: str) -> bool:
    _, iterations, salt, expected = hashed.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def new_api_token() -> str:
    return secrets.token_hex(32)
