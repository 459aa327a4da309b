// Hot path: Meter::mark(), Counter::inc(), KeyedCounter::inc() of an existing
// key, against baselines in the same binary, at 1 and 2 threads on the same
// object, and round-robin over 1 000 distinct objects.
//
// Every benchmark here runs with UseRealTime() and SetItemsProcessed(), so
// `real_time` is the wall time of one call as each thread sees it and
// `items_per_second` is the aggregate throughput of all threads. Each loop
// body is the operation followed by benchmark::ClobberMemory() (or
// DoNotOptimize, which also clobbers memory): the compiler must reload
// whatever the operation reads from memory on every iteration, as it would
// for a call made amid other code, and cannot hoist or merge anything across
// iterations. The same rule applies to statusz and to every baseline.
//
// Holding patterns (`statusz/meter_mark_*`, `statusz/keyed_inc_*`): the same
// call as user code holds the object, in a plain loop (no ClobberMemory):
// `_plain` a local reference to a standalone object, `_static_ref` a
// function-local `static auto& m = reg.meter(path);` in the loop body,
// `_registry_ref` a local reference from reg.meter(path), `_member_ptr` a
// pointer member of a heap object the loop reaches through a pointer.
//
// This file is compiled twice into statusz_bench (bench/CMakeLists.txt): as
// itself at -O3, and by bench_hot_o2.cpp at -O2 with every name prefixed by
// "O2/" (STATUSZ_BENCH_HOT_PREFIX).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fixtures.hpp"
#include "hot_util.hpp"

#ifndef STATUSZ_BENCH_HOT_PREFIX
#define STATUSZ_BENCH_HOT_PREFIX ""
#endif

