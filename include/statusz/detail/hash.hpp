// detail::hash_bytes: a fast 64-bit hash of a short byte string, for the keys
// of KeyedCounter. Keys of up to 16 bytes take one folded 64x64->128-bit
// multiply; longer ones two independent 16-byte lanes plus the last 16 bytes
// read in place (overlapping), so a 36-byte UUID costs three multiplies and
// no byte loop (~3.4 ns here, bench/README.md). Seeded per process so that
// bucket positions are not predictable from outside. Not a cryptographic
// hash. Pure and thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace statusz::detail {

inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// Up to 7 bytes as one word without a byte loop: two overlapping 4-byte
// loads for 4..7 bytes, three single bytes (covering all) for 1..3.
inline std::uint64_t load_short(const char* p, std::size_t n) noexcept {
  if (n >= 4) return load32(p) | (load32(p + n - 4) << 32);
  if (n == 0) return 0;
  return std::uint64_t{static_cast<unsigned char>(p[0])} |
         std::uint64_t{static_cast<unsigned char>(p[n >> 1])} << 8 |
         std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
}

// The 128-bit product of a and b, its halves xor-ed together.
#if defined(__SIZEOF_INT128__)
__extension__ using uint128 = unsigned __int128;  // __extension__: -Wpedantic
inline std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
  const uint128 r = static_cast<uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
#else
inline std::uint64_t fold_mul(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t al = a & 0xffffffffU, ah = a >> 32;
  const std::uint64_t bl = b & 0xffffffffU, bh = b >> 32;
  const std::uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const std::uint64_t mid =
      (ll >> 32) + (lh & 0xffffffffU) + (hl & 0xffffffffU);
  const std::uint64_t lo = (mid << 32) | (ll & 0xffffffffU);
  const std::uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return lo ^ hi;
}
#endif

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
  constexpr std::uint64_t k1 = 0x9fb21c651e98df25ULL;
  constexpr std::uint64_t k2 = 0xd6e8feb86659fd93ULL;
  constexpr std::uint64_t k3 = 0x9e3779b97f4a7c15ULL;
  const char* p = s.data();
  const std::size_t size = s.size();
  if (size <= 16) {
    std::uint64_t a;
    std::uint64_t b;
    if (size >= 8) {
      a = load64(p);
      b = load64(p + size - 8);
    } else {
      a = load_short(p, size);
      b = 0;
    }
    const std::uint64_t h = fold_mul(a ^ k2 ^ seed, b ^ k1 ^ (size * k3));
    return fold_mul(h ^ k1, h ^ k3);
  }
  std::uint64_t h1 = seed ^ k1;
  std::uint64_t h2 = seed ^ k2 ^ (size * k3);
  std::size_t n = size;
  while (n > 32) {
    h1 = fold_mul(load64(p) ^ k1, load64(p + 8) ^ h1);
    h2 = fold_mul(load64(p + 16) ^ k2, load64(p + 24) ^ h2);
    p += 32;
    n -= 32;
  }
  if (n > 16) h1 = fold_mul(load64(p) ^ k1, load64(p + 8) ^ h1);
  const char* end = s.data() + size;
  const std::uint64_t t =
      fold_mul(load64(end - 16) ^ k3 ^ seed, load64(end - 8) ^ k2);
  return fold_mul(h1 ^ t, h2 ^ k3);
}

inline std::uint64_t hash_bytes(std::string_view s) noexcept {
  return hash_bytes(s, process_hash_seed());
}

}  // namespace statusz::detail
