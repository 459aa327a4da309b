#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <statusz/meter.hpp>
#include <thread>
#include <vector>

namespace statusz {
namespace {

using namespace std::chrono_literals;

// An independent model: Dropwizard Metrics 4.2's Meter, transliterated
// (ExponentialMovingAverages.tickIfNecessary + EWMA.tick, one tick per loop
// turn): every mark and read is a call at its time that ticks only when more
// than 5 s passed since lastTick; mark() ticks before it counts.
class MeterModel {
 public:
  explicit MeterModel(std::int64_t start_ns = 0)
      : start_(start_ns), last_tick_(start_ns) {}

  void mark(std::int64_t t_ns, std::uint64_t n) {
    tick_if_necessary(t_ns);
    count_ += n;
    uncounted_ += n;
  }

  struct Rates {
    std::uint64_t count = 0;
    double mean = 0, m1 = 0, m5 = 0, m15 = 0;
  };

  Rates read(std::int64_t t_ns) {
    tick_if_necessary(t_ns);
    Rates r;
    r.count = count_;
    r.mean = (count_ == 0 || t_ns == start_)
                 ? 0.0
                 : static_cast<double>(count_) /
                       static_cast<double>(t_ns - start_) * 1e9;
    r.m1 = rates_[0];
    r.m5 = rates_[1];
    r.m15 = rates_[2];
    return r;
  }

 private:
  static constexpr std::int64_t kInterval = 5'000'000'000;

  void tick_if_necessary(std::int64_t now) {
    const std::int64_t age = now - last_tick_;
    if (age <= kInterval) return;
    last_tick_ = now - age % kInterval;
    const std::int64_t ticks = age / kInterval;
    ASSERT_LT(ticks, Meter::kMaxTicks) << "the model does not reset";
    for (std::int64_t k = 0; k < ticks; ++k) {
      const double instant = static_cast<double>(uncounted_) / 5.0;
      uncounted_ = 0;
      const double minutes[] = {1, 5, 15};
      for (int i = 0; i < 3; ++i) {
        const double alpha = 1.0 - std::exp(-5.0 / 60.0 / minutes[i]);
        rates_[i] =
            initialized_ ? rates_[i] + alpha * (instant - rates_[i]) : instant;
      }
      initialized_ = true;
    }
  }

  std::int64_t start_;
  std::int64_t last_tick_;
  std::uint64_t count_ = 0;
  std::uint64_t uncounted_ = 0;
  bool initialized_ = false;
  double rates_[3] = {0, 0, 0};
};

void expect_close(double actual, double expected, const char* what) {
  const double scale = std::max(std::abs(actual), std::abs(expected));
  EXPECT_LE(std::abs(actual - expected), 1e-9 * scale + 1e-300)
      << what << ": actual " << actual << " expected " << expected;
}

void expect_matches(const Meter& m, MeterModel& model, std::int64_t now) {
  const MeterSnapshot s = m.snapshot();
  const MeterModel::Rates r = model.read(now);
  EXPECT_EQ(s.count, r.count);
  expect_close(s.mean_rate, r.mean, "mean");
  expect_close(s.one_minute_rate, r.m1, "m1");
  expect_close(s.five_minute_rate, r.m5, "m5");
  expect_close(s.fifteen_minute_rate, r.m15, "m15");
}

TEST(Meter, StartsAtZero) {
  ManualClock clock;
  Meter m(clock);
  const MeterSnapshot s = m.snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.mean_rate, 0.0);
  EXPECT_EQ(s.one_minute_rate, 0.0);
  EXPECT_EQ(s.five_minute_rate, 0.0);
  EXPECT_EQ(s.fifteen_minute_rate, 0.0);
}

TEST(Meter, FirstTickSetsTheRate) {
  ManualClock clock;
  Meter m(clock);
  m.mark(10);
  clock.advance(4999ms);
  EXPECT_EQ(m.one_minute_rate(), 0.0) << "no tick before 5 s";
  clock.advance(1ms);
  EXPECT_EQ(m.one_minute_rate(), 0.0) << "no tick at exactly 5 s";
  clock.advance(1ns);
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), 2.0);
  EXPECT_DOUBLE_EQ(m.five_minute_rate(), 2.0);
  EXPECT_DOUBLE_EQ(m.fifteen_minute_rate(), 2.0);
  EXPECT_DOUBLE_EQ(m.mean_rate(), 10 / 5.000000001);
  EXPECT_EQ(m.count(), 10u);
}

