#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <statusz/histogram.hpp>
#include <thread>
#include <vector>

namespace statusz {
namespace detail {
// Histogram's test hook: a histogram whose update() never takes the `lzcnt`
// path, as on a CPU without LZCNT.
struct HistogramTestAccess {
  static std::unique_ptr<Histogram> without_lzcnt(Clock& clock) {
    return std::unique_ptr<Histogram>(
        new Histogram(clock, Histogram::kDefaultWindowTicks, false));
  }
};
}  // namespace detail
namespace {

using namespace std::chrono_literals;

// The exact model: the recorded values, sorted.
struct Model {
  std::vector<std::uint64_t> v;

  void sort() { std::sort(v.begin(), v.end()); }
  // The nearest rank: the ceil(q * n)-th smallest (the first for q = 0).
  std::uint64_t quantile(double q) const {
    const auto n = static_cast<double>(v.size());
    auto rank = static_cast<std::size_t>(std::ceil(q * n));
    rank = std::max<std::size_t>(rank, 1);
    return v[std::min(rank, v.size()) - 1];
  }
  long double sum() const {
    long double s = 0;
    for (auto x : v) s += static_cast<long double>(x);
    return s;
  }
  double mean() const {
    return static_cast<double>(sum() / static_cast<long double>(v.size()));
  }
  double stddev() const {
    const long double m = sum() / static_cast<long double>(v.size());
    long double s = 0;
    for (auto x : v) {
      const long double d = static_cast<long double>(x) - m;
      s += d * d;
    }
    return static_cast<double>(
        std::sqrt(s / static_cast<long double>(v.size())));
  }
  double rms() const {
    long double s = 0;
    for (auto x : v) {
      s += static_cast<long double>(x) * static_cast<long double>(x);
    }
    return static_cast<double>(
        std::sqrt(s / static_cast<long double>(v.size())));
  }
  std::uint64_t count_at_most(std::uint64_t le) const {
    return static_cast<std::uint64_t>(std::upper_bound(v.begin(), v.end(), le) -
                                      v.begin());
  }
};

constexpr double kQs[] = {0,   0.001, 0.01, 0.1,  0.25,  0.5, 0.75,
                          0.9, 0.95,  0.98, 0.99, 0.999, 1};

// Every statistic of `d` against the model, to the header's stated bound.
void expect_matches(const Distribution& d, const Model& m, bool exact_min_max) {
  ASSERT_EQ(d.count, m.v.size());
  if (m.v.empty()) return;
  const double bound = Histogram::kMaxRelativeError;
  if (exact_min_max) {
    EXPECT_EQ(d.min, m.v.front());
    EXPECT_EQ(d.max, m.v.back());
  } else {
    EXPECT_NEAR(static_cast<double>(d.min), static_cast<double>(m.v.front()),
                bound * static_cast<double>(m.v.front()) + 0.5);
    EXPECT_NEAR(static_cast<double>(d.max), static_cast<double>(m.v.back()),
                bound * static_cast<double>(m.v.back()) + 0.5);
  }
  for (double q : kQs) {
    const auto exact = static_cast<double>(m.quantile(q));
    EXPECT_LE(std::fabs(d.quantile(q) - exact), bound * exact)
        << "q=" << q << " exact=" << exact << " got=" << d.quantile(q);
  }
  const double mean = m.mean();
  EXPECT_NEAR(d.mean(), mean, 1e-9 * mean + 1e-12);
  EXPECT_LE(std::fabs(d.stddev() - m.stddev()), bound * m.rms() + 1e-9)
      << "stddev " << d.stddev() << " exact " << m.stddev();
  for (const HistogramBucket& b : d.buckets) {
    const std::uint64_t le = Histogram::bucket_upper(b.index);
    EXPECT_EQ(d.count_at_most(le), m.count_at_most(le)) << "le=" << le;
  }
}

TEST(Histogram, BucketLayoutCoversUint64WithBoundedWidth) {
  EXPECT_EQ(Histogram::bucket_index(0), 0u);
  EXPECT_EQ(Histogram::bucket_index(127), 127u);
  EXPECT_EQ(Histogram::bucket_lower(0), 0u);
  for (std::size_t i = 0; i + 1 < Histogram::kBuckets; ++i) {
    const std::uint64_t lo = Histogram::bucket_lower(i);
    const std::uint64_t hi = Histogram::bucket_upper(i);
    ASSERT_LE(lo, hi);
    ASSERT_EQ(hi + 1, Histogram::bucket_lower(i + 1)) << i;
    ASSERT_EQ(Histogram::bucket_index(lo), i);
    ASSERT_EQ(Histogram::bucket_index(hi), i);
    if (lo < 128) {
      ASSERT_EQ(lo, hi);  // exact
    } else {
      ASSERT_LE(static_cast<double>(hi - lo + 1), static_cast<double>(lo) / 64);
    }
  }
  EXPECT_EQ(Histogram::bucket_upper(Histogram::kBuckets - 1),
            std::numeric_limits<std::uint64_t>::max());
  std::mt19937_64 rng(7);
  for (int k = 0; k < 100000; ++k) {
    const std::uint64_t v = rng() >> (rng() % 64);
    const std::size_t i = Histogram::bucket_index(v);
    ASSERT_LE(Histogram::bucket_lower(i), v);
    ASSERT_GE(Histogram::bucket_upper(i), v);
    const double mid = Histogram::bucket_midpoint(i);
    ASSERT_LE(std::fabs(mid - static_cast<double>(v)),
              Histogram::kMaxRelativeError * static_cast<double>(v));
  }
}

// update() finds a value's bucket without bucket_index() (a row per
// leading-zero count, detail::HistogramIndex); both ends of every bucket,
// recorded twice each (the second time on the fast path, the first on the
// thread's first touch of the row), land in bucket_index()'s bucket.
TEST(Histogram, UpdateCountsBothEndsOfEveryBucketInIt) {
  ManualClock clock;
  Histogram h(clock);
  std::uint64_t sum = 0;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
      h.update(Histogram::bucket_lower(i));
      h.update(Histogram::bucket_upper(i));
      sum += Histogram::bucket_lower(i) + Histogram::bucket_upper(i);
    }
  }
  const HistogramSnapshot s = h.snapshot();
  ASSERT_EQ(s.buckets.size(), Histogram::kBuckets);
  for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
    ASSERT_EQ(s.buckets[i].index, i);
    ASSERT_EQ(s.buckets[i].count, 4u) << i;
  }
  EXPECT_EQ(s.count, 4 * Histogram::kBuckets);
  EXPECT_EQ(s.sum, sum);
  EXPECT_EQ(s.min, 0u);
  EXPECT_EQ(s.max, std::numeric_limits<std::uint64_t>::max());
}

