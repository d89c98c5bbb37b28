#!/usr/bin/env bash
# Makes sure `rsvg-convert` (Debian's librsvg2-bin) is on PATH, for the tests that render the
# plan's timeline (`ffu plan --format svg`) to PNG with a real renderer
# (ffu-py/tests/test_timeline.py). Called by ffu-py/scripts/test.sh.
#
# Installs librsvg2-bin with apt-get when missing (--no-install-recommends; `apt-get update`
# only when the install fails for want of package lists), like scripts/db-servers.sh. Needs
# root for that. When it cannot be installed, says so on one line and exits 0: the tests
# that need it then fail under CI=true (or FFU_REQUIRE_RENDERER=1) and skip otherwise.
set -uo pipefail

say() { printf 'svg-renderer: %s\n' "$*"; }

if command -v rsvg-convert >/dev/null 2>&1; then
    say "rsvg-convert is there ($(rsvg-convert --version 2>/dev/null | head -n 1))"
    exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "rsvg-convert is missing and cannot be installed here (needs root and apt-get): the PNG tests skip, or fail under CI"
    exit 0
fi
install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends librsvg2-bin >/dev/null 2>&1
}
if ! install; then
    apt-get update -qq >/dev/null 2>&1 || true
    install || true
fi
if command -v rsvg-convert >/dev/null 2>&1; then
    say "installed librsvg2-bin ($(rsvg-convert --version 2>/dev/null | head -n 1))"
else
    say "could not install librsvg2-bin: the PNG tests skip, or fail under CI"
fi
exit 0
