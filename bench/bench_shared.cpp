// Shared registries (shared.hpp): Meter::mark() and Counter::inc() on a
// shared registry against the same calls on a private one, in this binary,
// compiled at -O2 (bench/CMakeLists.txt). The bound: a shared mark
// costs at most 1.5 times a private one.
//
// statusz_shared/ratio_mark times 1 000 000 private marks and 1 000 000
// shared marks alternately (5 rounds each, the fastest round of each kind)
// and reports shared / private as the counter `ratio`; statusz_shared/
// ratio_keyed does the same for KeyedCounter::inc() of an existing key (16
// keys of 12 to 13 bytes, taken in turn).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "statusz/registry.hpp"
#include "statusz/shared.hpp"

namespace {

statusz::ManualClock& clock_() {
  static auto* c = new statusz::ManualClock();
  return *c;
}

std::string store_name() { return "bench-" + std::to_string(::getpid()); }

statusz::Registry& private_registry() {
  static auto* reg = new statusz::Registry({&clock_(), "bench", "1"});
  return *reg;
}
statusz::Registry& shared_registry() {
  static auto* reg = [] {
    statusz::RegistryOptions o;
    o.clock = &clock_();
    o.host_name = "bench";
    o.shared = store_name();
    statusz::remove_shared(o.shared);
    auto* r = new statusz::Registry(o);
    statusz::remove_shared(o.shared);  // unlinked: nothing left behind
    return r;
  }();
  return *reg;
}

void private_mark(benchmark::State& state) {
  statusz::Meter& m = private_registry().meter("requests");
  for (auto _ : state) {
    m.mark();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
void shared_mark(benchmark::State& state) {
  statusz::Meter& m = shared_registry().meter("requests");
  for (auto _ : state) {
    m.mark();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
void private_inc(benchmark::State& state) {
  statusz::Counter& c = private_registry().counter("dialogs");
  for (auto _ : state) {
    c.inc();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
void shared_inc(benchmark::State& state) {
  statusz::Counter& c = shared_registry().counter("dialogs");
  for (auto _ : state) {
    c.inc();
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

const std::string* keys() {
  static const auto* k = [] {
    auto* out = new std::string[16];
    for (int i = 0; i < 16; ++i) out[i] = "bot-id-" + std::to_string(10000 + i);
    return out;
  }();
  return k;
}

statusz::KeyedCounter& keyed_of(statusz::Registry& reg) {
  statusz::KeyedCounter& k = reg.keyed("errors_by_bot", 64);
  for (int i = 0; i < 16; ++i) k.inc(keys()[i]);  // existing keys
  return k;
}

// inc() of the 16 existing keys in turn.
void keyed_inc(benchmark::State& state, statusz::KeyedCounter& k) {
  const std::string* ks = keys();
  std::size_t i = 0;
  for (auto _ : state) {
    k.inc(ks[i++ & 15]);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
void private_keyed(benchmark::State& state) {
  keyed_inc(state, keyed_of(private_registry()));
}
void shared_keyed(benchmark::State& state) {
  keyed_inc(state, keyed_of(shared_registry()));
}

// Seconds for n calls of op(i), each followed by ClobberMemory().
template <class Op>
double seconds_for(int n, Op op) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    op(i);
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

// shared / private: the best of 5 interleaved rounds of 10^6 calls each.
template <class Private, class Shared>
void report_ratio(benchmark::State& state, Private on_private,
                  Shared on_shared) {
  double ratio = 0;
  for (auto _ : state) {
    double best_p = 1e9;
    double best_s = 1e9;
    for (int round = 0; round < 5; ++round) {
      best_p = std::min(best_p, seconds_for(1000000, on_private));
      best_s = std::min(best_s, seconds_for(1000000, on_shared));
    }
    ratio = best_s / best_p;
  }
  state.counters["ratio"] = ratio;
}

void ratio_keyed(benchmark::State& state) {
  statusz::KeyedCounter& p = keyed_of(private_registry());
  statusz::KeyedCounter& s = keyed_of(shared_registry());
  const std::string* ks = keys();
  report_ratio(
      state, [&](int i) { p.inc(ks[i & 15]); },
      [&](int i) { s.inc(ks[i & 15]); });
}

void ratio_mark(benchmark::State& state) {
  statusz::Meter& p = private_registry().meter("requests");
  statusz::Meter& s = shared_registry().meter("requests");
  report_ratio(
      state, [&](int) { p.mark(); }, [&](int) { s.mark(); });
}

BENCHMARK(private_mark)->Name("statusz_shared/private_mark")->UseRealTime();
BENCHMARK(shared_mark)->Name("statusz_shared/shared_mark")->UseRealTime();
BENCHMARK(private_inc)->Name("statusz_shared/private_inc")->UseRealTime();
BENCHMARK(shared_inc)->Name("statusz_shared/shared_inc")->UseRealTime();
BENCHMARK(ratio_mark)
    ->Name("statusz_shared/ratio_mark")
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(private_keyed)->Name("statusz_shared/private_keyed")->UseRealTime();
BENCHMARK(shared_keyed)->Name("statusz_shared/shared_keyed")->UseRealTime();
BENCHMARK(ratio_keyed)
    ->Name("statusz_shared/ratio_keyed")
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
