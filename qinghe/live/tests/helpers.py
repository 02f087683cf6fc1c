"""Shared set-up for the live tests: a live stream of enterprises A and B featuring their
open postings (qinghe.testing.world)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from qinghe.accounts.models import User
from qinghe.live import services
from qinghe.live.models import Stream
from qinghe.testing.world import World


def make_stream(
    world: World, staff: User, *, live: bool = True, hls_url: str = "/hls/fair.m3u8"
) -> Stream:
    now = timezone.now()
    stream = services.stream_create(
        actor=staff,
        title="2026 鹤山企业直播带岗",
        host="人社局 何主任",
        enterprises=[world.a, world.b],
        postings=[world.posting_a, world.posting_b],
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=1),
        hls_url=hls_url,
    )
    if live:
        stream = services.stream_start(actor=staff, stream=stream)
    return stream
