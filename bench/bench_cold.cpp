// Cold path: building the status document. snapshot() alone, snapshot() +
// compact / pretty JSON and the Prometheus exposition of the sample server
// (probes reused, and probes run on every request), the same with
// errorsByBot holding 1 000 / 10 000 / 100 000 keys, the overhead of one
// no-op probe through the registry, and the baseline: building and dumping
// the same document with nlohmann::json from plain variables.
//
// All in wall time (UseRealTime): the probes of a snapshot run on their own
// threads, so the calling thread's CPU time would leave them out.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "alloc_count.hpp"
#include "fixtures.hpp"

#if __has_include(<statusz/prometheus.hpp>)
#include <statusz/prometheus.hpp>
#define STATUSZ_BENCH_HAVE_PROMETHEUS 1
#else
#define STATUSZ_BENCH_HAVE_PROMETHEUS 0
#endif

namespace statusz_bench {
namespace {

// One leaked SampleServer per (keys, probes_each_time), built on first use.
SampleServer& server(std::size_t keys, bool probes_each_time) {
  static std::mutex mu;
  static auto* servers =
      new std::map<std::pair<std::size_t, bool>, SampleServer*>();
  std::lock_guard<std::mutex> g(mu);
  SampleServer*& s = (*servers)[{keys, probes_each_time}];
  if (s == nullptr) s = new SampleServer(keys, probes_each_time);
  return *s;
}

// The plain figures of the same server, for the nlohmann baseline.
const PlainDoc& plain(std::size_t keys) {
  static std::mutex mu;
  static auto* docs = new std::map<std::size_t, PlainDoc*>();
  std::lock_guard<std::mutex> g(mu);
  PlainDoc*& d = (*docs)[keys];
  if (d == nullptr) {
    SampleServer& s = server(keys, false);
    d = new PlainDoc(
        plain_from(s.registry().snapshot(true), s.clock().wall_now()));
  }
  return *d;
}

std::size_t keys_of(const benchmark::State& state) {
  return state.range(0) == 0 ? sample_bots().size()
                             : static_cast<std::size_t>(state.range(0));
}

// Reports the document's size, and the allocations one more (untimed) call of
// `f` makes, counted by the replaced operator new.
template <class F>
void report(benchmark::State& state, std::size_t bytes, F&& f) {
  state.counters["doc_bytes"] = static_cast<double>(bytes);
  state.counters["keys"] = static_cast<double>(keys_of(state));
  CountingScope scope;
  f();
  const AllocStats a = scope.stop();
  state.counters["allocs"] = static_cast<double>(a.allocations);
  state.counters["alloc_bytes"] = static_cast<double>(a.allocated_bytes);
}

// ---- statusz
// -----------------------------------------------------------------

void statusz_snapshot(benchmark::State& state) {
  statusz::Registry& reg = server(keys_of(state), false).registry();
  for (auto _ : state) {
    statusz::Value doc = reg.snapshot(true);
    benchmark::DoNotOptimize(doc);
  }
  report(state, 0, [&] { (void)reg.snapshot(true); });
}

void statusz_json(benchmark::State& state, bool pretty, bool probes_each_time) {
  statusz::Registry& reg = server(keys_of(state), probes_each_time).registry();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = reg.to_json(true, pretty);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  report(state, bytes, [&] { (void)reg.to_json(true, pretty); });
}
void statusz_json_compact(benchmark::State& state) {
  statusz_json(state, false, false);
}
void statusz_json_pretty(benchmark::State& state) {
  statusz_json(state, true, false);
}
void statusz_json_pretty_probes_run(benchmark::State& state) {
  statusz_json(state, true, true);
}

// Rendering alone: to_json of a document built once.
void statusz_render_pretty(benchmark::State& state) {
  const statusz::Value doc =
      server(keys_of(state), false).registry().snapshot(true);
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = statusz::to_json(doc, true);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  report(state, bytes, [&] { (void)statusz::to_json(doc, true); });
}

#if STATUSZ_BENCH_HAVE_PROMETHEUS
void statusz_prometheus(benchmark::State& state) {
  statusz::Registry& reg = server(keys_of(state), false).registry();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = statusz::to_prometheus(reg);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  report(state, bytes, [&] { (void)statusz::to_prometheus(reg); });
}
#endif

// ---- the nlohmann::json baseline
// ---------------------------------------------

template <class Json>
void nlohmann_json_doc(benchmark::State& state, bool pretty) {
  const PlainDoc& p = plain(keys_of(state));
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = nlohmann_document<Json>(p, pretty);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  report(state, bytes, [&] { (void)nlohmann_document<Json>(p, pretty); });
}
void nlohmann_ordered_compact(benchmark::State& s) {
  nlohmann_json_doc<nlohmann::ordered_json>(s, false);
}
void nlohmann_ordered_pretty(benchmark::State& s) {
  nlohmann_json_doc<nlohmann::ordered_json>(s, true);
}
void nlohmann_sorted_pretty(benchmark::State& s) {
  nlohmann_json_doc<nlohmann::json>(s, true);
}

// ---- probe overhead
// ------------------------------------------------------------

// A registry on the default (steady) clock holding one counter and, if asked,
// one no-op probe: the difference is what a probe costs a snapshot.
statusz::Registry& probe_registry(int variant) {  // 0 none, 1 run, 2 reused
  static auto* regs = [] {
    auto* out = new statusz::Registry*[3];
    for (int v = 0; v < 3; ++v) {
      out[v] = new statusz::Registry({nullptr, "bench", "1"});
      out[v]->counter("app.value").set(1);
      if (v == 1) out[v]->probe("app", [] { return statusz::Status::Ok; });
      if (v == 2) {
        out[v]->probe("app", [] { return statusz::Status::Ok; },
                      {std::chrono::seconds(5), std::chrono::hours(24 * 365)});
      }
      (void)out[v]->snapshot();
    }
    return out;
  }();
  return *regs[variant];
}
void probe_snapshot(benchmark::State& state, int variant) {
  statusz::Registry& reg = probe_registry(variant);
  for (auto _ : state) {
    statusz::Value doc = reg.snapshot(true);
    benchmark::DoNotOptimize(doc);
  }
}
void base_snapshot_no_probe(benchmark::State& s) { probe_snapshot(s, 0); }
void statusz_snapshot_noop_probe(benchmark::State& s) { probe_snapshot(s, 1); }
void statusz_snapshot_noop_probe_reused(benchmark::State& s) {
  probe_snapshot(s, 2);
}

void statusz_probe_run(benchmark::State& state) {
  static auto* probe = new statusz::Probe([] { return statusz::Status::Ok; });
  for (auto _ : state) {
    statusz::ProbeReport r = probe->run();
    benchmark::DoNotOptimize(r);
  }
}

[[maybe_unused]] const bool registered = [] {
  auto cold = [](const char* name, void (*fn)(benchmark::State&)) {
    return benchmark::RegisterBenchmark(name, fn)->UseRealTime()->Unit(
        benchmark::kMicrosecond);
  };
  // Arg 0 is the sample document itself (16 keys).
  auto sizes = [](benchmark::internal::Benchmark* b) {
    b->Arg(0)->Arg(1000)->Arg(10000)->Arg(100000);
  };
  cold("statusz/doc_snapshot", statusz_snapshot)->Apply(sizes);
  cold("statusz/doc_json_compact", statusz_json_compact)->Apply(sizes);
  cold("statusz/doc_json_pretty", statusz_json_pretty)->Apply(sizes);
  cold("statusz/doc_render_pretty", statusz_render_pretty)->Arg(0)->Arg(10000);
  cold("statusz/doc_json_pretty_probes_run", statusz_json_pretty_probes_run)
      ->Arg(0);
#if STATUSZ_BENCH_HAVE_PROMETHEUS
  cold("statusz/doc_prometheus", statusz_prometheus)->Apply(sizes);
#else
  // Prometheus rendering: add statusz/doc_prometheus here once
  // include/statusz/prometheus.hpp exists.
#endif
  // nlohmann::ordered_json inserts members by linear search (quadratic in the
  // number of keys: ~20 s per document at 100 000 keys), so it stops at
  // 10 000; nlohmann::json (members sorted, std::map) goes to 100 000.
  auto sizes_to_10k = [](benchmark::internal::Benchmark* b) {
    b->Arg(0)->Arg(1000)->Arg(10000);
  };
  cold("base/nlohmann_doc_compact", nlohmann_ordered_compact)
      ->Apply(sizes_to_10k);
  cold("base/nlohmann_doc_pretty", nlohmann_ordered_pretty)
      ->Apply(sizes_to_10k);
  cold("base/nlohmann_sorted_doc_pretty", nlohmann_sorted_pretty)->Apply(sizes);

  cold("base/snapshot_no_probe", base_snapshot_no_probe);
  cold("statusz/snapshot_noop_probe", statusz_snapshot_noop_probe);
  cold("statusz/snapshot_noop_probe_reused",
       statusz_snapshot_noop_probe_reused);
  cold("statusz/probe_run", statusz_probe_run);
  return true;
}();

}  // namespace

// Checks, once, that the baseline writes the same document as statusz: equal
// once parsed (member order included), and says whether the bytes match too.
std::string baseline_document_check() {
  SampleServer& s = server(sample_bots().size(), false);
  const std::string ours = s.registry().to_json(true, true);
  const std::string theirs = nlohmann_document<nlohmann::ordered_json>(
      plain(sample_bots().size()), true);
  const bool same = nlohmann::ordered_json::parse(ours) ==
                    nlohmann::ordered_json::parse(theirs);
  if (!same) return "DIFFERENT documents";
  return ours == theirs ? "same document, same bytes"
                        : "same document (bytes differ)";
}

}  // namespace statusz_bench
