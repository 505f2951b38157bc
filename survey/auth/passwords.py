"""Password hashing with Argon2id (argon2-cffi), rehashing when parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
MIN_LENGTH = 10
#: Verified when the username is unknown, so that timing does not reveal accounts.
_DUMMY = _hasher.hash("dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def password_problem(password: str) -> str | None:
    """A Chinese message when the password is too weak, else None."""
    if len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符。"
    if password.isdigit() or password.lower() == password and password.isalpha():
        return "密码不能只由数字或小写字母组成，请混合字母、数字或符号。"
    return None
