// util::ordered_parallel: results consumed in index order whatever the thread count, early
// stop honoured, one state per thread, exceptions propagated.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bitscale/util/parallel.hpp"

namespace bitscale::util {
namespace {

struct Counter {
  int made = 0;
};

TEST(OrderedParallel, ConsumesEveryResultInIndexOrder) {
  for (int jobs : {1, 2, 4}) {
    std::vector<std::size_t> seen;
    const std::size_t n = ordered_parallel(
        50, jobs, [] { return 0; },
        [](int&, std::size_t i) {
          // Later items finish first: the order must come from the pipeline, not the timing.
          std::this_thread::sleep_for(std::chrono::microseconds(50 * (i % 5 == 0 ? 5 : 1)));
          return i * i;
        },
        [&](std::size_t v) {
          seen.push_back(v);
          return true;
        });
    EXPECT_EQ(n, 50u);
    ASSERT_EQ(seen.size(), 50u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i * i) << "jobs " << jobs;
  }
}

TEST(OrderedParallel, StopsAfterConsumeReturnsFalse) {
  std::vector<int> seen;
  std::atomic<int> computed{0};
  const std::size_t n = ordered_parallel(
      1000, 2, [] { return 0; },
      [&](int&, std::size_t i) {
        ++computed;
        return static_cast<int>(i);
      },
      [&](int v) {
        seen.push_back(v);
        return seen.size() < 3;
      });
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
  EXPECT_LT(computed.load(), 1000);  // no new item is started once stopped
}

TEST(OrderedParallel, OneStatePerThreadAtMostJobs) {
  std::atomic<int> states{0};
  std::size_t sum = 0;
  ordered_parallel(
      40, 3,
      [&] {
        ++states;
        return Counter{};
      },
      [](Counter& c, std::size_t i) {
        ++c.made;
        return i;
      },
      [&](std::size_t v) {
        sum += v;
        return true;
      });
  EXPECT_EQ(sum, 40u * 39u / 2u);
  EXPECT_GE(states.load(), 1);
  EXPECT_LE(states.load(), 3);
}

TEST(OrderedParallel, NothingToDoAndExceptionsPropagate) {
  EXPECT_EQ(ordered_parallel(
                0, 2, [] { return 0; }, [](int&, std::size_t i) { return i; }, [](std::size_t) { return true; }),
            0u);
  EXPECT_THROW(ordered_parallel(
                   10, 2, [] { return 0; },
                   [](int&, std::size_t i) -> std::size_t {
                     if (i == 4) throw std::runtime_error("item 4");
                     return i;
                   },
                   [](std::size_t) { return true; }),
               std::runtime_error);
  EXPECT_THROW(ordered_parallel(
                   10, 2, [] { return 0; }, [](int&, std::size_t i) { return i; },
                   [](std::size_t v) -> bool {
                     if (v == 7) throw std::logic_error("consumer");
                     return true;
                   }),
               std::logic_error);
}

}  // namespace
}  // namespace bitscale::util
