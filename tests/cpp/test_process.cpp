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

TEST(ProcessMetrics, TheExpositionHasThemAsGauges) {
  Registry reg(named());
  add_process_metrics(reg);
  const std::string text = to_prometheus(reg);
  for (const char* name :
       {"statusz_process_cpu_seconds_total",
        "statusz_process_resident_memory_bytes",
        "statusz_process_virtual_memory_bytes", "statusz_process_open_fds",
        "statusz_process_max_fds", "statusz_process_start_time_seconds",
        "statusz_process_threads"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " gauge\n"),
              std::string::npos)
        << name << "\n"
        << text;
    EXPECT_NE(text.find(std::string("\n") + name + " "), std::string::npos)
        << name;
  }
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
