# What a new user runs into (issue 8, point 8): one test per case of tests/e2e/robust.sh, each in
# its own scratch directory under the build tree.
foreach(case eval_elsewhere eval_unlabelled eval_empty_dir eval_skips_non_images sweep_skips_non_images classify_bad_image
             characterize_resume_refused sweep_resume_refused regress_negative_count eval_dataset_layouts)
  add_test(NAME robust_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/robust.sh ${case} $<TARGET_FILE:bitscale> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/robust_${case})
  set_tests_properties(robust_${case} PROPERTIES LABELS e2e TIMEOUT 300)
endforeach()