namespace statusz_bench {
namespace {

statusz::ManualClock& hot_clock() {
  static auto* clock = new statusz::ManualClock();
  return *clock;
}

struct alignas(64) PlainSlot {
  std::uint64_t value = 0;
};
struct alignas(64) AtomicSlot {
  std::atomic<std::uint64_t> value{0};
};
struct alignas(64) MutexSlot {
  std::mutex mu;
  std::uint64_t value = 0;
};

template <class T, class... Args>
std::vector<T*>& leaked_objects(Args&... args) {
  static auto* v = [&] {
    auto* out = new std::vector<T*>();
    for (std::size_t i = 0; i < kObjects; ++i) out->push_back(new T(args...));
    return out;
  }();
  return *v;
}

// ---- one object ------------------------------------------------------------

// The floor: a plain ++ on a variable of the calling thread (nothing is
// shared, so two threads scale perfectly). DoNotOptimize forces the value
// through memory/a register every iteration so the loop cannot be folded.
void floor_plain_inc(benchmark::State& state) {
  std::uint64_t x = 0;
  for (auto _ : state) {
    ++x;
    benchmark::DoNotOptimize(x);
  }
  finish(state);
}

// The floor for a per-thread counter in memory: a plain ++ of a counter the
// thread reaches through a thread_local pointer, reloaded every iteration
// (ClobberMemory). This is the least any per-thread-cell design can do per
// call: find the thread's memory, load, add, store; and the next call's load
// waits for that store (forwarded from the store buffer, since the address
// comes from a load the CPU cannot rename it away as it can a fixed address).
thread_local std::uint64_t* t_counter = nullptr;
void floor_plain_inc_tls_pointer(benchmark::State& state) {
  std::uint64_t own = 0;
  t_counter = &own;
  for (auto _ : state) {
    ++*t_counter;
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(own);
  t_counter = nullptr;
  finish(state);
}

std::atomic<std::uint64_t> g_shared_atomic{0};
void base_atomic_fetch_add(benchmark::State& state) {
  for (auto _ : state) {
    g_shared_atomic.fetch_add(1, std::memory_order_relaxed);
    benchmark::ClobberMemory();
  }
  finish(state);
}

// The same two, held as statusz/meter_mark_static_ref holds its meter: a
// function-local `static auto&` in a plain loop. The guard's acquire load
// makes the compiler reload the reference (and what it reaches) on every
// iteration. `floor/cell_add_static_ref` is the least such a loop can do: the
// reference is to the counter's own cell, added to in place
// (CellSpace::bump, the instruction a mark ends with); it shows what reaching
// a cell through a reloaded address costs on this CPU, library aside.
// A fresh (leaked) cache line's atomic: each static reference gets its own.
std::atomic<std::uint64_t>& new_atomic_slot() {
  return (new AtomicSlot())->value;
}
void base_atomic_fetch_add_static_ref(benchmark::State& state) {
  for (auto _ : state) {
    static auto& a = new_atomic_slot();
    a.fetch_add(1, std::memory_order_relaxed);
  }
  finish(state);
}
void floor_cell_add_static_ref(benchmark::State& state) {
  for (auto _ : state) {
    static statusz::detail::CellSpace::Cell& c = new_atomic_slot();
    statusz::detail::CellSpace::bump(c, 1);
  }
  finish(state);
}

std::mutex g_mu;
std::uint64_t g_guarded = 0;
void base_mutex_inc(benchmark::State& state) {
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> g(g_mu);
      ++g_guarded;
    }
    benchmark::ClobberMemory();
  }
  finish(state);
}

statusz::Meter& hot_meter() {
  static auto* m = new statusz::Meter(hot_clock());
  return *m;
}
void statusz_meter_mark(benchmark::State& state) {
  statusz::Meter& m = hot_meter();
  for (auto _ : state) {
    m.mark();
    benchmark::ClobberMemory();
  }
  finish(state);
}

statusz::Counter& hot_counter() {
  static auto* c = new statusz::Counter();
  return *c;
}
void statusz_counter_inc(benchmark::State& state) {
  statusz::Counter& c = hot_counter();
  for (auto _ : state) {
    c.inc();
    benchmark::ClobberMemory();
  }
  finish(state);
}

// ---- holding patterns, plain loops -----------------------------------------

statusz::Registry& hot_registry() {
  static auto* reg = new statusz::Registry({&hot_clock(), "bench", "1"});
  return *reg;
}

void statusz_meter_mark_plain(benchmark::State& state) {
  statusz::Meter& m = hot_meter();
  for (auto _ : state) m.mark();
  finish(state);
}

void statusz_meter_mark_static_ref(benchmark::State& state) {
  for (auto _ : state) {
    static auto& m = hot_registry().meter("hot.static.requests");
    m.mark();
  }
  finish(state);
}

void statusz_meter_mark_registry_ref(benchmark::State& state) {
  statusz::Meter& m = hot_registry().meter("hot.registry.requests");
  for (auto _ : state) m.mark();
  finish(state);
}

struct Handler {
  statusz::Meter* requests;
  statusz::KeyedCounter* errors_by_bot;
  statusz::Counter* dialogs;
};
Handler* hot_handler() {
  static auto* h = new Handler{&hot_registry().meter("hot.member.requests"),
                               &hot_registry().keyed("hot.member.errorsByBot"),
                               &hot_registry().counter("hot.member.dialogs")};
  return h;
}

// Hides where p points from the optimiser (it must assume any object). Not
// benchmark::DoNotOptimize: Google Benchmark 1.7's "+m,r" constraint makes
// gcc 12 -O2 read the pointer back from a stack slot it never wrote.
template <class T>
void escape(T*& p) {
  asm volatile("" : "+r"(p));
}

void statusz_meter_mark_member_ptr(benchmark::State& state) {
  Handler* h = hot_handler();
  escape(h);
  for (auto _ : state) h->requests->mark();
  finish(state);
}

void statusz_counter_inc_plain(benchmark::State& state) {
  statusz::Counter& c = hot_counter();
  for (auto _ : state) c.inc();
  finish(state);
}

void statusz_counter_inc_member_ptr(benchmark::State& state) {
  Handler* h = hot_handler();
  escape(h);
  for (auto _ : state) h->dialogs->inc();
  finish(state);
}

// ---- reading a rate --------------------------------------------------------

void base_steady_clock_now(benchmark::State& state) {
  for (auto _ : state) {
    auto t = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(t);
  }
  finish(state);
}

void base_mutex_lock_unlock(benchmark::State& state) {
  static auto* mu = new std::mutex();
  for (auto _ : state) {
    mu->lock();
    mu->unlock();
    benchmark::ClobberMemory();
  }
  finish(state);
}

// A meter on the default (steady) clock, marked from this thread: the read
// users make.
void statusz_meter_one_minute_rate(benchmark::State& state) {
  static auto* m = new statusz::Meter();
  m->mark();
  for (auto _ : state) {
    double r = m->one_minute_rate();
    benchmark::DoNotOptimize(r);
  }
  finish(state);
}

// ---- one key ---------------------------------------------------------------

void base_hash_std(benchmark::State& state) {
  const std::string& key = hot_key();
  for (auto _ : state) {
    std::size_t h = std::hash<std::string_view>{}(std::string_view(key));
    benchmark::DoNotOptimize(h);
  }
  finish(state);
}

void base_hash_statusz(benchmark::State& state) {
  const std::string& key = hot_key();
  const std::uint64_t seed = statusz::detail::process_hash_seed();
  for (auto _ : state) {
    std::uint64_t h = statusz::detail::hash_bytes(key, seed);
    benchmark::DoNotOptimize(h);
  }
  finish(state);
}

// The strongest plain alternative: the caller already holds a std::string
// (no conversion, no allocation), a mutex, and std::unordered_map.
struct MutexMap {
  std::mutex mu;
  std::unordered_map<std::string, std::uint64_t> counts;
};
MutexMap& one_key_map() {
  static auto* m = [] {
    auto* out = new MutexMap();
    for (const auto& [bot, n] : sample_bots()) out->counts[bot] = n;
    return out;
  }();
  return *m;
}
void base_mutex_map_inc(benchmark::State& state) {
  MutexMap& m = one_key_map();
  const std::string& key = hot_key();
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> g(m.mu);
      ++m.counts[key];
    }
    benchmark::ClobberMemory();
  }
  finish(state);
}

