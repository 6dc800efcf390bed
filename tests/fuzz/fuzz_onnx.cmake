# ONNX importer (docs/ONNX.md): unit-test linkage, the fuzz targets, and the conformance run
# over ONNX's node tests.
#  - fuzz_onnx_replay: always built; bounded deterministic mutation run in CTest (label unit).
#  - fuzz_onnx: libFuzzer + AddressSanitizer binary, with -DBITSCALE_FUZZ=ON and clang.
#  - onnx_conformance: `bitscale conformance` over every node test of the supported operators
#    from Debian's libonnx-testdata (skipped, with the reason, when the package is absent).

# Imported targets are local to the directory that finds them (host/model finds them too).
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)

# The importer's unit tests build tiny models with the onnx protobuf classes.
if(TARGET test_unit)
  target_link_libraries(test_unit PRIVATE onnx_proto)
endif()

set(fuzz_dir ${CMAKE_CURRENT_LIST_DIR})
add_executable(fuzz_onnx_replay ${fuzz_dir}/fuzz_onnx_replay.cpp ${fuzz_dir}/fuzz_onnx.cpp)
target_link_libraries(fuzz_onnx_replay PRIVATE bitscale_model onnx_proto fmt::fmt)
add_test(NAME fuzz_onnx_replay
         COMMAND fuzz_onnx_replay --seconds ${BITSCALE_FUZZ_SECONDS}
                 --model ${CMAKE_BINARY_DIR}/onnx/mobilenet_v1_0.25_128_quant.onnx
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(fuzz_onnx_replay PROPERTIES LABELS unit TIMEOUT 300)

if(BITSCALE_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(onnx_src ${CMAKE_SOURCE_DIR}/host/model/src)
  add_executable(fuzz_onnx ${fuzz_dir}/fuzz_onnx.cpp ${onnx_src}/onnx/reader.cpp ${onnx_src}/onnx/to_model.cpp
                           ${onnx_src}/onnx/summary.cpp)
  target_include_directories(fuzz_onnx PRIVATE ${CMAKE_SOURCE_DIR}/host/model/include
                                                ${CMAKE_SOURCE_DIR}/golden/include)
  # reader.cpp's load_model dispatch reaches the TFLite importer and golden's same_padding.
  target_link_libraries(fuzz_onnx PRIVATE bitscale_model onnx_proto fmt::fmt)
  target_compile_options(fuzz_onnx PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_link_options(fuzz_onnx PRIVATE -fsanitize=fuzzer,address,undefined)
endif()

# ONNX's node tests of the operators the importer supports.
set(BITSCALE_ONNX_NODE_TESTS /usr/share/libonnx-testdata/data/node CACHE PATH "ONNX node test directory")
add_test(NAME onnx_conformance
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/onnx_conformance.sh $<TARGET_FILE:bitscale> ${BITSCALE_ONNX_NODE_TESTS})
set_tests_properties(onnx_conformance PROPERTIES LABELS unit TIMEOUT 300 SKIP_RETURN_CODE 77)

# The embedded TFLite model through ONNX and back: identical per-image results (float and
# golden 8-bit); with the RTL, RTL == golden on the ONNX model's MAC layers.
add_test(NAME onnx_roundtrip_embedded
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/onnx_roundtrip.sh $<TARGET_FILE:bitscale> ${CMAKE_BINARY_DIR}/onnx
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(onnx_roundtrip_embedded PROPERTIES LABELS e2e TIMEOUT 600
                     PASS_REGULAR_EXPRESSION "golden back-end: [0-9]+ images, identical per-image results")
if(BITSCALE_RTL)
  add_test(NAME onnx_embedded_rtl_vs_golden
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/onnx_roundtrip.sh $<TARGET_FILE:bitscale> ${CMAKE_BINARY_DIR}/onnx_rtl --rtl
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(onnx_embedded_rtl_vs_golden PROPERTIES LABELS "rtl;e2e" TIMEOUT 900
                       PASS_REGULAR_EXPRESSION "every MAC layer output and counter matched on 2 of 2 images")
endif()
