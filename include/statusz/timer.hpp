// statusz::Timer: how often and how long. A Meter of the events (count, mean
// rate, 1/5/15-minute rates with Dropwizard's semantics, meter.hpp) and a
// Histogram of their durations in nanoseconds (quantiles within 1/128,
// cumulative and over the sliding window, histogram.hpp), updated together.
//
// Cost: update() is Meter::mark() plus Histogram::update(): no lock, no
// system call, no clock read, no allocation after the thread's first touch.
// time() reads the timer's clock when it starts and when it stops (for the
// default clock, std::chrono::steady_clock: that is the measurement) and then
// updates once. A negative duration counts as 0.
// Thread-safety: every member is safe to call from any thread; a Scope is
// used by one thread. A Timer must not be destroyed while another thread
// updates or reads it, nor outlive its clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <utility>

#include "clock.hpp"
#include "histogram.hpp"
#include "meter.hpp"

namespace statusz {

// The histogram of durations (nanoseconds) and the meter's rates.
struct TimerSnapshot : HistogramSnapshot {
  double mean_rate = 0;  // events per second, as MeterSnapshot
  double one_minute_rate = 0;
  double five_minute_rate = 0;
  double fifteen_minute_rate = 0;

  MeterSnapshot meter() const noexcept {
    return {count, mean_rate, one_minute_rate, five_minute_rate,
            fifteen_minute_rate};
  }
};

class Timer {
 public:
  explicit Timer(Clock& clock = default_clock(),
                 std::size_t window_ticks = Histogram::kDefaultWindowTicks)
      : meter_(clock), histogram_(clock, window_ticks) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  STATUSZ_ALWAYS_INLINE void update(Nanos duration) noexcept {
    meter_.mark();
    histogram_.update(duration.count() < 0
                          ? 0
                          : static_cast<std::uint64_t>(duration.count()));
  }

  // Records the time from its creation to stop(), or to its destruction if
  // stop() was not called. Movable; a moved-from scope records nothing.
  // [[nodiscard]]: `t.time();` alone would record an empty interval.
  class [[nodiscard]] Scope {
   public:
    explicit Scope(Timer& t) noexcept
        : timer_(&t), start_(t.meter_.clock().now()) {}
    Scope(Scope&& o) noexcept : timer_(o.timer_), start_(o.start_) {
      o.timer_ = nullptr;
    }
    Scope& operator=(Scope&&) = delete;
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() { stop(); }

    // Records the duration (the first call only) and returns it; later calls
    // return 0 and record nothing.
    Nanos stop() noexcept {
      if (timer_ == nullptr) return Nanos(0);
      Timer* t = timer_;
      timer_ = nullptr;
      const Nanos d = t->meter_.clock().now() - start_;
      t->update(d);
      return d;
    }

   private:
    Timer* timer_;
    Nanos start_;
  };

  [[nodiscard]] Scope time() noexcept { return Scope(*this); }

  // Runs f() and records its duration, also when it throws; returns what f
  // returns.
  template <class F>
  decltype(auto) time(F&& f) {
    Scope scope(*this);
    return std::forward<F>(f)();
  }

  TimerSnapshot snapshot() const {
    TimerSnapshot s;
    static_cast<HistogramSnapshot&>(s) = histogram_.snapshot();
    const MeterSnapshot m = meter_.snapshot();
    s.mean_rate = m.mean_rate;
    s.one_minute_rate = m.one_minute_rate;
    s.five_minute_rate = m.five_minute_rate;
    s.fifteen_minute_rate = m.fifteen_minute_rate;
    return s;
  }

  const Meter& meter() const noexcept { return meter_; }
  const Histogram& histogram() const noexcept { return histogram_; }
  const Clock& clock() const noexcept { return meter_.clock(); }

 private:
  Meter meter_;
  Histogram histogram_;
};

}  // namespace statusz
