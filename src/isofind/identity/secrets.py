"""Password hashing and token material.

Passwords: argon2id (pwdlib); bcrypt hashes from imported accounts still verify and
are upgraded to argon2id at the next successful login. Tokens: 256-bit random
strings, stored only as SHA-256 digests, so a database leak reveals no usable token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from isofind.config import Settings


def password_hasher(settings: Settings) -> PasswordHash:
    argon2 = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    return PasswordHash((argon2, BcryptHasher()))


def new_token() -> str:
    return secrets.token_hex(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_recovery_code() -> str:
    """Readable 150-bit code: six groups of five (e.g. ``K3F9Q-...``)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(30))
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def new_password() -> str:
    return secrets.token_urlsafe(15)
