#include <gtest/gtest.h>

#include <future>
#include <statusz/clock.hpp>

namespace statusz {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StartsAtZeroAndMovesOnlyWhenAdvanced) {
  ManualClock clock;
  EXPECT_EQ(clock.now(), Nanos(0));
  clock.advance(1500ms);
  EXPECT_EQ(clock.now(), Nanos(1'500'000'000));
  clock.advance(Nanos(7));
  EXPECT_EQ(clock.now(), Nanos(1'500'000'007));
}

TEST(ManualClock, RefusesToGoBackwards) {
  ManualClock clock;
  EXPECT_THROW(clock.advance(Nanos(-1)), std::invalid_argument);
  EXPECT_EQ(clock.now(), Nanos(0));
}

TEST(ManualClock, WallTimeFollowsTheStartPlusElapsed) {
  const auto start = std::chrono::system_clock::time_point(1553622049s);
  ManualClock clock(start);
  clock.advance(61s);
  EXPECT_EQ(clock.wall_now(), start + 61s);
}

TEST(ManualClock, WaitUntilWakesWhenTheDeadlinePasses) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_lock<std::mutex> lock(mu);
    return clock.wait_until(lock, cv, Nanos(100ms), [] { return false; });
  });
  clock.await_waiters(1);
  clock.advance(99ms);
  EXPECT_EQ(waiter.wait_for(0s), std::future_status::timeout);
  clock.advance(1ms);
  EXPECT_FALSE(waiter.get());
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClock, WaitUntilReturnsWhenThePredicateBecomesTrue) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_lock<std::mutex> lock(mu);
    return clock.wait_until(lock, cv, Nanos(1h), [&] { return done; });
  });
  clock.await_waiters(1);
  {
    std::lock_guard<std::mutex> g(mu);
    done = true;
  }
  cv.notify_all();
  EXPECT_TRUE(waiter.get());
  EXPECT_EQ(clock.now(), Nanos(0));
}

TEST(ManualClock, AwaitWaitersCanGiveUp) {
  ManualClock clock;
  EXPECT_FALSE(clock.await_waiters(1, 1ms));
  EXPECT_TRUE(clock.await_waiters(0, 1ms));
}

TEST(SteadyClock, IsMonotonic) {
  SteadyClock clock;
  const Nanos a = clock.now();
  const Nanos b = clock.now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace statusz
