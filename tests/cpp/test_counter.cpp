#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
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

TEST(Counter, InitialValueAndSignedWrap) {
  Counter c(-5);
  EXPECT_EQ(c.value(), -5);
  c.set(INT64_MAX);
  c.inc();
  EXPECT_EQ(c.value(), INT64_MIN) << "modulo 2^64, read as two's complement";
  c.dec(2);
  EXPECT_EQ(c.value(), INT64_MAX - 1);
}

TEST(Counter, SetIsExactOverCountsOfManyThreads) {
  Counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 1000; ++i) c.inc(t + 1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c.value(), 10000);
  c.set(7);
  EXPECT_EQ(c.value(), 7);
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 1000; ++i) c.dec();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(c.value(), 7 - 4000) << "every call after set() counts";
}

TEST(Counter, SetRacingIncKeepsWholeIncrementsOnly) {
  // A set() racing inc() gives v plus some of the racing increments, each
  // wholly kept or wholly overwritten.
  constexpr std::int64_t kStep = 1000003;
  constexpr int kWriters = 3;
  constexpr int kIters = 200000;
  for (int round = 0; round < 5; ++round) {
    Counter c;
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back([&] {
        started.fetch_add(1);
        for (int i = 0; i < kIters; ++i) c.inc(kStep);
      });
    }
    while (started.load() < kWriters) std::this_thread::yield();
    c.set(-1);
    const std::int64_t after_set = c.value();
    for (auto& th : threads) th.join();
    const std::int64_t kept = c.value() + 1;
    EXPECT_EQ(kept % kStep, 0) << kept;
    EXPECT_GE(kept, 0);
    EXPECT_LE(kept, kStep * kWriters * kIters);
    EXPECT_GE(c.value(), after_set) << "nothing counted after set() is lost";
  }
}

TEST(Counter, CountsSurviveTheirThreads) {
  Counter c;
  for (int i = 0; i < 20; ++i) std::thread([&] { c.inc(5); }).join();
  EXPECT_EQ(c.value(), 100);
}

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
