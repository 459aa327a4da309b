// statusz::Counter: a signed 64-bit value that goes up and down, for volumes
// (connected people, current dialogs) and customs (sessions).
//
// One relaxed atomic on a cache line of its own: inc/dec/set/value are single
// lock-free instructions, no allocation, no system call. set() is exact even
// with concurrent inc/dec (each operation is atomic), which per-thread cells
// could not give; for a value counted from many threads at very high rates,
// prefer a Meter, whose mark() does not contend.
// Thread-safety: every member is safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace statusz {

class alignas(64) Counter {
 public:
  Counter() = default;
  explicit Counter(std::int64_t initial) : value_(initial) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(std::int64_t n = 1) noexcept {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  void dec(std::int64_t n = 1) noexcept {
    value_.fetch_sub(n, std::memory_order_relaxed);
  }
  void set(std::int64_t v) noexcept {
    value_.store(v, std::memory_order_relaxed);
  }
  std::int64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> value_{0};
};

}  // namespace statusz
