#!/usr/bin/env bash
# Installs what Ocr.MLNet needs beyond the .NET SDK on Debian, once; safe to run again.
#   (no option)  GTK 3, which OpenCV's official Linux runtime (OpenCvSharpExtern, used by the field reader) links against.
#   --tests      also Debian's Chromium for the browser tests (samples/WebDemo driven through Playwright; no browser
#                is ever downloaded).
# Packages are installed with apt-get as root, or through sudo; when that is not possible the script says what is
# missing and exits 0, and the library's own error names the package when it is needed.
set -uo pipefail

packages=()
if ! ldconfig -p 2>/dev/null | grep -q 'libgtk-3\.so\.0 '; then
    packages+=(libgtk-3-0)
fi
if [ "${1:-}" = "--tests" ] && ! command -v chromium >/dev/null 2>&1; then
    packages+=(chromium)
fi
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi

echo "Installing Debian's ${packages[*]}…"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
if ! ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null); then
    echo "Could not install ${packages[*]}: reading fields needs libgtk-3-0 and the browser tests need chromium (apt-get install ${packages[*]})." >&2
fi
exit 0
