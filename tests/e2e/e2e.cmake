# End-to-end tests of the bitscale CLI and of generated documentation.

if(BITSCALE_RTL)
# Bit-exact regression as in the issue: 1000 random layers per mode, RTL vs golden vs the
# untiled reference, counters included (about 27 s of CPU since K reaches the bank limits)
add_test(NAME regress_1000_layers_per_mode_seed7
         COMMAND bitscale regress --seed 7 --count 1000 --mode all --no-progress --coverage)
# ... and hits every bin of the functional coverage model (docs/REGRESSION.md, "Coverage").
set_tests_properties(regress_1000_layers_per_mode_seed7 PROPERTIES LABELS "rtl;e2e" TIMEOUT 900
                     FAIL_REGULAR_EXPRESSION "holes:;MISMATCH")

# A second seed, one mode each, so that ctest -j spreads them over the cores.
foreach(bits 4 8 16)
  add_test(NAME regress_rtl_vs_golden_${bits}bit_seed11
           COMMAND bitscale regress --seed 11 --count 300 --mode ${bits} --no-progress)
  set_tests_properties(regress_rtl_vs_golden_${bits}bit_seed11 PROPERTIES LABELS "rtl;e2e" TIMEOUT 600)
endforeach()
endif()

add_test(NAME cli_help COMMAND bitscale --help)
set_tests_properties(cli_help PROPERTIES LABELS e2e PASS_REGULAR_EXPRESSION "regress")

add_test(NAME cli_rejects_bad_mode COMMAND bitscale regress --mode 5)
set_tests_properties(cli_rejects_bad_mode PROPERTIES LABELS e2e WILL_FAIL TRUE)

add_test(NAME cli_rejects_unknown_command COMMAND bitscale frobnicate)
set_tests_properties(cli_rejects_unknown_command PROPERTIES LABELS e2e WILL_FAIL TRUE)

add_test(NAME cli_json_unwritable COMMAND bitscale regress --count 1 --mode 8 --json /nonexistent/dir/x.json)
set_tests_properties(cli_json_unwritable PROPERTIES LABELS e2e PASS_REGULAR_EXPRESSION "cannot write '/nonexistent/dir/x.json'")

# docs/REGISTERS.md is generated from rtl/bsa_regs.def and must be up to date.
add_test(NAME regmap_doc_up_to_date
         COMMAND ${CMAKE_COMMAND} -E compare_files ${BITSCALE_REG_MD} ${CMAKE_SOURCE_DIR}/docs/REGISTERS.md)
set_tests_properties(regmap_doc_up_to_date PROPERTIES LABELS unit)

