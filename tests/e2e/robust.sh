#!/bin/sh
# End-to-end checks of what a new user runs into (issue 8, point 8): data found from any directory,
# directories with no, unlabelled or non-image files, bad --image paths, refused resumes that leave
# the records untouched, negative counts.
#
#   robust.sh CASE BITSCALE SOURCE_DIR WORK_DIR
#
# Each case prints what went wrong and exits 1, or exits 0. WORK_DIR is emptied first.
set -u
case_name=$1
bitscale=$2
src=$3
work=$4
rm -rf "$work"
mkdir -p "$work"

fail() {
  echo "FAIL ($case_name): $*"
  exit 1
}

# run ARGS...: runs bitscale, stdout and stderr in $work/out, exit status in $rc.
run() {
  "$bitscale" "$@" >"$work/out" 2>&1
  rc=$?
  cat "$work/out"
}

expect_ok() { [ "$rc" -eq 0 ] || fail "exit status $rc, expected 0"; }
expect_refused() { [ "$rc" -ne 0 ] || fail "exit status 0, expected a refusal"; }
# expect_text TEXT: the output holds TEXT (fixed string).
expect_text() { grep -qF -- "$1" "$work/out" || fail "no '$1' in the output"; }
expect_no_text() { ! grep -qF -- "$1" "$work/out" || fail "'$1' in the output"; }

img1=$src/data/images/n01484850_great_white_shark.JPEG
img2=$src/data/images/n01614925_bald_eagle.JPEG

