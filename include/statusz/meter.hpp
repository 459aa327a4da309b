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
// A meter of a shared registry (shared.hpp) counts into the pool's store and
// keeps its State there: its figures are the pool's, ticked under the store's
// process-shared mutex instead of mu_ (mark() is the same add).
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

namespace detail {

// The lock and the place of a shared meter's tick state (detail/shm.hpp).
class MeterShared {
 public:
  virtual bool lock() const noexcept = 0;
  virtual void unlock() const noexcept = 0;
  // The pool's count, with the lock held.
  virtual std::uint64_t count_locked(std::uint32_t index) const noexcept = 0;

 protected:
  MeterShared() = default;
  MeterShared(const MeterShared&) = default;
  MeterShared& operator=(const MeterShared&) = default;
  ~MeterShared() = default;
};

}  // namespace detail

class Meter final : private detail::Tickable {
 public:
  static constexpr Nanos kTickInterval = std::chrono::seconds(5);
  // Dropwizard's maxTicks: this many ticks due at once reset the rates.
  static constexpr std::int64_t kMaxTicks = 9231;

  // The tick state: standard layout and address-free (a shared meter's lives
  // in shared memory, where every process of the pool ticks it under the
  // store's lock). Fields as in Dropwizard: lastTick, the region's start and
  // count, the count at the last tick, the three rates, what rate() reads.
  struct State {
    Nanos start;
    Nanos last_tick;
    Nanos region_time;  // when the current region was entered
    Nanos next_region;
    std::uint64_t region_count = 0;  // the count then
    std::uint64_t last_count = 0;
    std::uint64_t initialized = 0;
    double rates[3];  // 1, 5, 15 minutes
    std::atomic<std::int64_t> next_tick;
    std::atomic<std::int64_t> published_next;
    std::atomic<double> published[3];

    explicit State(Nanos start_time) noexcept
        : start(start_time),
          last_tick(start_time),
          region_time(start_time),
          next_region(detail::saturating_add(start_time, Nanos(1))),
          rates{0, 0, 0},
          next_tick(next_region.count()),
          published_next(
              detail::saturating_add(start_time, kTickInterval).count()),
          published{{0}, {0}, {0}} {}
  };

