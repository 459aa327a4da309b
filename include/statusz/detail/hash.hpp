// detail::hash_bytes: a fast 64-bit hash of a short byte string, for the keys
// of KeyedCounter. Reads 8 bytes at a time, mixes with 64-bit multiplies and
// ends with a strong finaliser. Seeded per process so that bucket positions
// are not predictable from outside. Not a cryptographic hash. Pure and
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace statusz::detail {

inline std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

inline std::uint64_t process_hash_seed() noexcept {
  static const std::uint64_t seed = [] {
    int local = 0;
    auto t = static_cast<std::uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    return mix64(t ^ reinterpret_cast<std::uintptr_t>(&local) ^
                 0x9e3779b97f4a7c15ULL);
  }();
  return seed;
}

inline std::uint64_t hash_bytes(std::string_view s,
                                std::uint64_t seed) noexcept {
  constexpr std::uint64_t k = 0x9fb21c651e98df25ULL;
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = seed ^ (n * k);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * k;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w ^ (std::uint64_t{n} << 56)) * k;
    h ^= h >> 29;
  }
  return mix64(h);
}

inline std::uint64_t hash_bytes(std::string_view s) noexcept {
  return hash_bytes(s, process_hash_seed());
}

}  // namespace statusz::detail
