#!/usr/bin/env bash
# Rebuild rules/data/fonts/wqy-microhei-gbk.ttf: the GBK subset of WenQuanYi Micro Hei that the
# evidence watermarks are drawn with (names, masked ID numbers and times on copies).
#
# Source: Debian's fonts-wqy-microhei package (Apache-2.0), fetched with apt-get; subset with
# fontTools' pyftsubset in a throw-away venv. Nothing here is needed at run time.
# Usage: scripts/subset-cjk-font.sh           rebuild and compare with the recorded sha256
#        scripts/subset-cjk-font.sh --update  replace the vendored subset (then review, commit)
set -euo pipefail
cd "$(dirname "$0")/.."
dest=rules/data/fonts
version=0.2.0-beta-3.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
(cd "$work" && apt-get download -q "fonts-wqy-microhei=$version" >/dev/null 2>&1)
dpkg-deb -x "$work"/fonts-wqy-microhei_*.deb "$work/deb"
python3 -m venv "$work/venv" && "$work/venv/bin/pip" install -q 'fonttools==4.*'
# Every character of GBK (all 20,902 unified ideographs and GBK's symbols), so that rare
# characters in people's names are drawn too; plus ASCII and the CJK punctuation blocks.
"$work/venv/bin/python" - "$work/gbk.txt" <<'PY'
import sys
chars = set()
for hi in range(0x81, 0xFF):
    for lo in range(0x40, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gbk"))
        except UnicodeDecodeError:
            pass
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(chars)))
PY
"$work/venv/bin/pyftsubset" "$work/deb/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" \
  --font-number=0 --text-file="$work/gbk.txt" \
  --unicodes=U+0020-007E,U+00B7,U+2014,U+2018-201D,U+2026,U+3000-303F,U+FF01-FF5E \
  --no-hinting --drop-tables+=GSUB,GPOS,FFTM --output-file="$work/wqy-microhei-gbk.ttf"
if [ "${1:-}" = "--update" ]; then
  cp "$work/wqy-microhei-gbk.ttf" "$dest/wqy-microhei-gbk.ttf"
  (cd "$dest" && sha256sum wqy-microhei-gbk.ttf > SHA256SUMS)
  echo "updated $dest/wqy-microhei-gbk.ttf from fonts-wqy-microhei $version"
  exit 0
fi
built=$(sha256sum "$work/wqy-microhei-gbk.ttf" | cut -d' ' -f1)
recorded=$(cut -d' ' -f1 "$dest/SHA256SUMS")
[ "$built" = "$recorded" ] || { echo "rebuilt subset differs from the vendored one" >&2; exit 1; }
echo "vendored subset matches a fresh build ($recorded)"
