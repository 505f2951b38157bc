"""Coarse paradata: device class and a rotating salted hash of the client.

No raw IP address and no device fingerprint is ever stored: the client hash
uses a salt derived from the secret key and the current date, so hashes can be
compared within a day (abuse checks) but not linked across days.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from flask import current_app, request


def device_class(user_agent: str) -> str:
    ua = user_agent.lower()
    if "ipad" in ua or "tablet" in ua:
        kind = "tablet"
    elif "mobi" in ua or "android" in ua or "iphone" in ua:
        kind = "mobile"
    elif ua:
        kind = "desktop"
    else:
        return "unknown"
    return f"{kind}-wechat" if "micromessenger" in ua else kind


def client_hash(today: date | None = None) -> str:
    today = today or date.today()
    key = hmac.new(
        current_app.config["SECRET_KEY"].encode(), f"client-salt:{today}".encode(), "sha256"
    ).digest()
    address = request.remote_addr or ""
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]
