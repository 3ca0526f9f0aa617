#!/usr/bin/env bash
# Re-fetch the pinned axe-core (the accessibility checker the browser tests inject) from the npm
# registry and check it against the recorded sha256. It lives under tests/vendor: it is never
# served to users (static/ is; tests/ is not).
# Usage: scripts/vendor-axe.sh          verify the fetched copy matches tests/vendor/axe-core
#        scripts/vendor-axe.sh --update  replace the vendored copy (then review and commit)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=tests/vendor/axe-core
version=$(cat "$dest/VERSION")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf axe-core-"$version".tgz)
if [ "${1:-}" = "--update" ]; then
  cp "$work/package/axe.min.js" "$dest/axe.min.js"
  cp "$work/package/LICENSE" "$dest/LICENSE"
  (cd "$dest" && sha256sum axe.min.js > SHA256SUMS)
  echo "updated $dest to axe-core@$version"
  exit 0
fi
(cd "$dest" && sha256sum --check --quiet SHA256SUMS)
fetched=$(sha256sum "$work/package/axe.min.js" | cut -d' ' -f1)
recorded=$(cut -d' ' -f1 "$dest/SHA256SUMS")
if [ "$fetched" != "$recorded" ]; then
  echo "axe-core@$version from the registry does not match the recorded sha256" >&2
  exit 1
fi
echo "axe-core@$version: vendored copy and registry copy match ($recorded)"
