// PROTOTYPE of a proposed change to include/statusz (detail/hash.hpp and
// KeyedCounter::find), measured by the "proto/..." benchmarks. Not part of
// the library, and nothing in statusz uses it.
//
// KeyedCounter::inc() of an existing key is hash + probe + compare + cell add.
// Measured on the statusz headers as they are, it is dominated by:
//  1. detail::hash_bytes() reading the last n % 8 bytes with a variable-length
//     memcpy into a zeroed stack word: GCC emits a byte loop storing to the
//     stack and then an 8-byte load of the same slot, a failed store-to-load
//     forward (~10+ cycles) on every hash of a 36-byte UUID (36 % 8 = 4);
//  2. an 8-byte-per-step hash whose steps are one serial multiply chain;
//  3. std::memcmp called out of line for the key comparison.
// ProtoKeyed reproduces KeyedCounter's lookup structure exactly (same node
// layout, open addressing on the low bits, linear probing, per-thread cells
// via detail::CellSpace) with the hash and the comparison as parameters, so
// each fix can be measured alone and together:
//  - hash_tail_fixed: hash_bytes with its tail read by overlapping loads
//    (same mixing, same 8 bytes per step);
//  - hash_wide: 16 bytes per step with a folded 64x64->128 multiply;
//  - equal_words: the comparison inlined as 8-byte word compares.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <new>
#include <statusz/detail/cells.hpp>
#include <statusz/detail/hash.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace statusz_bench::proto {

// The word loads and the folded multiply are the library's own
// (detail/hash.hpp adopted them from this prototype).
using statusz::detail::fold_mul;
using statusz::detail::load32;
using statusz::detail::load64;
using statusz::detail::load_short;

// detail::hash_bytes, identical mixing, with the tail fixed: for n >= 8 the
// last (n % 8) bytes are read as the last 8 bytes of the string (overlapping
// the previous step), for n < 8 by load_short().
inline std::uint64_t hash_tail_fixed(std::string_view s,
                                     std::uint64_t seed) noexcept {
  constexpr std::uint64_t k = 0x9fb21c651e98df25ULL;
  const char* p = s.data();
  const std::size_t size = s.size();
  std::size_t n = size;
  std::uint64_t h = seed ^ (n * k);
  while (n >= 8) {
    h = (h ^ load64(p)) * k;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    const std::uint64_t w =
        size >= 8 ? load64(s.data() + size - 8) : load_short(p, n);
    h = (h ^ w ^ (std::uint64_t{n} << 56)) * k;
    h ^= h >> 29;
  }
  return statusz::detail::mix64(h);
}


// 16 bytes per step, one folded multiply per step; the last 16 bytes are read
// ending at the end of the string (overlapping the previous step); strings
// of up to 16 bytes take one multiply plus the finaliser.
inline std::uint64_t hash_wide(std::string_view s,
                               std::uint64_t seed) noexcept {
  constexpr std::uint64_t k1 = 0x9fb21c651e98df25ULL;
  constexpr std::uint64_t k2 = 0xd6e8feb86659fd93ULL;
  constexpr std::uint64_t k3 = 0x9e3779b97f4a7c15ULL;
  const char* p = s.data();
  std::size_t n = s.size();
  std::uint64_t h = seed ^ (n * k3);
  std::uint64_t a;
  std::uint64_t b;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else {
      a = load_short(p, n);
      b = 0;
    }
  } else {
    while (n > 16) {
      h = fold_mul(load64(p) ^ k1, load64(p + 8) ^ h);
      p += 16;
      n -= 16;
    }
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  }
  h = fold_mul(a ^ k2 ^ seed, b ^ h);
  return fold_mul(h ^ k1, h ^ k3 ^ s.size());
}

// Like hash_wide, but with three independent multiplies for 17..32+ bytes
// (two 16-byte lanes and the last 16 bytes), combined at the end: a shorter
// dependency chain for UUID-sized keys.
inline std::uint64_t hash_wide2(std::string_view s,
                                std::uint64_t seed) noexcept {
  // Adopted: detail::hash_bytes is now exactly this hash.
  return statusz::detail::hash_bytes(s, seed);
}