template <class Gen>
void check_distribution(Gen gen, int n = 200000) {
  ManualClock clock;
  Histogram h(clock);
  Model m;
  std::mt19937_64 rng(42);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t v = gen(rng);
    h.update(v);
    m.v.push_back(v);
  }
  m.sort();
  const HistogramSnapshot s = h.snapshot();
  expect_matches(s, m, true);
  expect_matches(s.window, m, false);
  std::uint64_t sum = 0;
  for (auto x : m.v) sum += x;
  EXPECT_EQ(s.sum, sum);
  EXPECT_EQ(s.window.sum, sum);
}

TEST(Histogram, UniformMatchesExactModel) {
  check_distribution([](std::mt19937_64& r) {
    return std::uniform_int_distribution<std::uint64_t>(0, 1000000)(r);
  });
}

TEST(Histogram, LogNormalMatchesExactModel) {
  check_distribution([](std::mt19937_64& r) {
    return static_cast<std::uint64_t>(
        std::lognormal_distribution<double>(12.0, 2.0)(r));
  });
}

TEST(Histogram, BimodalMatchesExactModel) {
  check_distribution([](std::mt19937_64& r) {
    const bool slow = std::bernoulli_distribution(0.1)(r);
    const double v = slow ? std::normal_distribution<double>(5e7, 5e6)(r)
                          : std::normal_distribution<double>(2e5, 2e4)(r);
    return static_cast<std::uint64_t>(std::max(v, 0.0));
  });
}

TEST(Histogram, ConstantIsExactBelow128AndBoundedAbove) {
  check_distribution([](std::mt19937_64&) { return std::uint64_t{42}; }, 1000);
  check_distribution([](std::mt19937_64&) { return std::uint64_t{123456789}; },
                     1000);
  ManualClock clock;
  Histogram h(clock);
  for (int i = 0; i < 10; ++i) h.update(0);
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.quantile(0.5), 0.0);  // 0 is exact
  EXPECT_EQ(s.window.quantile(0.99), 0.0);
  EXPECT_EQ(s.stddev(), 0.0);
}

