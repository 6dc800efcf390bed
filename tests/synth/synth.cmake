# The RTL as yosys 0.23 reads it (docs/SYNTHESIS.md): every module parses, the hierarchy
# elaborates at the default geometry and `check -assert` passes. About 10 s; the full synthesis
# is `make synth`. Skipped, saying why, when yosys is not installed.
add_test(NAME yosys_elaborate
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/elaborate
                 -DSCRIPT=${CMAKE_SOURCE_DIR}/syn/elaborate.ys -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
set_tests_properties(yosys_elaborate PROPERTIES LABELS synth SKIP_REGULAR_EXPRESSION "yosys not found")

# The proofs of `make formal` (docs/FORMAL.md), a few seconds of CPU each; skipped without yosys.
add_test(NAME formal_csr_write_protection
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/formal_csr
                 -DSCRIPT=${CMAKE_SOURCE_DIR}/formal/csr.ys -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
set_tests_properties(formal_csr_write_protection PROPERTIES LABELS formal
                     SKIP_REGULAR_EXPRESSION "yosys not found")
foreach(m MODE_16 MODE_8 MODE_4)
  add_test(NAME formal_outstage_${m}
           COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/formal_outstage_${m}
                   -DSCRIPT=${CMAKE_SOURCE_DIR}/formal/outstage.ys -DMODE=${m}
                   -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
  set_tests_properties(formal_outstage_${m} PROPERTIES LABELS formal
                       SKIP_REGULAR_EXPRESSION "yosys not found")
endforeach()
add_test(NAME formal_ctrl_addresses_in_range
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/formal_ctrl
                 -DSCRIPT=${CMAKE_SOURCE_DIR}/formal/ctrl.ys -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
set_tests_properties(formal_ctrl_addresses_in_range PROPERTIES LABELS formal
                     SKIP_REGULAR_EXPRESSION "yosys not found")

# The multiplier, compositionally (docs/FORMAL.md, "The multiplier"): the leaf, the spec's block
# decomposition, and the cut grid in 4- and 8-bit mode (the 16-bit cut grid, 20–60 s of
# CPU, runs in `make formal` only).
foreach(p blkmul blocks)
  add_test(NAME formal_mul_${p}
           COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/formal_mul_${p}
                   -DSCRIPT=${CMAKE_SOURCE_DIR}/formal/${p}.ys -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
  set_tests_properties(formal_mul_${p} PROPERTIES LABELS formal SKIP_REGULAR_EXPRESSION "yosys not found")
endforeach()
foreach(m MODE_8 MODE_4)
  add_test(NAME formal_mul_cut_${m}
           COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/formal_mul_cut_${m}
                   -DSCRIPT=${CMAKE_SOURCE_DIR}/formal/mul_cut.ys -DMODE=${m}
                   -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
  set_tests_properties(formal_mul_cut_${m} PROPERTIES LABELS formal
                       SKIP_REGULAR_EXPRESSION "yosys not found")
endforeach()

# Control by induction (docs/FORMAL.md): the bus decode and response; START refusal codes, BUSY and
# ERR rising only when the spec says, counters that only grow between CLEARs.
foreach(p bus start)
  add_test(NAME formal_ctl_${p}
           COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/formal_ctl_${p}
                   -DSCRIPT=${CMAKE_SOURCE_DIR}/formal/${p}.ys -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
  set_tests_properties(formal_ctl_${p} PROPERTIES LABELS formal SKIP_REGULAR_EXPRESSION "yosys not found")
endforeach()

# Operand isolation of the block products under Ax-BxP masks, from the RTL's toggle coverage
# (docs/SYNTHESIS.md, "Switching activity per block product"); the figures are `make activity`.
if(BITSCALE_RTL)
  include(${CMAKE_SOURCE_DIR}/syn/activity/rtl.cmake)
endif()
