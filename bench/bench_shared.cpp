// Shared registries (shared.hpp): Meter::mark() and Counter::inc() on a
// shared registry against the same calls on a private one, in this binary,
// compiled at -O2 (bench/CMakeLists.txt). The bound: a shared mark
// costs at most 1.5 times a private one.
//
// statusz_shared/ratio_mark times 1 000 000 private marks and 1 000 000
// shared marks alternately (5 rounds each, the fastest round of each kind)
// and reports shared / private as the counter `ratio`.
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

double seconds_for(statusz::Meter& m, int n) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    m.mark();
    benchmark::ClobberMemory();
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
      .count();
}

void ratio_mark(benchmark::State& state) {
  statusz::Meter& p = private_registry().meter("requests");
  statusz::Meter& s = shared_registry().meter("requests");
  double ratio = 0;
  for (auto _ : state) {
    double best_p = 1e9;
    double best_s = 1e9;
    for (int round = 0; round < 5; ++round) {
      best_p = std::min(best_p, seconds_for(p, 1000000));
      best_s = std::min(best_s, seconds_for(s, 1000000));
    }
    ratio = best_s / best_p;
  }
  state.counters["ratio"] = ratio;
}

BENCHMARK(private_mark)->Name("statusz_shared/private_mark")->UseRealTime();
BENCHMARK(shared_mark)->Name("statusz_shared/shared_mark")->UseRealTime();
BENCHMARK(private_inc)->Name("statusz_shared/private_inc")->UseRealTime();
BENCHMARK(shared_inc)->Name("statusz_shared/shared_inc")->UseRealTime();
BENCHMARK(ratio_mark)
    ->Name("statusz_shared/ratio_mark")
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