TEST(Histogram, HeavyTailedMatchesExactModel) {
  // Pareto, alpha 1.1, from 1000, capped at 2^40 (so the sum fits).
  check_distribution([](std::mt19937_64& r) {
    const double u = std::uniform_real_distribution<double>(1e-300, 1.0)(r);
    const double v = 1000.0 / std::pow(u, 1.0 / 1.1);
    return v >= 0x1p40 ? std::uint64_t{1} << 40 : static_cast<std::uint64_t>(v);
  });
}

TEST(Histogram, WholeUint64Range) {
  ManualClock clock;
  Histogram h(clock);
  Model m;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 64);
    h.update(v);
    m.v.push_back(v);
  }
  h.update(std::numeric_limits<std::uint64_t>::max());
  m.v.push_back(std::numeric_limits<std::uint64_t>::max());
  m.sort();
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.count, m.v.size());
  EXPECT_EQ(s.max, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(s.min, m.v.front());
  for (double q : kQs) {
    const auto exact = static_cast<double>(m.quantile(q));
    EXPECT_LE(std::fabs(s.quantile(q) - exact),
              Histogram::kMaxRelativeError * exact)
        << q;
  }
}

TEST(Histogram, EmptyAndBadQuantiles) {
  ManualClock clock;
  Histogram h(clock);
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.quantile(0.5), 0.0);
  EXPECT_EQ(s.mean(), 0.0);
  EXPECT_EQ(s.stddev(), 0.0);
  EXPECT_TRUE(s.window.empty());
  EXPECT_THROW((void)s.quantile(-0.1), std::invalid_argument);
  EXPECT_THROW((void)s.quantile(1.5), std::invalid_argument);
  EXPECT_THROW((void)s.quantile(std::nan("")), std::invalid_argument);
  EXPECT_THROW(Histogram(clock, 0), std::invalid_argument);
}

TEST(Histogram, WindowExpiresAfterTheLastTick) {
  ManualClock clock;
  Histogram h(clock);  // 12 ticks: 60 s
  h.update(1000);
  h.update(2000);
  clock.advance(4s);
  EXPECT_EQ(h.snapshot().window.count, 2u);
  clock.advance(55999ms);  // 59.999 s: still in the window
  EXPECT_EQ(h.snapshot().window.count, 2u);
  clock.advance(1ms);  // 60 s: idle for the whole window
  HistogramSnapshot s = h.snapshot();
  EXPECT_TRUE(s.window.empty());
  EXPECT_EQ(s.window.sum, 0u);
  EXPECT_EQ(s.window.quantile(0.99), 0.0);
  EXPECT_EQ(s.count, 2u);  // the cumulative view keeps them
  EXPECT_EQ(s.sum, 3000u);
}

TEST(Histogram, IdleGapLongerThanWindowLeavesOnlyNewValues) {
  ManualClock clock;
  Histogram h(clock);
  for (int i = 0; i < 100; ++i) h.update(1000000);
  clock.advance(std::chrono::hours(1) + 2500ms);
  h.update(7);
  clock.advance(3s);  // a boundary between the update and the read
  h.update(9);
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.window.count, 2u);
  EXPECT_EQ(s.window.sum, 16u);
  EXPECT_EQ(s.window.min, 7u);
  EXPECT_EQ(s.window.max, 9u);
  EXPECT_EQ(s.window.quantile(0.5), 7.0);
  EXPECT_EQ(s.count, 102u);
}

