#!/bin/sh
# The waveform of `bitscale regress ... --count 1 --fst F` (README.md, docs/REGRESSION.md): the
# default model's trace code is compiled at -O0 and the extra geometries have none
# (verilator/CMakeLists.txt), so this checks that a waveform is still written and is well formed,
# by the layout of gtkwave's fstapi.c (Verilator's FST writer) alone, without an FST reader:
# - the file is a chain of blocks (tag byte, big-endian 64-bit length that counts itself) that ends
#   exactly at the end of the file: the header first (length 329), then value-change blocks as
#   many as the header's section count, one geometry block and one hierarchy block;
# - the header's endianness test is the double e, its end time is after its start time, and it
#   names at least one scope per PE of the array the run says it used and at least as many
#   variables as distinct signal handles;
# - a run of three layers gives the same hierarchy, a later end time and a larger file than a run
#   of one layer of the same seed (the same device runs them one after the other);
# - an extra geometry (verilated without tracing) and an unwritable file are refused by name.
#   fst_waveform.sh BITSCALE SOURCE_DIR WORK_DIR [EXTRA_GEOMETRY]
. "$(dirname "$0")/common.sh"

# u8 FILE OFFSET / u64 FILE OFFSET: the byte, the big-endian unsigned 64-bit integer at OFFSET.
u8() { od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' '; }
u64() {
  v=0
  for b in $(od -An -tu1 -j "$2" -N 8 "$1"); do v=$((v * 256 + b)); done
  echo "$v"
}

# check_fst FILE PES: the checks of one file; sets size, end, scopes and vars.
check_fst() {
  f=$1
  [ -s "$f" ] || fail "no waveform $f"
  size=$(wc -c <"$f")
  [ "$(u8 "$f" 0)" -eq 0 ] || fail "$f: the first block has tag $(u8 "$f" 0), not the header's 0"
  [ "$(u64 "$f" 1)" -eq 329 ] || fail "$f: header length $(u64 "$f" 1), FST's is 329"
  start=$(u64 "$f" 9)
  end=$(u64 "$f" 17)
  e=$(od -An -tf8 -j 25 -N 8 "$f" | tr -d ' ')
  case $e in 2.71828182845904*) ;; *) fail "$f: endianness test $e, not e" ;; esac
  scopes=$(u64 "$f" 41)
  vars=$(u64 "$f" 49)
  handles=$(u64 "$f" 57)
  sections=$(u64 "$f" 65)
  off=0 vc=0 geom=0 hier=0
  while [ "$off" -lt "$size" ]; do
    t=$(u8 "$f" "$off")
    len=$(u64 "$f" $((off + 1)))
    [ "$len" -ge 8 ] || fail "$f: block of tag $t at $off has length $len"
    case $t in
    0) [ "$off" -eq 0 ] || fail "$f: a second header at $off" ;;
    1 | 5 | 8) vc=$((vc + 1)) ;;
    3) geom=$((geom + 1)) ;;
    4 | 6 | 7) hier=$((hier + 1)) ;;
    2) ;;
    *) fail "$f: block tag $t at offset $off is not an FST block" ;;
    esac
    off=$((off + 1 + len))
  done
  [ "$off" -eq "$size" ] || fail "$f: the blocks end at $off, the file at $size"
  [ "$vc" -ge 1 ] && [ "$vc" -eq "$sections" ] || fail "$f: $vc value-change blocks, header says $sections"
  [ "$geom" -eq 1 ] && [ "$hier" -eq 1 ] || fail "$f: $geom geometry and $hier hierarchy blocks"
  [ "$end" -gt "$start" ] || fail "$f: end time $end not after start time $start"
  [ "$scopes" -ge "$2" ] || fail "$f: $scopes scopes for $2 PEs"
  [ "$handles" -ge 1 ] && [ "$vars" -ge "$handles" ] || fail "$f: $vars variables, $handles handles"
  echo "$f: $size bytes, time $start..$end, $scopes scopes, $vars variables, $sections value-change blocks"
}

ok regress --seed 3 --mode 8 --count 1 --max-k 200 --no-progress --fst "$work/one.fst" --json "$work/one.json"
geom=$(sed -n 's/.*"geometry": "\([0-9]*x[0-9]*\)".*/\1/p' "$work/one.json" | head -n 1)
[ -n "$geom" ] || { cat "$work/one.json"; fail "the JSON summary names no geometry"; }
pes=$((${geom%x*} * ${geom#*x}))
check_fst "$work/one.fst" "$pes"
size1=$size end1=$end scopes1=$scopes vars1=$vars

ok regress --seed 3 --mode 8 --count 3 --max-k 200 --no-progress --fst "$work/three.fst"
check_fst "$work/three.fst" "$pes"
[ "$scopes" -eq "$scopes1" ] && [ "$vars" -eq "$vars1" ] || fail "the hierarchy differs between the runs"
[ "$end" -gt "$end1" ] || fail "three layers end at $end, one at $end1"
[ "$size" -gt "$size1" ] || fail "three layers in $size bytes, one in $size1"

extra=${4:-}
if [ -n "$extra" ]; then
  refused "waveforms (--fst) are written only at the default geometry" \
    regress --geometry "$extra" --seed 3 --count 1 --no-progress --fst "$work/extra.fst"
  [ ! -e "$work/extra.fst" ] || fail "a waveform of the $extra model was written"
fi
refused "cannot open waveform file '/nonexistent/dir/x.fst'" regress --count 1 --mode 8 --no-progress --fst /nonexistent/dir/x.fst
echo "waveforms well formed"
