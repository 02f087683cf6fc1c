"""A fake camera for the browser tests: Chromium's fake media device playing a video made by
ffmpeg from a picture (a QR shown on a phone, a card photographed), so the page's own
getUserMedia path decodes a real frame. Used by the card scan, the door check-in and the video
interview tests; launched by the session's Playwright (a second sync_playwright in the same
worker would refuse to start)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import qrcode

from tests.e2e.conftest import CHROMIUM

MEDIA_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


def qr_png(text: str, path: Path) -> Path:
    qrcode.make(text, box_size=4, border=4).save(path)
    return path


def camera_video(png: Path, path: Path, *, size: int = 400, smooth: bool = False) -> Path:
    """A 2-second 640x480 video of the picture scaled to size×size and centred on white:
    Chromium's fake camera loops it. `smooth` scales as a lens does (a camera held over a
    screen); otherwise pixels stay sharp (a printed QR)."""
    flags = "bicubic" if smooth else "neighbor"
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", str(png),
            "-vf", f"scale={size}:{size}:flags={flags},pad=640:480:(ow-iw)/2:(oh-ih)/2:white",
            "-t", "2", "-r", "10", "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


def launch_media_browser(
    browser: Any, video: Path | None = None, *, extra: tuple[str, ...] = ()
) -> Any:
    """Chromium with a fake camera and microphone granted without a prompt: the camera plays
    `video` when given, Chromium's moving test pattern otherwise."""
    args = [*MEDIA_ARGS, *extra]
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video}")
    return browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=args)


@contextmanager
def camera_browser(browser: Any, video: Path) -> Iterator[Any]:
    media = launch_media_browser(browser, video)
    try:
        yield media
    finally:
        media.close()
