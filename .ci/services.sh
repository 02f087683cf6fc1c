#!/usr/bin/env bash
# Installs, from Debian's packages, the programs the test suite starts itself when present:
# redis-server (the Redis channel layer test, qinghe/realtime) and ffmpeg (the test-pattern HLS
# stream of the 直播带岗 browser test, tests/e2e/test_live_journey.py). Tests start their own
# servers on free ports in temporary folders; nothing is left running. Prints nothing on success.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts the packaged service; the tests run their own instances.
  $SUDO systemctl stop redis-server 2>/dev/null || $SUDO service redis-server stop 2>/dev/null || true
fi
