// Clocks for statusz's time-dependent types (Meter, Probe, Registry).
//
// A Clock gives monotonic time (`now()`), wall time for the document's `date`,
// drives the 5-second ticks of the meters attached to it, and lets probe
// waiters block until a deadline. Two implementations:
//  - SteadyClock (the default, `default_clock()`): std::chrono::steady_clock;
//    meters are ticked by one background thread shared by all of them, started
//    when the first meter attaches and stopped when the last one detaches.
//  - ManualClock: moved by hand with advance(); ticks run synchronously inside
//    advance() and waiters wake when a deadline is passed, so tests never
//    sleep.
// Neither is read on a hot path: Meter::mark() does not read any clock.
// Thread-safety: every member of both clocks is safe to call concurrently.
// A clock must outlive every object attached to it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace statusz {

using Nanos = std::chrono::nanoseconds;

namespace detail {

// Something a clock ticks: a Meter. tick_until() processes every interval
// boundary up to `now`; next_tick() says when the next boundary is due.
class Tickable {
 public:
  virtual void tick_until(Nanos now) noexcept = 0;
  virtual Nanos next_tick() const noexcept = 0;

 protected:
  Tickable() = default;
  Tickable(const Tickable&) = default;
  Tickable& operator=(const Tickable&) = default;
  ~Tickable() = default;
};

}  // namespace detail

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;

  // Monotonic time since an arbitrary origin.
  virtual Nanos now() const noexcept = 0;
  // Wall-clock time, for the document's `date`.
  virtual std::chrono::system_clock::time_point wall_now() const = 0;

  // Blocks (with `lock` held on entry and exit, as condition_variable does)
  // until pred() is true or now() >= deadline; returns pred(). Whoever makes
  // pred() true must notify `cv` while or after holding lock's mutex.
  virtual bool wait_until(std::unique_lock<std::mutex>& lock,
                          std::condition_variable& cv, Nanos deadline,
                          const std::function<bool()>& pred) = 0;

  // Registers a meter to be ticked; detach() returns only once no tick of it
  // is running. Used by Meter's constructor and destructor.
  virtual void attach(detail::Tickable& t) = 0;
  virtual void detach(detail::Tickable& t) noexcept = 0;
};

namespace detail {

// The set of tickables of one clock. Its mutex serialises ticking with
// attach/detach, so a detached meter is never ticked again.
class TickList {
 public:
  void add(Tickable& t) {
    std::lock_guard<std::mutex> g(mu_);
    items_.push_back(&t);
  }
  void add_locked(Tickable& t) { items_.push_back(&t); }
  void remove(Tickable& t) noexcept {
    std::lock_guard<std::mutex> g(mu_);
    items_.erase(std::remove(items_.begin(), items_.end(), &t), items_.end());
  }
  // Ticks everything due at `now`; returns the earliest next boundary
  // (Nanos::max() when empty).
  Nanos run_due(Nanos now) noexcept {
    std::lock_guard<std::mutex> g(mu_);
    return run_due_locked(now);
  }
  Nanos run_due_locked(Nanos now) noexcept {
    Nanos next = Nanos::max();
    for (Tickable* t : items_) {
      if (t->next_tick() <= now) t->tick_until(now);
      next = std::min(next, t->next_tick());
    }
    return next;
  }
  std::mutex& mutex() noexcept { return mu_; }
  bool empty_locked() const noexcept { return items_.empty(); }

 private:
  std::mutex mu_;
  std::vector<Tickable*> items_;
};

}  // namespace detail

// std::chrono::steady_clock, with one background ticker thread for meters.
class SteadyClock final : public Clock {
 public:
  SteadyClock() = default;
  ~SteadyClock() override {
    std::thread t;
    {
      std::lock_guard<std::mutex> g(ticks_.mutex());
      stop_ = true;
      t = std::move(thread_);
    }
    wake_.notify_all();
    if (t.joinable()) t.join();
  }

  Nanos now() const noexcept override {
    return std::chrono::duration_cast<Nanos>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }

  bool wait_until(std::unique_lock<std::mutex>& lock,
                  std::condition_variable& cv, Nanos deadline,
                  const std::function<bool()>& pred) override {
    return cv.wait_until(lock, to_time_point(deadline), pred);
  }

  void attach(detail::Tickable& t) override {
    std::unique_lock<std::mutex> g(ticks_.mutex());
    ticks_.add_locked(t);
    if (!running_) {
      // A ticker that found the list empty has exited or is exiting.
      if (thread_.joinable()) {
        std::thread old = std::move(thread_);
        g.unlock();
        old.join();
        g.lock();
      }
      if (!running_ && !stop_) {
        running_ = true;
        thread_ = std::thread([this] { run(); });
      }
    }
    g.unlock();
    wake_.notify_all();
  }
  void detach(detail::Tickable& t) noexcept override { ticks_.remove(t); }

