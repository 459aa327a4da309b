// Memory: bytes per meter, per counter, per key, and per writer thread per
// meter / key, read from the allocator (alloc_count.cpp counts the requested
// bytes of every operator new and delete in this binary), not estimated.
//
// Each benchmark measures once (Iterations(1), Repetitions(1): a byte count
// does not need a median) and reports counters; its time is meaningless.
// Objects are leaked, never destroyed: statusz hands a destroyed object's cell
// index back for reuse, and a reused index lands in cells that are already
// allocated, which would under-count the next measurement.
//
// statusz stores counts in one flat array of cells per thread, indexed by cell
// index and grown by doubling (the replaced arrays are kept for lock-free
// readers, so they count here). The objects a benchmark creates take fresh
// indices above every index used before; the `fresh_cells` counter says 1 when
// they were verified to be one contiguous fresh range. A writer thread that
// marks them grows its array to cover them: the bytes per writer thread per
// object include that growth and the arrays it retires.
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alloc_count.hpp"
#include "fixtures.hpp"

namespace statusz_bench {
namespace {

using statusz::detail::CellIndex;

constexpr int kWriterThreads = 8;

// The index the next object will take (reserved and leaked: see above).
std::uint32_t next_fresh_index() { return (new CellIndex())->index() + 1; }

// 1 if the `n` objects created since `first` took exactly the indices
// first .. first + n - 1 (checked by reserving the next index).
double fresh(std::uint32_t first, std::size_t n) {
  auto* next = new CellIndex();
  return next->index() == first + n ? 1.0 : 0.0;
}

// Runs f on `n` threads that are all alive at the same time (so each has its
// own statusz thread record), and joins them.
void run_writers(int n, const std::function<void()>& f) {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      f();
      std::unique_lock<std::mutex> lock(mu);
      if (++done == n) cv.notify_all();
      cv.wait(lock, [&] { return done == n; });
    });
  }
  for (std::thread& t : threads) t.join();
}

statusz::ManualClock& mem_clock() {
  static auto* clock = new statusz::ManualClock();
  return *clock;
}

void report(benchmark::State& state, const char* name, double value) {
  state.counters[name] = benchmark::Counter(value);
}

// Meters: the object, the registry entry, and the cells of 8 writer threads.
void mem_meter(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    std::vector<statusz::Meter*> meters;
    meters.reserve(n);
    std::uint32_t first = next_fresh_index();
    CountingScope objects;
    for (std::size_t i = 0; i < n; ++i)
      meters.push_back(new statusz::Meter(mem_clock()));
    const AllocStats object_bytes = objects.stop();
    report(state, "fresh_cells", fresh(first, n));

    CountingScope cells;
    run_writers(kWriterThreads, [&] {
      for (statusz::Meter* m : meters) m->mark();
    });
    const AllocStats cell_bytes = cells.stop();

    // The same through a registry (tree node + meter), at fresh indices.
    auto* reg = new statusz::Registry({&mem_clock(), "bench", "1"});
    std::vector<std::string> paths;
    paths.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      paths.push_back("m.meter" + std::to_string(i));
    (void)reg->meter("warm.up");  // the registry's own first allocations
    first = next_fresh_index();
    CountingScope registered;
    for (const std::string& p : paths) (void)reg->meter(p);
    const AllocStats registry_bytes = registered.stop();
    report(state, "fresh_cells_registry", fresh(first, n));

    const double per_object = double(object_bytes.live_bytes) / double(n);
    const double per_registry = double(registry_bytes.live_bytes) / double(n);
    const double per_writer =
        double(cell_bytes.live_bytes) / double(n) / kWriterThreads;
    report(state, "bytes_per_meter", per_object);
    report(state, "bytes_per_registry_meter", per_registry);
    report(state, "bytes_per_writer_thread_per_meter", per_writer);
    report(state, "bytes_per_meter_8_writers",
           per_registry + kWriterThreads * per_writer);
    report(state, "allocs_per_meter",
           double(object_bytes.allocations) / double(n));
  }
}

