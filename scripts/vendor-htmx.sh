#!/usr/bin/env bash
# Re-fetch the pinned htmx from the npm registry and check it against the recorded sha256.
# Usage: scripts/vendor-htmx.sh          verify the fetched copy matches static/vendor/htmx
#        scripts/vendor-htmx.sh --update  replace the vendored copy (then review and commit)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=static/vendor/htmx
version=$(cat "$dest/VERSION")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$version" >/dev/null && tar xzf htmx.org-"$version".tgz)
if [ "${1:-}" = "--update" ]; then
  cp "$work/package/dist/htmx.min.js" "$dest/htmx.min.js"
  cp "$work/package/LICENSE" "$dest/LICENSE"
  (cd "$dest" && sha256sum htmx.min.js > SHA256SUMS)
  echo "updated $dest to htmx.org@$version"
  exit 0
fi
(cd "$dest" && sha256sum --check --quiet SHA256SUMS)
fetched=$(sha256sum "$work/package/dist/htmx.min.js" | cut -d' ' -f1)
recorded=$(cut -d' ' -f1 "$dest/SHA256SUMS")
if [ "$fetched" != "$recorded" ]; then
  echo "htmx.org@$version from the registry does not match the recorded sha256" >&2
  exit 1
fi
echo "htmx.org@$version: vendored copy and registry copy match ($recorded)"
