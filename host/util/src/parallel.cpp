#include "bitscale/util/parallel.hpp"

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <atomic>

namespace bitscale::util::detail {

std::size_t ordered_parallel_erased(std::size_t n, int threads,
                                    const std::function<std::shared_ptr<void>(std::size_t, std::size_t)>& compute,
                                    const std::function<bool(std::shared_ptr<void>)>& consume) {
  std::size_t next = 0, consumed = 0;
  std::atomic<bool> stop{false};  // set by the output stage, read by the input stage
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_pipeline(static_cast<std::size_t>(2 * threads),
                           tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                               [&](tbb::flow_control& fc) -> std::size_t {
                                                                 if (stop || next >= n) {
                                                                   fc.stop();
                                                                   return 0;
                                                                 }
                                                                 return next++;
                                                               }) &
                               tbb::make_filter<std::size_t, std::shared_ptr<void>>(
                                   tbb::filter_mode::parallel,
                                   [&](std::size_t i) {
                                     return compute(
                                         i, static_cast<std::size_t>(tbb::this_task_arena::current_thread_index()));
                                   }) &
                               tbb::make_filter<std::shared_ptr<void>, void>(tbb::filter_mode::serial_in_order,
                                                                             [&](std::shared_ptr<void> r) {
                                                                               if (stop) return;
                                                                               ++consumed;
                                                                               stop = !consume(std::move(r));
                                                                             }));
  });
  return consumed;
}

}  // namespace bitscale::util::detail