TEST(Meter, SecondTickMovesByAlpha) {
  ManualClock clock;
  Meter m(clock);
  m.mark(10);
  clock.advance(6s);
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), 2.0);
  clock.advance(5s);  // an empty interval
  const double alpha = 1 - std::exp(-5.0 / 60.0);
  EXPECT_NEAR(m.one_minute_rate(), 2.0 + alpha * (0.0 - 2.0), 1e-15);
}

TEST(Meter, EventsCountInTheirOwnIntervalHoweverLongNobodyReads) {
  ManualClock clock;
  Meter m(clock);
  MeterModel model;
  // Marks in three different intervals, no read in between.
  m.mark(5);
  model.mark(0, 5);
  clock.advance(7s);
  m.mark(100);
  model.mark(7'000'000'000, 100);
  clock.advance(20s);
  m.mark(1);
  model.mark(27'000'000'000, 1);
  clock.advance(1h);
  expect_matches(m, model, clock.now().count());
}

// The figures of issue 10, measured with metrics-core 4.2.40: a manual clock
// in whole 5 s steps ticks only every other step, two ticks at a time.
TEST(Meter, WholeFiveSecondStepsTickLikeDropwizard) {
  ManualClock clock;
  Meter m(clock);
  const double expected[] = {0, 1.840089, 1.840089, 1.851852};
  for (double e : expected) {
    clock.advance(5s);
    m.mark(10);
    EXPECT_NEAR(m.one_minute_rate(), e, 5e-7);
  }
}

TEST(Meter, AReadAtExactlyABoundaryTicksOnlyAfterMoreThanFiveSeconds) {
  ManualClock clock;
  Meter m(clock);
  m.mark(10);
  clock.advance(5s);
  EXPECT_EQ(m.one_minute_rate(), 0.0);  // age 5 s: no tick
  clock.advance(5s);                    // age 10 s: two ticks, lastTick 10 s
  EXPECT_NEAR(m.one_minute_rate(), 1.840089, 5e-7);
  clock.advance(1ns);  // age 1 ns since lastTick: nothing more
  EXPECT_NEAR(m.one_minute_rate(), 1.840089, 5e-7);
}

TEST(Meter, AMarkBetweenStepsMovesLastTickWithoutAClockRead) {
  // A mark at 7 s ticks (age 7 s > 5 s) and moves lastTick to 5 s, so the
  // read at 10 s (age 5 s) does not tick: the boundary at 10 s waits.
  ManualClock clock;
  Meter a(clock), b(clock);
  a.mark(10);
  b.mark(10);
  clock.advance(7s);
  a.mark(5);  // only `a` is marked at 7 s
  clock.advance(3s);
  EXPECT_DOUBLE_EQ(a.one_minute_rate(), 2.0);  // one tick: 10 events / 5 s
  const double alpha = 1 - std::exp(-5.0 / 60.0);
  EXPECT_NEAR(b.one_minute_rate(), 2.0 * (1 - alpha), 1e-15);  // two ticks
}

TEST(Meter, MaxTicksIdleResetsTheRatesAsDropwizardDoes) {
  ManualClock clock;
  Meter m(clock);
  m.mark(600);
  clock.advance(6s);
  ASSERT_DOUBLE_EQ(m.fifteen_minute_rate(), 120.0);
  // kMaxTicks - 1 ticks due at once: decayed in closed form.
  clock.advance(5s * (Meter::kMaxTicks - 1));
  expect_close(
      m.fifteen_minute_rate(),
      120.0 * std::exp(-static_cast<double>(Meter::kMaxTicks - 1) / 180.0),
      "m15 after kMaxTicks - 1 ticks");
  // kMaxTicks due at once: EWMA.reset(), Double.MIN_NORMAL per nanosecond.
  m.mark(5);  // dropped with the reset, as Dropwizard's uncounted events are
  clock.advance(5s * Meter::kMaxTicks);
  const double reset = std::numeric_limits<double>::min() * 1e9;
  EXPECT_EQ(m.one_minute_rate(), reset);
  EXPECT_EQ(m.fifteen_minute_rate(), reset);
  clock.advance(6s);
  EXPECT_EQ(m.one_minute_rate(), reset * (1 - (1 - std::exp(-5.0 / 60.0))));
}

TEST(Meter, IntervalsAreCountedFromTheMetersCreation) {
  ManualClock clock;
  clock.advance(3s);
  Meter m(clock);  // boundaries at 8 s, 13 s, ...
  m.mark(5);
  clock.advance(5s);  // t = 8 s: age 5 s
  EXPECT_EQ(m.one_minute_rate(), 0.0);
  clock.advance(1ns);
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), 1.0);
  clock.advance(4999999999ns);  // t = 13 s; lastTick is 8 s: no tick
  m.mark(10);  // so this mark belongs to the interval ending at 13 s
  clock.advance(1ns);
  const double alpha = 1 - std::exp(-5.0 / 60.0);
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), 1.0 + alpha * (2.0 - 1.0));
}

