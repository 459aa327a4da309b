// statusz::detail::SharedStore: the shared-memory store behind a shared
// registry (RegistryOptions::shared, shared.hpp), one per name, counted into
// by every process of the same user that opens the name.
//
// Segment: a file /dev/shm/statusz.NAME, mode 0600, owned by the user (a file
// of another user, or readable by others, is refused), made of
//  - a header: magic, layout version and every size below; a process built
//    with another layout refuses to join (SharedStoreError) instead of
//    misreading; a robust process-shared mutex; the fold journal;
//  - per cell: the "retired" total (what dead processes counted) and the
//    aggregation mode of the metric owning the cell;
//  - the directory: path, kind, mode, first cell, and a meter's tick state
//    (Meter::State), appended under the mutex, published by a counter;
//  - the key bytes: per keyed counter, max_keys records (a 4-byte length and
//    up to 256 bytes), reserved with its max_keys + 2 cells (overflow,
//    dropped, one per key) when it is registered; a key is appended under
//    the mutex and published by the entry's key count, never changed after;
//    each process mirrors published keys in its KeyedCounter's lock-free
//    table, so a keyed inc() of a known key is the same add as mark();
//  - a bounded table of slots: one per counting thread, each with one 8-byte
//    cell per metric. A slot is owned by a process, identified by pid and
//    start time (/proc/PID/stat field 22), so a reused pid is another process.
// Counting: a thread's first count into the store claims a slot (under the
// mutex: one of its process's parked slots, else a free one, else after
// folding the dead processes' slots); the slot's cells are cached in a
// trivially destructible thread_local, so mark()/inc() is the same add as a
// private one (detail::CellIndex): no lock, no syscall, no read-modify-write.
// A thread that exits parks its slot for its process's next thread. If no
// slot is free, the thread counts into the common slot with atomic adds.
// Reaping: a slot whose process is dead (no such pid, a zombie, another
// start time) is folded under the mutex: each sum-mode cell is added to its
// retired total and zeroed, the other modes' cells are dropped, and the slot
// becomes free. Each cell's fold is journaled (slot, cell, retired total
// before), so a reaper killed mid-fold is repaired by the next owner of the
// mutex (EOWNERDEAD): nothing is counted twice or lost. A worker killed in
// the middle of an add loses at most that add. Storage is bounded by the peak
// number of counting threads alive at once; reading costs O(slots x metrics),
// whatever number of processes came and went.
// Reading: a metric's pool value, under the mutex (folds are never half
// seen): sum = retired + every slot; live-sum = the live processes' slots;
// max/min = over the live processes holding a slot, each process's value
// being the sum of its slots. A meter's EWMA state is in the directory and
// ticked under the mutex by whichever process's clock gets there first:
// one Dropwizard meter of the pool's summed count (SteadyClock time is
// CLOCK_MONOTONIC, the same in every process).
// Lifetime: the segment outlives the processes (counts are cumulative);
// remove() unlinks it. Closing a store (the registry's destructor) folds the
// closing process's slots.
// fork(): the child's thread forgets the parent's slots and claims its own
// at its first count; the mutex is process-shared, so a child never inherits
// it held by a thread of its own.
// Thread-safety: every member is safe to call from any thread.
#pragma once

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../clock.hpp"
#include "../keyed_counter.hpp"
#include "../meter.hpp"
#include "cells.hpp"
#include "fork.hpp"

