// Writers mark, inc and keyed-inc while a reader snapshots and renders: every
// rendered document parses, and the final counts are exact.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <statusz/registry.hpp>
#include <thread>
#include <vector>

namespace statusz {
namespace {

TEST(Concurrency, WritersAndARendererTogetherLoseNothing) {
  ManualClock clock;
  RegistryOptions o;
  o.clock = &clock;
  o.host_name = "h";
  Registry reg(o);
  Meter& meter = reg.meter("a.meter");
  Counter& counter = reg.counter("a.counter");
  KeyedCounter& keyed = reg.keyed("a.byBot", 64);
  reg.probe("a", [] { return Status::Ok; });

  constexpr int kWriters = 3;
  constexpr int kIters = 100000;
  std::atomic<int> finished{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kIters; ++i) {
        meter.mark();
        counter.inc();
        keyed.inc("bot-" + std::to_string((i + w) % 100));
      }
      finished.fetch_add(1);
    });
  }
  int documents = 0;
  while (finished.load() < kWriters || documents == 0) {
    const auto doc =
        nlohmann::json::parse(reg.to_json(true, documents % 2 == 0));
    EXPECT_LE(doc["a"]["meter"]["count"].get<std::uint64_t>(),
              std::uint64_t{kWriters} * kIters);
    EXPECT_LE(doc["a"]["byBot"].size(), 65u);
    clock.advance(std::chrono::seconds(1));
    ++documents;
  }
  for (auto& t : writers) t.join();
  const auto doc = nlohmann::json::parse(reg.to_json());
  EXPECT_EQ(doc["a"]["meter"]["count"], std::uint64_t{kWriters} * kIters);
  EXPECT_EQ(doc["a"]["counter"], std::int64_t{kWriters} * kIters);
  std::uint64_t total = 0;
  for (const auto& item : doc["a"]["byBot"].items()) {
    total += item.value().get<std::uint64_t>();
  }
  EXPECT_EQ(total, std::uint64_t{kWriters} * kIters);
  EXPECT_EQ(keyed.size(), 64u);
  EXPECT_EQ(doc["a"]["byBot"]["__overflow__"].get<std::uint64_t>(),
            keyed.dropped());
}

TEST(Concurrency, ThreadsComeAndGoWithoutLosingCounts) {
  ManualClock clock;
  Meter meter(clock);
  KeyedCounter keyed;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 100; ++i) {
          meter.mark();
          keyed.inc("k" + std::to_string(i % 10));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(meter.count(), 50u * 3 * 100);
  std::uint64_t total = 0;
  for (const auto& [k, v] : keyed.snapshot()) total += v;
  EXPECT_EQ(total, 50u * 3 * 100);
  // Thread records are recycled: no more than the peak of live threads.
  EXPECT_LE(detail::CellSpace::instance().records(), 16u);
}

TEST(Concurrency, MetersCreatedAndDestroyedWhileOthersCount) {
  ManualClock clock;
  Meter survivor(clock);
  std::atomic<bool> stop{false};
  std::uint64_t marks = 0;
  std::thread writer([&] {
    while (!stop.load()) {
      survivor.mark();
      ++marks;
    }
  });
  for (int i = 0; i < 2000; ++i) {
    Meter m(clock);
    m.mark(static_cast<std::uint64_t>(i));
    std::thread([&] { m.mark(1); }).join();
    ASSERT_EQ(m.count(), static_cast<std::uint64_t>(i) + 1);
    clock.advance(std::chrono::milliseconds(10));
  }
  stop.store(true);
  writer.join();
  EXPECT_EQ(survivor.count(), marks)
      << "other meters' cells never leak into it";
}

}  // namespace
}  // namespace statusz