# Real images on the embedded default (data/): every MAC layer's output and the counters of the
# RTL and the golden back-ends compared word for word, 2 images in each mode.
if(BITSCALE_RTL)
  foreach(bits 4 8 16)
    add_test(NAME mobilenet_v1_025_rtl_vs_golden_2_images_${bits}bit
             COMMAND bitscale eval --compare-backends --bits ${bits} --limit 2 --no-progress --out
                     ${CMAKE_BINARY_DIR}/e2e_compare_${bits}.csv
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(mobilenet_v1_025_rtl_vs_golden_2_images_${bits}bit PROPERTIES
                         LABELS "rtl;e2e" TIMEOUT 300
                         PASS_REGULAR_EXPRESSION "every MAC layer output and counter matched on 2 of 2 images")
  endforeach()
endif()

# The embedded default evaluates end to end on the fast back-ends.
add_test(NAME eval_embedded_default_float_and_golden8
         COMMAND ${CMAKE_COMMAND} -E env sh -c
                 "$<TARGET_FILE:bitscale> eval --backend float --split even-odd --no-progress --out /dev/null && $<TARGET_FILE:bitscale> eval --backend golden --bits 8 --no-progress --out /dev/null"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(eval_embedded_default_float_and_golden8 PROPERTIES LABELS e2e
                     PASS_REGULAR_EXPRESSION "back-end golden 8-bit \\(weight FL per channel\\), 150 images")

# Counts are refused below 0 by the option parser: non-zero exit status, the option named,
# nothing run (the output directory of sweep/characterize is not created). One test per command.
set(neg_dir ${CMAKE_BINARY_DIR}/cli_negative_counts)
foreach(spec
    "eval|--limit --calib-limit"
    "classify --image x.jpg|--calib-limit"
    "sweep --out ${neg_dir}/sweep|--limit --calib-limit --confirm-rtl --stop-after --folds --resamples"
    "characterize --out ${neg_dir}/char|--limit --stop-after"
    "regress --mode 8|--count --first --max-report"
    "netbench|--golden-images --rtl-images"
    "traffic|--limit --calib-limit")
  string(REPLACE "|" ";" parts "${spec}")
  list(GET parts 0 cmdline)
  list(GET parts 1 options)
  string(REGEX MATCH "^[a-z]+" cmd "${cmdline}")
  add_test(NAME cli_rejects_negative_counts_${cmd}
           COMMAND sh -c "for o in ${options}; do out=$($<TARGET_FILE:bitscale> ${cmdline} $o -1 2>&1) && { echo \"$o -1 accepted\"; exit 1; }; echo \"$out\" | grep -q -- \"$o: must be 0 or more, not -1\" || { echo \"$o: $out\"; exit 1; }; done; test ! -e ${neg_dir}"
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli_rejects_negative_counts_${cmd} PROPERTIES LABELS e2e)
endforeach()

# An empty or all-zero --energy table is refused naming the file and the key, before anything is
# written (it used to report a "100 % saving"; docs/ENERGY.md).
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/energy_all_zero.txt "mac16_pj 0\nmac8_pj 0\nmac4_pj 0\n")
foreach(case "empty|/dev/null|energy table '/dev/null': empty"
             "all_zero|${CMAKE_CURRENT_BINARY_DIR}/energy_all_zero.txt|energy_all_zero.txt': 'mac16_pj' is 0")
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 table)
  list(GET parts 2 expected)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/energy_refused_${name})
  add_test(NAME cli_sweep_refuses_${name}_energy_table
           COMMAND sh -c "rm -rf ${out_dir}; out=$($<TARGET_FILE:bitscale> sweep --energy ${table} --energy-model memory --no-progress --out ${out_dir} 2>&1) && { echo accepted; exit 1; }; echo \"$out\" | grep -qF -- \"${expected}\" || { echo \"$out\"; exit 1; }; test ! -e ${out_dir}"
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(cli_sweep_refuses_${name}_energy_table PROPERTIES LABELS e2e)
endforeach()

# The deployable controller on the embedded default: characterize on the first 10 even images
# (their float-correct ones calibrate), sweep on the rest of the even half (levels from the
# characterization, 3-fold cross-validation) which writes the policy, then apply it to the odd
# half. Applying it to the even half (its selection images) or with another model hash is refused.
set(pol_dir ${CMAKE_BINARY_DIR}/e2e_policy)
add_test(NAME apply_policy_setup_characterize_and_sweep_even_half
         COMMAND sh -c "rm -rf ${pol_dir} && $<TARGET_FILE:bitscale> characterize --half even --limit 10 --jobs 2 --no-progress --out ${pol_dir}/char && $<TARGET_FILE:bitscale> sweep --calib ${pol_dir}/char/calibration.json --half even --folds 3 --resamples 500 --jobs 2 --no-progress --out ${pol_dir}/sweep > ${pol_dir}/sweep.log 2>&1 || { cat ${pol_dir}/sweep.log; exit 1; }; cat ${pol_dir}/sweep.log; grep -q 'levels [0-9,]* (the configurations kept by the characterization' ${pol_dir}/sweep.log && test -f ${pol_dir}/sweep/policy.json && test -f ${pol_dir}/sweep/crossval.json && sed 's/\"hash\":\"[0-9a-f]*\"}/\"hash\":\"0000000000000000\"}/' ${pol_dir}/sweep/policy.json > ${pol_dir}/sweep/policy_other_model.json"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(apply_policy_setup_characterize_and_sweep_even_half PROPERTIES LABELS e2e TIMEOUT 600
                     FIXTURES_SETUP e2e_policy)

add_test(NAME apply_policy_on_odd_half
         COMMAND sh -c "$<TARGET_FILE:bitscale> apply --policy ${pol_dir}/sweep/policy.json --half odd --jobs 2 --no-progress --out ${pol_dir}/apply.csv --json ${pol_dir}/apply.json && for k in top1_drop_pp top1_drop_pp_ci energy_saving_pct energy_saving_pct_ci images accepted; do grep -q \"\\\"$k\\\":\" ${pol_dir}/apply.json || { echo \"no key $k\"; exit 1; }; done && test $(wc -l < ${pol_dir}/apply.csv) -eq 151"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(apply_policy_on_odd_half PROPERTIES LABELS e2e TIMEOUT 600 FIXTURES_REQUIRED e2e_policy)

add_test(NAME apply_refuses_the_selection_images
         COMMAND sh -c "out=$($<TARGET_FILE:bitscale> apply --policy ${pol_dir}/sweep/policy.json --half even --no-progress 2>&1) && { echo accepted; exit 1; }; echo \"$out\"; echo \"$out\" | grep -q 'were used to choose or calibrate the policy' && echo \"$out\" | grep -q 'same name as selection image'"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(apply_refuses_the_selection_images PROPERTIES LABELS e2e FIXTURES_REQUIRED e2e_policy)

add_test(NAME apply_refuses_another_model_hash
         COMMAND sh -c "out=$($<TARGET_FILE:bitscale> apply --policy ${pol_dir}/sweep/policy_other_model.json --half odd --no-progress 2>&1) && { echo accepted; exit 1; }; echo \"$out\"; echo \"$out\" | grep -q \"differs from the policy's 0000000000000000\""
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(apply_refuses_another_model_hash PROPERTIES LABELS e2e FIXTURES_REQUIRED e2e_policy)

add_test(NAME cli_rejects_negative_counts_apply
         COMMAND sh -c "out=$($<TARGET_FILE:bitscale> apply --policy x.json --limit -1 2>&1) && exit 1; echo \"$out\" | grep -q -- '--limit: must be 0 or more, not -1'"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(cli_rejects_negative_counts_apply PROPERTIES LABELS e2e)

# DPRed traffic (docs/DPRED.md) on the embedded default: the JSON has per-layer entries and
# network totals with the three storages.
add_test(NAME traffic_json_has_layers_and_totals
         COMMAND sh -c "$<TARGET_FILE:bitscale> traffic --bits 16 --limit 2 --calib-limit 4 --json ${CMAKE_BINARY_DIR}/traffic16.json > /dev/null && grep -q '\"layers\"' ${CMAKE_BINARY_DIR}/traffic16.json && grep -q '\"totals\"' ${CMAKE_BINARY_DIR}/traffic16.json && grep -q '\"bits_per_group\"' ${CMAKE_BINARY_DIR}/traffic16.json"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(traffic_json_has_layers_and_totals PROPERTIES LABELS e2e)

# `bitscale downscale` (the maintenance command that made data/images): a copy of two embedded
# images with the shorter side 100 px, then the refusals: a destination that is not empty, a
# file that is not a JPEG (named), each with a non-zero exit status.
set(ds_dir ${CMAKE_BINARY_DIR}/e2e_downscale)
add_test(NAME downscale_copies_and_refuses
         COMMAND sh -c "rm -rf ${ds_dir} && mkdir -p ${ds_dir}/src ${ds_dir}/bad && cp data/images/n01484850_great_white_shark.JPEG data/images/n02676566_acoustic_guitar.JPEG ${ds_dir}/src/ && $<TARGET_FILE:bitscale> downscale --images ${ds_dir}/src --out ${ds_dir}/out --short-side 100 --quality 80 | grep -q '2 of the 2 images .* 2 resized to a shorter side of 100 px.* 1 grayscale, kept 1-component' || exit 1; test $(ls ${ds_dir}/out | wc -l) -eq 2 || exit 1; out=$($<TARGET_FILE:bitscale> downscale --images ${ds_dir}/src --out ${ds_dir}/out 2>&1) && { echo 'non-empty --out accepted'; exit 1; }; echo \"$out\" | grep -q 'is not empty' || { echo \"$out\"; exit 1; }; echo 'not a picture' > ${ds_dir}/bad/n01440764_tench.JPEG; out=$($<TARGET_FILE:bitscale> downscale --images ${ds_dir}/bad --out ${ds_dir}/out2 2>&1) && { echo 'text file accepted'; exit 1; }; echo \"$out\" | grep -q 'bad/n01440764_tench.JPEG: cannot decode JPEG' || { echo \"$out\"; exit 1; }"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(downscale_copies_and_refuses PROPERTIES LABELS e2e)

# Ax-BxP: a configuration file that is not JSON is refused, naming the file (docs/AXBXP.md).
add_test(NAME cli_axbxp_rejects_malformed_config
         COMMAND bitscale axbxp-search --approx-config ${CMAKE_SOURCE_DIR}/README.md --calib-limit 1 --select-limit 2
                 --eval-limit 2 --out ${CMAKE_BINARY_DIR}/axbxp_bad_config)
set_tests_properties(cli_axbxp_rejects_malformed_config PROPERTIES LABELS e2e
                     PASS_REGULAR_EXPRESSION "Ax-BxP configuration '[^']*README.md': malformed JSON")
add_test(NAME cli_axbxp_rejects_bad_ladder COMMAND bitscale axbxp-search --ladder 8c3,16 --out ${CMAKE_BINARY_DIR}/axbxp_bad_ladder)
set_tests_properties(cli_axbxp_rejects_bad_ladder PROPERTIES LABELS e2e PASS_REGULAR_EXPRESSION "ladder rung '8c3'")

# axbxp-search refusals: a non-zero exit status and the message naming what is wrong (the two
# tests above check the message only).
foreach(spec
    "bad_compensation|--approx-compensation bogus|--approx-compensation: bogus not in {none,mean}"
    "bad_ladder_status|--ladder 8c3,16|ladder rung '8c3'"
    "malformed_config_status|--approx-config ${CMAKE_SOURCE_DIR}/README.md --calib-limit 1 --select-limit 2 --eval-limit 2|malformed JSON")
  string(REPLACE "|" ";" parts "${spec}")
  list(GET parts 0 name)
  list(GET parts 1 opts)
  list(GET parts 2 msg)
  add_test(NAME cli_axbxp_refuses_${name}
           COMMAND sh -c "out=$($<TARGET_FILE:bitscale> axbxp-search ${opts} --out ${CMAKE_BINARY_DIR}/axbxp_refused_${name} 2>&1) && { echo \"accepted: $out\"; exit 1; }; echo \"$out\" | grep -qF -- \"${msg}\" || { echo \"$out\"; exit 1; }")
  set_tests_properties(cli_axbxp_refuses_${name} PROPERTIES LABELS e2e)
endforeach()

# Ax-BxP configurations loaded by eval/classify and Ax-BxP rungs of characterize/sweep/apply on the
# embedded data (tests/e2e/axbxp_rungs.sh, docs/AXBXP.md "Loading a configuration"); with the RTL
# built, also the configured network on the RTL against golden on 2 real images.
set(axbxp_rtl_arg "")
if(BITSCALE_RTL)
  set(axbxp_rtl_arg rtl)
endif()
add_test(NAME cli_axbxp_rungs_search_eval_characterize_sweep_apply
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/axbxp_rungs.sh $<TARGET_FILE:bitscale> ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/axbxp_rungs ${axbxp_rtl_arg})
set_tests_properties(cli_axbxp_rungs_search_eval_characterize_sweep_apply PROPERTIES LABELS e2e TIMEOUT 300)
# Refusals that need no search: a non-zero exit status and the message.
foreach(spec
    "levels_order|sweep --levels 8,8c1 --out ${CMAKE_BINARY_DIR}/axbxp_levels_order|bit-widths must increase"
    "levels_rung|characterize --levels 8c3,16 --out ${CMAKE_BINARY_DIR}/axbxp_levels_rung|'8c3'"
    "eval_float|eval --limit 1 --approx-config ${CMAKE_SOURCE_DIR}/README.md|runs on the array")
  string(REPLACE "|" ";" parts "${spec}")
  list(GET parts 0 name)
  list(GET parts 1 opts)
  list(GET parts 2 msg)
  add_test(NAME cli_axbxp_rung_refuses_${name}
           COMMAND sh -c "out=$($<TARGET_FILE:bitscale> ${opts} 2>&1) && { echo \"accepted: $out\"; exit 1; }; echo \"$out\" | grep -qF -- \"${msg}\" || { echo \"$out\"; exit 1; }")
  set_tests_properties(cli_axbxp_rung_refuses_${name} PROPERTIES LABELS e2e)
endforeach()

# Exact zero-block gating (MODE.ZGATE, docs/NUMERICS.md) on real images of the embedded default:
# the RTL with gating equals the golden back-end in every MAC layer output and every counter
# (CNT_ZSKIP included, non-zero), and the predictions equal those of the ungated golden run
# (the CSV columns up to mac4; blk and energy_pj differ by design).
if(BITSCALE_RTL)
  foreach(bits 4 8 16)
    set(zg ${CMAKE_BINARY_DIR}/e2e_zgate_${bits})
    add_test(NAME zero_gating_rtl_vs_golden_2_images_${bits}bit
             COMMAND sh -c "rm -f ${zg}_*; $<TARGET_FILE:bitscale> eval --compare-backends --zero-gating --bits ${bits} --limit 2 --no-progress --out ${zg}_on.csv || exit 1; $<TARGET_FILE:bitscale> eval --backend golden --bits ${bits} --limit 2 --no-progress --out ${zg}_off.csv >/dev/null || exit 1; cut -d, -f1-20 ${zg}_on.csv >${zg}_on.cut; cut -d, -f1-20 ${zg}_off.csv >${zg}_off.cut; cmp ${zg}_on.cut ${zg}_off.cut || exit 1; on=$(awk -F, 'NR>1{s+=$21}END{print s}' ${zg}_on.csv); off=$(awk -F, 'NR>1{s+=$21}END{print s}' ${zg}_off.csv); [ $on -lt $off ] || { echo CNT_BLK gated $on ungated $off; exit 1; }; echo 'gated predictions equal the ungated ones'"
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(zero_gating_rtl_vs_golden_2_images_${bits}bit PROPERTIES
                         LABELS "rtl;e2e" TIMEOUT 400
                         PASS_REGULAR_EXPRESSION "gated predictions equal the ungated ones")
  endforeach()
endif()
# The controller with DPRed's per-group off-chip encoding on the embedded data
# (tests/e2e/dpred_controller.sh, docs/DPRED.md "Combination with the controller"): characterize ->
# sweep -> apply with --dpred, and the refusals of another off-chip choice than the policy's.
add_test(NAME cli_dpred_characterize_sweep_apply_and_refusals
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/dpred_controller.sh $<TARGET_FILE:bitscale> ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/dpred_controller)
set_tests_properties(cli_dpred_characterize_sweep_apply_and_refusals PROPERTIES LABELS e2e TIMEOUT 600)

# sweep --confirm-rtl with Ax-BxP rungs (8c1 and the searched 8s): the RTL re-run of 2 evaluation
# images agrees with golden, record for record and decision for decision (tests/e2e/axbxp_confirm_rtl.sh).
if(BITSCALE_RTL)
  add_test(NAME cli_axbxp_sweep_confirm_rtl
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/axbxp_confirm_rtl.sh $<TARGET_FILE:bitscale> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/axbxp_confirm_rtl)
  set_tests_properties(cli_axbxp_sweep_confirm_rtl PROPERTIES LABELS e2e TIMEOUT 600)
endif()
# Transfer schedules (issue 9, docs/ARCHITECTURE.md "Bus"): unknown names are refused naming the
# option; on the embedded default the functional back-end's counters show the overlapped beats, and
# overlapped wide transfers take fewer cycles per image than serial narrow ones; the RTL with them
# equals the golden back-end in every MAC layer output and every counter.
foreach(spec "transfer|--transfer dma" "port|--port burst")
  string(REPLACE "|" ";" parts "${spec}")
  list(GET parts 0 name)
  list(GET parts 1 opts)
  add_test(NAME cli_netbench_refuses_unknown_${name}
           COMMAND sh -c "out=$($<TARGET_FILE:bitscale> netbench ${opts} 2>&1) && { echo \"accepted: $out\"; exit 1; }; echo \"$out\" | grep -qF -- \"--${name}\" || { echo \"$out\"; exit 1; }; echo refused")
  set_tests_properties(cli_netbench_refuses_unknown_${name} PROPERTIES LABELS e2e PASS_REGULAR_EXPRESSION "^refused")
endforeach()
set(xf ${CMAKE_BINARY_DIR}/e2e_xfer)
add_test(NAME cli_netbench_overlapped_wide_transfers_save_cycles
         COMMAND sh -c "rm -f ${xf}_*; $<TARGET_FILE:bitscale> netbench --golden-images 1 --rtl-images 0 --json ${xf}_serial.json >/dev/null || exit 1; $<TARGET_FILE:bitscale> netbench --golden-images 1 --rtl-images 0 --transfer overlapped --port wide --json ${xf}_over.json >/dev/null || exit 1; s=$(grep -o '\"cycles\":[0-9]*' ${xf}_serial.json | head -1 | cut -d: -f2); o=$(grep -o '\"cycles\":[0-9]*' ${xf}_over.json | head -1 | cut -d: -f2); ov=$(grep -o '\"overlap_beats\":[0-9]*' ${xf}_over.json | cut -d: -f2); sv=$(grep -o '\"overlap_beats\":[0-9]*' ${xf}_serial.json | cut -d: -f2); [ \"$sv\" -eq 0 ] && [ \"$ov\" -gt 0 ] && [ \"$o\" -lt \"$s\" ] || { echo serial $s cycles $sv overlapped, new $o cycles $ov overlapped; exit 1; }; echo \"overlapped wide: $o cycles, serial line: $s\"")
set_tests_properties(cli_netbench_overlapped_wide_transfers_save_cycles PROPERTIES
                     LABELS e2e TIMEOUT 300 PASS_REGULAR_EXPRESSION "overlapped wide: [0-9]+ cycles")
if(BITSCALE_RTL)
  add_test(NAME xfer_rtl_vs_golden_1_image_8bit
           COMMAND sh -c "$<TARGET_FILE:bitscale> eval --compare-backends --transfer overlapped --port wide --bits 8 --limit 1 --no-progress --out ${xf}_eval.csv && echo 'rtl equals golden with overlapped wide transfers'"
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(xfer_rtl_vs_golden_1_image_8bit PROPERTIES
                       LABELS "rtl;e2e" TIMEOUT 400
                       PASS_REGULAR_EXPRESSION "rtl equals golden with overlapped wide transfers")
endif()

# A waveform (`bitscale regress ... --fst F`): well-formed FST blocks, header and hierarchy of the
# default model, longer for a longer run; refused at an extra geometry and for an unwritable file
# (tests/e2e/fst_waveform.sh).
if(BITSCALE_RTL AND BITSCALE_TRACE)
  set(fst_extra)  # an extra geometry, if any: --fst refused there
  if(BITSCALE_RTL_GEOMETRIES)
    list(GET BITSCALE_RTL_GEOMETRIES 0 fst_extra)
  endif()
  add_test(NAME regress_fst_waveform
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/fst_waveform.sh $<TARGET_FILE:bitscale> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/fst_waveform ${fst_extra})
  set_tests_properties(regress_fst_waveform PROPERTIES LABELS "rtl;e2e" TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "waveforms well formed")
endif()
