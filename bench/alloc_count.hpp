// Allocation accounting for the benchmark binary.
//
// alloc_count.cpp replaces every form of the global operator new and delete
// (plain, array, nothrow, sized, aligned). Each block carries a small header
// with its requested size, so a delete knows what it gives back even when the
// caller does not say (unsized delete, as statusz uses for its raw blocks).
// Counting is off by default, so the timed benchmarks pay only the header and
// one relaxed load per call; a memory benchmark turns it on around the code it
// measures and reads the live-byte difference.
#pragma once

#include <cstdint>

namespace statusz_bench {

struct AllocStats {
  std::int64_t live_bytes = 0;   // requested bytes allocated minus freed
  std::int64_t allocations = 0;  // operator new calls
  std::int64_t frees = 0;        // operator delete calls
  std::int64_t allocated_bytes =
      0;  // requested bytes of all operator new calls
};

// Turns counting on (and zeroes the counters) until stop_counting().
void start_counting() noexcept;
AllocStats stop_counting() noexcept;
// The counters so far, while counting.
AllocStats current_counts() noexcept;

// RAII: counts for the lifetime of the object.
class CountingScope {
 public:
  CountingScope() noexcept { start_counting(); }
  ~CountingScope() {
    if (!stopped_) stop_counting();
  }
  AllocStats stop() noexcept {
    stopped_ = true;
    return stop_counting();
  }
  CountingScope(const CountingScope&) = delete;
  CountingScope& operator=(const CountingScope&) = delete;

 private:
  bool stopped_ = false;
};

}  // namespace statusz_bench
