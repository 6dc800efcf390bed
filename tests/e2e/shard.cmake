# Sharded runs merged == unsharded runs byte for byte, and the refusals of merge and of the shards
# (tests/e2e/shard.sh, docs/SCALE_OUT.md): one test per case, each in its own scratch directory.
foreach(case characterize sweep apply merge_refusals shard_refusals eval)
  add_test(NAME shard_${case}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/shard.sh ${case} $<TARGET_FILE:bitscale> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/shard_${case})
  set_tests_properties(shard_${case} PROPERTIES LABELS e2e TIMEOUT 600)
endforeach()
