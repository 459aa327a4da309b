// Stress: writers hammer shared meters, counters and keyed counters (new keys
// up to and past the cap) while a reader snapshots, renders JSON and
// Prometheus text and parses both back, in a loop that ends with the writers.
// Iterations per writer: STATUSZ_STRESS_ITERATIONS (default 10^7: ~3 s in a
// plain build, ~15 s under ASan, ~30 s under TSan on this 2-core machine).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <statusz/prometheus.hpp>
#include <statusz/registry.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exposition_grammar.hpp"

namespace statusz {
namespace {

std::uint64_t iterations() {
  if (const char* env = std::getenv("STATUSZ_STRESS_ITERATIONS")) {
    return std::strtoull(env, nullptr, 10);
  }
  return 10'000'000;
}

TEST(Stress, WritersAndAReaderAtFullSpeed) {
  const std::uint64_t n = iterations();
  constexpr int kWriters = 2;
  constexpr std::size_t kMaxKeys = 1000;
  ManualClock clock;
  Registry reg({&clock, "stress", "1"});
  Meter& meter = reg.meter("load.requests");
  Counter& counter = reg.counter("load.inflight");
  KeyedCounter& keyed = reg.keyed("load.byBot", kMaxKeys);
  reg.probe("load", [] { return Status::Ok; });
  // 1500 distinct keys for 1000 places: the last 500 overflow.
  std::vector<std::string> keys;
  for (int i = 0; i < 1500; ++i) {
    keys.push_back("bot-\"" + std::to_string(i) + "\"\\");
  }

  std::atomic<int> finished{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < n; ++i) {
        meter.mark();
        counter.inc();
        keyed.inc(keys[(i * 7 + static_cast<std::uint64_t>(w)) % keys.size()]);
      }
      finished.fetch_add(1);
    });
  }
  int rounds = 0;
  while (finished.load() < kWriters) {
    const std::string json = reg.to_json(true, rounds % 2 == 0);
    const auto doc = nlohmann::json::parse(json);
    ASSERT_LE(doc["load"]["byBot"].size(), kMaxKeys + 1);
    PrometheusOptions po;
    po.format = rounds % 2 == 0 ? ExpositionFormat::Text004
                                : ExpositionFormat::OpenMetrics100;
    const std::string text = to_prometheus(reg, po);
    ASSERT_EQ(statusz_test::exposition_error(
                  text, po.format == ExpositionFormat::OpenMetrics100),
              "");
    clock.advance(std::chrono::seconds(1));
    ++rounds;
  }
  for (auto& t : writers) t.join();

  const std::uint64_t total = n * kWriters;
  EXPECT_EQ(meter.count(), total);
  EXPECT_EQ(counter.value(), static_cast<std::int64_t>(total));
  EXPECT_EQ(keyed.size(), kMaxKeys);
  std::uint64_t counted = 0;
  for (const auto& [key, v] : keyed.snapshot()) counted += v;
  EXPECT_EQ(counted, total) << "every increment is somewhere";
  EXPECT_EQ(keyed.value(KeyedCounter::kOverflowKey), keyed.dropped())
      << "each refused increment added 1 to the overflow key";
  EXPECT_GT(keyed.dropped(), 0u);
  const auto doc = nlohmann::json::parse(reg.to_json());
  EXPECT_EQ(doc["load"]["requests"]["count"].get<std::uint64_t>(), total);
  std::cout << "[ stress   ] " << rounds << " documents read while " << kWriters
            << " writers did " << n << " iterations each\n";
}

TEST(Stress, RegistriesAndThreadsComeAndGo) {
  const std::uint64_t n = iterations() / 1000 + 10;
  for (int round = 0; round < 30; ++round) {
    ManualClock clock;
    Registry reg({&clock, "h", "v"});
    Meter& m = reg.meter("a.m");
    KeyedCounter& k = reg.keyed("a.k", 16);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (std::uint64_t i = 0; i < n; ++i) {
          m.mark();
          k.inc("k" + std::to_string((i + static_cast<std::uint64_t>(t)) % 20));
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(m.count(), 3 * n);
    std::uint64_t counted = 0;
    for (const auto& [key, v] : k.snapshot()) counted += v;
    ASSERT_EQ(counted, 3 * n);
  }
  // Thread records are recycled, not accumulated, across the rounds.
  EXPECT_LE(detail::CellSpace::instance().records(), 16u);
}

}  // namespace
}  // namespace statusz
