// statusz::KeyedCounter: counts per key (errors per bot id), bounded.
//
// At most max_keys distinct keys (default 10 000, at most kMaxKeysLimit = 2^24,
// else std::invalid_argument) are admitted; past that,
// counts for new keys go to the overflow key "__overflow__" (kOverflowKey) and
// each such inc() adds one to dropped(). Keys longer than max_key_bytes
// (default 256) go to the overflow key too. Keys that are not valid UTF-8 are
// stored repaired (each bad byte becomes U+FFFD), so every stored key renders
// as a distinct JSON string.
//
// Cost: inc() of an existing key hashes the key, probes a lock-free open-
// addressing table and adds to the calling thread's own cell for that key
// (detail::CellSpace), always inlined up to the cell add: no lock, no
// allocation, no read-modify-write. inc() of
// a new key takes a mutex (inside a detail::ForkGate section, so fork() never
// copies it held) and allocates (~40 bytes + the key, plus 8 bytes per
// counting thread); when the key's node cannot be allocated, the count goes
// to the overflow key and dropped() as for a refused key, and when the
// thread's cells cannot be, it is dropped (detail/cells.hpp): inc() never
// throws std::bad_alloc.
// Reading never blocks inc().
// Shared (a keyed counter of a shared registry, shared.hpp): the keys, their
// counts, the overflow count and dropped() are the pool's, in one key table of
// the shared store (detail/shm.hpp) under one pool-wide max_keys (the first
// registration's). Each process mirrors the pool's keys in its own table
// above, so inc() of a key the pool has is the same lock-free probe followed
// by an add to the thread's slot in the store (no lock, no allocation, no
// syscall); a key new to the pool is inserted once under the store's mutex.
// Reading (for_each, value, contains, dropped) takes the store's mutex and
// costs O(keys x slots); value() and contains() also scan the pool's keys.
// Thread-safety: every member is safe to call from any thread; snapshot() is
// a consistent list of keys, each count read once (not a global atomic cut).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "detail/cells.hpp"
#include "detail/fork.hpp"
#include "detail/hash.hpp"
#include "detail/utf8.hpp"

namespace statusz {

namespace detail {

// The key tables of a shared store (detail/shm.hpp), as a KeyedCounter of a
// shared registry sees them. A table's keys are published in insertion order
// and never change; key i counts into cell first_cell + 2 + i (first_cell
// counts the overflow key, first_cell + 1 the dropped incs).
class SharedKeys {
 public:
  // Keys published in `table` (lock-free).
  virtual std::uint32_t key_count(std::uint32_t table) const noexcept = 0;
  // Key i < key_count(table) (lock-free; the bytes never change).
  virtual std::string_view key_at(std::uint32_t table,
                                  std::uint32_t i) const noexcept = 0;
  // Under the store's mutex: the index of `key` among the keys from `from`
  // on (the caller knows the ones before), inserted if absent and the table
  // has room; -1 if it is full. Throws SharedStoreError (lock lost).
  virtual std::int64_t insert_key(std::uint32_t table, std::string_view key,
                                  std::uint32_t from) = 0;
  // Under the store's mutex: the pool's totals of cells [first, first + n).
  // False if the mutex could not be taken.
  virtual bool sums(std::uint32_t first, std::uint32_t n,
                    std::uint64_t* out) const noexcept = 0;

 protected:
  SharedKeys() = default;
  SharedKeys(const SharedKeys&) = default;
  SharedKeys& operator=(const SharedKeys&) = default;
  ~SharedKeys() = default;
};

}  // namespace detail

class KeyedCounter {
 public:
  // Where a shared registry's keyed counter is (Registry::keyed() makes it).
  struct Shared {
    detail::SharedKeys* keys;
    detail::SharedCells* cells;
    std::uint64_t store_id;
    std::uint32_t table;
    std::uint32_t first_cell;
    std::size_t max_keys;
    std::size_t max_key_bytes;
  };

  static constexpr std::size_t kDefaultMaxKeys = 10000;
  // The largest max_keys: the key order index is reserved up front (8 bytes
  // per 64 keys: 2 MiB here), and 2^24 keys of ~40 bytes each and more are
  // gigabytes, an unbounded key (a request id) rather than a bound.
  static constexpr std::size_t kMaxKeysLimit = std::size_t{1} << 24;
  static constexpr std::size_t kDefaultMaxKeyBytes = 256;
  static constexpr std::string_view kOverflowKey = "__overflow__";

