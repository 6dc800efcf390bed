# The RTL as yosys 0.23 reads it (docs/SYNTHESIS.md): every module parses, the hierarchy
# elaborates at the default geometry and `check -assert` passes. About 10 s; the full synthesis
# is `make synth`. Skipped, saying why, when yosys is not installed.
add_test(NAME yosys_elaborate
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -DOUT=${CMAKE_BINARY_DIR}/yosys/elaborate
                 -DSCRIPT=${CMAKE_SOURCE_DIR}/syn/elaborate.ys -P ${CMAKE_SOURCE_DIR}/cmake/yosys.cmake)
set_tests_properties(yosys_elaborate PROPERTIES LABELS synth SKIP_REGULAR_EXPRESSION "yosys not found")