statusz::KeyedCounter& one_key_counter() {
  static auto* k = [] {
    auto* out = new statusz::KeyedCounter();
    for (const auto& [bot, n] : sample_bots()) out->inc(bot, n);
    return out;
  }();
  return *k;
}
// The same when the caller has a std::string_view (what KeyedCounter::inc
// takes): C++17's unordered_map has no heterogeneous lookup, so the key is
// copied into a std::string (36 bytes: a heap allocation) on every call.
void base_mutex_map_inc_from_view(benchmark::State& state) {
  MutexMap& m = one_key_map();
  const std::string_view key = hot_key();
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> g(m.mu);
      ++m.counts[std::string(key)];
    }
    benchmark::ClobberMemory();
  }
  finish(state);
}

void statusz_keyed_inc(benchmark::State& state) {
  statusz::KeyedCounter& k = one_key_counter();
  const std::string& key = hot_key();
  for (auto _ : state) {
    k.inc(key);
    benchmark::ClobberMemory();
  }
  finish(state);
}

statusz::KeyedCounter& keyed_in(statusz::Registry& reg, const char* path) {
  statusz::KeyedCounter& k = reg.keyed(path);
  for (const auto& [bot, n] : sample_bots()) k.inc(bot, n);
  return k;
}

void statusz_keyed_inc_plain(benchmark::State& state) {
  statusz::KeyedCounter& k = one_key_counter();
  const std::string& key = hot_key();
  for (auto _ : state) k.inc(key);
  finish(state);
}

void statusz_keyed_inc_static_ref(benchmark::State& state) {
  const std::string& key = hot_key();
  for (auto _ : state) {
    static auto& k = keyed_in(hot_registry(), "hot.static.errorsByBot");
    k.inc(key);
  }
  finish(state);
}

void statusz_keyed_inc_registry_ref(benchmark::State& state) {
  static const bool filled =
      (keyed_in(hot_registry(), "hot.registry.errorsByBot"), true);
  (void)filled;
  statusz::KeyedCounter& k = hot_registry().keyed("hot.registry.errorsByBot");
  const std::string& key = hot_key();
  for (auto _ : state) k.inc(key);
  finish(state);
}

void statusz_keyed_inc_member_ptr(benchmark::State& state) {
  Handler* h = hot_handler();
  static const bool filled = [&] {
    for (const auto& [bot, n] : sample_bots()) h->errors_by_bot->inc(bot, n);
    return true;
  }();
  (void)filled;
  escape(h);
  const std::string& key = hot_key();
  for (auto _ : state) h->errors_by_bot->inc(key);
  finish(state);
}

// ---- 1 000 objects, round-robin ---------------------------------------------

