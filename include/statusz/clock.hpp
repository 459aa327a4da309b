// Clocks for statusz's time-dependent types (Meter, Probe, Registry).
//
// A Clock gives monotonic time (`now()`), wall time for the document's `date`,
// drives the 5-second ticks of the meters attached to it, and lets probe
// waiters block until a deadline. Two implementations:
//  - SteadyClock (the default, `default_clock()`): std::chrono::steady_clock;
//    meters are ticked by one background thread shared by all of them, started
//    when the first meter attaches and stopped when the last one detaches.
//    If the thread cannot be created (EAGAIN), meters still read right (each
//    read catches up) and the next attach or document (wall_now()) retries.
//    After fork() the child gets a ticker of its own (detail/fork.hpp).
//  - ManualClock: moved by hand with advance(); ticks run synchronously inside
//    advance() and waiters wake when a deadline is passed, so tests never
//    sleep.
// Neither is read on a hot path: Meter::mark() does not read any clock.
// Time arithmetic saturates: advance() past the largest Nanos stays there, and
// a deadline of Nanos::max() means "no deadline".
// Thread-safety: every member of both clocks is safe to call concurrently.
// A clock must outlive every object attached to it; default_clock() is never
// destroyed, so it outlives everything whatever the construction order.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "detail/fork.hpp"

namespace statusz {

using Nanos = std::chrono::nanoseconds;

namespace detail {

// a + b for b >= 0, clamped to Nanos::max() instead of overflowing.
inline Nanos saturating_add(Nanos a, Nanos b) noexcept {
  if (b > Nanos(0) && a > Nanos::max() - b) return Nanos::max();
  return a + b;
}

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
// attach/detach, so a detached meter is never ticked again. Every locked
// section is inside a ForkGate section: fork() never copies it held.
class TickList {
 public:
  void add(Tickable& t) {
    ForkGate::Section gate;
    std::lock_guard<std::mutex> g(mu_);
    items_.push_back(&t);
  }
  void add_locked(Tickable& t) { items_.push_back(&t); }
  void remove(Tickable& t) noexcept {
    ForkGate::Section gate;
    std::lock_guard<std::mutex> g(mu_);
    items_.erase(std::remove(items_.begin(), items_.end(), &t), items_.end());
  }
  // Ticks everything due at `now`; returns the earliest next boundary
  // (Nanos::max() when empty).
  Nanos run_due(Nanos now) noexcept {
    ForkGate::Section gate;
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
  // In a forked child (one thread): the mutex may have been held by a thread
  // that is gone; the list itself was not being changed (gate).
  void reset_after_fork() noexcept { new (&mu_) std::mutex(); }

 private:
  std::mutex mu_;
  std::vector<Tickable*> items_;
};

}  // namespace detail

// std::chrono::steady_clock, with one background ticker thread for meters.
class SteadyClock final : public Clock {
 public:
  SteadyClock() {
    fork_handler_ = detail::ForkGate::instance().add_child_handler(
        [this] { restart_after_fork(); });
  }
  ~SteadyClock() override {
    stop_ticker();
    detail::ForkGate::instance().remove_child_handler(fork_handler_);
  }

  Nanos now() const noexcept override {
    return std::chrono::duration_cast<Nanos>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  // Also retries starting the ticker if creating its thread failed before.
  std::chrono::system_clock::time_point wall_now() const override {
    if (ticker_failed_.load(std::memory_order_relaxed)) {
      detail::ForkGate::Section gate;
      std::lock_guard<std::mutex> g(ticks_.mutex());
      if (!running_ && !stop_ && !ticks_.empty_locked()) start_ticker_locked();
    }
    return std::chrono::system_clock::now();
  }

  bool wait_until(std::unique_lock<std::mutex>& lock,
                  std::condition_variable& cv, Nanos deadline,
                  const std::function<bool()>& pred) override {
    if (deadline >= kForever) {
      cv.wait(lock, pred);
      return true;
    }
    return cv.wait_until(lock, to_time_point(deadline), pred);
  }

  void attach(detail::Tickable& t) override {
    detail::ForkGate::Section gate;
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
      if (!running_ && !stop_) start_ticker_locked();
    }
    ++kick_;
    g.unlock();
    wake_.notify_all();
  }
  void detach(detail::Tickable& t) noexcept override { ticks_.remove(t); }

  // Stops the ticker thread for good (joining it): meters attached later, or
  // still attached, are caught up when read instead. Called at exit for
  // default_clock().
  void stop_ticker() noexcept {
    std::thread t;
    {
      detail::ForkGate::Section gate;
      std::lock_guard<std::mutex> g(ticks_.mutex());
      stop_ = true;
      t = std::move(thread_);
    }
    wake_.notify_all();
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    if (t.joinable()) t.detach();
  }