TEST(Meter, MatchesTheModelOverLongRandomTimelines) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    ManualClock clock;
    Meter m(clock);
    MeterModel model;
    std::uniform_int_distribution<int> op(0, 99);
    std::uniform_int_distribution<std::uint64_t> amount(1, 1000);
    for (int step = 0; step < 400; ++step) {
      const int o = op(rng);
      if (o < 45) {
        const std::uint64_t n = amount(rng);
        m.mark(n);
        model.mark(clock.now().count(), n);
      } else if (o < 62) {  // sub-interval moves, to the nanosecond
        clock.advance(Nanos(std::uniform_int_distribution<std::int64_t>(
            0, 3'000'000'000)(rng)));
      } else if (o < 70) {  // whole 5 s steps, onto boundaries
        clock.advance(5s * std::uniform_int_distribution<int>(1, 3)(rng));
      } else if (o < 85) {  // several intervals
        clock.advance(Nanos(std::uniform_int_distribution<std::int64_t>(
            5'000'000'000, 60'000'000'000)(rng)));
      } else if (o < 88) {  // idle gaps of minutes to hours
        clock.advance(Nanos(std::uniform_int_distribution<std::int64_t>(
            60'000'000'000, 3 * 3'600'000'000'000)(rng)));
      } else if (o < 92) {  // a burst
        for (int i = 0; i < 50; ++i) {
          m.mark(1);
          model.mark(clock.now().count(), 1);
        }
      } else {
        expect_matches(m, model, clock.now().count());
      }
    }
    expect_matches(m, model, clock.now().count());
  }
}

TEST(Meter, CatchesUpIdleTicksInClosedForm) {
  ManualClock clock;
  Meter m(clock);
  m.mark(600);
  clock.advance(6s);
  ASSERT_DOUBLE_EQ(m.fifteen_minute_rate(), 120.0);
  // 8640 idle ticks (12 h, under Dropwizard's kMaxTicks) in one step.
  clock.advance(std::chrono::hours(12));
  expect_close(m.fifteen_minute_rate(), 120.0 * std::exp(-8640.0 / 180.0),
               "m15 after 12 h");
  // A century (~6.3e8 ticks) is past kMaxTicks: Dropwizard's reset value.
  clock.advance(std::chrono::hours(24 * 365 * 100));
  const MeterSnapshot s = m.snapshot();
  EXPECT_EQ(s.count, 600u);
  EXPECT_EQ(s.fifteen_minute_rate, std::numeric_limits<double>::min() * 1e9);
}

TEST(Meter, MarksFromManyThreadsAreAllCounted) {
  ManualClock clock;
  Meter m(clock);
  constexpr int kThreads = 4;
  constexpr int kIters = 250000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIters; ++i) m.mark();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(m.count(), std::uint64_t{kThreads} * kIters);
}

TEST(Meter, CountsOfExitedThreadsAreKept) {
  ManualClock clock;
  Meter m(clock);
  for (int round = 0; round < 20; ++round) {
    std::thread([&] { m.mark(3); }).join();
  }
  EXPECT_EQ(m.count(), 60u);
}

TEST(Meter, ADestroyedMetersCellsStartAtZeroForItsSuccessor) {
  ManualClock clock;
  std::thread writer;
  {
    Meter a(clock);
    std::thread([&] { a.mark(1000); }).join();
    a.mark(7);
  }
  // The next meter likely reuses the same cell index.
  Meter b(clock);
  EXPECT_EQ(b.count(), 0u);
  std::thread([&] { b.mark(1); }).join();
  EXPECT_EQ(b.count(), 1u);
}

// A clock that never ticks its meters, as a SteadyClock whose ticker thread
// is late: reads must tick the meter themselves.
class LateClock final : public Clock {
 public:
  Nanos now() const noexcept override { return Nanos(t.load()); }
  std::chrono::system_clock::time_point wall_now() const override { return {}; }
  bool wait_until(std::unique_lock<std::mutex>&, std::condition_variable&,
                  Nanos, const std::function<bool()>& pred) override {
    return pred();
  }
  void attach(detail::Tickable&) override {}
  void detach(detail::Tickable&) noexcept override {}
  void set(Nanos d) { t.store(d.count()); }

 private:
  std::atomic<std::int64_t> t{0};
};

TEST(Meter, ARateReadTicksWhenTheClocksTickerIsLate) {
  LateClock clock;
  Meter m(clock);
  m.mark(10);
  clock.set(7s);
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), 2.0);
  EXPECT_DOUBLE_EQ(m.fifteen_minute_rate(), 2.0);
  m.mark(100);
  clock.set(9s);  // no boundary crossed since the last read
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), 2.0);
  EXPECT_DOUBLE_EQ(m.five_minute_rate(), 2.0);
  clock.set(12s);  // 100 events in the second interval: 20/s
  const double a5 = 1 - std::exp(-5.0 / 60.0 / 5);
  EXPECT_NEAR(m.five_minute_rate(), 2.0 + a5 * (20.0 - 2.0), 1e-12);
  const double a1 = 1 - std::exp(-5.0 / 60.0);
  EXPECT_NEAR(m.one_minute_rate(), 2.0 + a1 * (20.0 - 2.0), 1e-12);
}

