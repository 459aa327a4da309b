// Histogram::update() and Timer::time() against baselines in the same binary
// (issue 12's table, checked by bench/check.py):
//  - base: one relaxed fetch_add on one shared atomic (the floor of any shared
//    counter);
//  - prometheus-cpp: what its Histogram::Observe does (core/src/histogram.cc
//    and gauge.cc, v1.2): the first exported bound >= the value by
//    std::lower_bound, then, under a std::mutex, the sum and the bucket's
//    count, each a std::atomic<double> added to by a compare-exchange loop;
//    the bounds are statusz's default exported timer bounds, the values the
//    same durations in seconds (issue 12's "what prometheus-cpp's Observe
//    does");
//  - mutex: stricter than that, a std::mutex-guarded bucket array + sum with
//    statusz's own bucket index (bucket_of()) and plain adds, so that only
//    the synchronisation differs;
//  - atomic buckets: a shared array of atomic buckets + atomic sum, each
//    update two relaxed fetch_adds (HdrHistogram's concurrent recorder style);
//  - statusz: Histogram::update().
// Each at 1 and 2 threads on one object, UseRealTime, values cycling over a
// fixed table log-uniform over 3 decades (1 us .. 1 ms in ns), the same for
// every contender (and, for statusz alone, values within one power of two).
// Plus: the Timer::time() scope around an empty body (vs 2 steady-clock reads +
// 1 update), snapshot + 6 quantiles of one histogram filled by 8 threads, and
// the memory of one histogram with 8 writer threads over 3 decades
// (alloc_count.hpp).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <statusz/histogram.hpp>
#include <statusz/prometheus.hpp>
#include <statusz/timer.hpp>
#include <thread>
#include <vector>

#include "alloc_count.hpp"
#include "hot_util.hpp"

namespace statusz_bench {
namespace {

constexpr std::size_t kValues = 4096;  // a power of two: i & (kValues - 1)

const std::vector<std::uint64_t>& values() {
  static auto* v = [] {
    auto* out = new std::vector<std::uint64_t>();
    std::mt19937_64 rng(12);
    std::uniform_real_distribution<double> exponent(3.0, 6.0);
    for (std::size_t i = 0; i < kValues; ++i) {
      out->push_back(static_cast<std::uint64_t>(std::pow(10.0, exponent(rng))));
    }
    return out;
  }();
  return *v;
}

// The bucket index as Histogram::update() finds it (a leading-zero count by
// detail::HistogramIndex: `lzcnt` where the CPU has it), so that the
// baselines differ from statusz in the synchronisation only.
inline std::size_t bucket_of(std::uint64_t x) {
  using statusz::detail::HistogramIndex;
  if (!HistogramIndex::fast()) return statusz::Histogram::bucket_index(x);
  const std::size_t lz = HistogramIndex::leading_zeros(x | 64u);
  return ((57 - lz) << statusz::Histogram::kSubBucketBits) + ((x << lz) >> 57);
}

// The loop every contender runs: op(value) for each iteration, the values
// cycling over `table` (kValues of them) from the thread's start, with a
// compiler barrier after each.
template <class T, class Op>
void cycle(benchmark::State& state, const std::vector<T>& table, Op op) {
  const T* v = table.data();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    op(v[i & (kValues - 1)]);
    benchmark::ClobberMemory();
    ++i;
  }
  finish(state);
}

std::atomic<std::uint64_t> g_shared{0};
void hist_base_fetch_add(benchmark::State& state) {
  cycle(state, values(), [](std::uint64_t x) {
    g_shared.fetch_add(x, std::memory_order_relaxed);
  });
}

// The same values in seconds, as a prometheus-cpp user passes them.
const std::vector<double>& seconds() {
  static auto* s = [] {
    auto* out = new std::vector<double>();
    for (std::uint64_t ns : values())
      out->push_back(static_cast<double>(ns) * 1e-9);
    return out;
  }();
  return *s;
}

// prometheus-cpp's Counter is a Gauge: a std::atomic<double>, changed by a
// compare-exchange loop.
struct DoubleCounter {
  std::atomic<double> value{0.0};
  void increment(double by) {
    double current = value.load();
    while (!value.compare_exchange_weak(current, current + by)) {
    }
  }
};
struct PrometheusCppHistogram {
  std::vector<double> bounds =
      statusz::PrometheusOptions{}.timer_bounds_seconds;
  std::vector<DoubleCounter> counts =
      std::vector<DoubleCounter>(bounds.size() + 1);
  DoubleCounter sum;
  std::mutex mu;