  explicit Meter(Clock& clock = default_clock())
      : clock_(&clock), own_(clock.now()), st_(&own_) {
    clock_->attach(*this);
  }
  // A meter of a shared registry: its cell and its State live in the store.
  Meter(Clock& clock, detail::CellIndex::Shared cell, State& state,
        const detail::MeterShared& shared)
      : clock_(&clock),
        cell_(cell),
        own_(Nanos(0)),
        st_(&state),
        shared_(&shared) {
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
  double one_minute_rate() const { return rate(0); }
  double five_minute_rate() const { return rate(1); }
  double fifteen_minute_rate() const { return rate(2); }

  // All five figures, consistent with one another.
  MeterSnapshot snapshot() const {
    const Nanos now = clock_->now();
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    Lock g(*this);
    catch_up(now);
    publish_locked();
    MeterSnapshot s;
    s.count = total_locked();
    const double elapsed =
        std::chrono::duration<double>(now - st_->start).count();
    s.mean_rate = (s.count == 0 || elapsed <= 0)
                      ? 0.0
                      : static_cast<double>(s.count) / elapsed;
    s.one_minute_rate = st_->rates[0];
    s.five_minute_rate = st_->rates[1];
    s.fifteen_minute_rate = st_->rates[2];
    return s;
  }

  const Clock& clock() const noexcept { return *clock_; }

 private:
  static constexpr double kMinutes[3] = {1, 5, 15};

  // alpha = 1 - exp(-5/60/N).
  static double alpha(int i) noexcept {
    return -std::expm1(-5.0 / 60.0 / kMinutes[i]);
  }

  // mu_, or the shared store's lock for a shared meter.
  class Lock {
   public:
    explicit Lock(const Meter& m) noexcept : m_(m) {
      if (m_.shared_ == nullptr) {
        m_.mu_.lock();
      } else {
        held_ = m_.shared_->lock();
      }
    }
    ~Lock() {
      if (m_.shared_ == nullptr) {
        m_.mu_.unlock();
      } else if (held_) {
        m_.shared_->unlock();
      }
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    const Meter& m_;
    bool held_ = false;
  };

  std::uint64_t total_locked() const noexcept {
    return shared_ == nullptr ? cell_.sum()
                              : shared_->count_locked(cell_.index());
  }

  void tick_until(Nanos now) noexcept override {
    Lock g(*this);
    observe(now);
    publish_locked();
  }
  Nanos next_tick() const noexcept override {
    return Nanos(st_->next_tick.load(std::memory_order_relaxed));
  }

  // Whether a read at `now` would tick, when the last tick was at `next` - 5 s:
  // Dropwizard's rule (more than 5 s since the last tick), as
  // tick_if_necessary() applies it (keep the two in step).
  static bool tick_due(Nanos now, Nanos next) noexcept { return now > next; }

  // A rate as last ticked when no tick is due: two atomic loads and a time
  // read, no lock. Otherwise through snapshot(), which ticks.
  double rate(int i) const {
    const Nanos next(st_->published_next.load(std::memory_order_acquire));
    if (!tick_due(read_now(), next)) {
      return st_->published[i].load(std::memory_order_relaxed);
    }
    const MeterSnapshot s = snapshot();
    return i == 0 ? s.one_minute_rate
                  : (i == 1 ? s.five_minute_rate : s.fifteen_minute_rate);
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

  // Makes the rates of the last tick visible to rate(). Under the lock.
  void publish_locked() const noexcept {
    for (int i = 0; i < 3; ++i) {
      st_->published[i].store(st_->rates[i], std::memory_order_relaxed);
    }
    st_->published_next.store(
        detail::saturating_add(st_->last_tick, kTickInterval).count(),
        std::memory_order_release);
  }

  // A read at `now`: Dropwizard's tickIfNecessary() at now, counting the
  // events marked before the current region.
  void catch_up(Nanos now) const noexcept {
    observe(now);
    tick_if_necessary(std::max(now, st_->region_time), st_->region_count);
  }

  // Called when time may have entered a new region: a count that changed since
  // the region's start means a mark there, which ticked first (Dropwizard's
  // mark() ticks before it counts).
  void observe(Nanos now) const noexcept {
    State& st = *st_;
    if (now < st.next_region) return;
    const std::uint64_t total = total_locked();
    if (total != st.region_count) {
      tick_if_necessary(st.region_time, st.region_count);
    }
    st.region_time = now;
    st.region_count = total;
    const Nanos offset = now - st.start;
    const std::int64_t boundaries = offset / kTickInterval;
    // Saturates at Nanos::max(): time itself does (ManualClock::advance).
    st.next_region =
        offset % kTickInterval == Nanos(0)
            ? detail::saturating_add(now, Nanos(1))
            : (boundaries + 1 > (Nanos::max() - st.start) / kTickInterval
                   ? Nanos::max()
                   : st.start + (boundaries + 1) * kTickInterval);
    st.next_tick.store(st.next_region.count(), std::memory_order_relaxed);
  }

  // Dropwizard's ExponentialMovingAverages.tickIfNecessary() at time t, with
  // `total` events counted before t.
  void tick_if_necessary(Nanos t, std::uint64_t total) const noexcept {
    State& st = *st_;
    const Nanos age = t - st.last_tick;
    if (age <= kTickInterval) return;
    st.last_tick = t - age % kTickInterval;
    const std::int64_t due = age / kTickInterval;
    const double instant = static_cast<double>(total - st.last_count) /
                           std::chrono::duration<double>(kTickInterval).count();
    st.last_count = total;
    if (due >= kMaxTicks) {
      // Dropwizard's EWMA.reset(): the smallest normal double per nanosecond.
      for (double& r : st.rates) r = std::numeric_limits<double>::min() * 1e9;
      return;
    }
    const bool first = st.initialized == 0;
    st.initialized = 1;
    for (int i = 0; i < 3; ++i) {
      double& r = st.rates[i];
      r = first ? instant : r + alpha(i) * (instant - r);
      // due - 1 ticks with no events: rate *= (1 - alpha)^n, in closed form.
      if (due > 1) {
        r *= std::exp(-5.0 / 60.0 / kMinutes[i] * static_cast<double>(due - 1));
      }
    }
  }

  Clock* clock_;
  detail::CellIndex cell_;
  State own_;  // a private meter's state
  State* st_;  // &own_, or the state in the shared store
  const detail::MeterShared* shared_ = nullptr;
  mutable std::mutex mu_;
  const bool coarse_ = is_steady(*clock_);
};

}  // namespace statusz
