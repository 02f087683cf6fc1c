"""Prints a fresh Ed25519 private JWK as a one-element JSON list, the format of
QINGHE_CARD_SIGNING_KEYS and QINGHE_EVENT_SIGNING_KEYS (docs/OPERATIONS.md). To rotate, put the
new key first and keep the old one listed until nothing signed with it is still in use."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from joserfc.jwk import OKPKey


class Command(BaseCommand):
    help = "生成新的 Ed25519 签名密钥（JWK 列表，用于 QINGHE_CARD_SIGNING_KEYS / QINGHE_EVENT_SIGNING_KEYS）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kid", help="密钥编号，例如 card-2026-12")

    def handle(self, *args: Any, **options: Any) -> None:
        key = OKPKey.generate_key("Ed25519", parameters={"kid": options["kid"]}, private=True)
        self.stdout.write(json.dumps([key.as_dict(private=True)]))