namespace statusz {

// How a shared registry's counter aggregates its processes' values.
enum class CounterMode : std::uint32_t {
  Sum = 0,      // every process that ever counted, dead ones included
  Max = 1,      // the largest value of a live process
  Min = 2,      // the smallest value of a live process
  LiveSum = 3,  // the live processes only
};

constexpr std::string_view to_string(CounterMode m) noexcept {
  switch (m) {
    case CounterMode::Sum:
      return "sum";
    case CounterMode::Max:
      return "max";
    case CounterMode::Min:
      return "min";
    case CounterMode::LiveSum:
      return "live-sum";
  }
  return "sum";
}

// The shared store cannot be opened, joined or grown.
class SharedStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A shared store's capacities, fixed when its segment is created (part of
// the layout check).
// A meter or counter takes one cell and one entry; a keyed counter one entry,
// max_keys + 2 cells and max_keys x 264 bytes of key_bytes (keys of up to
// KeyedCounter::kDefaultMaxKeyBytes, 256 bytes, each with its length),
// reserved when it is registered. The segment is about
// (slots + 1) x cells x 8 + cells x 9 + entries x 512 + key_bytes bytes of
// /dev/shm (pages are allocated as they are touched).
struct SharedLimits {
  std::uint32_t slots = 128;     // counting threads alive at once
  std::uint32_t cells = 16384;   // counts
  std::uint32_t entries = 1024;  // metrics
  std::uint64_t key_bytes = std::uint64_t{8} << 20;  // keyed counters' keys
};

namespace detail {

struct ProcessIdentity {
  std::int32_t pid = 0;
  std::uint64_t start = 0;  // /proc/PID/stat field 22 (clock ticks)
};

// Reads state (field 3) and starttime (field 22) of /proc/PID/stat.
inline bool read_proc_stat(std::int32_t pid, char& state,
                           std::uint64_t& start) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command may hold ')'
  if (p == nullptr) return false;
  ++p;
  // Fields after the command: 3 (state), 4, ..., 22 (starttime).
  int field = 2;
  const char* end = buf + n;
  while (p < end) {
    while (p < end && *p == ' ') ++p;
    if (p >= end) break;
    ++field;
    if (field == 3) state = *p;
    if (field == 22) {
      std::uint64_t v = 0;
      for (; p < end && *p >= '0' && *p <= '9'; ++p) {
        v = v * 10 + static_cast<std::uint64_t>(*p - '0');
      }
      start = v;
      return true;
    }
    while (p < end && *p != ' ') ++p;
  }
  return false;
}

inline ProcessIdentity self_identity() {
  static ProcessIdentity cached;
  static std::mutex mu;
  const auto pid = static_cast<std::int32_t>(::getpid());
  std::lock_guard<std::mutex> g(mu);
  if (cached.pid != pid) {
    char state = 0;
    std::uint64_t start = 0;
    if (!read_proc_stat(pid, state, start)) {
      throw SharedStoreError(
          "statusz: a shared registry needs /proc/self/stat (Linux procfs)");
    }
    cached = ProcessIdentity{pid, start};
  }
  return cached;
}

// Whether the process (pid, start) is alive: not a zombie, not a reused pid.
// When /proc cannot tell, a process kill(pid, 0) finds counts as alive.
inline bool process_alive(std::int32_t pid, std::uint64_t start) noexcept {
  if (pid <= 0) return false;
  char state = 0;
  std::uint64_t seen = 0;
  if (read_proc_stat(pid, state, seen)) {
    return seen == start && state != 'Z' && state != 'X';
  }
  return !(::kill(pid, 0) != 0 && errno == ESRCH);
}

class SharedStore final : public SharedCells,
                          public MeterShared,
                          public SharedKeys {
 public:
  static constexpr std::uint32_t kLayoutVersion = 2;
  static constexpr std::size_t kMaxPathBytes = 240;
  static constexpr std::size_t kMaxNameBytes = 100;

  using Limits = SharedLimits;

  enum EntryKind : std::uint32_t { kMeter = 1, kCounter = 2, kKeyed = 3 };

  struct Registration {
    bool clash = false;  // the path exists with another kind
    std::uint32_t existing_kind = 0;
    CellIndex::Shared cell{nullptr, 0, 0};  // a keyed counter's first cell
    Meter::State* meter = nullptr;          // for a meter
    // For a keyed counter: its key table and the pool's limits.
    KeyedCounter::Shared keyed{nullptr, nullptr, 0, 0, 0, 0, 0};
  };

  explicit SharedStore(std::string_view name, Limits limits = {})
      : name_(name),
        path_(path_of(name)),
        id_(next_id()),
        me_(self_identity()) {
    open_segment(limits);
    install_fork_handler();
    table().add(id_, this);
  }

  ~SharedStore() {
    table().remove(id_);
    if (lock()) {
      const ProcessIdentity me = current_identity();
      for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
        SlotHeader& sh = slot(s);
        const std::uint32_t st = sh.state.load(std::memory_order_acquire);
        if ((st == kOwned || st == kParked) && sh.pid == me.pid &&
            sh.start == me.start && sh.token == id_) {
          fold_locked(s);
        }
      }
      unlock();
    }
    ::munmap(base_, size_);
  }

  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  // /dev/shm/statusz.NAME; throws std::invalid_argument for a bad name.
  static std::string path_of(std::string_view name) {
    bool ok = !name.empty() && name.size() <= kMaxNameBytes && name != "." &&
              name != "..";
    for (char c : name) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
    }
    if (!ok) {
      throw std::invalid_argument(
          "statusz: shared registry name '" + std::string(name) +
          "' must be 1 to 100 characters of A-Z a-z 0-9 . _ - (not . or ..)");
    }
    return "/dev/shm/statusz." + std::string(name);
  }

  // Unlinks the store's segment; false if there was none. Processes that
  // have it open keep counting into the unlinked one.
  static bool remove(std::string_view name) {
    return ::unlink(path_of(name).c_str()) == 0;
  }

  const std::string& name() const noexcept { return name_; }
  const std::string& path() const noexcept { return path_; }
  std::size_t segment_bytes() const noexcept { return size_; }
  std::uint32_t slot_capacity() const noexcept { return h_->max_slots - 1; }
  // Slots owned by a process (alive or not yet reaped).
  std::size_t slots_in_use() const noexcept {
    std::size_t n = 0;
    for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
      const std::uint32_t st = slot(s).state.load(std::memory_order_acquire);
      if (st == kOwned || st == kParked) ++n;
    }
    return n;
  }
  std::uint32_t cells_used() const noexcept {
    return h_->cells.load(std::memory_order_acquire);
  }
  std::uint64_t key_bytes_used() const noexcept {
    return h_->key_bytes_used.load(std::memory_order_acquire);
  }
  const Limits& limits() const noexcept { return limits_; }

  // A shared counter asked for with another mode than it has (by another
  // process, or by this one: Registry::counter()).
  static std::invalid_argument mode_clash(std::string_view path,
                                          CounterMode existing,
                                          CounterMode requested) {
    return std::invalid_argument(
        "statusz: shared counter '" + std::string(path) +
        "' is registered with mode " + std::string(to_string(existing)) +
        ", not " + std::string(to_string(requested)));
  }

  // Finds or creates the directory entry of `path`. A keyed counter's
  // max_keys applies when it is created (the pool's, then). Throws
  // std::invalid_argument (path too long, another mode) and SharedStoreError
  // (directory, cells or key bytes full).
  Registration register_metric(std::string_view path, EntryKind kind,
                               CounterMode mode, Nanos now,
                               std::size_t max_keys = 0) {
    if (path.size() > kMaxPathBytes) {
      throw std::invalid_argument(
          "statusz: a shared registry's paths are at "
          "most 240 bytes: '" +
          std::string(path) + "'");
    }
    Locked g(*this);
    const std::uint32_t n = h_->entries.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < n; ++i) {
      Entry& e = entry(i);
      if (std::string_view(e.path, e.path_len) != path) continue;
      Registration r;
      if (e.kind != kind) {
        r.clash = true;
        r.existing_kind = e.kind;
        return r;
      }
      if (kind == kCounter && e.mode != static_cast<std::uint32_t>(mode)) {
        throw mode_clash(path, static_cast<CounterMode>(e.mode), mode);
      }
      return registration(i);
    }
    if (n >= h_->max_entries) {
      throw SharedStoreError(
          "statusz: shared registry '" + name_ + "' is full (" +
          std::to_string(n) +
          " metrics; SharedLimits::entries, Python shared_entries=)");
    }
    std::uint64_t want_cells = 1;
    std::uint64_t want_bytes = 0;
    if (kind == kKeyed) {
      if (max_keys == 0 || max_keys > kMaxKeys) {
        throw std::invalid_argument(
            "statusz: a shared keyed counter's max_keys must be 1 to " +
            std::to_string(kMaxKeys) + " ('" + std::string(path) + "')");
      }
      want_cells = std::uint64_t{max_keys} + 2;
      want_bytes = std::uint64_t{max_keys} * kKeyStride;
    }
    const std::uint32_t c = h_->cells.load(std::memory_order_relaxed);
    if (want_cells > h_->max_cells - c) {
      throw SharedStoreError(
          "statusz: shared registry '" + name_ + "' has " +
          std::to_string(h_->max_cells - c) + " of its " +
          std::to_string(h_->max_cells) + " cells left; '" + std::string(path) +
          "' needs " + std::to_string(want_cells) +
          " (1 per meter or counter, max_keys + 2 per keyed counter; "
          "SharedLimits::cells, Python shared_cells=)");
    }
    const std::uint64_t b = h_->key_bytes_used.load(std::memory_order_relaxed);
    if (want_bytes > h_->max_key_bytes - b) {
      throw SharedStoreError(
          "statusz: shared registry '" + name_ + "' has " +
          std::to_string(h_->max_key_bytes - b) + " of its " +
          std::to_string(h_->max_key_bytes) + " key bytes left; '" +
          std::string(path) + "' needs " + std::to_string(want_bytes) +
          " (max_keys x " + std::to_string(kKeyStride) +
          "; SharedLimits::key_bytes, Python shared_key_bytes=)");
    }
    const auto cells = static_cast<std::uint32_t>(want_cells);
    for (std::uint32_t k = 0; k < cells; ++k) {
      cell_mode()[c + k] = static_cast<std::uint8_t>(mode);
    }
    h_->cells.store(c + cells, std::memory_order_release);
    h_->key_bytes_used.store(b + want_bytes, std::memory_order_release);
    Entry& e = entry(n);
    std::memcpy(e.path, path.data(), path.size());
    e.path_len = static_cast<std::uint32_t>(path.size());
    e.kind = kind;
    e.mode = static_cast<std::uint32_t>(mode);
    e.cell = c;
    e.max_keys = kind == kKeyed ? static_cast<std::uint32_t>(max_keys) : 0;
    e.keys_offset = b;
    e.key_count.store(0, std::memory_order_relaxed);
    new (&e.meter) Meter::State(now);
    h_->entries.store(n + 1, std::memory_order_release);
    return registration(n);
  }

  // ---- SharedKeys -----------------------------------------------------------
  std::uint32_t key_count(std::uint32_t table) const noexcept override {
    return entry(table).key_count.load(std::memory_order_acquire);
  }
  std::string_view key_at(std::uint32_t table,
                          std::uint32_t i) const noexcept override {
    const char* k = key_record(entry(table), i);
    std::uint32_t len = 0;
    std::memcpy(&len, k, sizeof len);
    return {k + sizeof len, len};
  }
  std::int64_t insert_key(std::uint32_t table, std::string_view key,
                          std::uint32_t from) override {
    Locked g(*this);
    Entry& e = entry(table);
    const std::uint32_t n = e.key_count.load(std::memory_order_relaxed);
    for (std::uint32_t i = from; i < n; ++i) {
      if (key_at(table, i) == key) return i;
    }
    if (n >= e.max_keys || key.size() > kMaxKeyBytes) return -1;
    char* k = key_record(e, n);
    const auto len = static_cast<std::uint32_t>(key.size());
    std::memcpy(k, &len, sizeof len);
    std::memcpy(k + sizeof len, key.data(), key.size());
    e.key_count.store(n + 1, std::memory_order_release);
    return n;
  }
  bool sums(std::uint32_t first, std::uint32_t n,
            std::uint64_t* out) const noexcept override {
    if (!lock()) return false;
    for (std::uint32_t i = 0; i < n; ++i) {
      out[i] = retired(first + i).load(std::memory_order_relaxed);
    }
    for (std::uint32_t s = 0; s < h_->max_slots; ++s) {
      if (s != 0 && slot(s).state.load(std::memory_order_acquire) == kFree) {
        continue;
      }
      for (std::uint32_t i = 0; i < n; ++i) {
        out[i] += slot_cell(s, first + i).load(std::memory_order_relaxed);
      }
    }
    unlock();
    return true;
  }

  // Folds the slots of dead processes (what a render does first).
  void reap() noexcept {
    if (!lock()) return;
    reap_locked();
    unlock();
  }

  // ---- SharedCells ----------------------------------------------------------
  void add_slow(std::uint32_t index, std::uint64_t n) noexcept override {
    std::uint64_t* cells = thread_cells();
    if (cells == nullptr) {
      common_cell(index).fetch_add(n, std::memory_order_relaxed);
      return;
    }
    CellSpace::bump(*reinterpret_cast<CellSpace::Cell*>(cells + index), n);
  }

  std::uint64_t value(std::uint32_t index) const noexcept override {
    if (!lock()) return 0;
    const std::uint64_t v = value_locked(index);
    unlock();
    return v;
  }

  void set_own(std::uint32_t index, std::uint64_t v) noexcept override {
    std::uint64_t* cells = thread_cells();
    if (!lock()) return;
    const ProcessIdentity me = current_identity();
    std::uint64_t own = 0;
    for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
      const SlotHeader& sh = slot(s);
      const std::uint32_t st = sh.state.load(std::memory_order_acquire);
      if ((st == kOwned || st == kParked) && sh.pid == me.pid &&
          sh.start == me.start && sh.token == id_) {
        own += slot_cell(s, index).load(std::memory_order_relaxed);
      }
    }
    if (cells != nullptr) {
      CellSpace::bump(*reinterpret_cast<CellSpace::Cell*>(cells + index),
                      v - own);
    } else {
      common_cell(index).fetch_add(v - own, std::memory_order_relaxed);
    }
    unlock();
  }

  // ---- MeterShared ----------------------------------------------------------
  // The robust mutex; recovers a fold its dead owner left half done.
  bool lock() const noexcept override {
    const int rc = ::pthread_mutex_lock(&h_->mutex);
    if (rc == 0) return true;
    if (rc == EOWNERDEAD) {
      const_cast<SharedStore*>(this)->recover_locked();
      ::pthread_mutex_consistent(&h_->mutex);
      return true;
    }
    return false;
  }
  void unlock() const noexcept override { ::pthread_mutex_unlock(&h_->mutex); }

  std::uint64_t count_locked(std::uint32_t index) const noexcept override {
    return value_locked(index);
  }

 private:
  static constexpr char kMagic[8] = {'S', 'T', 'Z', 'S', 'H', 'M', '1', '\0'};
  // A shared keyed counter's keys: KeyedCounter's default max_key_bytes,
  // each stored after its 4-byte length in a record of kKeyStride bytes.
  static constexpr std::size_t kMaxKeyBytes = KeyedCounter::kDefaultMaxKeyBytes;
  static constexpr std::size_t kKeyStride =
      (4 + kMaxKeyBytes + 7) & ~std::size_t{7};
  static constexpr std::size_t kMaxKeys = KeyedCounter::kMaxKeysLimit;

  struct Header {
    char magic[8];
    std::uint32_t layout_version;
    std::uint32_t header_bytes;
    std::uint32_t entry_bytes;
    std::uint32_t meter_state_bytes;
    std::uint32_t slot_header_bytes;
    std::uint32_t max_slots;
    std::uint32_t max_cells;
    std::uint32_t max_entries;
    std::uint64_t max_key_bytes;
    std::uint64_t segment_bytes;
    std::atomic<std::uint32_t> ready;
    std::atomic<std::uint32_t> entries;
    std::atomic<std::uint32_t> cells;
    std::atomic<std::uint64_t> key_bytes_used;
    // The fold in progress: slot, cell, and the cell's retired total before.
    std::uint32_t journal_active;
    std::uint32_t journal_slot;
    std::uint32_t journal_cell;
    std::uint64_t journal_retired;
    pthread_mutex_t mutex;
  };

  struct Entry {
    char path[kMaxPathBytes];
    std::uint32_t path_len;
    std::uint32_t kind;
    std::uint32_t mode;
    std::uint32_t cell;      // a keyed counter's first (max_keys + 2 cells)
    std::uint32_t max_keys;  // a keyed counter's
    std::atomic<std::uint32_t> key_count;  // published keys
    std::uint64_t keys_offset;  // of its key records in the key bytes
    Meter::State meter;
  };

  struct alignas(64) SlotHeader {
    std::atomic<std::uint32_t> state;
    std::int32_t pid;
    std::uint64_t start;
    std::uint64_t token;  // the SharedStore (in process pid) that owns it
  };

  static constexpr std::size_t align64(std::size_t n) noexcept {
    return (n + 63) & ~std::size_t{63};
  }

  // Offsets of the regions, from the limits.
  struct Layout {
    std::size_t retired, modes, entries, keys, slots, slot_stride, total;
    explicit Layout(const Limits& l) noexcept {
      retired = align64(sizeof(Header));
      modes = align64(retired + std::size_t{l.cells} * 8);
      entries = align64(modes + l.cells);
      keys = align64(entries + std::size_t{l.entries} * sizeof(Entry));
      slots = align64(keys + static_cast<std::size_t>(l.key_bytes));
      slot_stride = align64(sizeof(SlotHeader) + std::size_t{l.cells} * 8);
      total = slots + std::size_t{l.slots + 1} * slot_stride;
    }
  };

  Registration registration(std::uint32_t i) noexcept {
    Entry& e = entry(i);
    Registration r;
    r.cell = CellIndex::Shared{this, id_, e.cell};
    if (e.kind == kMeter) r.meter = &e.meter;
    if (e.kind == kKeyed) {
      r.keyed = KeyedCounter::Shared{this,   this,       id_,         i,
                                     e.cell, e.max_keys, kMaxKeyBytes};
    }
    return r;
  }

  char* key_record(const Entry& e, std::uint32_t i) const noexcept {
    return base_ + layout_.keys + e.keys_offset + std::size_t{i} * kKeyStride;
  }
  enum SlotState : std::uint32_t {
    kFree = 0,
    kOwned = 1,   // a thread of process (pid, start) counts into it
    kParked = 2,  // process (pid, start) is alive, none of its threads has it
    kCommon = 3,  // slot 0: atomic adds of threads without a slot
  };

  // Process-local map of open stores by id (thread exit parks slots through
  // it; an id is never reused, so a closed store is simply not found).
  class Table {
   public:
    void add(std::uint64_t id, SharedStore* s) {
      ForkGate::Section gate;
      std::lock_guard<std::mutex> g(mu_);
      map_[id] = s;
    }
    void remove(std::uint64_t id) noexcept {
      ForkGate::Section gate;
      std::lock_guard<std::mutex> g(mu_);
      map_.erase(id);
    }
    template <class F>
    void with(std::uint64_t id, F&& f) noexcept {
      ForkGate::Section gate;
      std::lock_guard<std::mutex> g(mu_);
      const auto it = map_.find(id);
      if (it != map_.end()) f(*it->second);
    }

   private:
    std::mutex mu_;
    std::unordered_map<std::uint64_t, SharedStore*> map_;
  };
  static Table& table() {
    static auto* t = new Table();  // leaked: threads exit after statics die
    return *t;
  }

  static std::uint64_t next_id() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  // The calling thread's slots, one per store it counted into.
  struct ThreadSlots {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> list;
    bool exited = false;
    ~ThreadSlots() {
      shared_local() = SharedLocal{0, nullptr};
      exited = true;
      for (const auto& [id, s] : list) {
        table().with(id, [s = s](SharedStore& store) { store.park(s); });
      }
      list.clear();
    }
  };
  static ThreadSlots& thread_slots() {
    static thread_local ThreadSlots t;
    return t;
  }

  static void install_fork_handler() {
    static const bool installed = [] {
      ForkGate::instance().add_child_handler([] {
        // The parent's slots are not this process's.
        shared_local() = SharedLocal{0, nullptr};
        thread_slots().list.clear();
      });
      return true;
    }();
    (void)installed;
  }

  ProcessIdentity current_identity() const noexcept {
    try {
      return self_identity();
    } catch (...) {
      return me_;
    }
  }

  // The calling thread's cells in this store (claiming a slot the first
  // time), cached in shared_local(); nullptr: count into the common slot.
  std::uint64_t* thread_cells() noexcept {
    try {
      ThreadSlots& ts = thread_slots();
      if (ts.exited) return nullptr;
      std::uint32_t s = 0;
      for (const auto& [id, owned] : ts.list) {
        if (id == id_) s = owned;
      }
      if (s == 0) {
        ts.list.reserve(ts.list.size() + 1);
        s = claim();
        if (s == 0) return nullptr;
        ts.list.emplace_back(id_, s);
      }
      auto* cells = reinterpret_cast<std::uint64_t*>(
          reinterpret_cast<char*>(&slot(s)) + sizeof(SlotHeader));
      shared_local() =
          SharedLocal{id_, reinterpret_cast<CellSpace::Cell*>(cells)};
      return cells;
    } catch (...) {
      return nullptr;
    }
  }

  // A slot for the calling thread: one its process parked, a free one, or
  // one freed by reaping. 0 if none.
  std::uint32_t claim() {
    const ProcessIdentity me = self_identity();
    Locked g(*this);
    for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
      SlotHeader& sh = slot(s);
      std::uint32_t parked = kParked;
      if (sh.state.load(std::memory_order_acquire) == kParked &&
          sh.pid == me.pid && sh.start == me.start && sh.token == id_ &&
          sh.state.compare_exchange_strong(parked, kOwned,
                                           std::memory_order_acq_rel)) {
        return s;
      }
    }
    for (int pass = 0; pass < 2; ++pass) {
      for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
        SlotHeader& sh = slot(s);
        if (sh.state.load(std::memory_order_acquire) == kFree) {
          sh.pid = me.pid;
          sh.start = me.start;
          sh.token = id_;
          sh.state.store(kOwned, std::memory_order_release);
          return s;
        }
      }
      if (pass == 0) reap_locked();
    }
    return 0;
  }

  void park(std::uint32_t s) noexcept {
    std::uint32_t owned = kOwned;
    slot(s).state.compare_exchange_strong(owned, kParked,
                                          std::memory_order_acq_rel);
  }

  void reap_locked() noexcept {
    // One liveness check per process.
    std::pair<std::int32_t, std::uint64_t> seen[16];
    bool alive[16] = {};
    std::size_t n_seen = 0;
    for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
      SlotHeader& sh = slot(s);
      const std::uint32_t st = sh.state.load(std::memory_order_acquire);
      if (st != kOwned && st != kParked) continue;
      bool live = false;
      bool known = false;
      for (std::size_t i = 0; i < n_seen; ++i) {
        if (seen[i].first == sh.pid && seen[i].second == sh.start) {
          live = alive[i];
          known = true;
        }
      }
      if (!known) {
        live = process_alive(sh.pid, sh.start);
        if (n_seen < 16) {
          seen[n_seen] = {sh.pid, sh.start};
          alive[n_seen++] = live;
        }
      }
      if (!live) fold_locked(s);
    }
  }

  // Moves slot s's counts to the retired totals (sum mode) and frees it.
  void fold_locked(std::uint32_t s) noexcept {
    const std::uint32_t used = h_->cells.load(std::memory_order_acquire);
    const std::uint8_t* modes = cell_mode();
    for (std::uint32_t c = 0; c < used; ++c) {
      std::atomic<std::uint64_t>& cell = slot_cell(s, c);
      const std::uint64_t v = cell.load(std::memory_order_relaxed);
      if (v == 0) continue;
      if (modes[c] == static_cast<std::uint8_t>(CounterMode::Sum)) {
        h_->journal_slot = s;
        h_->journal_cell = c;
        h_->journal_retired = retired(c).load(std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        h_->journal_active = 1;
        std::atomic_signal_fence(std::memory_order_seq_cst);
        retired(c).store(h_->journal_retired + v, std::memory_order_relaxed);
        cell.store(0, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        h_->journal_active = 0;
      } else {
        cell.store(0, std::memory_order_relaxed);
      }
    }
    SlotHeader& sh = slot(s);
    sh.pid = 0;
    sh.start = 0;
    sh.token = 0;
    sh.state.store(kFree, std::memory_order_release);
  }

  // After EOWNERDEAD: finishes the journaled fold of one cell.
  void recover_locked() noexcept {
    if (h_->journal_active == 0) return;
    const std::uint32_t s = h_->journal_slot;
    const std::uint32_t c = h_->journal_cell;
    if (s < h_->max_slots && c < h_->max_cells) {
      std::atomic<std::uint64_t>& cell = slot_cell(s, c);
      const std::uint64_t v = cell.load(std::memory_order_relaxed);
      if (v != 0) {
        retired(c).store(h_->journal_retired + v, std::memory_order_relaxed);
        cell.store(0, std::memory_order_relaxed);
      }
    }
    h_->journal_active = 0;
  }

  std::uint64_t value_locked(std::uint32_t index) const noexcept {
    const auto mode = static_cast<CounterMode>(cell_mode()[index]);
    if (mode != CounterMode::Sum) const_cast<SharedStore*>(this)->reap_locked();
    std::uint64_t total = 0;
    if (mode == CounterMode::Sum) {
      total = retired(index).load(std::memory_order_relaxed);
    }
    total += slot_cell(0, index).load(std::memory_order_relaxed);
    if (mode == CounterMode::Sum || mode == CounterMode::LiveSum) {
      for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
        if (slot(s).state.load(std::memory_order_acquire) != kFree) {
          total += slot_cell(s, index).load(std::memory_order_relaxed);
        }
      }
      return total;
    }
    // Max / min over processes: each process's value is its slots' sum.
    std::vector<
        std::pair<std::pair<std::int32_t, std::uint64_t>, std::uint64_t>>
        per;
    try {
      for (std::uint32_t s = 1; s < h_->max_slots; ++s) {
        const SlotHeader& sh = slot(s);
        if (sh.state.load(std::memory_order_acquire) == kFree) continue;
        const std::uint64_t v =
            slot_cell(s, index).load(std::memory_order_relaxed);
        bool found = false;
        for (auto& p : per) {
          if (p.first.first == sh.pid && p.first.second == sh.start) {
            p.second += v;
            found = true;
          }
        }
        if (!found) per.push_back({{sh.pid, sh.start}, v});
      }
    } catch (...) {
      return 0;
    }
    if (per.empty()) return 0;
    auto best = static_cast<std::int64_t>(per.front().second);
    for (const auto& p : per) {
      const auto v = static_cast<std::int64_t>(p.second);
      best = mode == CounterMode::Max ? std::max(best, v) : std::min(best, v);
    }
    return static_cast<std::uint64_t>(best);
  }

  void open_segment(const Limits& limits) {
    const Layout layout(limits);
    int fd = ::open(path_.c_str(),
                    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    const bool creator = fd >= 0;
    if (!creator) {
      if (errno != EEXIST) fail("cannot create");
      fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) fail("cannot open");
    }
    struct Fd {
      int fd;
      ~Fd() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail("cannot stat");
    if (st.st_uid != ::geteuid() || (st.st_mode & 0077) != 0 ||
        !S_ISREG(st.st_mode)) {
      throw SharedStoreError("statusz: shared registry '" + name_ + "' (" +
                             path_ +
                             ") is not a private (0600) file of this user");
    }
    if (creator) {
      if (::fchmod(fd, 0600) != 0 ||
          ::ftruncate(fd, static_cast<off_t>(layout.total)) != 0) {
        const int err = errno;
        ::unlink(path_.c_str());
        errno = err;
        fail("cannot size");
      }
      map(fd, layout.total);
      init(limits, layout);
      return;
    }
    // Joining: wait (briefly) for the creator to size and initialise it.
    for (int i = 0;; ++i) {
      if (::fstat(fd, &st) != 0) fail("cannot stat");
      if (static_cast<std::size_t>(st.st_size) >= sizeof(Header)) {
        map(fd, static_cast<std::size_t>(st.st_size));
        if (h_->ready.load(std::memory_order_acquire) == 1) break;
        ::munmap(base_, size_);
        base_ = nullptr;
      }
      if (i == 5000) {
        throw SharedStoreError("statusz: shared registry '" + name_ + "' (" +
                               path_ +
                               ") was never initialised (its creator died?); "
                               "remove it");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    check(limits, layout);
  }

  void map(int fd, std::size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) fail("cannot map");
    base_ = static_cast<char*>(p);
    size_ = size;
    h_ = reinterpret_cast<Header*>(base_);
  }

  void init(const Limits& limits, const Layout& layout) {
    Header& h = *h_;
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.layout_version = kLayoutVersion;
    h.header_bytes = sizeof(Header);
    h.entry_bytes = sizeof(Entry);
    h.meter_state_bytes = sizeof(Meter::State);
    h.slot_header_bytes = sizeof(SlotHeader);
    h.max_slots = limits.slots + 1;
    h.max_cells = limits.cells;
    h.max_entries = limits.entries;
    h.max_key_bytes = limits.key_bytes;
    h.segment_bytes = layout.total;
    pthread_mutexattr_t attr;
    ::pthread_mutexattr_init(&attr);
    ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    const int rc = ::pthread_mutex_init(&h.mutex, &attr);
    ::pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
      errno = rc;
      fail("cannot initialise the mutex of");
    }
    layout_ = layout;
    limits_ = limits;
    slot(0).state.store(kCommon, std::memory_order_relaxed);
    h.ready.store(1, std::memory_order_release);
  }

  void check(const Limits& limits, const Layout& layout) {
    const Header& h = *h_;
    const bool same_layout = std::memcmp(h.magic, kMagic, sizeof kMagic) == 0 &&
                             h.layout_version == kLayoutVersion &&
                             h.header_bytes == sizeof(Header) &&
                             h.entry_bytes == sizeof(Entry) &&
                             h.meter_state_bytes == sizeof(Meter::State) &&
                             h.slot_header_bytes == sizeof(SlotHeader);
    if (same_layout &&
        (h.max_slots != limits.slots + 1 || h.max_cells != limits.cells ||
         h.max_entries != limits.entries ||
         h.max_key_bytes != limits.key_bytes)) {
      throw SharedStoreError(
          "statusz: shared registry '" + name_ + "' (" + path_ +
          ") was created with other limits (slots " +
          std::to_string(h.max_slots - 1) + ", cells " +
          std::to_string(h.max_cells) + ", entries " +
          std::to_string(h.max_entries) + ", key_bytes " +
          std::to_string(h.max_key_bytes) +
          "); every process of a pool must open it with the same ones");
    }
    if (!same_layout || h.segment_bytes != layout.total ||
        size_ != layout.total) {
      throw SharedStoreError(
          "statusz: shared registry '" + name_ + "' (" + path_ +
          ") has layout version " + std::to_string(h.layout_version) +
          " (or other sizes); this process was built with layout version " +
          std::to_string(kLayoutVersion) +
          " and cannot join it. Stop the processes using it and remove it.");
    }
    layout_ = layout;
    limits_ = limits;
  }

  [[noreturn]] void fail(const char* what) const {
    throw SharedStoreError("statusz: " + std::string(what) +
                           " shared registry '" + name_ + "' (" + path_ +
                           "): " + std::strerror(errno));
  }

  // The store's mutex, as a scope (throws if it cannot be taken).
  class Locked {
   public:
    explicit Locked(const SharedStore& s) : s_(s) {
      if (!s_.lock()) {
        throw SharedStoreError("statusz: the lock of shared registry '" +
                               s_.name_ + "' is unrecoverable");
      }
    }
    ~Locked() { s_.unlock(); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;

   private:
    const SharedStore& s_;
  };

  std::atomic<std::uint64_t>& retired(std::uint32_t c) const noexcept {
    return reinterpret_cast<std::atomic<std::uint64_t>*>(base_ +
                                                         layout_.retired)[c];
  }
  std::uint8_t* cell_mode() const noexcept {
    return reinterpret_cast<std::uint8_t*>(base_ + layout_.modes);
  }
  Entry& entry(std::uint32_t i) const noexcept {
    return reinterpret_cast<Entry*>(base_ + layout_.entries)[i];
  }
  SlotHeader& slot(std::uint32_t s) const noexcept {
    return *reinterpret_cast<SlotHeader*>(base_ + layout_.slots +
                                          s * layout_.slot_stride);
  }
  std::atomic<std::uint64_t>& slot_cell(std::uint32_t s,
                                        std::uint32_t c) const noexcept {
    return reinterpret_cast<std::atomic<std::uint64_t>*>(
        reinterpret_cast<char*>(&slot(s)) + sizeof(SlotHeader))[c];
  }
  std::atomic<std::uint64_t>& common_cell(std::uint32_t c) const noexcept {
    return slot_cell(0, c);
  }

  std::string name_;
  std::string path_;
  std::uint64_t id_;
  ProcessIdentity me_;
  char* base_ = nullptr;
  std::size_t size_ = 0;
  Header* h_ = nullptr;
  Layout layout_{Limits{}};
  Limits limits_{};
};

}  // namespace detail
}  // namespace statusz