// The window against a model of which values are in it, over random
// intervals and gaps: counts, sums and bucket counts exact.
TEST(Histogram, WindowIsExactOverRandomTimeline) {
  ManualClock clock;
  const std::size_t ticks = 3;  // the current interval and 2 before it
  Histogram h(clock, ticks);
  std::mt19937_64 rng(11);
  struct Rec {
    std::int64_t interval;
    std::uint64_t v;
  };
  std::vector<Rec> recs;
  Nanos now(0);
  for (int step = 0; step < 400; ++step) {
    const int action = static_cast<int>(rng() % 4);
    if (action == 0) {
      const Nanos d(static_cast<std::int64_t>(rng() % 12'000'000'000ULL));
      clock.advance(d);
      now += d;
    } else {
      const std::uint64_t v = rng() % 100000;
      h.update(v);
      recs.push_back({now / 5s, v});
    }
    if (step % 7 == 0) {
      const std::int64_t cur = now / 5s;
      Model m;
      std::uint64_t sum = 0;
      for (const Rec& r : recs) {
        if (r.interval > cur - static_cast<std::int64_t>(ticks)) {
          m.v.push_back(r.v);
          sum += r.v;
        }
      }
      m.sort();
      const HistogramSnapshot s = h.snapshot();
      ASSERT_EQ(s.window.count, m.v.size()) << "step " << step;
      ASSERT_EQ(s.window.sum, sum);
      for (const HistogramBucket& b : s.window.buckets) {
        const std::uint64_t le = Histogram::bucket_upper(b.index);
        ASSERT_EQ(s.window.count_at_most(le), m.count_at_most(le));
      }
      ASSERT_EQ(s.count, recs.size());
    }
  }
}

TEST(Histogram, WritersWhileAReaderRendersCountsExact) {
  ManualClock clock;
  Histogram h(clock);
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPer = 50000;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      const HistogramSnapshot s = h.snapshot();
      EXPECT_GE(s.count, last);  // never goes down
      last = s.count;
      reads.fetch_add(1);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&h, t] {
      for (std::uint64_t i = 0; i < kPer; ++i) {
        h.update((i * 7919 + static_cast<std::uint64_t>(t)) % 5000000);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  std::uint64_t sum = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (std::uint64_t i = 0; i < kPer; ++i) {
      sum += (i * 7919 + static_cast<std::uint64_t>(t)) % 5000000;
    }
  }
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.count, kThreads * kPer);
  EXPECT_EQ(s.sum, sum);
  EXPECT_EQ(s.window.count, kThreads * kPer);
  EXPECT_GT(reads.load(), 0);
}

TEST(Histogram, CountsOfExitedThreadsSurvive) {
  ManualClock clock;
  Histogram h(clock);
  for (int round = 0; round < 8; ++round) {
    std::thread([&] {
      for (int i = 0; i < 1000; ++i) h.update(static_cast<std::uint64_t>(i));
    }).join();
  }
  EXPECT_EQ(h.snapshot().count, 8000u);
}

TEST(Histogram, TwoHistogramsDoNotShareCounts) {
  ManualClock clock;
  auto a = std::make_unique<Histogram>(clock);
  Histogram b(clock);
  a->update(5);
  b.update(6);
  b.update(6);
  EXPECT_EQ(a->snapshot().count, 1u);
  EXPECT_EQ(b.snapshot().count, 2u);
  a.reset();
  Histogram c(clock);  // may reuse a's cell index: starts empty
  c.update(1);
  EXPECT_EQ(c.snapshot().count, 1u);
  EXPECT_EQ(b.snapshot().count, 2u);
}

// Where the CPU lacks LZCNT (detail::HistogramIndex), every update() takes
// update_slow(), with the portable leading-zero count: the same buckets,
// count, sum, min and max as the `lzcnt` path, also from several threads
// (each on its own shard: a thread's values are in the totals exactly).
TEST(Histogram, PathWithoutLzcntCountsAsTheFastPath) {
  ManualClock clock;
  Histogram fast(clock);
  std::unique_ptr<Histogram> slow =
      detail::HistogramTestAccess::without_lzcnt(clock);
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> values = {0,   1,   63,  64,
                                       127, 128, 129, ~std::uint64_t{0}};
  for (int i = 0; i < 20000; ++i) values.push_back(rng() >> (rng() % 64));
  constexpr int kThreads = 3;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (std::uint64_t v : values) slow->update(v);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (std::uint64_t v : values) fast.update(v);
  }
  const HistogramSnapshot a = fast.snapshot();
  const HistogramSnapshot b = slow->snapshot();
  EXPECT_EQ(b.count, kThreads * values.size());
  EXPECT_EQ(b.count, a.count);
  EXPECT_EQ(b.sum, a.sum);
  EXPECT_EQ(b.min, 0u);
  EXPECT_EQ(b.max, ~std::uint64_t{0});
  ASSERT_EQ(b.buckets.size(), a.buckets.size());
  for (std::size_t i = 0; i < a.buckets.size(); ++i) {
    EXPECT_EQ(b.buckets[i].index, a.buckets[i].index);
    EXPECT_EQ(b.buckets[i].count, a.buckets[i].count);
  }
}

}  // namespace
}  // namespace statusz