void floor_plain_inc_x1000(benchmark::State& state) {
  // The floor again: each thread has its own 1 000 counters.
  std::vector<std::unique_ptr<PlainSlot>> own;
  for (std::size_t i = 0; i < kObjects; ++i)
    own.push_back(std::make_unique<PlainSlot>());
  std::size_t i = 0;
  for (auto _ : state) {
    ++own[i]->value;
    benchmark::DoNotOptimize(own[i]->value);
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void base_atomic_fetch_add_x1000(benchmark::State& state) {
  std::vector<AtomicSlot*>& objs = leaked_objects<AtomicSlot>();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    objs[i]->value.fetch_add(1, std::memory_order_relaxed);
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void base_mutex_inc_x1000(benchmark::State& state) {
  std::vector<MutexSlot*>& objs = leaked_objects<MutexSlot>();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> g(objs[i]->mu);
      ++objs[i]->value;
    }
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void statusz_meter_mark_x1000(benchmark::State& state) {
  std::vector<statusz::Meter*>& objs =
      leaked_objects<statusz::Meter>(hot_clock());
  std::size_t i = start_of(state);
  for (auto _ : state) {
    objs[i]->mark();
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void statusz_counter_inc_x1000(benchmark::State& state) {
  std::vector<statusz::Counter*>& objs = leaked_objects<statusz::Counter>();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    objs[i]->inc();
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void base_hash_std_x1000(benchmark::State& state) {
  const std::vector<std::string>& keys = keys_x1000();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    std::size_t h = std::hash<std::string_view>{}(std::string_view(keys[i]));
    benchmark::DoNotOptimize(h);
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void base_hash_statusz_x1000(benchmark::State& state) {
  const std::vector<std::string>& keys = keys_x1000();
  const std::uint64_t seed = statusz::detail::process_hash_seed();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    std::uint64_t h = statusz::detail::hash_bytes(keys[i], seed);
    benchmark::DoNotOptimize(h);
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void base_mutex_map_inc_x1000(benchmark::State& state) {
  static auto* m = [] {
    auto* out = new MutexMap();
    for (const std::string& k : keys_x1000()) out->counts[k] = 1;
    return out;
  }();
  const std::vector<std::string>& keys = keys_x1000();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> g(m->mu);
      ++m->counts[keys[i]];
    }
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void statusz_keyed_inc_x1000(benchmark::State& state) {
  static auto* k = [] {
    auto* out = new statusz::KeyedCounter();
    for (const std::string& key : keys_x1000()) out->inc(key);
    return out;
  }();
  const std::vector<std::string>& keys = keys_x1000();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    k->inc(keys[i]);
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

void hot(const char* name, void (*fn)(benchmark::State&)) {
  register_hot((std::string(STATUSZ_BENCH_HOT_PREFIX) + name).c_str(), fn);
}

void hot1(const char* name, void (*fn)(benchmark::State&)) {
  benchmark::RegisterBenchmark(
      (std::string(STATUSZ_BENCH_HOT_PREFIX) + name).c_str(), fn)
      ->UseRealTime()
      ->Threads(1);
}

[[maybe_unused]] const bool registered = [] {
  hot("floor/plain_inc", floor_plain_inc);
  hot("floor/plain_inc_tls_pointer", floor_plain_inc_tls_pointer);
  hot("base/atomic_fetch_add", base_atomic_fetch_add);
  hot("base/mutex_inc", base_mutex_inc);
  hot1("base/atomic_fetch_add_static_ref", base_atomic_fetch_add_static_ref);
  hot1("floor/cell_add_static_ref", floor_cell_add_static_ref);
  hot("statusz/meter_mark", statusz_meter_mark);
  hot("statusz/counter_inc", statusz_counter_inc);
  hot("statusz/meter_mark_plain", statusz_meter_mark_plain);
  hot("statusz/meter_mark_static_ref", statusz_meter_mark_static_ref);
  hot("statusz/meter_mark_registry_ref", statusz_meter_mark_registry_ref);
  hot("statusz/meter_mark_member_ptr", statusz_meter_mark_member_ptr);
  hot("statusz/counter_inc_plain", statusz_counter_inc_plain);
  hot("statusz/counter_inc_member_ptr", statusz_counter_inc_member_ptr);

  hot1("base/steady_clock_now", base_steady_clock_now);
  hot1("base/mutex_lock_unlock", base_mutex_lock_unlock);
  hot1("statusz/meter_one_minute_rate", statusz_meter_one_minute_rate);

  hot("base/hash_std", base_hash_std);
  hot("base/hash_statusz", base_hash_statusz);
  hot("base/mutex_map_inc", base_mutex_map_inc);
  hot("base/mutex_map_inc_from_view", base_mutex_map_inc_from_view);
  hot("statusz/keyed_inc", statusz_keyed_inc);
  hot("statusz/keyed_inc_plain", statusz_keyed_inc_plain);
  hot("statusz/keyed_inc_static_ref", statusz_keyed_inc_static_ref);
  hot("statusz/keyed_inc_registry_ref", statusz_keyed_inc_registry_ref);
  hot("statusz/keyed_inc_member_ptr", statusz_keyed_inc_member_ptr);

  hot("floor/plain_inc_x1000", floor_plain_inc_x1000);
  hot("base/atomic_fetch_add_x1000", base_atomic_fetch_add_x1000);
  hot("base/mutex_inc_x1000", base_mutex_inc_x1000);
  hot("statusz/meter_mark_x1000", statusz_meter_mark_x1000);
  hot("statusz/counter_inc_x1000", statusz_counter_inc_x1000);

  hot("base/hash_std_x1000", base_hash_std_x1000);
  hot("base/hash_statusz_x1000", base_hash_statusz_x1000);
  hot("base/mutex_map_inc_x1000", base_mutex_map_inc_x1000);
  hot("statusz/keyed_inc_x1000", statusz_keyed_inc_x1000);
  return true;
}();

}  // namespace
}  // namespace statusz_bench
