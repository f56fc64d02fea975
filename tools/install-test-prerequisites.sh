#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK, once: Debian's Chromium for the browser tests
# (samples/WebDemo driven through Playwright; no browser is ever downloaded). Safe to run again.
set -uo pipefail

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

echo "Installing Debian's chromium for the browser tests…"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
if ! ($sudo apt-get update && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium); then
    echo "Could not install chromium: the browser tests will fail and say how to install it." >&2
fi
exit 0
