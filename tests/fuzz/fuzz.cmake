# Fuzzing of the TFLite reader (docs/FUZZING.md).
#  - fuzz_tflite_replay: always built; bounded deterministic mutation run in CTest (label unit).
#  - fuzz_tflite: libFuzzer + AddressSanitizer binary, with -DBITSCALE_FUZZ=ON and clang.
option(BITSCALE_FUZZ "Build the libFuzzer target fuzz_tflite (needs clang)" OFF)
set(BITSCALE_FUZZ_SECONDS 20 CACHE STRING "Duration of the fuzz_tflite_replay CTest run")

# The reader's unit tests build tiny models with the generated schema code.
if(TARGET test_unit)
  target_link_libraries(test_unit PRIVATE bitscale_tflite_schema)
endif()

set(fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
add_executable(fuzz_tflite_replay ${fuzz_dir}/fuzz_tflite_replay.cpp ${fuzz_dir}/fuzz_tflite.cpp)
target_link_libraries(fuzz_tflite_replay PRIVATE bitscale_model bitscale_tflite_schema fmt::fmt CLI11::CLI11)
target_compile_definitions(fuzz_tflite_replay PRIVATE BITSCALE_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared")
add_test(NAME fuzz_tflite_replay
         COMMAND fuzz_tflite_replay --seconds ${BITSCALE_FUZZ_SECONDS}
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(fuzz_tflite_replay PROPERTIES LABELS unit TIMEOUT 300)

if(BITSCALE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(WARNING "BITSCALE_FUZZ needs clang (configure with -DCMAKE_CXX_COMPILER=clang++-14); fuzz_tflite not built")
  else()
    # The reader is compiled into the target itself, so that it is instrumented.
    set(tflite_src ${CMAKE_SOURCE_DIR}/host/model/src/tflite)
    add_executable(fuzz_tflite ${fuzz_dir}/fuzz_tflite.cpp ${tflite_src}/reader.cpp ${tflite_src}/summary.cpp
                               ${tflite_src}/tensor.cpp)
    target_include_directories(fuzz_tflite PRIVATE ${CMAKE_SOURCE_DIR}/host/model/include
                                                   ${CMAKE_SOURCE_DIR}/golden/include)
    target_link_libraries(fuzz_tflite PRIVATE bitscale_tflite_schema fmt::fmt)
    target_compile_options(fuzz_tflite PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
    target_link_options(fuzz_tflite PRIVATE -fsanitize=fuzzer,address,undefined)
  endif()
endif()
