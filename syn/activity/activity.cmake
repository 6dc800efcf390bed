# Switching activity per block product (docs/SYNTHESIS.md): `make activity` and the CTest
# activity_gating.
#
#   cmake -DROOT=<source dir> -DOUT=<work dir> [-DCYCLES=N] [-DCHECK=ON] [-DREQUIRE=ON]
#         -P syn/activity/activity.cmake
#
# 1. yosys synthesizes the harness syn/activity/bsa_act_harness.sv (bsa_ctrl's block enables,
#    two bsa_opdec, one bsa_pe) with the generic flow of syn/synth.ys, hierarchy kept, twice:
#    from the RTL ("gated") and with a scratch copy of rtl/bsa_blkmul.sv whose operand isolation
#    is removed ("ungated": the product is still forced to 0 when disabled). A third copy without
#    any enable (p = a * w) is synthesized for its cells only. Cells per module: OUT/cells_*.txt.
# 2. The netlists (write_verilog) get plain leaf instance names (blk_I_J: Verilator's coverage
#    merges indexed names), the ungated one its modules renamed bsa_* -> ngsa_*, and are verilated
#    together under syn/activity/bsa_act_top.sv with --coverage-toggle and the driver
#    syn/activity/activity.cpp, which runs every mode and family member on two operand streams
#    and writes OUT/activity.md (with CHECK: and asserts the properties listed there).
# Without yosys or verilator it prints "<tool> not found" and succeeds, unless REQUIRE is set.
cmake_minimum_required(VERSION 3.25)

foreach(v ROOT OUT)
  if(NOT ${v})
    message(FATAL_ERROR "activity.cmake: ${v} must be set")
  endif()
endforeach()
if(NOT CYCLES)
  set(CYCLES 2000)
endif()

foreach(tool yosys verilator)
  string(TOUPPER ${tool} var)
  find_program(${var} ${tool})
  if(NOT ${var})
    if(REQUIRE)
      message(FATAL_ERROR "${tool} not found: install the Debian package ${tool} (make activity does)")
    endif()
    message(STATUS "${tool} not found: skipped (Debian package ${tool})")
    return()
  endif()
endforeach()

set(HERE ${ROOT}/syn/activity)
file(MAKE_DIRECTORY ${OUT})
execute_process(
  COMMAND ${CMAKE_COMMAND} -DDEF=${ROOT}/rtl/bsa_regs.def -DSV_OUT=${OUT}/bsa_reg_pkg.sv
          -DHPP_OUT=${OUT}/regmap.hpp -P ${ROOT}/cmake/gen_regmap.cmake
  COMMAND_ERROR_IS_FATAL ANY)

# Scratch copies of the leaf: isolation removed, and no enable at all.
file(READ ${ROOT}/rtl/bsa_blkmul.sv blk)
set(iso_a "assign a_g = en_i ? a_i : '0;")
set(iso_w "assign w_g = en_i ? w_i : '0;")
string(FIND "${blk}" "${iso_a}" fa)
string(FIND "${blk}" "${iso_w}" fw)
if(fa LESS 0 OR fw LESS 0)
  message(FATAL_ERROR "activity.cmake: the operand isolation of rtl/bsa_blkmul.sv is not written as "
                      "'${iso_a}' / '${iso_w}' any more: update the scratch copies here")
endif()
string(REPLACE "${iso_a}" "assign a_g = a_i;" blk_ungated "${blk}")
string(REPLACE "${iso_w}" "assign w_g = w_i;" blk_ungated "${blk_ungated}")
file(WRITE ${OUT}/bsa_blkmul_ungated.sv "${blk_ungated}")
string(REGEX REPLACE "always_comb begin.*end\n\nendmodule" "assign p_o = a_i * w_i;\n\nendmodule" blk_noenable "${blk}")
file(WRITE ${OUT}/bsa_blkmul_noenable.sv "${blk_noenable}")

# The sources of the harness, with one of the three leaves.
set(rtl ${ROOT}/rtl)
function(harness_sources blkmul out)
  set(${out} "${OUT}/bsa_reg_pkg.sv ${rtl}/bsa_pkg.sv ${rtl}/bsa_opdec.sv ${blkmul} ${rtl}/bsa_mul.sv \
${rtl}/bsa_pe.sv ${rtl}/bsa_ctrl.sv ${HERE}/bsa_act_harness.sv" PARENT_SCOPE)
endfunction()

