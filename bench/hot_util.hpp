// Helpers shared by the hot-path benchmark files.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fixtures.hpp"

namespace statusz_bench {

constexpr std::size_t kObjects = 1000;

// Where thread t starts in a round-robin over kObjects (the two threads of a
// 2-thread run are half a lap apart, so they do not touch the same object at
// the same moment).
inline std::size_t start_of(const benchmark::State& state) {
  return static_cast<std::size_t>(state.thread_index()) * kObjects /
         static_cast<std::size_t>(state.threads());
}

inline void finish(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Registers `fn` as `name` at 1 and 2 threads, in wall time.
inline void register_hot(const char* name, void (*fn)(benchmark::State&)) {
  benchmark::RegisterBenchmark(name, fn)->UseRealTime()->Threads(1)->Threads(2);
}

// The 1 000 UUID keys of the round-robin keyed benchmarks.
inline const std::vector<std::string>& keys_x1000() {
  static auto* keys = new std::vector<std::string>(uuid_keys(kObjects, 1));
  return *keys;
}

}  // namespace statusz_bench
