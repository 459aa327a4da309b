#include <gtest/gtest.h>

#include <atomic>
#include <statusz/registry.hpp>
#include <statusz/timer.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

namespace statusz {
namespace {

using namespace std::chrono_literals;

TEST(Timer, ScopeRecordsTheClocksElapsedTimeOnce) {
  ManualClock clock;
  Timer t(clock);
  {
    auto scope = t.time();
    clock.advance(3ms);
  }
  auto scope = t.time();
  clock.advance(250us);
  EXPECT_EQ(scope.stop(), Nanos(250us));
  clock.advance(1s);
  EXPECT_EQ(scope.stop(), Nanos(0));  // recorded once
  const TimerSnapshot s = t.snapshot();
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.sum, 3'250'000u);
  EXPECT_EQ(s.min, 250'000u);
  EXPECT_EQ(s.max, 3'000'000u);
  EXPECT_EQ(t.meter().count(), 2u);
}

TEST(Timer, MovedScopeRecordsOnce) {
  ManualClock clock;
  Timer t(clock);
  {
    auto a = t.time();
    auto b = std::move(a);
    clock.advance(1ms);
  }
  EXPECT_EQ(t.snapshot().count, 1u);
}

TEST(Timer, TimeOfCallableRecordsAlsoWhenItThrows) {
  ManualClock clock;
  Timer t(clock);
  const int r = t.time([&] {
    clock.advance(2ms);
    return 42;
  });
  EXPECT_EQ(r, 42);
  EXPECT_THROW(t.time([&] {
    clock.advance(5ms);
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  t.time([] {});  // void
  const TimerSnapshot s = t.snapshot();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.max, 5'000'000u);
  EXPECT_EQ(s.sum, 7'000'000u);
  EXPECT_EQ(s.min, 0u);
}

TEST(Timer, UpdateNegativeCountsAsZero) {
  ManualClock clock;
  Timer t(clock);
  t.update(Nanos(-5));
  t.update(1h);
  const TimerSnapshot s = t.snapshot();
  EXPECT_EQ(s.min, 0u);
  EXPECT_EQ(s.max, 3'600'000'000'000u);
  // 1 h is within the stated bound at every quantile.
  EXPECT_NEAR(s.quantile(0.99), 3.6e12, 3.6e12 * Histogram::kMaxRelativeError);
}

TEST(Timer, SnapshotHasTheMetersFiguresAndTheWindow) {
  ManualClock clock;
  Timer t(clock);
  for (int i = 0; i < 50; ++i) t.update(Nanos(1000 + i));
  clock.advance(5s);  // the meters tick
  for (int i = 0; i < 50; ++i) t.update(Nanos(1000 + i));
  clock.advance(1s);
  const TimerSnapshot s = t.snapshot();
  const MeterSnapshot m = t.meter().snapshot();
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(m.count, 100u);
  EXPECT_DOUBLE_EQ(s.one_minute_rate, m.one_minute_rate);
  EXPECT_DOUBLE_EQ(s.five_minute_rate, m.five_minute_rate);
  EXPECT_DOUBLE_EQ(s.fifteen_minute_rate, m.fifteen_minute_rate);
  EXPECT_DOUBLE_EQ(s.mean_rate, m.mean_rate);
  // Dropwizard ticks once more than 5 s have passed: at 6 s, with all 100.
  EXPECT_DOUBLE_EQ(s.one_minute_rate, 20.0);
  EXPECT_EQ(s.meter().count, 100u);
  EXPECT_EQ(s.window.count, 100u);
  clock.advance(60s);
  const TimerSnapshot idle = t.snapshot();
  EXPECT_TRUE(idle.window.empty());
  EXPECT_EQ(idle.count, 100u);
}

TEST(Timer, ThreadsCountExactly) {
  ManualClock clock;
  Timer t(clock);
  std::vector<std::thread> threads;
  for (int k = 0; k < 3; ++k) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) t.update(Nanos(i));
    });
  }
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) (void)t.snapshot();
  });
  for (auto& th : threads) th.join();
  done = true;
  reader.join();
  EXPECT_EQ(t.snapshot().count, 60000u);
  EXPECT_EQ(t.meter().count(), 60000u);
}

TEST(Timer, RegistryGetOrCreateAndKindErrors) {
  ManualClock clock;
  RegistryOptions o;
  o.clock = &clock;
  Registry reg(o);
  Timer& t = reg.timer("app.latency");
  EXPECT_EQ(&t, &reg.timer("app.latency"));
  Histogram& h = reg.histogram("app.sizes");
  EXPECT_EQ(&h, &reg.histogram("app.sizes"));
  EXPECT_EQ(reg.kind("app.latency"), Kind::Timer);
  EXPECT_EQ(reg.kind("app.sizes"), Kind::Histogram);
  EXPECT_THROW(reg.meter("app.latency"), KindError);
  EXPECT_THROW(reg.histogram("app.latency"), KindError);
  EXPECT_THROW(reg.timer("app.sizes"), KindError);
  EXPECT_THROW(reg.timer("app"), KindError);
  try {
    reg.counter("app.latency");
    FAIL();
  } catch (const KindError& e) {
    EXPECT_EQ(e.existing(), Kind::Timer);
    EXPECT_STREQ(e.what(), "statusz: 'app.latency' is a timer, not a counter");
  }
  try {
    reg.timer("app.sizes");
    FAIL();
  } catch (const KindError& e) {
    EXPECT_STREQ(e.what(), "statusz: 'app.sizes' is a histogram, not a timer");
  }
}

}  // namespace
}  // namespace statusz
