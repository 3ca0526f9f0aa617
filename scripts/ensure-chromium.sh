#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (tests/browser/conftest.py). Make sure it is there
# before the suite starts: install it when missing and running as root (CI and fresh machines),
# otherwise stop with the command to run. SKIP_BROWSER=1 skips the check (and the browser tests).
set -euo pipefail
if [ "${SKIP_BROWSER:-}" = 1 ]; then
  exit 0
fi
if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  echo "installing chromium (for the browser tests)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
cat >&2 <<'MSG'
The browser tests need Chromium, which is not installed. Install it with
    sudo apt-get install chromium
(or set CHROMIUM=/path/to/chromium), or run the suite without them: SKIP_BROWSER=1 make test
MSG
exit 1
