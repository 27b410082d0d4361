#!/usr/bin/env bash
# Before the tests: make sure the real parts they talk to exist, and build dist/ (the
# child-process tests run `node dist/cli.js`). Installs from Debian only when something is
# missing and we are root; otherwise says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# systemd-analyze verifies deploy/systemd/payflux.service (the package installs the tool, not an init).
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# The README's first checks (curl) and the logrotate snippet (logrotate, killall), run as written.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v killall >/dev/null 2>&1 || missing+=(psmisc)
command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ] || missing+=(logrotate)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing ${missing[*]} from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test-deps: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# `--deps-only`: CI calls this before `npm ci`, when there is no TypeScript to build with yet.
[ "${1:-}" = "--deps-only" ] && exit 0
npm run --silent build
