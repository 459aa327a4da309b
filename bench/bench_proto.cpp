// "proto/..." benchmarks: the proposed KeyedCounter hot-path fixes, measured
// on a faithful copy of its lookup structure (see proto_keyed.hpp). They are
// not statusz; they give the figures behind the recommended header change.
// proto/keyed_inc_current uses today's hash and memcmp: it should match
// statusz/keyed_inc, which shows the copy is faithful.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures.hpp"
#include "hot_util.hpp"
#include "proto_cells.hpp"
#include "proto_keyed.hpp"

namespace statusz_bench {
namespace {

using proto::EqFn;
using proto::HashFn;
using proto::ProtoKeyed;

constexpr HashFn kHashCurrent = &statusz::detail::hash_bytes;

template <HashFn Hash>
void proto_hash(benchmark::State& state) {
  const std::string& key = hot_key();
  const std::uint64_t seed = statusz::detail::process_hash_seed();
  for (auto _ : state) {
    std::uint64_t h = Hash(key, seed);
    benchmark::DoNotOptimize(h);
  }
  finish(state);
}

template <HashFn Hash>
void proto_hash_x1000(benchmark::State& state) {
  const std::vector<std::string>& keys = keys_x1000();
  const std::uint64_t seed = statusz::detail::process_hash_seed();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    std::uint64_t h = Hash(keys[i], seed);
    benchmark::DoNotOptimize(h);
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

std::vector<std::string> sample_keys() {
  std::vector<std::string> keys;
  for (const auto& [bot, n] : sample_bots()) keys.push_back(bot);
  return keys;
}

template <HashFn Hash, EqFn Equal>
void proto_keyed_inc(benchmark::State& state) {
  static auto* k = new ProtoKeyed<Hash, Equal>(sample_keys());
  const std::string& key = hot_key();
  for (auto _ : state) {
    k->inc(key);
    benchmark::ClobberMemory();
  }
  if (state.thread_index() == 0 && k->value(key) == 0)
    state.SkipWithError("key not found");
  finish(state);
}

template <HashFn Hash, EqFn Equal>
void proto_keyed_inc_x1000(benchmark::State& state) {
  static auto* k = new ProtoKeyed<Hash, Equal>(keys_x1000());
  const std::vector<std::string>& keys = keys_x1000();
  std::size_t i = start_of(state);
  for (auto _ : state) {
    k->inc(keys[i]);
    benchmark::ClobberMemory();
    if (++i == kObjects) i = 0;
  }
  finish(state);
}

// A meter-like object: one cell index, read from memory on every call.
struct ProtoMeter {
  std::uint32_t index = 123;
};

template <class Cells>
void proto_cells_add(benchmark::State& state) {
  static auto* m = new ProtoMeter();
  for (auto _ : state) {
    Cells::add(m->index, 1);
    benchmark::ClobberMemory();
  }
  finish(state);
}

[[maybe_unused]] const bool registered = [] {
  register_hot("proto/hash_tail_fixed", proto_hash<proto::hash_tail_fixed>);
  register_hot("proto/hash_wide", proto_hash<proto::hash_wide>);
  register_hot("proto/hash_wide2", proto_hash<proto::hash_wide2>);
  register_hot("proto/hash_wide2_x1000", proto_hash_x1000<proto::hash_wide2>);
  register_hot("proto/keyed_inc_current_x1000",
               proto_keyed_inc_x1000<kHashCurrent, proto::equal_memcmp>);
  register_hot("proto/keyed_inc_current",
               proto_keyed_inc<kHashCurrent, proto::equal_memcmp>);
  register_hot("proto/keyed_inc_tail_fixed",
               proto_keyed_inc<proto::hash_tail_fixed, proto::equal_memcmp>);
  register_hot("proto/keyed_inc_wide",
               proto_keyed_inc<proto::hash_wide, proto::equal_memcmp>);
  register_hot("proto/keyed_inc_wide2",
               proto_keyed_inc<proto::hash_wide2, proto::equal_memcmp>);
  register_hot("proto/keyed_inc_wide2_inline_eq",
               proto_keyed_inc<proto::hash_wide2, proto::equal_words>);
  register_hot("proto/keyed_inc_wide2_x1000",
               proto_keyed_inc_x1000<proto::hash_wide2, proto::equal_memcmp>);
  register_hot("proto/cells_add_via_record",
               proto_cells_add<proto::CellsViaRecord>);
  register_hot("proto/cells_add_via_directory",
               proto_cells_add<proto::CellsViaDirectory>);
  return true;
}();

}  // namespace
}  // namespace statusz_bench