  void observe(double value) {
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    std::lock_guard<std::mutex> g(mu);
    sum.increment(value);
    counts[bucket].increment(1.0);
  }
};
PrometheusCppHistogram& prometheus_cpp_histogram() {
  static auto* h = new PrometheusCppHistogram();
  return *h;
}
void hist_base_prometheus_cpp(benchmark::State& state) {
  PrometheusCppHistogram& h = prometheus_cpp_histogram();
  cycle(state, seconds(), [&h](double x) { h.observe(x); });
}

struct MutexHistogram {
  std::mutex mu;
  std::array<std::uint64_t, statusz::Histogram::kBuckets> buckets{};
  std::uint64_t sum = 0;
};
MutexHistogram& mutex_histogram() {
  static auto* h = new MutexHistogram();
  return *h;
}
void hist_base_mutex(benchmark::State& state) {
  MutexHistogram& h = mutex_histogram();
  cycle(state, values(), [&h](std::uint64_t x) {
    std::lock_guard<std::mutex> g(h.mu);
    ++h.buckets[bucket_of(x)];
    h.sum += x;
  });
}

struct AtomicHistogram {
  std::array<std::atomic<std::uint64_t>, statusz::Histogram::kBuckets>
      buckets{};
  std::atomic<std::uint64_t> sum{0};
};
AtomicHistogram& atomic_histogram() {
  static auto* h = new AtomicHistogram();
  return *h;
}
void hist_base_atomic_buckets(benchmark::State& state) {
  AtomicHistogram& h = atomic_histogram();
  cycle(state, values(), [&h](std::uint64_t x) {
    h.buckets[bucket_of(x)].fetch_add(1, std::memory_order_relaxed);
    h.sum.fetch_add(x, std::memory_order_relaxed);
  });
}

statusz::ManualClock& hist_clock() {
  static auto* clock = new statusz::ManualClock();
  return *clock;
}
statusz::Histogram& hot_histogram() {
  static auto* h = new statusz::Histogram(hist_clock());
  return *h;
}
void hist_statusz_update(benchmark::State& state) {
  statusz::Histogram& h = hot_histogram();
  cycle(state, values(), [&h](std::uint64_t x) { h.update(x); });
}

// Values within one power of two (uniform over [2^20, 2^21) ns, 1.05 to
// 2.1 ms), in random order: most requests of one endpoint taking about the
// same time. Consecutive values fall in the same row of the histogram, in
// different buckets: only the row's partial sum could chain one update to
// the next (histogram.hpp, kRowSums).
const std::vector<std::uint64_t>& narrow_values() {
  static auto* v = [] {
    auto* out = new std::vector<std::uint64_t>();
    std::mt19937_64 rng(13);
    std::uniform_int_distribution<std::uint64_t> in_octave(1u << 20,
                                                           (1u << 21) - 1);
    for (std::size_t i = 0; i < kValues; ++i) out->push_back(in_octave(rng));
    return out;
  }();
  return *v;
}
void hist_statusz_update_narrow(benchmark::State& state) {
  statusz::Histogram& h = hot_histogram();
  cycle(state, narrow_values(), [&h](std::uint64_t x) { h.update(x); });
}

// ---- Timer::time()
// -----------------------------------------------------------

statusz::Timer& steady_timer() {
  static auto* t = new statusz::Timer();  // default_clock(): steady_clock
  return *t;
}
void timer_scope(benchmark::State& state) {
  statusz::Timer& t = steady_timer();
  for (auto _ : state) {
    auto scope = t.time();
    benchmark::ClobberMemory();
  }
  finish(state);
}
// What the scope must at least do: two clock reads and one update.
void timer_base_two_reads_update(benchmark::State& state) {
  statusz::Timer& t = steady_timer();
  for (auto _ : state) {
    const auto a = std::chrono::steady_clock::now();
    benchmark::ClobberMemory();
    const auto b = std::chrono::steady_clock::now();
    t.update(b - a);
    benchmark::ClobberMemory();
  }
  finish(state);
}

// ---- snapshot and memory
// -------------------------------------------------------

constexpr int kWriters = 8;

template <class F>
void run_threads(int n, F f) {
  std::vector<std::thread> threads;
  for (int k = 0; k < n; ++k) threads.emplace_back(f);
  for (auto& t : threads) t.join();
}

void hist_snapshot_quantiles(benchmark::State& state) {
  static auto* h = [] {
    auto* out = new statusz::Histogram(hist_clock());
    run_threads(kWriters, [out] {
      for (std::uint64_t x : values()) out->update(x);
    });
    return out;
  }();
  for (auto _ : state) {
    const statusz::HistogramSnapshot s = h->snapshot();
    double q = 0;
    for (double p : {0.5, 0.75, 0.95, 0.98, 0.99, 0.999}) {
      q += s.window.quantile(p);
    }
    benchmark::DoNotOptimize(q);
  }
  finish(state);
}

void mem_histogram(benchmark::State& state) {
  for (auto _ : state) {
    CountingScope counting;
    auto* h = new statusz::Histogram(hist_clock());
    const AllocStats object = current_counts();
    // All 8 writers alive at once: each gets a shard of its own.
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    run_threads(kWriters, [&] {
      for (std::uint64_t x : values()) h->update(x);
      std::unique_lock<std::mutex> lock(mu);
      if (++done == kWriters) cv.notify_all();
      cv.wait(lock, [&] { return done == kWriters; });
    });
    const AllocStats total = counting.stop();
    state.counters["bytes_per_histogram_8_writers"] =
        static_cast<double>(total.live_bytes);
    state.counters["bytes_per_histogram_object"] =
        static_cast<double>(object.live_bytes);
    state.counters["bytes_per_writer_thread"] =
        static_cast<double>(total.live_bytes - object.live_bytes) / kWriters;
    benchmark::DoNotOptimize(h);
  }
}

[[maybe_unused]] const bool registered = [] {
  register_hot("hist/base/fetch_add", hist_base_fetch_add);
  register_hot("hist/base/prometheus_cpp_observe", hist_base_prometheus_cpp);
  register_hot("hist/base/mutex_buckets", hist_base_mutex);
  register_hot("hist/base/atomic_buckets", hist_base_atomic_buckets);
  register_hot("hist/statusz/update", hist_statusz_update);
  benchmark::RegisterBenchmark("hist/statusz/update_narrow",
                               hist_statusz_update_narrow)
      ->UseRealTime()
      ->Threads(1);
  benchmark::RegisterBenchmark("hist/statusz/timer_scope", timer_scope)
      ->UseRealTime()
      ->Threads(1);
  benchmark::RegisterBenchmark("hist/base/two_steady_reads_update",
                               timer_base_two_reads_update)
      ->UseRealTime()
      ->Threads(1);
  benchmark::RegisterBenchmark("hist/statusz/snapshot_quantiles",
                               hist_snapshot_quantiles)
      ->UseRealTime()
      ->Threads(1);
  benchmark::RegisterBenchmark("mem/histogram", mem_histogram)
      ->Iterations(1)
      ->Repetitions(1);
  return true;
}();

}  // namespace
}  // namespace statusz_bench
