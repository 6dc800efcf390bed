#!/bin/sh
# sweep --confirm-rtl with Ax-BxP rungs (docs/AXBXP.md, "Rungs as levels"): a tiny search gives the
# per-layer configuration (8s), then a sweep with the rungs 8c1 and 8s below the exact levels re-runs
# its first 2 evaluation images on the verilated RTL; every rung's record (top-1, margin bits,
# every counter, CNT_BLK16/8/4 included) and the decisions and energy at every T_h must agree with
# golden. Embedded model and images, a few images.
#
#   axbxp_confirm_rtl.sh BITSCALE SOURCE_DIR WORK_DIR
. "$(dirname "$0")/common.sh"

ok axbxp-search --calib-limit 2 --select-limit 4 --eval-limit 2 --max-drop 25 --budget point --ladder 8,16 \
  --out "$work/search"
cfg="$work/search/axbxp_config.json"
# The search approximated at least one layer, or 8s would be exact 8-bit and prove nothing new.
grep -q '"approx": "c[12]"' "$cfg" || { cat "$cfg"; fail "the search approximated no layer"; }

# The sweep exits 1 when the confirmation differs.
ok sweep --calib-limit 2 --limit 3 --levels 8c1,8s,8,16 --approx-config "$cfg" --resamples 20 --confirm-rtl 2 \
  --no-progress --out "$work/sweep"
md="$work/sweep/rtl_confirm.md"
has "$md" 'at 4/8c1/8s/8/16 bits: **2 of 2** have identical'
grep -q '| NO |' "$md" && { cat "$md"; fail "a decision differs between golden and the RTL"; }
for l in 8c1 8s; do
  f="$work/sweep/rtl_confirm_$l.jsonl"
  [ -f "$f" ] || fail "no $f"
  has "$f" "\"$l\":"
  has "$f" '"blk8":'
done
has "$work/sweep/summary.md" 'RTL confirmation'
echo "sweep --confirm-rtl with Ax-BxP rungs: ok"
