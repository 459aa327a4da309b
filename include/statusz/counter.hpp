// statusz::Counter: a signed 64-bit value that goes up and down, for volumes
// (connected people, current dialogs) and customs (sessions).
//
// The value is a base plus per-thread cells (detail::CellSpace, as a Meter):
// inc()/dec() add to the calling thread's own cell, a relaxed load + store,
// always inlined: no lock, no read-modify-write, no shared cache line between
// writers, no allocation after the thread's first inc. value() reads the base,
// then sums the cells over the threads that counted (O(threads)). Arithmetic
// is modulo 2^64, read back as two's complement: inc past INT64_MAX wraps.
//
// set(v) reads the cells and stores base = v - their sum. Without racing
// writers, value() is v afterwards, exactly. A set(v) racing inc()/dec() on
// other threads gives v plus the racing increments that set() did not see:
// each racing call is wholly before the set (its amount is overwritten) or
// wholly after it (its amount counts on top of v), never half of either; every
// call that returned before set() began is overwritten and every call that
// began after set() returned counts. Of two racing set() calls the one that
// stores last wins, as if it had happened when it read the cells. A value()
// racing set() gives the value from before or from after the set.
// A counter of a shared registry (shared.hpp) counts into the pool's store:
// value() is the pool's value under the counter's mode (sum, max, min,
// live-sum), and set(v) makes the calling process's own value v.
// Thread-safety: every member is safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "detail/cells.hpp"

namespace statusz {

class Counter {
 public:
  Counter() = default;
  explicit Counter(std::int64_t initial)
      : base_(static_cast<std::uint64_t>(initial)) {}
  // A counter of a shared registry: its cell lives in the store.
  explicit Counter(detail::CellIndex::Shared cell) : cell_(cell) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  STATUSZ_ALWAYS_INLINE void inc(std::int64_t n = 1) noexcept {
    cell_.add(static_cast<std::uint64_t>(n));
  }
  STATUSZ_ALWAYS_INLINE void dec(std::int64_t n = 1) noexcept {
    cell_.add(std::uint64_t{0} - static_cast<std::uint64_t>(n));
  }
  void set(std::int64_t v) noexcept {
    if (detail::SharedCells* shared = cell_.shared()) {
      shared->set_own(cell_.index(), static_cast<std::uint64_t>(v));
      return;
    }
    const std::uint64_t seen = cell_.sum();
    base_.store(static_cast<std::uint64_t>(v) - seen,
                std::memory_order_release);
  }
  std::int64_t value() const noexcept {
    // The base first: a base stored by set() orders the cell reads after the
    // ones set() made, so the sum never lacks what set() subtracted.
    const std::uint64_t base = base_.load(std::memory_order_acquire);
    return static_cast<std::int64_t>(base + cell_.sum());
  }

 private:
  detail::CellIndex cell_;
  std::atomic<std::uint64_t> base_{0};
};

}  // namespace statusz
