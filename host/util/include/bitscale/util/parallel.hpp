// Ordered parallel map: items computed on several threads, results consumed one at a time in
// index order (a TBB pipeline: serial input, parallel compute, serial in-order output).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace bitscale::util {

namespace detail {
/// Type-erased core of ordered_parallel: `compute(index, slot)` runs on up to `threads` threads,
/// `slot` < `threads` being the calling thread's slot (one thread at a time per slot).
std::size_t ordered_parallel_erased(std::size_t n, int threads,
                                    const std::function<std::shared_ptr<void>(std::size_t, std::size_t)>& compute,
                                    const std::function<bool(std::shared_ptr<void>)>& consume);
}  // namespace detail

/// Computes items 0..n-1 with at most `jobs` threads and hands each result to `consume` in index
/// order, on one thread at a time. Each thread has its own state, made by `make_state()` the first
/// time it computes: `compute(state, index)`. `consume(result)` returns false to stop: no later
/// item is consumed (items in flight are dropped). Exceptions of any stage propagate to the caller.
/// Returns how many results were consumed.
template <class MakeState, class Compute, class Consume>
std::size_t ordered_parallel(std::size_t n, int jobs, MakeState&& make_state, Compute&& compute, Consume&& consume) {
  if (n == 0) return 0;
  using State = std::invoke_result_t<MakeState&>;
  using Result = std::invoke_result_t<Compute&, State&, std::size_t>;
  const int threads = jobs < 1 ? 1 : (static_cast<std::size_t>(jobs) < n ? jobs : static_cast<int>(n));
  std::vector<std::optional<State>> states(static_cast<std::size_t>(threads));
  return detail::ordered_parallel_erased(
      n, threads,
      [&](std::size_t i, std::size_t slot) -> std::shared_ptr<void> {
        std::optional<State>& s = states.at(slot);
        if (!s) s.emplace(make_state());
        return std::make_shared<Result>(compute(*s, i));
      },
      [&](std::shared_ptr<void> r) -> bool { return consume(std::move(*static_cast<Result*>(r.get()))); });
}

}  // namespace bitscale::util