// One lone meter at a fresh index: what each writer thread pays for a meter
// beyond its array (the growth of the array, by doubling).
void mem_meter_lone(benchmark::State& state) {
  for (auto _ : state) {
    const std::uint32_t first = next_fresh_index();
    auto* meter = new statusz::Meter(mem_clock());
    report(state, "fresh_cells", fresh(first, 1));
    CountingScope cells;
    run_writers(kWriterThreads, [&] { meter->mark(); });
    const AllocStats bytes = cells.stop();
    report(state, "bytes_per_writer_thread",
           double(bytes.live_bytes) / kWriterThreads);
  }
}

void mem_counter(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    std::vector<statusz::Counter*> counters;
    counters.reserve(n);
    CountingScope objects;
    for (std::size_t i = 0; i < n; ++i)
      counters.push_back(new statusz::Counter());
    const AllocStats object_bytes = objects.stop();

    auto* reg = new statusz::Registry({&mem_clock(), "bench", "1"});
    std::vector<std::string> paths;
    paths.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      paths.push_back("c.counter" + std::to_string(i));
    (void)reg->counter("warm.up");
    CountingScope registered;
    for (const std::string& p : paths) (void)reg->counter(p);
    const AllocStats registry_bytes = registered.stop();

    report(state, "bytes_per_counter",
           double(object_bytes.live_bytes) / double(n));
    report(state, "bytes_per_registry_counter",
           double(registry_bytes.live_bytes) / double(n));
  }
}

// Keys: a KeyedCounter sized for n keys, filled with n UUID keys (36 bytes)
// by this thread, then every key counted by 8 more writer threads.
void mem_keyed(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::string> keys = uuid_keys(n, 7 + n);
  std::size_t key_bytes = 0;
  for (const std::string& k : keys) key_bytes += k.size();
  for (auto _ : state) {
    const std::uint32_t first = next_fresh_index();
    CountingScope filled;
    auto* keyed = new statusz::KeyedCounter(n);
    for (const std::string& k : keys) keyed->inc(k);
    const AllocStats fill_bytes = filled.stop();
    // The keyed counter reserves 2 indices of its own (dropped, overflow).
    report(state, "fresh_cells", fresh(first, n + 2));

    CountingScope cells;
    run_writers(kWriterThreads, [&] {
      for (const std::string& k : keys) keyed->inc(k);
    });
    const AllocStats cell_bytes = cells.stop();

    const double per_key = double(fill_bytes.live_bytes) / double(n);
    report(state, "bytes_per_key", per_key);
    report(state, "key_bytes", double(key_bytes) / double(n));
    report(state, "bytes_per_key_beyond_key",
           per_key - double(key_bytes) / double(n));
    report(state, "bytes_per_writer_thread_per_key",
           double(cell_bytes.live_bytes) / double(n) / kWriterThreads);
    report(state, "allocs_per_key", double(fill_bytes.allocations) / double(n));
  }
}

// The baseline for keys: std::unordered_map<std::string, std::uint64_t>.
void base_mem_unordered_map(benchmark::State& state) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::vector<std::string> keys = uuid_keys(n, 11 + n);
  std::size_t key_bytes = 0;
  for (const std::string& k : keys) key_bytes += k.size();
  for (auto _ : state) {
    CountingScope filled;
    auto* map = new std::unordered_map<std::string, std::uint64_t>();
    for (const std::string& k : keys) ++(*map)[k];
    const AllocStats bytes = filled.stop();
    const double per_key = double(bytes.live_bytes) / double(n);
    report(state, "bytes_per_key", per_key);
    report(state, "bytes_per_key_beyond_key",
           per_key - double(key_bytes) / double(n));
  }
}

[[maybe_unused]] const bool registered = [] {
  auto mem = [](const char* name, void (*fn)(benchmark::State&)) {
    return benchmark::RegisterBenchmark(name, fn)->Iterations(1)->Repetitions(
        1);
  };
  mem("mem/meter", mem_meter)->Arg(4096);
  mem("mem/meter_lone", mem_meter_lone);
  mem("mem/counter", mem_counter)->Arg(4096);
  mem("mem/keyed", mem_keyed)->Arg(1000)->Arg(10000)->Arg(100000);
  mem("base/mem_unordered_map", base_mem_unordered_map)
      ->Arg(1000)
      ->Arg(10000)
      ->Arg(100000);
  return true;
}();

}  // namespace
}  // namespace statusz_bench
