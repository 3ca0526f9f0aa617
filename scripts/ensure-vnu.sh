#!/usr/bin/env bash
# The standards test (tests/browser/test_standards_browser.py) runs the Nu HTML checker
# (vnu.jar, from the npm package vnu-jar) over every page of the route snapshot. Make sure it is
# there before the suite starts: the jar is installed with npm into a cache directory (not
# committed; VNU_CACHE, default .cache/vnu), Java from Debian's default-jre-headless when missing
# and running as root; otherwise stop with the command to run. Prints the jar's path.
# SKIP_BROWSER=1 skips the check (the standards test is a browser test and is skipped with them).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=26.9.27
cache=${VNU_CACHE:-.cache/vnu}
if [ "${SKIP_BROWSER:-}" = 1 ]; then
  exit 0
fi
if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Java (default-jre-headless, for the Nu HTML checker)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
  else
    cat >&2 <<'MSG'
The Nu HTML checker needs Java, which is not installed. Install it with
    sudo apt-get install default-jre-headless
or run the suite without the browser and standards tests: SKIP_BROWSER=1 make test
MSG
    exit 1
  fi
fi
jar="$cache/node_modules/vnu-jar/build/dist/vnu.jar"
if [ ! -f "$jar" ] || [ "$(cat "$cache/VERSION" 2>/dev/null)" != "$VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "The Nu HTML checker is installed with npm, which is missing: sudo apt-get install npm" >&2
    exit 1
  fi
  echo "installing vnu-jar@$VERSION into $cache (the Nu HTML checker)" >&2
  mkdir -p "$cache"
  npm install --silent --no-save --no-audit --no-fund --prefix "$cache" "vnu-jar@$VERSION" >&2
  echo "$VERSION" > "$cache/VERSION"
fi
echo "$jar"
