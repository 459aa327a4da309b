#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <statusz/detail/hash.hpp>
#include <string>
#include <unordered_set>
#include <vector>

namespace statusz::detail {
namespace {

std::string uuid(std::mt19937_64& rng) {
  char buf[40];
  const std::uint64_t a = rng(), b = rng();
  std::snprintf(
      buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
      static_cast<unsigned>(a >> 32), static_cast<unsigned>(a >> 16) & 0xffff,
      static_cast<unsigned>(a) & 0xffff, static_cast<unsigned>(b >> 48),
      static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

TEST(Hash, EveryByteOfEveryLengthMatters) {
  std::mt19937_64 rng(5);
  for (std::size_t len = 0; len <= 80; ++len) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    const std::uint64_t h = hash_bytes(s, 42);
    for (std::size_t i = 0; i < len; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string t = s;
        t[i] = static_cast<char>(t[i] ^ (1 << bit));
        ASSERT_NE(hash_bytes(t, 42), h) << "len " << len << " byte " << i;
      }
    }
    // A longer string with the same prefix differs too.
    ASSERT_NE(hash_bytes(s + '\0', 42), h) << len;
  }
}

TEST(Hash, TheSeedChangesTheHash) {
  EXPECT_NE(hash_bytes("bot", 1), hash_bytes("bot", 2));
  EXPECT_EQ(hash_bytes("bot", 1), hash_bytes("bot", 1));
}

TEST(Hash, UuidsDoNotCollideAndFillBucketsEvenly) {
  std::mt19937_64 rng(9);
  constexpr int kKeys = 200000;
  constexpr int kBuckets = 1024;
  std::unordered_set<std::uint64_t> seen;
  std::vector<int> buckets(kBuckets);
  for (int i = 0; i < kKeys; ++i) {
    const std::uint64_t h = hash_bytes(uuid(rng), process_hash_seed());
    ASSERT_TRUE(seen.insert(h).second) << "64-bit collision";
    ++buckets[h & (kBuckets - 1)];
  }
  // ~195 per bucket expected; a fair hash stays well within +-40%.
  for (int n : buckets) {
    EXPECT_GT(n, 117);
    EXPECT_LT(n, 273);
  }
}

}  // namespace
}  // namespace statusz::detail
