#include <gtest/gtest.h>

#include <statusz/counter.hpp>
#include <thread>
#include <vector>

namespace statusz {
namespace {

TEST(Counter, IncDecSetValue) {
  Counter c;
  EXPECT_EQ(c.value(), 0);
  c.inc();
  c.inc(10);
  c.dec();
  c.dec(3);
  EXPECT_EQ(c.value(), 7);
  c.set(-42);
  EXPECT_EQ(c.value(), -42);
  c.inc(50);
  EXPECT_EQ(c.value(), 8);
}

TEST(Counter, OccupiesACacheLineOfItsOwn) { EXPECT_EQ(alignof(Counter), 64u); }

TEST(Counter, ConcurrentIncAndDecAreExact) {
  Counter c;
  constexpr int kThreads = 4;
  constexpr int kIters = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kIters; ++i) {
        if (t % 2 == 0) {
          c.inc(3);
        } else {
          c.dec(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c.value(), 2LL * kIters * 3 - 2LL * kIters);
}

}  // namespace
}  // namespace statusz
