"""Aliyun RPC request signing (no Django imports: the fake gateway uses it too)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    """Aliyun RPC signature v1: HMAC-SHA1 over the sorted, percent-encoded parameters."""

    def enc(value: str) -> str:
        return quote(value, safe="~")

    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
