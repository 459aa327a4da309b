// statusz::add_process_metrics(): the /proc/self figures as gauges of a
// "process" group, read when the document is built (Linux).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <statusz/json.hpp>
#include <statusz/process.hpp>
#include <statusz/prometheus.hpp>
#include <string>
#include <thread>

namespace statusz {
namespace {

using json = nlohmann::ordered_json;

json process_group(const Registry& reg) {
  return json::parse(to_json(reg.snapshot(true))).at("process");
}

RegistryOptions named() {
  RegistryOptions o;
  o.host_name = "app1";
  return o;
}

TEST(ProcessMetrics, TheGroupHasEveryFigure) {
  Registry reg(named());
  ASSERT_TRUE(add_process_metrics(reg));
  const json p = process_group(reg);
  std::vector<std::string> keys;
  for (const auto& item : p.items()) keys.push_back(item.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"cpuSecondsTotal", "residentMemoryBytes",
                                      "virtualMemoryBytes", "openFds", "maxFds",
                                      "startTimeSeconds", "threads"}));
  EXPECT_GE(p["cpuSecondsTotal"].get<double>(), 0.0);
  EXPECT_GT(p["residentMemoryBytes"].get<std::int64_t>(), 0);
  EXPECT_GE(p["virtualMemoryBytes"].get<std::int64_t>(),
            p["residentMemoryBytes"].get<std::int64_t>());
  EXPECT_GE(p["openFds"].get<std::int64_t>(), 3);  // stdin, stdout, stderr
  EXPECT_GE(p["maxFds"].get<std::int64_t>(), p["openFds"].get<std::int64_t>());
  EXPECT_GE(p["threads"].get<std::int64_t>(), 1);
}

TEST(ProcessMetrics, StartTimeIsBeforeNowAndRecent) {
  Registry reg(named());
  add_process_metrics(reg);
  const double start = process_group(reg)["startTimeSeconds"].get<double>();
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_LE(start, now + 1.0);          // ticks are 10 ms; btime whole seconds
  EXPECT_GT(start, now - 24 * 3600.0);  // this test binary started today
}

TEST(ProcessMetrics, OpenFdsCountsAFileOpenedSinceTheLastRead) {
  Registry reg(named());
  add_process_metrics(reg);
  const auto before = process_group(reg)["openFds"].get<std::int64_t>();
  std::FILE* f = std::fopen("/proc/self/stat", "rb");
  ASSERT_NE(f, nullptr);
  const auto during = process_group(reg)["openFds"].get<std::int64_t>();
  std::fclose(f);
  const auto after = process_group(reg)["openFds"].get<std::int64_t>();
  EXPECT_EQ(during, before + 1);
  EXPECT_EQ(after, before);
}

TEST(ProcessMetrics, ThreadsCountsAStartedThread) {
  Registry reg(named());
  add_process_metrics(reg);
  // A thread started and joined first: a runtime that starts a thread of its
  // own at the first pthread_create (ThreadSanitizer's background thread, seen
  // in CI as 3 threads where 2 were expected) has it before the count.
  std::thread([] {}).join();
  const auto before = process_group(reg)["threads"].get<std::int64_t>();
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, release = false;
  std::thread t([&] {
    std::unique_lock<std::mutex> lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  const auto during = process_group(reg)["threads"].get<std::int64_t>();
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  t.join();
  EXPECT_EQ(during, before + 1);
}

TEST(ProcessMetrics, CpuSecondsGrowWithWork) {
  Registry reg(named());
  add_process_metrics(reg);
  const double before = process_group(reg)["cpuSecondsTotal"].get<double>();
  // Spin until the figure moves (ticks are 10 ms), bounded by wall time.
  volatile std::uint64_t sink = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  double after = before;
  while (after <= before && std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 10'000'000; ++i)
      sink = sink + static_cast<std::uint64_t>(i);
    after = process_group(reg)["cpuSecondsTotal"].get<double>();
  }
  EXPECT_GT(after, before);
}

// The families every Prometheus client exports, unprefixed; the CPU time a
// counter (text 0.0.4 names its family by the sample, OpenMetrics without
// _total).
TEST(ProcessMetrics, TheExpositionHasTheStandardProcessFamilies) {
  Registry reg(named());
  add_process_metrics(reg);
  const std::string text = to_prometheus(reg);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nprocess_cpu_seconds_total "), std::string::npos);
  for (const char* name :
       {"process_resident_memory_bytes", "process_virtual_memory_bytes",
        "process_open_fds", "process_max_fds", "process_start_time_seconds",
        "process_threads"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " gauge\n"),
              std::string::npos)
        << name << "\n"
        << text;
    EXPECT_NE(text.find(std::string("\n") + name + " "), std::string::npos)
        << name;
  }
  EXPECT_EQ(text.find("statusz_process_"), std::string::npos) << text;
  PrometheusOptions om;
  om.format = ExpositionFormat::OpenMetrics100;
  const std::string open_metrics = to_prometheus(reg, om);
  EXPECT_NE(open_metrics.find("# TYPE process_cpu_seconds counter\n"),
            std::string::npos)
      << open_metrics;
  EXPECT_NE(open_metrics.find("\nprocess_cpu_seconds_total "),
            std::string::npos);
}

// A second group's gauges fall back to their paths' names; a gauge whose
// path gives a standard name gives way (it is renamed, the declared family is
// not), whatever the order.
TEST(ProcessMetrics, TheFirstGroupKeepsTheStandardNames) {
  Registry reg(named());
  reg.gauge("process.threads", [] { return Value(1); });  // a user's, first
  PrometheusOptions bare;
  bare.prefix = "";
  add_process_metrics(reg, "runtime.self");
  add_process_metrics(reg, "other");
  const std::string text = to_prometheus(reg, bare);
  EXPECT_NE(text.find("# TYPE process_threads gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE other_threads gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE other_cpu_seconds_total gauge\n"),
            std::string::npos);
  // The user's process.threads, named process_threads by its path, is
  // renamed with a hash suffix: one family per name.
  EXPECT_EQ(text.find("# TYPE process_threads gauge\n"),
            text.rfind("# TYPE process_threads gauge\n"));
  EXPECT_NE(text.find("# TYPE process_threads_"), std::string::npos) << text;
}

TEST(ProcessMetrics, ADeclaredNameMustBeAMetricName) {
  Registry reg(named());
  Gauge& g = reg.gauge("g", [] { return Value(1); });
  for (const char* bad : {"", "9lives", "a-b", "__reserved", "caf\xc3\xa9"}) {
    EXPECT_THROW(g.set_exposition({bad, false, "h"}), std::invalid_argument)
        << bad;
  }
  EXPECT_THROW(g.set_exposition({"jobs_total", true, "h"}),
               std::invalid_argument);
  EXPECT_EQ(g.exposition(), nullptr);  // nothing changed
  g.set_exposition({"ns:jobs", true, "Jobs."});
  ASSERT_NE(g.exposition(), nullptr);
  EXPECT_EQ(g.exposition()->name, "ns:jobs");
}

TEST(ProcessMetrics, AnotherGroupAndCallingAgainReplaces) {
  Registry reg(named());
  add_process_metrics(reg, "runtime.self");
  add_process_metrics(reg, "runtime.self");
  const json doc = json::parse(to_json(reg.snapshot(true)));
  EXPECT_EQ(doc.at("runtime").at("self").size(), 7U);
  EXPECT_FALSE(doc.contains("process"));
  reg.counter("taken");
  EXPECT_THROW(add_process_metrics(reg, "taken"), std::exception);
}

}  // namespace
}  // namespace statusz