  explicit KeyedCounter(std::size_t max_keys = kDefaultMaxKeys,
                        std::size_t max_key_bytes = kDefaultMaxKeyBytes)
      : max_keys_(max_keys),
        max_key_bytes_(std::max(max_key_bytes, kOverflowKey.size())),
        seed_(detail::hash_bytes("statusz", detail::process_hash_seed())) {
    start(kNoCell);
  }

  // A keyed counter of a shared registry (see the header comment).
  explicit KeyedCounter(const Shared& shared)
      : max_keys_(shared.max_keys),
        max_key_bytes_(std::max(shared.max_key_bytes, kOverflowKey.size())),
        seed_(detail::hash_bytes("statusz", detail::process_hash_seed())),
        shared_cells_(shared.cells),
        shared_id_(shared.store_id),
        shared_keys_(shared.keys),
        shared_table_(shared.table),
        first_cell_(shared.first_cell),
        dropped_(detail::CellIndex::Shared{shared.cells, shared.store_id,
                                           shared.first_cell + 1}) {
    start(first_cell_);
  }

  ~KeyedCounter() {
    const std::size_t n = count_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i) {
      if (shared_cells_ != nullptr) {
        ::operator delete(const_cast<Node*>(node_at(i)));
      } else {
        destroy_node(node_at(i));
      }
    }
    for (std::size_t b = 0; b < block_count(); ++b) {
      delete[] order_blocks_[b].load(std::memory_order_relaxed);
    }
    for (Table* t : tables_) destroy_table(t);
  }

  KeyedCounter(const KeyedCounter&) = delete;
  KeyedCounter& operator=(const KeyedCounter&) = delete;

  STATUSZ_ALWAYS_INLINE void inc(std::string_view key, std::uint64_t n = 1) {
    const std::uint64_t h = hash(key);
    if (const Node* node = find(key, h)) {
      if (shared_cells_ == nullptr) {
        detail::CellSpace::add(node->cell, n);
      } else {
        add_shared(node->cell, n);
      }
      return;
    }
    inc_new(key, h, n);
  }

  // The count of `key` (0 if never counted). value(kOverflowKey) is the total
  // counted for refused keys.
  std::uint64_t value(std::string_view key) const noexcept {
    if (shared_keys_ != nullptr) return shared_value(key);
    const Node* node = find(key, hash(key));
    if (node == nullptr && !detail::is_valid_utf8(key)) {
      try {
        const std::string fixed = detail::to_valid_utf8(key);
        node = find(fixed, hash(fixed));
      } catch (...) {
        return 0;
      }
    }
    return node == nullptr ? 0 : detail::CellSpace::instance().sum(node->cell);
  }

  // Whether `key` was admitted (has a place of its own). Lock-free.
  bool contains(std::string_view key) const noexcept {
    if (shared_keys_ != nullptr) {
      if (key == kOverflowKey) return false;
      return shared_index(key) >= 0 ||
             (!detail::is_valid_utf8(key) && shared_index_repaired(key) >= 0);
    }
    if (find(key, hash(key)) != nullptr) return key != kOverflowKey;
    if (detail::is_valid_utf8(key)) return false;
    try {
      const std::string fixed = detail::to_valid_utf8(key);
      return find(fixed, hash(fixed)) != nullptr;
    } catch (...) {
      return false;
    }
  }

  // Distinct keys admitted (the overflow key not included).
  std::size_t size() const noexcept {
    if (shared_keys_ != nullptr) return shared_keys_->key_count(shared_table_);
    return count_.load(std::memory_order_acquire) - 1;
  }
  std::size_t max_keys() const noexcept { return max_keys_; }
  std::size_t max_key_bytes() const noexcept { return max_key_bytes_; }
  // inc() calls whose key was refused (map full, or key too long).
  std::uint64_t dropped() const noexcept { return dropped_.sum(); }

