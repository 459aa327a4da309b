// An independent harness for statusz's hot path (issue 13 cross-check),
// written from the public API only (README.md and include/statusz/*.hpp).
//
// Each statusz call is measured next to a baseline compiled into the same
// binary and held the same way:
//   (a) a local reference obtained from a registry before the loop,
//   (b) a function-local `static auto& x = reg.get(...)` inside the loop,
//   (c) a pointer member of a heap-allocated object,
//   (d) a global reference initialised at namespace scope,
//   (e) looked up through the registry on every call (not a hot path).
// The baseline "registry" hands out one heap-allocated, cache-line-aligned
// std::atomic<uint64_t> per path (a mutex + unordered_map, as a user would
// write it), so both sides pay the same load of the object's address.
//
// Loops are plain user code: no ClobberMemory, no DoNotOptimize inside the
// loop. After the loop the metric is read once (and, for 1 thread, checked to
// have moved by exactly the number of iterations, so the work cannot have
// been deleted).
#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <statusz/statusz.hpp>

namespace {

// ---------------------------------------------------------------- baselines

struct alignas(64) Slot {
  std::atomic<std::uint64_t> v{0};
};

class BaseRegistry {
 public:
  std::atomic<std::uint64_t>& get(std::string_view path) {
    std::lock_guard<std::mutex> g(mu_);
    auto& slot = slots_[std::string(path)];
    if (!slot) slot = std::make_unique<Slot>();
    return slot->v;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Slot>> slots_;
};

BaseRegistry g_base;
// One global shared atomic whose address is a link-time constant.
alignas(64) std::atomic<std::uint64_t> g_atomic{0};

// ------------------------------------------------------------------ statusz

statusz::Registry g_reg({nullptr, "harness", "0"});

// (d) global references initialised at namespace scope.
statusz::Meter& g_meter = g_reg.meter("a.b");
std::atomic<std::uint64_t>& g_base_ref = g_base.get("a.b");

constexpr std::string_view kUuid = "0df33792-2271-472b-a817-bb0f556c016d";
static_assert(kUuid.size() == 36, "a 36-byte UUID key");

void check_delta(benchmark::State& state, std::uint64_t before,
                 std::uint64_t after, std::uint64_t per_iteration = 1) {
  const auto want = static_cast<std::uint64_t>(state.iterations()) * per_iteration;
  if (after - before != want) state.SkipWithError("count did not move as expected");
}

// ========================================================= Meter::mark(), 1T

void BM_base_fetch_add_global(benchmark::State& state) {
  const std::uint64_t before = g_atomic.load();
  for (auto _ : state) {
    g_atomic.fetch_add(1, std::memory_order_relaxed);
  }
  check_delta(state, before, g_atomic.load());
}
BENCHMARK(BM_base_fetch_add_global);

void BM_base_a_local_ref(benchmark::State& state) {
  auto& a = g_base.get("a.b");
  const std::uint64_t before = a.load();
  for (auto _ : state) {
    a.fetch_add(1, std::memory_order_relaxed);
  }
  check_delta(state, before, a.load());
}
BENCHMARK(BM_base_a_local_ref);

void BM_meter_a_local_ref(benchmark::State& state) {
  auto& m = g_reg.meter("a.b");
  const std::uint64_t before = m.count();
  for (auto _ : state) {
    m.mark();
  }
  check_delta(state, before, m.count());
}
BENCHMARK(BM_meter_a_local_ref);

void BM_base_b_static(benchmark::State& state) {
  const std::uint64_t before = g_base.get("a.b").load();
  for (auto _ : state) {
    static auto& a = g_base.get("a.b");
    a.fetch_add(1, std::memory_order_relaxed);
  }
  check_delta(state, before, g_base.get("a.b").load());
}
BENCHMARK(BM_base_b_static);

void BM_meter_b_static(benchmark::State& state) {
  const std::uint64_t before = g_reg.meter("a.b").count();
  for (auto _ : state) {
    static auto& m = g_reg.meter("a.b");
    m.mark();
  }
  check_delta(state, before, g_reg.meter("a.b").count());
}
BENCHMARK(BM_meter_b_static);

struct BaseService {
  std::atomic<std::uint64_t>* requests = nullptr;
  void handle() { requests->fetch_add(1, std::memory_order_relaxed); }
};

struct MeterService {
  statusz::Meter* requests = nullptr;
  void handle() { requests->mark(); }
};

void BM_base_c_member_ptr(benchmark::State& state) {
  auto svc = std::make_unique<BaseService>();
  svc->requests = &g_base.get("a.b");
  const std::uint64_t before = svc->requests->load();
  for (auto _ : state) {
    svc->handle();
  }
  check_delta(state, before, svc->requests->load());
}
BENCHMARK(BM_base_c_member_ptr);

void BM_meter_c_member_ptr(benchmark::State& state) {
  auto svc = std::make_unique<MeterService>();
  svc->requests = &g_reg.meter("a.b");
  const std::uint64_t before = svc->requests->count();
  for (auto _ : state) {
    svc->handle();
  }
  check_delta(state, before, svc->requests->count());
}
BENCHMARK(BM_meter_c_member_ptr);

void BM_base_d_global_ref(benchmark::State& state) {
  const std::uint64_t before = g_base_ref.load();
  for (auto _ : state) {
    g_base_ref.fetch_add(1, std::memory_order_relaxed);
  }
  check_delta(state, before, g_base_ref.load());
}
BENCHMARK(BM_base_d_global_ref);

void BM_meter_d_global_ref(benchmark::State& state) {
  const std::uint64_t before = g_meter.count();
  for (auto _ : state) {
    g_meter.mark();
  }
  check_delta(state, before, g_meter.count());
}
BENCHMARK(BM_meter_d_global_ref);

// (e) the get-or-create path on every call: not a hot path.
void BM_base_e_lookup(benchmark::State& state) {
  const std::uint64_t before = g_base.get("a.b").load();
  for (auto _ : state) {
    g_base.get("a.b").fetch_add(1, std::memory_order_relaxed);
  }
  check_delta(state, before, g_base.get("a.b").load());
}
BENCHMARK(BM_base_e_lookup);

void BM_meter_e_lookup(benchmark::State& state) {
  const std::uint64_t before = g_reg.meter("a.b").count();
  for (auto _ : state) {
    g_reg.meter("a.b").mark();
  }
  check_delta(state, before, g_reg.meter("a.b").count());
}
BENCHMARK(BM_meter_e_lookup);

// ============================================ Counter::inc() + dec() pairs, 1T

void BM_base_pair_a_local_ref(benchmark::State& state) {
  auto& a = g_base.get("c.d");
  for (auto _ : state) {
    a.fetch_add(1, std::memory_order_relaxed);
    a.fetch_sub(1, std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(a.load());
}
BENCHMARK(BM_base_pair_a_local_ref);

void BM_counter_pair_a_local_ref(benchmark::State& state) {
  auto& c = g_reg.counter("c.d");
  for (auto _ : state) {
    c.inc();
    c.dec();
  }
  benchmark::DoNotOptimize(c.value());
}
BENCHMARK(BM_counter_pair_a_local_ref);

void BM_base_pair_b_static(benchmark::State& state) {
  for (auto _ : state) {
    static auto& a = g_base.get("c.d");
    a.fetch_add(1, std::memory_order_relaxed);
    a.fetch_sub(1, std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(g_base.get("c.d").load());
}
BENCHMARK(BM_base_pair_b_static);

void BM_counter_pair_b_static(benchmark::State& state) {
  for (auto _ : state) {
    static auto& c = g_reg.counter("c.d");
    c.inc();
    c.dec();
  }
  benchmark::DoNotOptimize(g_reg.counter("c.d").value());
}
BENCHMARK(BM_counter_pair_b_static);

struct BaseDialogs {
  std::atomic<std::uint64_t>* current = nullptr;
  void open() { current->fetch_add(1, std::memory_order_relaxed); }
  void close() { current->fetch_sub(1, std::memory_order_relaxed); }
};

struct CounterDialogs {
  statusz::Counter* current = nullptr;
  void open() { current->inc(); }
  void close() { current->dec(); }
};

void BM_base_pair_c_member_ptr(benchmark::State& state) {
  auto d = std::make_unique<BaseDialogs>();
  d->current = &g_base.get("c.d");
  for (auto _ : state) {
    d->open();
    d->close();
  }
  benchmark::DoNotOptimize(d->current->load());
}
BENCHMARK(BM_base_pair_c_member_ptr);

void BM_counter_pair_c_member_ptr(benchmark::State& state) {
  auto d = std::make_unique<CounterDialogs>();
  d->current = &g_reg.counter("c.d");
  for (auto _ : state) {
    d->open();
    d->close();
  }
  benchmark::DoNotOptimize(d->current->value());
}
BENCHMARK(BM_counter_pair_c_member_ptr);

// =================================== KeyedCounter::inc(existing UUID key), 1T

void BM_base_hash_std(benchmark::State& state) {
  const std::string key(kUuid);
  std::size_t acc = 0;
  for (auto _ : state) {
    acc += std::hash<std::string_view>{}(key);
  }
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_base_hash_std);

void BM_keyed_a_local_ref(benchmark::State& state) {
  const std::string key(kUuid);
  auto& k = g_reg.keyed("e.f");
  k.inc(key);  // the key exists before the loop
  const std::uint64_t before = k.value(key);
  for (auto _ : state) {
    k.inc(key);
  }
  check_delta(state, before, k.value(key));
}
BENCHMARK(BM_keyed_a_local_ref);

void BM_keyed_b_static(benchmark::State& state) {
  const std::string key(kUuid);
  g_reg.keyed("e.f").inc(key);
  const std::uint64_t before = g_reg.keyed("e.f").value(key);
  for (auto _ : state) {
    static auto& k = g_reg.keyed("e.f");
    k.inc(key);
  }
  check_delta(state, before, g_reg.keyed("e.f").value(key));
}
BENCHMARK(BM_keyed_b_static);

struct KeyedService {
  statusz::KeyedCounter* errors_by_bot = nullptr;
  void fail(std::string_view bot) { errors_by_bot->inc(bot); }
};

void BM_keyed_c_member_ptr(benchmark::State& state) {
  const std::string key(kUuid);
  auto svc = std::make_unique<KeyedService>();
  svc->errors_by_bot = &g_reg.keyed("e.f");
  svc->fail(key);
  const std::uint64_t before = svc->errors_by_bot->value(key);
  for (auto _ : state) {
    svc->fail(key);
  }
  check_delta(state, before, svc->errors_by_bot->value(key));
}
BENCHMARK(BM_keyed_c_member_ptr);

// ====================================== 2 threads on one object (aggregate)

void BM_mt_base_fetch_add(benchmark::State& state) {
  auto& a = g_base.get("mt.base");
  for (auto _ : state) {
    a.fetch_add(1, std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(a.load());
}
BENCHMARK(BM_mt_base_fetch_add)->Threads(1)->Threads(2)->UseRealTime();

// Scaling control: each thread adds to its own atomic (no sharing), so the
// 2-thread aggregate / 1-thread ratio shows what the machine can give.
void BM_mt_control_private(benchmark::State& state) {
  Slot own;
  for (auto _ : state) {
    own.v.fetch_add(1, std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(own.v.load());
}
BENCHMARK(BM_mt_control_private)->Threads(1)->Threads(2)->UseRealTime();

void BM_mt_meter_mark(benchmark::State& state) {
  auto& m = g_reg.meter("mt.meter");
  for (auto _ : state) {
    m.mark();
  }
  benchmark::DoNotOptimize(m.count());
}
BENCHMARK(BM_mt_meter_mark)->Threads(1)->Threads(2)->UseRealTime();

void BM_mt_counter_inc(benchmark::State& state) {
  auto& c = g_reg.counter("mt.counter");
  for (auto _ : state) {
    c.inc();
  }
  benchmark::DoNotOptimize(c.value());
}
BENCHMARK(BM_mt_counter_inc)->Threads(1)->Threads(2)->UseRealTime();

// ================================================= Meter::one_minute_rate()

void BM_base_now_mutex(benchmark::State& state) {
  std::mutex mu;
  std::int64_t acc = 0;
  for (auto _ : state) {
    const auto t = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> g(mu);
    acc += t.time_since_epoch().count();
  }
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_base_now_mutex);

void BM_meter_one_minute_rate(benchmark::State& state) {
  auto& m = g_reg.meter("r.s");
  m.mark(100);
  double acc = 0;
  for (auto _ : state) {
    acc += m.one_minute_rate();
  }
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_meter_one_minute_rate);

// ======================================================= Histogram::update(v)

// 256 values, log-spaced over 3 decades (1 000 .. 1 000 000: 1 us .. 1 ms in
// nanoseconds).
const std::array<std::uint64_t, 256> kValues = [] {
  std::array<std::uint64_t, 256> v{};
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<std::uint64_t>(
        std::llround(1000.0 * std::pow(1000.0, static_cast<double>(i) / 255.0)));
  }
  return v;
}();

struct MutexHistogram {
  std::mutex mu;
  std::uint64_t buckets[64] = {};
  std::uint64_t sum = 0;
  void update(std::uint64_t v) {
    std::lock_guard<std::mutex> g(mu);
    ++buckets[63 - __builtin_clzll(v | 1)];
    sum += v;
  }
};

void BM_base_hist_fetch_add(benchmark::State& state) {
  auto& a = g_base.get("g.h");
  std::size_t i = 0;
  for (auto _ : state) {
    a.fetch_add(kValues[i], std::memory_order_relaxed);
    i = (i + 1) & 255;
  }
  benchmark::DoNotOptimize(a.load());
}
BENCHMARK(BM_base_hist_fetch_add);

void BM_base_hist_mutex(benchmark::State& state) {
  auto h = std::make_unique<MutexHistogram>();
  std::size_t i = 0;
  for (auto _ : state) {
    h->update(kValues[i]);
    i = (i + 1) & 255;
  }
  benchmark::DoNotOptimize(h->sum);
}
BENCHMARK(BM_base_hist_mutex);

void BM_histogram_update(benchmark::State& state) {
  auto& h = g_reg.histogram("g.h");
  const std::uint64_t before = h.snapshot().count;
  std::size_t i = 0;
  for (auto _ : state) {
    h.update(kValues[i]);
    i = (i + 1) & 255;
  }
  check_delta(state, before, h.snapshot().count);
}
BENCHMARK(BM_histogram_update);

}  // namespace
