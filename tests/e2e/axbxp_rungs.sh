#!/bin/sh
# Ax-BxP configurations loaded by eval/classify and Ax-BxP rungs in characterize/sweep/apply
# (docs/AXBXP.md, docs/CONTROLLER.md) on the embedded data with tiny limits: search -> eval
# --approx-config -> characterize and sweep with an 8c1 rung -> apply, and the refusals (a
# non-zero exit status and the message naming what is wrong).
#
#   axbxp_rungs.sh BITSCALE SOURCE_DIR WORK_DIR [rtl]   (rtl: also compare the RTL back-end with golden)
. "$(dirname "$0")/common.sh"

# 1. A small search: 2 calibration images, 4 selection and 4 evaluation images.
ok axbxp-search --calib-limit 2 --select-limit 4 --eval-limit 4 --max-drop 25 --ladder 8c1,8,16 --out "$work/search"
cfg="$work/search/axbxp_config.json"
has "$cfg" '"version": 2'
has "$cfg" '"block_means"'

# 2. eval and classify with the configuration (the same calibration: 2 images of the even positions).
ok eval --backend golden --calib-limit 2 --limit 3 --approx-config "$cfg" --out "$work/eval.csv"
has "$work/eval.csv" 'mac4,blk,energy_pj,error'
[ "$(wc -l <"$work/eval.csv")" -eq 4 ] || fail "eval.csv: expected a header and 3 rows"
ok classify --backend golden --calib-limit 2 --image data/images/"$(ls data/images | sed -n 2p)" --approx-config "$cfg"

# 2b. With the RTL back-end built: the configured layers on the verilated array equal golden on real
# images, every MAC layer's output and every counter (CNT_BLK included), word for word.
if [ "${4:-}" = rtl ]; then
  ok eval --compare-backends --bits 8 --calib-limit 2 --limit 2 --no-progress --approx-config "$cfg" --out "$work/compare.csv"
  has "$work/out" 'golden vs rtl: every MAC layer output and counter matched on 2 of 2 images'
fi

# 3. characterize with an 8c1 rung below the exact levels.
ok characterize --half even --limit 6 --levels 8c1,8,16 --out "$work/char"
has "$work/out" 'min 8c1:'
has "$work/char/levels.jsonl" '"8c1":'

# 4. sweep with the family rung and the searched configuration as rungs; apply on other images.
ok sweep --calib-limit 2 --limit 4 --levels 8c1,8s,8,16 --approx-config "$cfg" --resamples 20 --out "$work/sweep"
has "$work/sweep/policy.json" '"levels":["8c1","8s",8,16]'
has "$work/sweep/policy.json" '"approx":{"compensation":"mean"'
mkdir -p "$work/other"
for f in $(ls data/images | sed -n '201,203p'); do cp "data/images/$f" "$work/other/"; done
ok apply --policy "$work/sweep/policy.json" --images "$work/other"
has "$work/out" 'accepted at 8c1'

# Refusals.
sed 's/"hash": "[0-9a-f]*"/"hash": "0000000000000000"/' "$cfg" >"$work/other_model.json"
refused '"model"."hash": 0000000000000000' eval --backend golden --calib-limit 2 --limit 1 --approx-config "$work/other_model.json"
refused '"calibration": its block means' eval --backend golden --calib-limit 4 --limit 1 --approx-config "$cfg"
refused 'runs on the array' eval --limit 1 --approx-config "$cfg"
refused '"bits": 8 but the network runs at 16 bits' eval --backend golden --bits 16 --calib-limit 2 --limit 1 --approx-config "$cfg"
refused 'needs --approx-config' sweep --calib-limit 2 --limit 2 --levels 8s,16 --out "$work/sweep_no_cfg"
refused 'bit-widths must increase' sweep --levels 8,8c1 --out "$work/sweep_order"
cp "$cfg" "$work/sweep/saved.json"
echo " " >>"$cfg"
refused 'approx.config.hash' apply --policy "$work/sweep/policy.json" --images "$work/other"
echo "axbxp rungs: ok"