  // Calls f(std::string_view key, std::uint64_t count) for each admitted key
  // in first-counted order, then for kOverflowKey if its count is not 0.
  template <class F>
  void for_each(F&& f) const {
    if (shared_keys_ != nullptr) {
      shared_for_each(f);
      return;
    }
    const std::size_t n = count_.load(std::memory_order_acquire);
    auto& cells = detail::CellSpace::instance();
    // One read guard for every key (it only delays freeing outgrown arrays).
    const detail::CellSpace::ReadGuard guard(cells);
    for (std::size_t i = 1; i < n; ++i) {
      const Node* node = node_at(i);
      f(node->key(), cells.sum_guarded(node->cell));
    }
    const std::uint64_t overflow = cells.sum_guarded(overflow_->cell);
    if (overflow != 0) f(kOverflowKey, overflow);
  }

  std::vector<std::pair<std::string, std::uint64_t>> snapshot() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    out.reserve(count_.load(std::memory_order_acquire));
    for_each([&](std::string_view k, std::uint64_t v) {
      out.emplace_back(std::string(k), v);
    });
    return out;
  }

 private:
  struct Node {
    std::uint64_t hash;
    std::uint32_t cell;
    std::uint32_t length;
    const char* data() const noexcept {
      return reinterpret_cast<const char*>(this + 1);
    }
    std::string_view key() const noexcept { return {data(), length}; }
  };

  struct Table {
    std::size_t mask;
    std::atomic<const Node*>* slots() noexcept {
      return reinterpret_cast<std::atomic<const Node*>*>(this + 1);
    }
  };

  static constexpr std::size_t kBlockSize = 64;
  using Block = std::atomic<const Node*>;  // arrays of kBlockSize

  std::size_t block_count() const noexcept {
    return max_keys_ / kBlockSize + 1;  // max_keys_ + 1 keys (the overflow)
  }

  STATUSZ_ALWAYS_INLINE std::uint64_t hash(
      std::string_view key) const noexcept {
    return detail::hash_bytes(key, seed_);
  }

  STATUSZ_ALWAYS_INLINE const Node* find(std::string_view key,
                                         std::uint64_t h) const noexcept {
    Table* t = table_.load(std::memory_order_acquire);
    for (std::size_t i = h & t->mask;; i = (i + 1) & t->mask) {
      const Node* node = t->slots()[i].load(std::memory_order_acquire);
      if (node == nullptr) return nullptr;
      if (node->hash == h && node->length == key.size() &&
          same_bytes(node->data(), key.data(), key.size())) {
        return node;
      }
    }
  }

  // memcmp(a, b, n) == 0 inline, by 8-byte words (the last one overlapping):
  // no call on the hot path for keys of 8 bytes and more.
  STATUSZ_ALWAYS_INLINE static bool same_bytes(const char* a, const char* b,
                                               std::size_t n) noexcept {
    if (n < 8) return std::memcmp(a, b, n) == 0;
    std::uint64_t diff = detail::load64(a + n - 8) ^ detail::load64(b + n - 8);
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      diff |= detail::load64(a + i) ^ detail::load64(b + i);
    }
    return diff == 0;
  }

  const Node* node_at(std::size_t i) const noexcept {
    const Block* block =
        order_blocks_[i / kBlockSize].load(std::memory_order_acquire);
    return block[i % kBlockSize].load(std::memory_order_acquire);
  }

  // The thread's slot cell in the store, as detail::CellIndex::add().
  STATUSZ_ALWAYS_INLINE void add_shared(std::uint32_t cell,
                                        std::uint64_t n) const noexcept {
    detail::SharedLocal& t = detail::shared_local();
    if (t.store_id == shared_id_) {
      detail::CellSpace::bump(t.cells[cell], n);
      return;
    }
    shared_cells_->add_slow(cell, n);
  }

  template <class F>
  void shared_for_each(F& f) const {
    const std::uint32_t n = shared_keys_->key_count(shared_table_);
    std::vector<std::uint64_t> sums(std::size_t{n} + 2, 0);
    if (!shared_keys_->sums(first_cell_, n + 2, sums.data())) return;
    for (std::uint32_t i = 0; i < n; ++i) {
      f(shared_keys_->key_at(shared_table_, i), sums[i + 2]);
    }
    if (sums[0] != 0) f(kOverflowKey, sums[0]);
  }

  // The pool's index of `key` (-1: none). O(keys), lock-free.
  std::int64_t shared_index(std::string_view key) const noexcept {
    const std::uint32_t n = shared_keys_->key_count(shared_table_);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (shared_keys_->key_at(shared_table_, i) == key) return i;
    }
    return -1;
  }
  std::int64_t shared_index_repaired(std::string_view key) const noexcept {
    try {
      return shared_index(detail::to_valid_utf8(key));
    } catch (...) {
      return -1;
    }
  }

  std::uint64_t shared_value(std::string_view key) const noexcept {
    std::uint32_t cell = first_cell_;
    if (key != kOverflowKey) {
      std::int64_t i = shared_index(key);
      if (i < 0 && !detail::is_valid_utf8(key)) i = shared_index_repaired(key);
      if (i < 0) return 0;
      cell = first_cell_ + 2 + static_cast<std::uint32_t>(i);
    }
    std::uint64_t v = 0;
    return shared_keys_->sums(cell, 1, &v) ? v : 0;
  }

  // Mirrors the pool's keys published since the last call. Under mu_.
  void mirror_locked() {
    const std::uint32_t n = shared_keys_->key_count(shared_table_);
    for (std::uint32_t i = mirrored_.load(std::memory_order_relaxed); i < n;
         ++i) {
      const std::string_view k = shared_keys_->key_at(shared_table_, i);
      insert_locked(k, hash(k), first_cell_ + 2 + i);
      mirrored_.store(i + 1, std::memory_order_release);
    }
  }

  // inc_new() of a shared keyed counter: the key may be in the pool already
  // (mirrored now), or is inserted into it if it has room.
  const Node* shared_node(std::string_view key, std::uint64_t h) {
    const std::uint32_t pool = shared_keys_->key_count(shared_table_);
    if (pool >= max_keys_ &&
        pool == mirrored_.load(std::memory_order_acquire)) {
      return nullptr;  // full, and every pool key is mirrored: lock-free
    }
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    mirror_locked();
    if (const Node* node = find(key, h)) return node;
    const std::int64_t i = shared_keys_->insert_key(
        shared_table_, key, mirrored_.load(std::memory_order_relaxed));
    if (i < 0) return nullptr;
    mirror_locked();
    return find(key, h);
  }

  // A key inc() did not find: admitted if there is room, else counted under
  // the overflow key (and in dropped()). So is a key that fails for want of
  // memory: a count never throws std::bad_alloc.
  STATUSZ_NOINLINE_COLD void inc_new(std::string_view key, std::uint64_t h,
                                     std::uint64_t n) {
    const Node* node = nullptr;
    try {
      if (!detail::is_valid_utf8(key)) {
        const std::string fixed = detail::to_valid_utf8(key);
        inc(fixed, n);
        return;
      }
      node = admit(key, h);
    } catch (const std::bad_alloc&) {
      node = nullptr;
    }
    if (node == nullptr) {
      node = overflow_;
      dropped_.add(1);
    }
    if (shared_keys_ != nullptr) {
      add_shared(node->cell, n);
    } else {
      detail::CellSpace::add(node->cell, n);
    }
  }

  // The node of a new, valid key, inserted if the map has room (nullptr
  // otherwise). Takes the mutex; may throw std::bad_alloc.
  const Node* admit(std::string_view key, std::uint64_t h) {
    if (key.size() > max_key_bytes_) return nullptr;
    if (shared_keys_ != nullptr) return shared_node(key, h);
    if (size() >= max_keys_) return nullptr;
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    const Node* node = find(key, h);
    if (node == nullptr && size() < max_keys_) node = insert_locked(key, h);
    return node;
  }

  static Table* new_table(std::size_t capacity) {
    void* raw = ::operator new(sizeof(Table) +
                               capacity * sizeof(std::atomic<const Node*>));
    auto* t = static_cast<Table*>(raw);
    t->mask = capacity - 1;
    for (std::size_t i = 0; i < capacity; ++i) {
      new (t->slots() + i) std::atomic<const Node*>(nullptr);
    }
    return t;
  }
  static void destroy_table(Table* t) noexcept { ::operator delete(t); }

  static void place(Table* t, const Node* node) noexcept {
    std::size_t i = node->hash & t->mask;
    while (t->slots()[i].load(std::memory_order_relaxed) != nullptr) {
      i = (i + 1) & t->mask;
    }
    t->slots()[i].store(node, std::memory_order_release);
  }

  // `shared_cell`: the node's cell in the shared store; kNoCell: reserves a
  // cell of detail::CellSpace.
  static constexpr std::uint32_t kNoCell = UINT32_MAX;
  // What both constructors do once the members are set: check max_keys,
  // make the first table and insert the overflow key (in `overflow_cell` of
  // the store for a shared counter, kNoCell for a private one).
  void start(std::uint32_t overflow_cell) {
    if (max_keys_ == 0) {
      throw std::invalid_argument("statusz: KeyedCounter max_keys must be > 0");
    }
    if (max_keys_ > kMaxKeysLimit) {
      throw std::invalid_argument("statusz: KeyedCounter max_keys must be <= " +
                                  std::to_string(kMaxKeysLimit) + ", not " +
                                  std::to_string(max_keys_));
    }
    order_blocks_ = std::make_unique<std::atomic<Block*>[]>(block_count());
    std::lock_guard<std::mutex> g(mu_);
    tables_.push_back(new_table(16));
    table_.store(tables_.back(), std::memory_order_relaxed);
    overflow_ = insert_locked(kOverflowKey, hash(kOverflowKey), overflow_cell);
  }

  const Node* insert_locked(std::string_view key, std::uint64_t h,
                            std::uint32_t shared_cell = kNoCell) {
    const std::size_t n = count_.load(std::memory_order_relaxed);
    Table* t = table_.load(std::memory_order_relaxed);
    if ((n + 1) * 2 > t->mask + 1) {
      // Grow: readers may still probe the old table, which stays allocated
      // (tables double, so the retired ones cost at most the live one).
      tables_.reserve(tables_.size() + 1);  // so that push_back cannot throw
      Table* bigger = new_table((t->mask + 1) * 2);
      for (std::size_t i = 0; i < n; ++i) place(bigger, node_at(i));
      tables_.push_back(bigger);
      table_.store(bigger, std::memory_order_release);
      t = bigger;
    }
    std::atomic<Block*>& block_ptr = order_blocks_[n / kBlockSize];
    Block* block = block_ptr.load(std::memory_order_relaxed);
    if (block == nullptr) {
      block = new Block[kBlockSize]();
      block_ptr.store(block, std::memory_order_release);
    }
    void* raw = ::operator new(sizeof(Node) + key.size());
    auto* node = static_cast<Node*>(raw);
    node->hash = h;
    node->length = static_cast<std::uint32_t>(key.size());
    if (shared_cell != kNoCell) {
      node->cell = shared_cell;
    } else {
      try {
        node->cell = detail::CellSpace::instance().reserve();
      } catch (...) {
        ::operator delete(raw);
        throw;
      }
    }
    std::memcpy(raw_key(node), key.data(), key.size());
    block[n % kBlockSize].store(node, std::memory_order_release);
    place(t, node);
    count_.store(n + 1, std::memory_order_release);
    return node;
  }

  static char* raw_key(Node* node) noexcept {
    return reinterpret_cast<char*>(node + 1);
  }

  static void destroy_node(const Node* node) noexcept {
    detail::CellSpace::instance().release(node->cell);
    ::operator delete(const_cast<Node*>(node));
  }

  const std::size_t max_keys_;
  const std::size_t max_key_bytes_;
  const std::uint64_t seed_;
  // A shared keyed counter's store (nullptr / 0 for a private one); next to
  // seed_ and table_, which inc() reads too.
  detail::SharedCells* const shared_cells_ = nullptr;
  const std::uint64_t shared_id_ = 0;
  detail::SharedKeys* const shared_keys_ = nullptr;
  const std::uint32_t shared_table_ = 0;
  const std::uint32_t first_cell_ = 0;
  std::atomic<Table*> table_{nullptr};
  std::unique_ptr<std::atomic<Block*>[]> order_blocks_;
  std::atomic<std::size_t> count_{0};
  const Node* overflow_ = nullptr;
  detail::CellIndex dropped_;
  std::atomic<std::uint32_t> mirrored_{0};  // pool keys in this table
  std::mutex mu_;
  std::vector<Table*> tables_;  // every table ever used, the live one last
};

}  // namespace statusz