 private:
  static std::chrono::steady_clock::time_point to_time_point(Nanos d) {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
  }

  void run() {
    std::unique_lock<std::mutex> g(ticks_.mutex());
    while (!stop_) {
      Nanos next = ticks_.run_due_locked(now());
      if (ticks_.empty_locked()) break;
      wake_.wait_until(g, to_time_point(next));
    }
    running_ = false;
  }

  detail::TickList ticks_;
  std::condition_variable wake_;
  std::thread thread_;
  bool running_ = false;
  bool stop_ = false;
};

// A clock that moves only when told to. Starts at now() == 0 and at the wall
// time given to the constructor (the Unix epoch by default).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point wall_start = {})
      : wall_start_(wall_start) {}

  Nanos now() const noexcept override {
    return Nanos(now_.load(std::memory_order_acquire));
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return wall_start_ +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               now());
  }

  // Moves time forward, ticking every attached meter through each interval
  // boundary crossed and waking waiters whose deadline has passed.
  void advance(Nanos d) {
    if (d.count() < 0) {
      throw std::invalid_argument("statusz: ManualClock cannot go backwards");
    }
    {
      std::lock_guard<std::mutex> g(ticks_.mutex());
      now_.fetch_add(d.count(), std::memory_order_acq_rel);
      ticks_.run_due_locked(now());
    }
    // Waiters deregister under waiters_mu_, so their mutex and condition
    // variable stay alive while we hold it. Taking a waiter's mutex orders our
    // time update before its next check of now(): no lost wake-up.
    std::lock_guard<std::mutex> g(waiters_mu_);
    for (const auto& w : waiters_) {
      { std::lock_guard<std::mutex> wg(*w->mu); }
      w->cv->notify_all();
    }
  }
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    advance(std::chrono::duration_cast<Nanos>(d));
  }

  bool wait_until(std::unique_lock<std::mutex>& lock,
                  std::condition_variable& cv, Nanos deadline,
                  const std::function<bool()>& pred) override {
    if (pred()) return true;
    if (now() >= deadline) return false;
    Waiter me{lock.mutex(), &cv};
    lock.unlock();
    {
      std::lock_guard<std::mutex> g(waiters_mu_);
      waiters_.push_back(&me);
    }
    waiters_changed_.notify_all();
    lock.lock();
    while (!pred() && now() < deadline) cv.wait(lock);
    const bool ok = pred();
    lock.unlock();
    {
      std::lock_guard<std::mutex> g(waiters_mu_);
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &me));
    }
    lock.lock();
    return ok;
  }

  // How many threads are blocked in wait_until() on this clock.
  std::size_t waiters() const {
    std::lock_guard<std::mutex> g(waiters_mu_);
    return waiters_.size();
  }
  // Blocks until at least n threads wait on this clock: lets a test advance
  // time exactly when a snapshot is waiting for a probe, without sleeping.
  void await_waiters(std::size_t n) const {
    std::unique_lock<std::mutex> g(waiters_mu_);
    waiters_changed_.wait(g, [&] { return waiters_.size() >= n; });
  }
  // The same, giving up after `real_timeout` of real (steady) time; returns
  // whether n waiters were reached. For tests that must not hang on a bug.
  template <class Rep, class Period>
  bool await_waiters(std::size_t n,
                     std::chrono::duration<Rep, Period> real_timeout) const {
    std::unique_lock<std::mutex> g(waiters_mu_);
    return waiters_changed_.wait_for(g, real_timeout,
                                     [&] { return waiters_.size() >= n; });
  }

  void attach(detail::Tickable& t) override { ticks_.add(t); }
  void detach(detail::Tickable& t) noexcept override { ticks_.remove(t); }

 private:
  struct Waiter {
    std::mutex* mu;
    std::condition_variable* cv;
  };

  std::atomic<std::int64_t> now_{0};
  std::chrono::system_clock::time_point wall_start_;
  detail::TickList ticks_;
  mutable std::mutex waiters_mu_;
  mutable std::condition_variable waiters_changed_;
  std::vector<Waiter*> waiters_;
};

// The process-wide SteadyClock used when no clock is given. It is created on
// first use and so outlives every object that used it.
inline Clock& default_clock() {
  static SteadyClock clock;
  return clock;
}

}  // namespace statusz
