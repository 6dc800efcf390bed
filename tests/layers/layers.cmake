# The dependency rule of docs/ARCHITECTURE.md (cmake/check_layers.cmake): the tree obeys it, and the
# check rejects a planted violation.
add_test(NAME architecture_layers
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_SOURCE_DIR} -P ${CMAKE_SOURCE_DIR}/cmake/check_layers.cmake)
add_test(NAME architecture_layers_detects_violation
         COMMAND ${CMAKE_COMMAND} -DROOT=${CMAKE_CURRENT_LIST_DIR}/violation -P ${CMAKE_SOURCE_DIR}/cmake/check_layers.cmake)
set_tests_properties(architecture_layers PROPERTIES LABELS unit)
set_tests_properties(architecture_layers_detects_violation PROPERTIES LABELS unit
                     PASS_REGULAR_EXPRESSION "host/model/src/bad.cpp: the model layer includes bitscale/study/engine.hpp")
