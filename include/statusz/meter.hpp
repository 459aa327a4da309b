// statusz::Meter: counts events and gives their mean rate and 1-, 5- and
// 15-minute exponentially weighted moving averages, in events per second, with
// the figures of Dropwizard Metrics' Meter (metrics-core 4.2) on any timeline:
// alpha = 1 - exp(-5/60/N), the first tick sets the rate, and Dropwizard's
// tick rule exactly (ExponentialMovingAverages.tickIfNecessary): a mark or a
// read at time t ticks only when t - last_tick > 5 s, (t - last_tick) / 5 s
// times, the first tick taking every event marked before t, and moves
// last_tick to t - (t - last_tick) % 5 s (boundaries stay 5 s apart from the
// meter's creation); 9231 or more ticks due at once (Dropwizard's maxTicks,
// ~12.8 h idle) reset the rates instead. Checked against the real jar
// (tests/data/dropwizard-meter-reference.txt, scripts/dropwizard-reference).
//
// Cost: mark() is one add to a cell owned by the calling thread
// (detail::CellSpace), always inlined: no lock, no read-modify-write, no clock
// read, no allocation after the thread's first mark. Since mark() does not
// read the clock, the clock tells the meter when time enters a new region (a
// boundary instant, or the open interval between two boundaries: a background
// thread for SteadyClock, synchronously in ManualClock::advance()); the count
// seen then is the count before any mark in that region, and a count that
// changed within a region is Dropwizard's mark there. Any run of idle ticks is
// caught up in O(1). Reading one rate (one_minute_rate() ...) reads the time
// and, when no tick is due, two atomics: no lock (for the default clock the
// time is CLOCK_MONOTONIC_COARSE on Linux, which lags by at most a kernel
// tick, so a read up to ~4 ms after a boundary may still give the rate from
// before it). snapshot(), mean_rate() and a read that finds a tick due take
// the meter's own mutex, which writers never touch. Memory: ~260 bytes plus 8
// bytes per counting thread.
// Exceptions to Dropwizard's figures: mark(0) is not seen (Dropwizard's
// mark(0) can tick), the mean rate is 0 rather than infinite at the creation
// instant, mean_rate() ticks (Dropwizard's getMeanRate() does not), and with
// SteadyClock marks within microseconds after a boundary may count before it.
// Rates agree to ~1e-12 relative (idle ticks in closed form).
// Thread-safety: every member is safe to call from any thread. A Meter must
// not be destroyed while another thread marks or reads it, nor outlive its
// clock.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>  // clock_gettime, CLOCK_MONOTONIC_COARSE (POSIX, Linux)
#include <limits>
#include <mutex>

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
  // Dropwizard's maxTicks: this many ticks due at once reset the rates.
  static constexpr std::int64_t kMaxTicks = 9231;

  explicit Meter(Clock& clock = default_clock())
      : clock_(&clock),
        start_(clock.now()),
        last_tick_(start_),
        region_time_(start_),
        next_region_(detail::saturating_add(start_, Nanos(1))) {
    published_next_.store(
        detail::saturating_add(last_tick_, kTickInterval).count(),
        std::memory_order_relaxed);
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
    // Dropwizard's EWMA.reset(): the smallest normal double per nanosecond.
    void reset() { rate = std::numeric_limits<double>::min() * 1e9; }
  };

  void tick_until(Nanos now) noexcept override {
    std::lock_guard<std::mutex> g(mu_);
    observe(now);
    publish_locked();
  }
  Nanos next_tick() const noexcept override {
    return Nanos(next_tick_atomic_.load(std::memory_order_relaxed));
  }

  // Whether a read at `now` would tick, when the last tick was at `next` - 5 s:
  // Dropwizard's rule (more than 5 s since the last tick), as
  // tick_if_necessary() applies it (keep the two in step).
  static bool tick_due(Nanos now, Nanos next) noexcept { return now > next; }

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

  // Makes the rates of the last tick visible to rate(). Under mu_.
  void publish_locked() const noexcept {
    published_m1_.store(m1_.rate, std::memory_order_relaxed);
    published_m5_.store(m5_.rate, std::memory_order_relaxed);
    published_m15_.store(m15_.rate, std::memory_order_relaxed);
    published_next_.store(
        detail::saturating_add(last_tick_, kTickInterval).count(),
        std::memory_order_release);
  }

  // A read at `now`: Dropwizard's tickIfNecessary() at now, counting the
  // events marked before the current region.
  void catch_up(Nanos now) const noexcept {
    observe(now);
    tick_if_necessary(std::max(now, region_time_), region_count_);
  }

  // Called when time may have entered a new region: a count that changed since
  // the region's start means a mark there, which ticked first (Dropwizard's
  // mark() ticks before it counts).
  void observe(Nanos now) const noexcept {
    if (now < next_region_) return;
    const std::uint64_t total = cell_.sum();
    if (total != region_count_) tick_if_necessary(region_time_, region_count_);
    region_time_ = now;
    region_count_ = total;
    const Nanos offset = now - start_;
    const std::int64_t boundaries = offset / kTickInterval;
    // Saturates at Nanos::max(): time itself does (ManualClock::advance).
    next_region_ =
        offset % kTickInterval == Nanos(0)
            ? detail::saturating_add(now, Nanos(1))
            : (boundaries + 1 > (Nanos::max() - start_) / kTickInterval
                   ? Nanos::max()
                   : start_ + (boundaries + 1) * kTickInterval);
    next_tick_atomic_.store(next_region_.count(), std::memory_order_relaxed);
  }

  // Dropwizard's ExponentialMovingAverages.tickIfNecessary() at time t, with
  // `total` events counted before t.
  void tick_if_necessary(Nanos t, std::uint64_t total) const noexcept {
    const Nanos age = t - last_tick_;
    if (age <= kTickInterval) return;
    last_tick_ = t - age % kTickInterval;
    const std::int64_t due = age / kTickInterval;
    const double instant = static_cast<double>(total - last_count_) /
                           std::chrono::duration<double>(kTickInterval).count();
    last_count_ = total;
    if (due >= kMaxTicks) {
      for (Ewma* e : {&m1_, &m5_, &m15_}) e->reset();
      return;
    }
    const bool first = !initialized_;
    initialized_ = true;
    for (Ewma* e : {&m1_, &m5_, &m15_}) {
      e->tick(instant, first);
      if (due > 1) e->idle_ticks(due - 1);
    }
  }

  Clock* clock_;
  detail::CellIndex cell_;
  const Nanos start_;
  mutable std::mutex mu_;
  mutable Nanos last_tick_;    // Dropwizard's lastTick
  mutable Nanos region_time_;  // when the current region was entered
  mutable std::uint64_t region_count_ = 0;  // the count then
  mutable Nanos next_region_;
  mutable std::atomic<std::int64_t> next_tick_atomic_{next_region_.count()};
  mutable std::uint64_t last_count_ = 0;
  mutable bool initialized_ = false;
  mutable Ewma m1_{1}, m5_{5}, m15_{15};
  const bool coarse_ = is_steady(*clock_);
  mutable std::atomic<std::int64_t> published_next_{0};
  mutable std::atomic<double> published_m1_{0}, published_m5_{0},
      published_m15_{0};
};

}  // namespace statusz
