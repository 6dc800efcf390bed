# Shared set-up of the e2e scripts that take BITSCALE SOURCE_DIR WORK_DIR: a fresh WORK_DIR, the
# source directory as working directory, and the checks they share. Sourced (POSIX sh):
#   . "$(dirname "$0")/common.sh"
set -u
bitscale=$1
src=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$src" || exit 1

fail() {
  echo "FAIL: $*"
  exit 1
}
# run ARGS...: bitscale's output in $work/out, its exit status in rc.
run() {
  "$bitscale" "$@" >"$work/out" 2>&1
  rc=$?
}
# ok ARGS...: bitscale must exit 0.
ok() {
  run "$@"
  [ "$rc" -eq 0 ] || { cat "$work/out"; fail "exit status $rc of: bitscale $*"; }
}
# refused MESSAGE ARGS...: bitscale must exit non-zero and print MESSAGE.
refused() {
  msg=$1
  shift
  run "$@"
  [ "$rc" -ne 0 ] || { cat "$work/out"; fail "exit status 0, expected a refusal of: bitscale $*"; }
  grep -qF -- "$msg" "$work/out" || { cat "$work/out"; fail "no '$msg' in the refusal of: bitscale $*"; }
}
# has FILE TEXT / hasnt FILE TEXT
has() { grep -qF -- "$2" "$1" || { cat "$1"; fail "no '$2' in $1"; }; }
hasnt() { if grep -qF -- "$2" "$1"; then fail "'$2' in $1"; fi; }
