// statusz::Meter: counts events and gives their mean rate and 1-, 5- and
// 15-minute exponentially weighted moving averages, in events per second, with
// the semantics of Dropwizard Metrics' Meter (see docs in README): ticks every
// 5 s counted from the meter's creation, alpha = 1 - exp(-5/60/N), the first
// tick sets the rate, each interval's events count in their own interval.
//
// Cost: mark() is a relaxed load + store on a cell owned by the calling thread
// (detail::CellSpace), always inlined: no lock, no read-modify-write, no clock
// read, no allocation after the thread's first mark. The clock samples the
// cumulative count at each 5 s boundary (a background thread for SteadyClock,
// synchronously in ManualClock::advance()); any run of idle intervals is
// caught up in O(1). Reading one rate (one_minute_rate() ...) reads the time
// and, when no tick is due, two atomics: no lock (for the default clock the
// time is CLOCK_MONOTONIC_COARSE on Linux, which lags by at most a kernel
// tick, so a read up to ~4 ms after a boundary may still give the rate from
// before it). snapshot(), count() and a read that finds a tick due take the
// meter's own mutex, which writers never touch. Memory: ~230 bytes plus 8
// bytes per counting thread.
// Thread-safety: every member is safe to call from any thread. A Meter must
// not be destroyed while another thread marks or reads it, nor outlive its
// clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <ctime>  // clock_gettime, CLOCK_MONOTONIC_COARSE (POSIX, Linux)

#include "clock.hpp"
#include "detail/cells.hpp"

namespace statusz {

struct MeterSnapshot {
  std::uint64_t count = 0;
  double mean_rate = 0;
  double one_minute_rate = 0;
  double five_minute_rate = 0;
  double fifteen_minute_rate = 0;
};

class Meter final : private detail::Tickable {
 public:
  static constexpr Nanos kTickInterval = std::chrono::seconds(5);

  explicit Meter(Clock& clock = default_clock())
      : clock_(&clock),
        start_(clock.now()),
        next_tick_(start_ + kTickInterval) {
    published_next_.store(next_tick_.count(), std::memory_order_relaxed);
    clock_->attach(*this);
  }
  ~Meter() { clock_->detach(*this); }
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  STATUSZ_ALWAYS_INLINE void mark(std::uint64_t n = 1) noexcept {
    cell_.add(n);
  }

  std::uint64_t count() const noexcept { return cell_.sum(); }
  double mean_rate() const { return snapshot().mean_rate; }
  double one_minute_rate() const {
    return rate(published_m1_, &MeterSnapshot::one_minute_rate);
  }
  double five_minute_rate() const {
    return rate(published_m5_, &MeterSnapshot::five_minute_rate);
  }
  double fifteen_minute_rate() const {
    return rate(published_m15_, &MeterSnapshot::fifteen_minute_rate);
  }

  // All five figures, consistent with one another.
  MeterSnapshot snapshot() const {
    const Nanos now = clock_->now();
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    catch_up(now);
    publish_locked();
    MeterSnapshot s;
    s.count = cell_.sum();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    s.mean_rate = (s.count == 0 || elapsed <= 0)
                      ? 0.0
                      : static_cast<double>(s.count) / elapsed;
    s.one_minute_rate = m1_.rate;
    s.five_minute_rate = m5_.rate;
    s.fifteen_minute_rate = m15_.rate;
    return s;
  }

  const Clock& clock() const noexcept { return *clock_; }

 private:
  struct Ewma {
    double minutes;
    double alpha;
    double rate = 0;

    explicit Ewma(double m) : minutes(m), alpha(-std::expm1(-5.0 / 60.0 / m)) {}
    void tick(double instant_rate, bool first) {
      rate = first ? instant_rate : rate + alpha * (instant_rate - rate);
    }
    // n ticks with no events: rate *= (1 - alpha)^n, in closed form.
    void idle_ticks(std::int64_t n) {
      rate *= std::exp(-5.0 / 60.0 / minutes * static_cast<double>(n));
    }
  };

  void tick_until(Nanos now) noexcept override {
    std::lock_guard<std::mutex> g(mu_);
    catch_up(now);
    publish_locked();
  }
  Nanos next_tick() const noexcept override {
    return Nanos(next_tick_atomic_.load(std::memory_order_relaxed));
  }

  // Whether a tick is due at `now` when the next boundary is `next`: the rule
  // catch_up() applies (keep the two in step).
  static bool tick_due(Nanos now, Nanos next) noexcept { return now >= next; }

  // A rate as last ticked when no tick is due: two atomic loads and a time
  // read, no lock. Otherwise through snapshot(), which ticks.
  double rate(const std::atomic<double>& published,
              double MeterSnapshot::*field) const {
    const Nanos next(published_next_.load(std::memory_order_acquire));
    if (!tick_due(read_now(), next)) {
      return published.load(std::memory_order_relaxed);
    }
    return snapshot().*field;
  }

  // The time for rate(): for a SteadyClock, CLOCK_MONOTONIC_COARSE (the same
  // origin as std::chrono::steady_clock on Linux, never ahead of it, a few ns
  // through the vDSO instead of ~20); clock_->now() otherwise.
  Nanos read_now() const noexcept {
#if defined(__linux__) && defined(CLOCK_MONOTONIC_COARSE)
    if (coarse_) {
      timespec ts{};
      if (::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
        return Nanos(std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec);
      }
    }
#endif
    return clock_->now();
  }
  static bool is_steady(const Clock& clock) noexcept {
#if defined(__cpp_rtti) || defined(__GXX_RTTI) || defined(_CPPRTTI)
    return dynamic_cast<const SteadyClock*>(&clock) != nullptr;
#else
    (void)clock;
    return false;
#endif
  }

  // Makes the rates of the last catch_up() visible to rate(). Under mu_.
  void publish_locked() const noexcept {
    published_m1_.store(m1_.rate, std::memory_order_relaxed);
    published_m5_.store(m5_.rate, std::memory_order_relaxed);
    published_m15_.store(m15_.rate, std::memory_order_relaxed);
    published_next_.store(next_tick_.count(), std::memory_order_release);
  }

  // Processes every boundary <= now. The events counted since the last
  // boundary all belong to the first boundary crossed; later ones are idle.
  void catch_up(Nanos now) const noexcept {
    if (now < next_tick_) return;
    const std::int64_t due = (now - next_tick_) / kTickInterval + 1;
    const std::uint64_t total = cell_.sum();
    const double instant = static_cast<double>(total - last_count_) /
                           std::chrono::duration<double>(kTickInterval).count();
    last_count_ = total;
    const bool first = !initialized_;
    initialized_ = true;
    for (Ewma* e : {&m1_, &m5_, &m15_}) {
      e->tick(instant, first);
      if (due > 1) e->idle_ticks(due - 1);
    }
    next_tick_ += kTickInterval * due;
    next_tick_atomic_.store(next_tick_.count(), std::memory_order_relaxed);
  }

  Clock* clock_;
  detail::CellIndex cell_;
  const Nanos start_;
  mutable std::mutex mu_;
  mutable Nanos next_tick_;
  mutable std::atomic<std::int64_t> next_tick_atomic_{next_tick_.count()};
  mutable std::uint64_t last_count_ = 0;
  mutable bool initialized_ = false;
  mutable Ewma m1_{1}, m5_{5}, m15_{15};
  const bool coarse_ = is_steady(*clock_);
  mutable std::atomic<std::int64_t> published_next_{0};
  mutable std::atomic<double> published_m1_{0}, published_m5_{0},
      published_m15_{0};
};

}  // namespace statusz