  // Whether a ticker thread is running (for tests).
  bool ticking() const {
    std::lock_guard<std::mutex> g(ticks_.mutex());
    return running_;
  }

 private:
  static constexpr Nanos kForever = Nanos::max() / 2;  // ~146 years

  static std::chrono::steady_clock::time_point to_time_point(Nanos d) {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::min(d, kForever)));
  }

  // With ticks_'s mutex held. On failure the meters stay attached and read
  // right (they catch up when read); wall_now() and attach() retry.
  void start_ticker_locked() const noexcept {
    try {
      thread_ = detail::start_thread([this] { run(); });
      running_ = true;
      ticker_failed_.store(false, std::memory_order_relaxed);
    } catch (...) {
      running_ = false;
      ticker_failed_.store(true, std::memory_order_relaxed);
    }
  }

  void run() const {
    std::uint64_t seen = 0;
    for (;;) {
      Nanos next;
      {
        // Ticking (which takes each meter's mutex) is never cut by fork().
        detail::ForkGate::Section gate;
        std::lock_guard<std::mutex> g(ticks_.mutex());
        if (stop_ || ticks_.empty_locked()) {
          running_ = false;
          return;
        }
        next = ticks_.run_due_locked(now());
        seen = kick_;
      }
      std::unique_lock<std::mutex> g(ticks_.mutex());
      wake_.wait_until(g, to_time_point(next),
                       [&] { return stop_ || kick_ != seen; });
    }
  }

  // In the forked child's only thread: the parent's ticker is not there.
  void restart_after_fork() noexcept {
    ticks_.reset_after_fork();
    new (&wake_) std::condition_variable();
    detail::forget_thread(thread_);
    running_ = false;
    std::lock_guard<std::mutex> g(ticks_.mutex());
    if (!stop_ && !ticks_.empty_locked()) start_ticker_locked();
  }

  // Mutable: a const read (wall_now()) may restart a ticker that failed.
  mutable detail::TickList ticks_;
  mutable std::condition_variable wake_;
  mutable std::thread thread_;
  mutable bool running_ = false;
  mutable std::uint64_t kick_ = 0;  // bumped by attach(): re-plan the next tick
  mutable std::atomic<bool> ticker_failed_{false};
  bool stop_ = false;
  std::uint64_t fork_handler_ = 0;
};

// A clock that moves only when told to. Starts at now() == 0 and at the wall
// time given to the constructor (the Unix epoch by default).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::chrono::system_clock::time_point wall_start = {})
      : wall_start_(wall_start),
        fork_handler_(detail::ForkGate::instance().add_child_handler(
            [this] { reset_after_fork(); })) {}
  ~ManualClock() override {
    detail::ForkGate::instance().remove_child_handler(fork_handler_);
  }

  Nanos now() const noexcept override {
    return Nanos(now_.load(std::memory_order_acquire));
  }
  std::chrono::system_clock::time_point wall_now() const override {
    return wall_start_ +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(
               now());
  }

  // Moves time forward, ticking every attached meter through each interval
  // boundary crossed and waking waiters whose deadline has passed. Time
  // stops at Nanos::max() (saturates; never wraps).
  void advance(Nanos d) {
    if (d.count() < 0) {
      throw std::invalid_argument("statusz: ManualClock cannot go backwards");
    }
    {
      detail::ForkGate::Section gate;
      std::lock_guard<std::mutex> g(ticks_.mutex());
      std::int64_t cur = now_.load(std::memory_order_acquire);
      while (!now_.compare_exchange_weak(
          cur, detail::saturating_add(Nanos(cur), d).count(),
          std::memory_order_acq_rel)) {
      }
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
  std::uint64_t fork_handler_;

  // In a forked child's only thread: the parent's waiters are not there.
  void reset_after_fork() noexcept {
    ticks_.reset_after_fork();
    new (&waiters_mu_) std::mutex();
    new (&waiters_changed_) std::condition_variable();
    waiters_.clear();
  }
};

// The process-wide SteadyClock used when no clock is given. Created on first
// use and never destroyed, so it outlives every object that uses it, even a
// static one constructed before it; its ticker thread is stopped (joined) by
// an atexit handler, after which meters are caught up when read.
inline Clock& default_clock() {
  static SteadyClock* const clock = [] {
    auto* c = new SteadyClock();
    std::atexit(
        [] { static_cast<SteadyClock&>(default_clock()).stop_ticker(); });
    return c;
  }();
  return *clock;
}

}  // namespace statusz