TEST(Meter, EachRateReadAgreesWithASnapshot) {
  ManualClock clock;
  Meter m(clock);
  std::mt19937_64 rng(13);
  for (int step = 0; step < 2000; ++step) {
    m.mark(rng() % 50);
    clock.advance(Nanos(static_cast<std::int64_t>(rng() % 4'000'000'000)));
    const MeterSnapshot s = m.snapshot();
    ASSERT_EQ(m.one_minute_rate(), s.one_minute_rate) << step;
    ASSERT_EQ(m.five_minute_rate(), s.five_minute_rate) << step;
    ASSERT_EQ(m.fifteen_minute_rate(), s.fifteen_minute_rate) << step;
  }
}

TEST(Meter, RatesReadWhileTheClockTicksAndThreadsMark) {
  // On the heap: std::mutex has no destructor that ThreadSanitizer sees, so
  // stack mutexes reused by another test's clock and meter at the same
  // addresses would look like a lock-order inversion to it.
  auto clock_ptr = std::make_unique<ManualClock>();
  auto meter_ptr = std::make_unique<Meter>(*clock_ptr);
  ManualClock& clock = *clock_ptr;
  Meter& m = *meter_ptr;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop.load()) m.mark();
  });
  std::thread reader([&] {
    double last = 0;
    while (!stop.load()) {
      const double r = m.fifteen_minute_rate();
      EXPECT_GE(r, 0.0);
      EXPECT_TRUE(std::isfinite(r));
      last = r;
    }
    EXPECT_GE(last, 0.0);
  });
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t before = m.count();
    while (m.count() == before) std::this_thread::yield();
    clock.advance(1s);
  }
  stop.store(true);
  writer.join();
  reader.join();
  EXPECT_GT(m.one_minute_rate(), 0.0);
}

TEST(Meter, TicksWithTheSteadyClockInTheBackground) {
  // The default clock's ticker thread is exercised; no timing is asserted.
  Meter m;
  m.mark(3);
  EXPECT_EQ(m.count(), 3u);
  EXPECT_GE(m.mean_rate(), 0.0);
}

}  // namespace
}  // namespace statusz
