#!/bin/sh
# The report as a person sees it: headless Chromium (Debian's chromium) renders the page that
# analysis/report.py writes for a run, a sweep and a break-even file, and takes a screenshot;
# each screenshot must show the page's plots (matplotlib's first line colour, which only the
# embedded PNGs contain) and its verdict box (its border colour). Skipped (77) without chromium.
# usage: report_browser.sh PATH/TO/llmcap SOURCE_DIR OUT_DIR (screenshots are left in OUT_DIR)
set -u
LLMCAP=$1
SRC=$2
OUT=$3
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
	echo "chromium not installed (apt-get install chromium): the browser check is skipped"
	exit 77
fi
PY=/usr/bin/python3
rm -rf "$OUT" && mkdir -p "$OUT" || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$LLMCAP" run --quiet --set horizon=4h --set workload.diurnal.peak_hour=2 -o "$OUT/run.h5" || ko "llmcap run"
"$LLMCAP" sweep --vary workload.rate=2e4/day,4e4/day,8e4/day --vary pools.reasoning.dtype=bf16,fp8 \
	--seeds 2 --set horizon=4h --set workload.diurnal.peak_hour=2 -q -o "$OUT/sweep.h5" || ko "llmcap sweep"
cp "$SRC/analysis/examples/breakeven-reference.h5" "$OUT/breakeven.h5"
for kind in run sweep breakeven; do
	"$PY" "$SRC/analysis/report.py" "$OUT/$kind.h5" "$OUT/$kind" >/dev/null || { ko "report.py $kind"; continue; }
	# a fresh profile per page; no sandbox (CI runs as root); the window is the page's width
	timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$OUT/profile-$kind" --window-size=1200,3600 \
		--screenshot="$OUT/$kind.png" "file://$OUT/$kind/index.html" >"$OUT/$kind.log" 2>&1
	[ -s "$OUT/$kind.png" ] || { ko "no screenshot of the $kind page (see $OUT/$kind.log)"; continue; }
	"$PY" - "$OUT/$kind.png" <<'PYEOF' && ok || ko "the $kind page's screenshot ($OUT/$kind.png)"
import sys
import matplotlib.image as mpimg
import numpy as np
img = (mpimg.imread(sys.argv[1])[:, :, :3] * 255).round().astype(int)
h, w, _ = img.shape
def share(rgb, tol=12):
    return float((np.abs(img - np.array(rgb)).max(axis=2) <= tol).mean())
blue = share((31, 119, 180))        # matplotlib C0: drawn only inside the embedded plots
verdict = max(share((208, 52, 44), 3), share((42, 157, 74), 3), share((224, 160, 0), 3))
ink = float((img.min(axis=2) < 200).mean())
print(f"{sys.argv[1]}: {w}x{h}, plot blue {blue:.4f}, verdict border {verdict:.4f}, ink {ink:.3f}")
sys.exit(0 if (w, h) == (1200, 3600) and blue > 0.0003 and verdict > 0.00005 and ink > 0.01 else 1)
PYEOF
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
