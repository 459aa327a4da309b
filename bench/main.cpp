// The benchmark runner: Google Benchmark's, plus context in the JSON output
// (CPU model, compiler, statusz version, and whether the nlohmann baseline
// writes the same document as statusz).
#include <benchmark/benchmark.h>

#include <fstream>
#include <statusz/version.hpp>
#include <string>

namespace statusz_bench {
std::string baseline_document_check();  // bench_cold.cpp
}

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("compiler", compiler());
  benchmark::AddCustomContext("statusz_version", STATUSZ_VERSION_STRING);
#ifdef STATUSZ_BENCH_BUILD_TYPE
  benchmark::AddCustomContext("build_type", STATUSZ_BENCH_BUILD_TYPE);
#endif
  benchmark::AddCustomContext("nlohmann_baseline",
                              statusz_bench::baseline_document_check());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