// Equality of two byte strings of the same length n, inline: 16 bytes per
// step, the last 16 read ending at the end (overlapping), no byte loop.
inline bool equal_words(const char* a, const char* b, std::size_t n) noexcept {
  if (n >= 16) {
    std::uint64_t diff = 0;
    for (std::size_t i = 0; i + 16 < n; i += 16) {
      diff |= (load64(a + i) ^ load64(b + i)) |
              (load64(a + i + 8) ^ load64(b + i + 8));
    }
    diff |= (load64(a + n - 16) ^ load64(b + n - 16)) |
            (load64(a + n - 8) ^ load64(b + n - 8));
    return diff == 0;
  }
  if (n >= 8)
    return ((load64(a) ^ load64(b)) |
            (load64(a + n - 8) ^ load64(b + n - 8))) == 0;
  return load_short(a, n) == load_short(b, n);
}
inline bool equal_memcmp(const char* a, const char* b, std::size_t n) noexcept {
  return std::memcmp(a, b, n) == 0;
}

using HashFn = std::uint64_t (*)(std::string_view, std::uint64_t) noexcept;
using EqFn = bool (*)(const char*, const char*, std::size_t) noexcept;

// KeyedCounter's lookup structure, read-only after construction (the insert
// path is not what is measured): an atomic pointer to a table (mask, then the
// slots in the same allocation), slots pointing to nodes {hash, cell, length}
// followed by the key's bytes, linear probing from hash & mask.
template <HashFn Hash, EqFn Equal>
class ProtoKeyed {
 public:
  explicit ProtoKeyed(const std::vector<std::string>& keys)
      : seed_(statusz::detail::hash_bytes(
            "statusz", statusz::detail::process_hash_seed())) {
    std::size_t capacity = 16;
    while (capacity < 2 * (keys.size() + 1)) capacity *= 2;
    void* raw = ::operator new(sizeof(Table) +
                               capacity * sizeof(std::atomic<const Node*>));
    auto* t = static_cast<Table*>(raw);
    t->mask = capacity - 1;
    for (std::size_t i = 0; i < capacity; ++i)
      new (t->slots() + i) std::atomic<const Node*>(nullptr);
    for (const std::string& k : keys) {
      void* raw_node = ::operator new(sizeof(Node) + k.size());
      auto* node = static_cast<Node*>(raw_node);
      node->hash = Hash(k, seed_);
      node->cell = statusz::detail::CellSpace::instance().reserve();
      node->length = static_cast<std::uint32_t>(k.size());
      std::memcpy(node + 1, k.data(), k.size());
      std::size_t i = node->hash & t->mask;
      while (t->slots()[i].load(std::memory_order_relaxed) != nullptr)
        i = (i + 1) & t->mask;
      t->slots()[i].store(node, std::memory_order_release);
    }
    table_.store(t, std::memory_order_release);
  }

  void inc(std::string_view key, std::uint64_t n = 1) noexcept {
    if (const Node* node = find(key))
      statusz::detail::CellSpace::add(node->cell, n);
  }

  std::uint64_t value(std::string_view key) const noexcept {
    const Node* node = find(key);
    return node == nullptr
               ? 0
               : statusz::detail::CellSpace::instance().sum(node->cell);
  }

 private:
  struct Node {
    std::uint64_t hash;
    std::uint32_t cell;
    std::uint32_t length;
  };
  struct Table {
    std::size_t mask;
    std::atomic<const Node*>* slots() noexcept {
      return reinterpret_cast<std::atomic<const Node*>*>(this + 1);
    }
  };

  const Node* find(std::string_view key) const noexcept {
    const std::uint64_t h = Hash(key, seed_);
    Table* t = table_.load(std::memory_order_acquire);
    for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
      const Node* node = t->slots()[i].load(std::memory_order_acquire);
      if (node == nullptr) return nullptr;
      if (node->hash == h && node->length == key.size() &&
          Equal(reinterpret_cast<const char*>(node + 1), key.data(),
                key.size())) {
        return node;
      }
    }
  }

  const std::uint64_t seed_;
  std::atomic<Table*> table_{nullptr};
};

}  // namespace statusz_bench::proto
