// The registry's read walk at scale: the Prometheus exposition of
//  - N unlabelled series (a counter each, paths "service.counterNNNNN"),
//  - N meters whose paths share a long prefix
//    ("applications.servlet.requests.endpointNNNNN.successes"),
//  - one keyed counter holding N UUID keys,
// each against its baseline: appending the very lines of that exposition,
// precomputed, to an empty std::string (`base/append_lines_*`), and the JSON
// document of the same registries. N = 1 000, 10 000, 100 000: the cost must
// grow linearly. Each reports `faults`, the page faults per series it took
// (getrusage), since a fresh output string is touched page by page and at
// these sizes the kernel's cost of that is most of the baseline's. Only the
// public API is used, so the file builds against
// older versions of the library (for before/after tables).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fixtures.hpp"

namespace statusz_bench {
namespace {

enum class Shape { Counters, Meters, Keys };

struct WalkFixture {
  statusz::ManualClock clock;
  std::unique_ptr<statusz::Registry> reg;
  std::vector<std::string> lines;  // the exposition, one line each ('\n' kept)
};

WalkFixture& fixture(Shape shape, std::size_t n) {
  static std::mutex mu;
  static auto* all = new std::map<std::pair<int, std::size_t>, WalkFixture*>();
  std::lock_guard<std::mutex> g(mu);
  WalkFixture*& f = (*all)[{static_cast<int>(shape), n}];
  if (f != nullptr) return *f;
  f = new WalkFixture();
  statusz::RegistryOptions o;
  o.clock = &f->clock;
  o.host_name = "bench";
  o.version = "1";
  f->reg = std::make_unique<statusz::Registry>(o);
  char path[96];
  for (std::size_t i = 0; i < n && shape != Shape::Keys; ++i) {
    if (shape == Shape::Counters) {
      std::snprintf(path, sizeof path, "service.counter%05zu", i);
      f->reg->counter(path).set(static_cast<std::int64_t>(i));
    } else {
      std::snprintf(path, sizeof path,
                    "applications.servlet.requests.endpoint%05zu.successes", i);
      f->reg->meter(path).mark(i + 1);
    }
  }
  if (shape == Shape::Keys) {
    statusz::KeyedCounter& k = f->reg->keyed("errorsByBot", n + 1);
    for (const std::string& key : uuid_keys(n, 7)) k.inc(key, 3);
  }
  f->clock.advance(std::chrono::seconds(5));
  const std::string text = statusz::to_prometheus(*f->reg);
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    f->lines.push_back(text.substr(at, end - at + 1));
    at = end + 1;
  }
  return *f;
}

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Sets items_per_second and the page faults per series since `faults_at`.
void report(benchmark::State& state, long faults_at) {
  const auto series = static_cast<double>(state.range(0));
  state.counters["faults"] = static_cast<double>(minor_faults() - faults_at) /
                             (static_cast<double>(state.iterations()) * series);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

std::size_t size_of(const benchmark::State& state) {
  return static_cast<std::size_t>(state.range(0));
}

void prometheus(benchmark::State& state, Shape shape) {
  WalkFixture& f = fixture(shape, size_of(state));
  std::size_t bytes = 0;
  const long faults_at = minor_faults();
  for (auto _ : state) {
    std::string out = statusz::to_prometheus(*f.reg);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  report(state, faults_at);
  state.counters["bytes"] = static_cast<double>(bytes);
}

void json(benchmark::State& state, Shape shape) {
  WalkFixture& f = fixture(shape, size_of(state));
  for (auto _ : state) {
    std::string out = f.reg->to_json(true, false);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<std::int64_t>(size_of(state)));
}

void append_lines(benchmark::State& state, Shape shape) {
  const WalkFixture& f = fixture(shape, size_of(state));
  const long faults_at = minor_faults();
  for (auto _ : state) {
    std::string out;
    for (const std::string& line : f.lines) out += line;
    benchmark::DoNotOptimize(out);
  }
  report(state, faults_at);
}

[[maybe_unused]] const bool registered = [] {
  struct Case {
    const char* name;
    Shape shape;
  };
  for (const Case c :
       {Case{"counters", Shape::Counters}, Case{"meters", Shape::Meters},
        Case{"keys", Shape::Keys}}) {
    const Shape shape = c.shape;
    const std::string name = c.name;
    auto sizes = [](benchmark::internal::Benchmark* b) {
      b->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);
    };
    benchmark::RegisterBenchmark(
        ("statusz/walk_prometheus_" + name).c_str(),
        [shape](benchmark::State& s) { prometheus(s, shape); })
        ->Apply(sizes);
    benchmark::RegisterBenchmark(
        ("base/append_lines_" + name).c_str(),
        [shape](benchmark::State& s) { append_lines(s, shape); })
        ->Apply(sizes);
    benchmark::RegisterBenchmark(
        ("statusz/walk_json_" + name).c_str(),
        [shape](benchmark::State& s) { json(s, shape); })
        ->Apply(sizes);
  }
  return true;
}();

}  // namespace
}  // namespace statusz_bench
