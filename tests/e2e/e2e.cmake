# End-to-end tests of the bitscale CLI and of generated documentation.

if(BITSCALE_RTL)
# Bit-exact regression as in the issue: 1000 random layers per mode, RTL vs golden vs the
# untiled reference, counters included (about 6 s).
add_test(NAME regress_1000_layers_per_mode_seed7
         COMMAND bitscale regress --seed 7 --count 1000 --mode all --no-progress)
set_tests_properties(regress_1000_layers_per_mode_seed7 PROPERTIES LABELS "rtl;e2e" TIMEOUT 600)

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
