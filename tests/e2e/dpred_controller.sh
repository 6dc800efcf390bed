#!/bin/sh
# The controller with DPRed (docs/DPRED.md "Combination with the controller", docs/ENERGY.md) on the
# embedded data with tiny limits: characterize --dpred -> sweep --dpred (memory energy model) ->
# apply, and the refusals: apply with another off-chip choice than the policy's, a sweep resumed
# with another choice, --dpred with --offchip uncompressed (a non-zero exit status and the message
# naming what is wrong).
#
#   dpred_controller.sh BITSCALE SOURCE_DIR WORK_DIR
. "$(dirname "$0")/common.sh"

# 1. characterize on 8 even images, per-group off-chip bytes in every level record.
ok characterize --dpred --half even --limit 8 --levels 8,16 --no-progress --out "$work/char"
has "$work/char/levels.jsonl" '"offchip":"per-group"'
has "$work/char/levels.jsonl" '"offchip_bytes":'

# 2. sweep on 12 more even images with the memory model; the policy records the choice. The
# per-group bytes depend on the image: two records of one level differ in them.
ok sweep --dpred --energy-model memory --levels 8,16 --calib "$work/char/calibration.json" --half even --limit 12 --resamples 50 \
  --no-progress --out "$work/sweep"
has "$work/sweep/policy.json" '"offchip":"per-group"'
has "$work/sweep/policy.json" '"gating":"zero-blocks"'
has "$work/sweep/records.jsonl" '"offchip":"per-group"'
n=$(grep -o '"8":{[^}]*}[^}]*"offchip_bytes":[0-9]*' "$work/sweep/records.jsonl" | sed 's/.*"offchip_bytes"://' | sort -u | wc -l)
[ "$n" -ge 2 ] || fail "the 8-bit runs of 12 images all moved the same per-group bytes ($n distinct values)"
# The same sweep uncompressed (its own directory): every 8-bit run moves the same bytes.
ok sweep --energy-model memory --levels 8,16 --calib "$work/char/calibration.json" --half even --limit 12 --resamples 50 \
  --no-progress --out "$work/sweep_plain"
has "$work/sweep_plain/policy.json" '"offchip":"uncompressed"'
has "$work/sweep_plain/policy.json" '"gating":"off"'
hasnt "$work/sweep_plain/records.jsonl" '"offchip":"per-group"'
n=$(grep -o '"8":{[^}]*}[^}]*"offchip_bytes":[0-9]*' "$work/sweep_plain/records.jsonl" | sed 's/.*"offchip_bytes"://' | sort -u | wc -l)
[ "$n" -eq 1 ] || fail "uncompressed 8-bit runs moved $n different byte counts"

# 3. apply on 4 odd images: every image priced against its own static 16-bit run.
ok apply --policy "$work/sweep/policy.json" --half odd --limit 4 --no-progress --out "$work/apply.csv" \
  --json "$work/apply.json"
has "$work/out" 'off-chip bytes encoded per group'
has "$work/apply.json" '"offchip":"per-group"'
[ "$(wc -l <"$work/apply.csv")" -eq 5 ] || fail "apply.csv: expected a header and 4 rows"
# Images accepted at 8 bits carry their own 16-bit reference (static16); escalated ones ran 16 bits.
for f in $(sed 1d "$work/apply.csv" | cut -d, -f1); do
  line=$(grep -F "\"file\":\"" "$work/apply.csv.records.jsonl" | grep -F "$f\"")
  echo "$line" | grep -qE '"static16":|"16":' || fail "$f: neither a 16-bit run nor a static16 reference"
done
# --dpred on apply asks for the policy's own choice: accepted (resumed from the records).
ok apply --dpred --policy "$work/sweep/policy.json" --half odd --limit 4 --no-progress --out "$work/apply.csv"

# Refusals.
refused 'offchip: the policy was chosen with per-group off-chip bytes, this run asks for uncompressed' \
  apply --offchip uncompressed --policy "$work/sweep/policy.json" --half odd --limit 2 --no-progress
refused 'offchip: the policy was chosen with uncompressed off-chip bytes, this run asks for per-group' \
  apply --dpred --policy "$work/sweep_plain/policy.json" --half odd --limit 2 --no-progress
# A policy with per-group bytes but without gating (--offchip per-group): apply --dpred asks for the gating.
ok sweep --offchip per-group --energy-model memory --levels 8,16 --calib "$work/char/calibration.json" --half even \
  --limit 12 --resamples 50 --no-progress --out "$work/sweep_nogate"
has "$work/sweep_nogate/policy.json" '"gating":"off"'
refused 'gating: the policy was chosen with zero-block gating off, this run asks for zero-blocks' \
  apply --dpred --policy "$work/sweep_nogate/policy.json" --half odd --limit 2 --no-progress
refused 'recorded with offchip "per-group", this run has none' \
  sweep --energy-model memory --levels 8,16 --calib "$work/char/calibration.json" --half even --limit 12 --no-progress \
  --out "$work/sweep"
refused 'not with --offchip uncompressed' sweep --dpred --offchip uncompressed --no-progress --out "$work/sweep_both"
refused "--offchip: zip not in" eval --offchip zip --limit 1
echo "dpred controller: ok"
