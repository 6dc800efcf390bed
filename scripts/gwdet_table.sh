#!/bin/sh
# Per-layer output group widths of a `bitscale traffic --json` file: DPRed's groups of 16
# (output.group_widths) next to the array's detector (output.detector_group_widths).
# Columns: layer, groups (dpred / detector, summed over the images), mean width (dpred / detector),
# equal histograms.
jq -r '
  def mean(h): (h | to_entries | map((.key + 1) * .value) | add) / (h | add);
  def hist(h; b): [range(0; b) | h[.]] | map(tostring) | join(" ");
  .layers[] | .output as $o |
  "| \(.name) | \($o.group_widths | add) / \($o.detector_group_widths | add) | \(mean($o.group_widths) * 100 | round / 100) / \(mean($o.detector_group_widths) * 100 | round / 100) | \(if $o.group_widths == $o.detector_group_widths then "yes" else "no" end) |"
' "$1"