case $case_name in
  eval_elsewhere)
    # Outside the repository the embedded default is still found (relative to the executable).
    elsewhere=$(mktemp -d) || fail "mktemp"
    cd "$elsewhere" || fail "cd"
    run eval --backend float --limit 2 --no-progress --out /dev/null
    expect_ok
    expect_text "back-end float, 2 images from "
    expect_text "data/images"
    grep -qE 'top-1 [0-9.]+% \([0-2]/2\)' "$work/out" || fail "top-1 is not over 2 labelled images"
    cd / && rm -rf "$elsewhere"
    ;;
  eval_unlabelled)
    # Images whose names carry no synset: a loud warning and top-1 n/a, not 0.00% (0/0).
    mkdir -p "$work/imgs"
    cp "$img1" "$work/imgs/shark.jpg"
    cp "$img2" "$work/imgs/eagle.jpg"
    run eval --backend float --images "$work/imgs" --no-progress --out /dev/null
    expect_ok
    expect_text "WARNING: none of the 2 images of $work/imgs carries a label"
    expect_text "top-1 n/a, top-5 n/a (no labelled image)"
    expect_no_text "(0/0)"
    ;;
  eval_empty_dir)
    # No image at all: refused like characterize and sweep, naming the directory.
    mkdir -p "$work/empty"
    run eval --backend float --images "$work/empty" --no-progress --out /dev/null
    expect_refused
    expect_text "$work/empty: no images to evaluate"
    # An existing results file is left as it was by the refused run.
    echo "earlier results" >"$work/rows.csv"
    run eval --backend float --images "$work/empty" --no-progress --out "$work/rows.csv"
    expect_refused
    [ "$(cat "$work/rows.csv")" = "earlier results" ] || fail "the refused run changed $work/rows.csv"
    [ ! -e "$work/rows.csv.partial" ] || fail "a partial file was left"
    # Only a non-image file: refused too, and the skipped file is named.
    mkdir -p "$work/text"
    echo "not an image" >"$work/text/README.txt"
    run eval --backend float --images "$work/text" --no-progress --out /dev/null
    expect_refused
    expect_text "$work/text: skipped 1 file that is not a JPEG image (README.txt)"
    expect_text "$work/text: no images to evaluate"
    ;;
  eval_skips_non_images)
    # Two images, a README, a PNG-named text file and an empty subdirectory: 2 images evaluated,
    # the others reported as skipped, no error rows.
    mkdir -p "$work/mixed/sub"
    cp "$img1" "$work/mixed/"
    cp "$img2" "$work/mixed/"
    echo "read me" >"$work/mixed/README.txt"
    echo "x" >"$work/mixed/notes.png"
    run eval --backend float --images "$work/mixed" --no-progress --out "$work/rows.csv"
    expect_ok
    expect_text "back-end float, 2 images from $work/mixed"
    expect_text "$work/mixed: skipped 2 files that are not JPEG images (README.txt, notes.png)"
    expect_no_text "subdirector"
    expect_text "top-1 "
    expect_text "; 0 errors"
    ;;
  sweep_skips_non_images)
    # The sweep reads the same listing and says what it skipped (2 images recorded).
    mkdir -p "$work/mixed"
    cp "$img1" "$work/mixed/"
    cp "$img2" "$work/mixed/"
    echo "read me" >"$work/mixed/README.txt"
    run sweep --images "$work/mixed" --calib "$src/data/images" --calib-limit 2 --half all --no-progress --out "$work/sweep"
    expect_ok
    expect_text "$work/mixed: skipped 1 file that is not a JPEG image (README.txt)"
    expect_text "on 2 images"
    ;;
  classify_bad_image)
    # A directory, a missing file and a text file named .jpg: each a clear error naming the path.
    run classify --backend float --image "$src/data/images"
    expect_refused
    expect_text "$src/data/images: is a directory, not an image file"
    run classify --backend float --image "$work/missing.jpg"
    expect_refused
    expect_text "$work/missing.jpg: cannot open file"
    echo "hello" >"$work/x.jpg"
    run classify --backend float --image "$work/x.jpg"
    expect_refused
    expect_text "$work/x.jpg: cannot decode JPEG"
    # On the array, the image is checked before the calibration: refused the same way.
    run classify --backend golden --image "$work/x.jpg"
    expect_refused
    expect_text "$work/x.jpg: cannot decode JPEG"
    ;;
  characterize_resume_refused)
    # A characterization of 4 images with weight FL per layer, then resumes with other options:
    # refused before anything is written, naming what differs; the directory is byte-identical.
    cd "$src" || fail "cd"
    run characterize --out "$work/c" --limit 4 --top5 --levels 8,16 --weight-fl layer --no-progress
    expect_ok
    cp -r "$work/c" "$work/c.before"
    run characterize --out "$work/c" --limit 4 --top5 --levels 8,16 --weight-fl channel --no-progress
    expect_refused
    expect_text "$work/c/levels.jsonl: recorded with weight_fl \"layer\", this run uses \"channel\""
    diff -r "$work/c.before" "$work/c" || fail "the output directory changed"
    # More images than recorded: would append float records, then meet the calibration of the
    # 4 first ones. Refused first.
    run characterize --out "$work/c" --limit 6 --top5 --levels 8,16 --weight-fl layer --no-progress
    expect_refused
    expect_text "$work/c/float.jsonl: recorded on 4 images, this run has 6 (2 not recorded"
    diff -r "$work/c.before" "$work/c" || fail "the output directory changed"
    # The same options resume (nothing to do) and succeed.
    run characterize --out "$work/c" --limit 4 --top5 --levels 8,16 --weight-fl layer --no-progress
    expect_ok
    ;;
  sweep_resume_refused)
    # A sweep interrupted after 2 images (a partial line at the end, as a kill would leave), then
    # resumed with another weight FL: refused before the calibration, the file byte-identical
    # (the partial line is not cut off either).
    cd "$src" || fail "cd"
    run sweep --out "$work/s" --limit 3 --calib-limit 4 --stop-after 2 --weight-fl layer --no-progress
    [ "$rc" -eq 3 ] || fail "exit status $rc, expected 3 (stopped)"
    printf '{"file":"partial' >>"$work/s/records.jsonl"
    cp -r "$work/s" "$work/s.before"
    run sweep --out "$work/s" --limit 3 --calib-limit 4 --weight-fl channel --no-progress
    expect_refused
    expect_text "$work/s/records.jsonl: recorded with weight_fl \"layer\", this run uses \"channel\""
    expect_no_text "reusing the saved calibration"
    diff -r "$work/s.before" "$work/s" || fail "the output directory changed"
    ;;
  regress_negative_count)
    # --count -5 once wrapped to 1.8e19 layers: refused by the parser, naming the option.
    run regress --mode 8 --count -5
    expect_refused
    expect_text "--count: must be 0 or more, not -5"
    run regress --mode 8 --first -1
    expect_refused
    expect_text "--first: must be 0 or more, not -1"
    run eval --limit -1
    expect_refused
    expect_text "--limit: must be 0 or more, not -1"
    ;;
  eval_dataset_layouts)
    # The three layouts of ImageNet users have (issue 13): synsets in file names, class-per-folder
    # and validation names with a labels file give the same accuracy over the same 8 images;
    # without the labels file the validation names carry no label and top-1 is not measured.
    tsv=$src/data/imagenet-synsets.tsv
    mkdir -p "$work/flat" "$work/train" "$work/val"
    n=0
    for f in $(ls "$src/data/images" | awk 'NR % 37 == 1' | head -8); do
      n=$((n + 1))
      syn=${f%%_*}
      idx=$(awk -F'\t' -v s="$syn" '$2 == s { print $1 }' "$tsv")
      [ -n "$idx" ] || fail "no class for $f"
      stem=$(printf 'ILSVRC2012_val_%08d' $((100 - n)))
      cp "$src/data/images/$f" "$work/flat/$f"
      mkdir -p "$work/train/$syn"
      cp "$src/data/images/$f" "$work/train/$syn/$stem.JPEG"
      cp "$src/data/images/$f" "$work/val/$stem.JPEG"
      echo "$stem.JPEG $idx" >>"$work/val.txt"
    done
    [ "$n" -eq 8 ] || fail "$n images, expected 8"
    for layout in flat train val; do
      labels=""
      [ "$layout" = val ] && labels="--labels $work/val.txt"
      # shellcheck disable=SC2086
      run eval --backend float --images "$work/$layout" $labels --no-progress --out /dev/null
      expect_ok
      expect_text "8 images from $work/$layout"
      grep -E '^top-1 ' "$work/out" >"$work/top1.$layout" || fail "no top-1 line ($layout)"
      grep -qF "/8)" "$work/top1.$layout" || fail "top-1 is not over 8 labelled images ($layout)"
    done
    cmp "$work/top1.flat" "$work/top1.train" || fail "class-per-folder gives another top-1 than file names"
    cmp "$work/top1.flat" "$work/top1.val" || fail "the labels file gives another top-1 than file names"
    run eval --backend float --images "$work/val" --no-progress --out /dev/null
    expect_ok
    expect_text "WARNING: none of the 8 images of $work/val carries a label"
    echo "ILSVRC2012_val_00000001.JPEG 1000" >"$work/bad.txt"
    run eval --backend float --images "$work/val" --labels "$work/bad.txt" --no-progress --out /dev/null
    expect_refused
    expect_text "$work/bad.txt:1: class index 1000 is out of range 0..999"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS ($case_name)"