foreach(variant gated ungated noenable)
  if(variant STREQUAL "gated")
    set(leaf ${rtl}/bsa_blkmul.sv)
  else()
    set(leaf ${OUT}/bsa_blkmul_${variant}.sv)
  endif()
  harness_sources(${leaf} sources)
  file(WRITE ${OUT}/net_${variant}.ys
       "read_verilog -sv -I${rtl} ${sources}\n"
       "hierarchy -check -top bsa_act_harness\n"
       "synth -top bsa_act_harness\n"
       "rename -enumerate -pattern n%\n"
       # One wire per bit: Verilator sees no false combinational loop through a vector (UNOPTFLAT),
       # whose settle iterations would count as toggles. Ports of the harness itself stay vectors.
       "splitnets -ports bsa_opdec bsa_pe bsa_mul bsa_blkmul\n"
       "splitnets\n"
       "tee -q -o ${OUT}/cells_${variant}.txt stat -tech cmos\n"
       "write_verilog -noattr ${OUT}/net_${variant}.v\n")
  execute_process(COMMAND ${YOSYS} -q -l ${OUT}/net_${variant}.log -s ${OUT}/net_${variant}.ys
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "activity.cmake: yosys failed on the ${variant} harness; log ${OUT}/net_${variant}.log")
  endif()
endforeach()

# Cells of the leaf and of the multiplier per variant.
set(cells "| leaf variant | bsa_blkmul cells | transistors | bsa_mul own cells | bsa_pe with submodules |\n|---|---:|---:|---:|---:|\n")
foreach(variant gated ungated noenable)
  file(READ ${OUT}/cells_${variant}.txt st)
  foreach(m bsa_blkmul bsa_mul bsa_pe)
    string(REGEX MATCH "=== ${m} ===[^=]*Number of cells: +([0-9]+)" _ "${st}")
    set(n_${m} ${CMAKE_MATCH_1})
    string(REGEX MATCH "=== ${m} ===[^=]*Estimated number of transistors: +([0-9]+)" _ "${st}")
    set(t_${m} ${CMAKE_MATCH_1})
  endforeach()
  # bsa_mul's own cells include its 16 leaf instances; bsa_pe with submodules = own + mul + 16 leaves
  string(REGEX MATCH "=== bsa_pe ===[^=]*Number of cells: +([0-9]+)" _ "${st}")
  math(EXPR mul_own "${n_bsa_mul} - 16")
  math(EXPR pe_all "${n_bsa_pe} - 1 + ${mul_own} + 16 * ${n_bsa_blkmul}")
  string(APPEND cells "| ${variant} | ${n_bsa_blkmul} | ${t_bsa_blkmul} | ${mul_own} | ${pe_all} |\n")
endforeach()
file(WRITE ${OUT}/cells.md "${cells}")
message("${cells}")

# Netlists for Verilator: plain leaf names; the ungated modules renamed.
foreach(variant gated ungated)
  file(READ ${OUT}/net_${variant}.v net)
  string(REGEX REPLACE "\\\\g_a\\[([0-3])\\]\\.g_w\\[([0-3])\\]\\.u_blk " "blk_\\1_\\2" net "${net}")
  if(variant STREQUAL "ungated")
    string(REPLACE "bsa_" "ngsa_" net "${net}")
  endif()
  # Written only when changed: verilator (--skip-identical) and make then rebuild nothing.
  file(WRITE ${OUT}/sim_${variant}.v.new "${net}")
  file(COPY_FILE ${OUT}/sim_${variant}.v.new ${OUT}/sim_${variant}.v ONLY_IF_DIFFERENT)
endforeach()

set(mdir ${OUT}/obj)
execute_process(
  COMMAND ${VERILATOR} --cc --exe --build -j 2 --coverage-toggle -Wno-fatal -Wno-lint -Wno-style
          --top-module bsa_act_top --inline-mult -1 -Mdir ${mdir} -o bsa_activity -CFLAGS "-O1 -std=c++20"
          -LDFLAGS -lfmt
          ${OUT}/sim_gated.v ${OUT}/sim_ungated.v ${HERE}/bsa_act_top.sv ${HERE}/activity.cpp
  OUTPUT_FILE ${OUT}/verilator.log ERROR_FILE ${OUT}/verilator.log RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "activity.cmake: verilator failed (exit ${rc}); log ${OUT}/verilator.log")
endif()
# A combinational loop Verilator cannot order is evaluated until it settles: its intermediate values
# would be counted as toggles. The netlists must have none.
file(STRINGS ${OUT}/verilator.log unoptflat REGEX "UNOPTFLAT")
if(unoptflat)
  message(FATAL_ERROR "activity.cmake: Verilator found combinational loops (UNOPTFLAT) in the netlists: "
                      "toggle counts would include settle iterations; log ${OUT}/verilator.log")
endif()

set(args --cycles ${CYCLES} --cov ${OUT}/coverage.dat --out ${OUT}/activity.md)
if(CHECK)
  list(APPEND args --check)
endif()
execute_process(COMMAND ${mdir}/bsa_activity ${args} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "activity.cmake: bsa_activity ${args} failed (exit ${rc})")
endif()
file(APPEND ${OUT}/activity.md "\n### Cells (yosys generic synthesis of the harness)\n\n${cells}")
message(STATUS "activity: ${OUT}/activity.md")
