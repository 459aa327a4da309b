#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <map>
#include <random>
#include <statusz/keyed_counter.hpp>
#include <string>
#include <thread>
#include <vector>

namespace statusz {
namespace {

TEST(KeyedCounter, CountsPerKeyInFirstCountedOrder) {
  KeyedCounter k;
  k.inc("b");
  k.inc("a", 5);
  k.inc("b", 2);
  EXPECT_EQ(k.value("a"), 5u);
  EXPECT_EQ(k.value("b"), 3u);
  EXPECT_EQ(k.value("missing"), 0u);
  EXPECT_EQ(k.size(), 2u);
  const auto snap = k.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0], (std::pair<std::string, std::uint64_t>("b", 3)));
  EXPECT_EQ(snap[1], (std::pair<std::string, std::uint64_t>("a", 5)));
}

TEST(KeyedCounter, EmptyKeyAndBinaryBytesAreKeys) {
  KeyedCounter k;
  k.inc("");
  k.inc(std::string("a\0b", 3));
  k.inc(std::string("a\0c", 3));
  EXPECT_EQ(k.size(), 3u);
  EXPECT_EQ(k.value(""), 1u);
  EXPECT_EQ(k.value(std::string("a\0b", 3)), 1u);
}

TEST(KeyedCounter, GrowsPastManyKeysAndKeepsEveryCount) {
  KeyedCounter k(100000);
  std::map<std::string, std::uint64_t> expected;
  std::mt19937 rng(7);
  for (int i = 0; i < 50000; ++i) {
    const std::string key = "bot-" + std::to_string(rng() % 20000);
    const std::uint64_t n = rng() % 5 + 1;
    k.inc(key, n);
    expected[key] += n;
  }
  EXPECT_EQ(k.size(), expected.size());
  for (const auto& [key, n] : expected) ASSERT_EQ(k.value(key), n) << key;
  std::map<std::string, std::uint64_t> seen;
  for (const auto& [key, n] : k.snapshot()) seen[key] = n;
  EXPECT_EQ(seen, expected);
}

TEST(KeyedCounter, PastMaxKeysCountsGoToTheOverflowKey) {
  KeyedCounter k(3);
  k.inc("a");
  k.inc("b");
  k.inc("c");
  k.inc("d", 10);
  k.inc("e", 5);
  k.inc("a", 2);  // existing keys still count
  EXPECT_EQ(k.size(), 3u);
  EXPECT_EQ(k.value("a"), 3u);
  EXPECT_EQ(k.value("d"), 0u);
  EXPECT_EQ(k.value(KeyedCounter::kOverflowKey), 15u);
  EXPECT_EQ(k.dropped(), 2u);
  const auto snap = k.snapshot();
  ASSERT_EQ(snap.size(), 4u);
  EXPECT_EQ(snap.back().first, KeyedCounter::kOverflowKey);
  EXPECT_EQ(snap.back().second, 15u);
}

TEST(KeyedCounter, TheOverflowKeyIsShownOnlyWhenUsed) {
  KeyedCounter k(3);
  k.inc("a");
  EXPECT_EQ(k.snapshot().size(), 1u);
}

TEST(KeyedCounter, OverlongKeysOverflow) {
  KeyedCounter k(10, 16);
  k.inc(std::string(17, 'x'));
  k.inc(std::string(16, 'x'));
  EXPECT_EQ(k.size(), 1u);
  EXPECT_EQ(k.dropped(), 1u);
  EXPECT_EQ(k.value(KeyedCounter::kOverflowKey), 1u);
}

TEST(KeyedCounter, InvalidUtf8KeysAreStoredRepaired) {
  KeyedCounter k;
  k.inc("bad\xff");
  k.inc("bad\xfe");
  k.inc("bad\xEF\xBF\xBD");  // the repaired form itself
  EXPECT_EQ(k.size(), 1u);
  EXPECT_EQ(k.value("bad\xEF\xBF\xBD"), 3u);
  EXPECT_EQ(k.value("bad\xff"), 3u);
  EXPECT_EQ(k.snapshot()[0].first, "bad\xEF\xBF\xBD");
}

TEST(KeyedCounter, ContainsTellsAdmittedKeys) {
  KeyedCounter k(1);
  k.inc("a");
  k.inc("b");  // refused: the map is full
  k.inc("bad\xff");
  EXPECT_TRUE(k.contains("a"));
  EXPECT_FALSE(k.contains("b"));
  EXPECT_FALSE(k.contains(KeyedCounter::kOverflowKey));
  EXPECT_FALSE(k.contains("bad\xff"));
  KeyedCounter repaired;
  repaired.inc("bad\xff");
  EXPECT_TRUE(repaired.contains("bad\xff"));
  EXPECT_TRUE(repaired.contains("bad\xEF\xBF\xBD"));
}

TEST(KeyedCounter, RejectsZeroMaxKeys) {
  EXPECT_THROW(KeyedCounter(0), std::invalid_argument);
}

// SIZE_MAX ("no limit") once wrapped the order index's size to 0 blocks,
// and the first key was written past a zero-length array (an attack run).
TEST(KeyedCounter, RejectsMaxKeysPastTheLimit) {
  for (std::size_t n : {KeyedCounter::kMaxKeysLimit + 1,
                        std::numeric_limits<std::size_t>::max() - 63,
                        std::numeric_limits<std::size_t>::max()}) {
    EXPECT_THROW(KeyedCounter{n}, std::invalid_argument) << n;
  }
  // The limit itself, and a max_keys that fills its last block exactly.
  for (std::size_t n :
       {KeyedCounter::kMaxKeysLimit, std::size_t{63}, std::size_t{64}}) {
    KeyedCounter k(n);
    for (std::size_t i = 0; i < 130; ++i) k.inc("k" + std::to_string(i));
    EXPECT_EQ(k.size(), std::min<std::size_t>(n, 130)) << n;
    EXPECT_EQ(k.dropped(), n < 130 ? 130 - n : 0) << n;
  }
}

TEST(KeyedCounter, ConcurrentIncOfSharedAndNewKeysIsExact) {
  constexpr int kThreads = 4;
  constexpr int kIters = 100000;
  constexpr std::size_t kMax = 500;
  KeyedCounter k(kMax);
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        k.inc("shared");
        k.inc("key-" + std::to_string((i * 7 + t) % 1000));
      }
      finished.fetch_add(1);
    });
  }
  std::uint64_t previous_shared = 0;
  while (finished.load() < kThreads) {  // read while the writers run
    std::uint64_t shared = 0;
    std::size_t keys = 0;
    k.for_each([&](std::string_view key, std::uint64_t v) {
      if (key == "shared") shared = v;
      ++keys;
    });
    EXPECT_LE(keys, kMax + 1);
    EXPECT_GE(shared, previous_shared) << "a count went backwards";
    previous_shared = shared;
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(k.value("shared"), std::uint64_t{kThreads} * kIters);
  std::uint64_t total = 0;
  for (const auto& [key, v] : k.snapshot()) total += v;
  EXPECT_EQ(total, 2ULL * kThreads * kIters);
  EXPECT_EQ(k.size(), kMax);
  // 1001 distinct keys were offered for 500 places ("shared" took one).
  EXPECT_EQ(k.value(KeyedCounter::kOverflowKey), k.dropped());
  EXPECT_GT(k.dropped(), 0u);
}

}  // namespace
}  // namespace statusz
