# The CTest activity_gating (docs/SYNTHESIS.md, "Switching activity per block product"): the
# activity harness verilated from the RTL with Verilator's toggle coverage and the driver of
# `make activity` (syn/activity/activity.cpp, built with BSA_ACT_RTL: no ungated variant). A short
# run in every mode and family member asserts that the block enables are those of
# docs/NUMERICS.md, that no signal of a disabled leaf but its input ports toggles (operand
# isolation), that every enabled leaf's product toggles and that the accumulator equals the sum
# of the approximate products. Included by tests/synth/synth.cmake when the RTL is verilated.
set(act_rtl ${CMAKE_SOURCE_DIR}/rtl)
set(act_sources ${BITSCALE_REG_SV} ${act_rtl}/bsa_pkg.sv ${act_rtl}/bsa_opdec.sv ${act_rtl}/bsa_blkmul.sv
                ${act_rtl}/bsa_mul.sv ${act_rtl}/bsa_pe.sv ${act_rtl}/bsa_ctrl.sv
                ${CMAKE_SOURCE_DIR}/syn/activity/bsa_act_harness.sv)
# As for bitscale_rtl (verilator/CMakeLists.txt): an RTL edit renames verilated files, so verilate
# again at configure time when a source is newer than the last verilation (else the first build
# after an edit links a stale file list: duplicate or missing symbols).
# (The RTL files are configure dependencies already, verilator/CMakeLists.txt; the register package
# is generated at configure time.)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/syn/activity/bsa_act_harness.sv)
set(act_vargs ${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/bsa_activity_rtl.dir/Vbsa_act_harness.dir/verilator_args.txt)
foreach(f IN LISTS act_sources)
  if(EXISTS ${act_vargs} AND ${f} IS_NEWER_THAN ${act_vargs})
    file(REMOVE ${act_vargs})
  endif()
endforeach()
add_executable(bsa_activity_rtl ${CMAKE_SOURCE_DIR}/syn/activity/activity.cpp)
target_compile_definitions(bsa_activity_rtl PRIVATE BSA_ACT_RTL=1)
target_compile_features(bsa_activity_rtl PRIVATE cxx_std_20)
target_link_libraries(bsa_activity_rtl PRIVATE fmt::fmt)
# The verilated harness (compiled in this target) trips two warnings of the project set.
target_compile_options(bsa_activity_rtl PRIVATE -Wno-unused-parameter -Wno-tautological-compare)
# --inline-mult -1: every module inlined; Verilator 5.006 adds the toggles of the instances of a
# module it does not inline into the first one.
verilate(bsa_activity_rtl
  SOURCES ${act_sources}
  TOP_MODULE bsa_act_harness
  PREFIX Vbsa_act_harness
  INCLUDE_DIRS ${act_rtl}
  VERILATOR_ARGS --coverage-toggle --inline-mult -1 ${act_rtl}/lint/verilator_waiver.vlt
  OPT_FAST -O1
  OPT_SLOW -O1
  OPT_GLOBAL -O1)  # 400 cycles: its code, Verilator's runtime included, need no -O3 (make test time)
add_test(NAME activity_gating
         COMMAND bsa_activity_rtl --cycles 400 --check --cov ${CMAKE_CURRENT_BINARY_DIR}/activity_gating.dat)
set_tests_properties(activity_gating PROPERTIES LABELS "synth;activity" TIMEOUT 120)
