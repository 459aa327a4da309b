// statusz::Probe: a named health check, a callable returning a Status and an
// optional message, run on demand with a timeout.
//
// Each probe runs on a worker thread of its own, created on its first run, so
// the probes of one snapshot run concurrently and a caller never waits longer
// than the timeout. A run that throws is Ko with the exception's message; a
// run that does not finish in time reads Unknown. A run still in progress is
// never started again: later callers wait for it (up to their own timeout), so
// a probe that hangs forever holds one thread, however many requests come.
// With max_age > 0, a result younger than max_age is reused without a run.
// Durations are measured with the probe's clock; timeouts wait on it too (a
// ManualClock test drives them with advance(), without sleeping).
//
// Cost: start() + wait() take the probe's mutex and wake its worker; the
// function runs outside any statusz lock.
// Thread-safety: every member is safe to call from any thread. Destroying a
// Probe whose function is still running detaches the worker, which exits when
// the function returns (it touches neither the Probe nor its clock again).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "clock.hpp"
#include "status.hpp"

namespace statusz {

// What a probe function returns: a Status, optionally with a message.
struct ProbeResult {
  Status status = Status::Ok;
  std::string message;

  ProbeResult(Status s = Status::Ok, std::string m = {})  // NOLINT: implicit
      : status(s), message(std::move(m)) {}
};

// One observation of a probe.
struct ProbeReport {
  Status status = Status::Unknown;
  std::string message;
  Nanos duration{0};       // how long the run took (or has run, if timed out)
  bool timed_out = false;  // the run had not finished by the deadline
  bool reused = false;     // a cached result younger than max_age
};

struct ProbeOptions {
  Nanos timeout = std::chrono::seconds(5);
  Nanos max_age = Nanos(0);  // 0: run on every request
};

class Probe {
 public:
  using Function = std::function<ProbeResult()>;

  // A run requested by start(), to be collected by wait().
  class Pending {
   public:
    Pending() = default;

   private:
    friend class Probe;
    std::optional<ProbeReport> ready_;
    std::uint64_t generation_ = 0;
    Nanos deadline_{0};
  };

  explicit Probe(Function fn, Clock& clock = default_clock(),
                 ProbeOptions options = {})
      : state_(std::make_shared<State>()) {
    check_options(options);
    state_->clock = &clock;
    state_->options = options;
    set_function(std::move(fn));
  }

  ~Probe() {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->stop = true;
    const bool hung = state_->running;
    lock.unlock();
    state_->cv.notify_all();
    if (!worker_.joinable()) return;
    if (hung) {
      worker_.detach();
    } else {
      worker_.join();
    }
  }

  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  void set_function(Function fn) {
    if (!fn) throw std::invalid_argument("statusz: a probe needs a function");
    auto p = std::make_shared<const Function>(std::move(fn));
    std::lock_guard<std::mutex> g(state_->mu);
    state_->fn.swap(p);
  }  // the old function is destroyed here, after the unlock

  void set_options(ProbeOptions options) {
    check_options(options);
    std::lock_guard<std::mutex> g(state_->mu);
    state_->options = options;
  }
  ProbeOptions options() const {
    std::lock_guard<std::mutex> g(state_->mu);
    return state_->options;
  }

  // Starts a run, unless one is in progress (then joins it) or a result
  // younger than max_age exists (then reuses it). Never blocks on the run.
  Pending start() {
    State& s = *state_;
    Pending p;
    std::lock_guard<std::mutex> g(s.mu);
    const Nanos now = s.clock->now();
    if (s.has_last && s.options.max_age > Nanos(0) &&
        now - s.last_finished_at <= s.options.max_age) {
      p.ready_ = s.last;
      p.ready_->reused = true;
      return p;
    }
    if (!s.running) {
      s.running = true;
      s.requested = true;
      ++s.started;
      s.run_started_at = now;
      if (!worker_.joinable()) {
        worker_ = std::thread([st = state_] { work(*st); });
      }
      s.cv.notify_all();
    }
    p.generation_ = s.started;
    p.deadline_ = now + s.options.timeout;
    return p;
  }

  // The outcome of a start(): waits until the run finishes or the deadline
  // (start time + timeout) passes, whichever comes first.
  ProbeReport wait(Pending& p) {
    if (p.ready_) return *p.ready_;
    State& s = *state_;
    std::unique_lock<std::mutex> lock(s.mu);
    const std::uint64_t generation = p.generation_;
    const bool done = s.clock->wait_until(
        lock, s.cv, p.deadline_, [&] { return s.finished >= generation; });
    if (done) return s.last;
    ProbeReport r;
    r.status = Status::Unknown;
    r.timed_out = true;
    r.duration = s.clock->now() - s.run_started_at;
    r.message =
        "no answer within " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                           s.options.timeout)
                           .count()) +
        " ms";
    return r;
  }

  // start() then wait().
  ProbeReport run() {
    Pending p = start();
    return wait(p);
  }

  // True while a run is in progress (it may be hung).
  bool running() const {
    std::lock_guard<std::mutex> g(state_->mu);
    return state_->running;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;  // run requested, run finished, stop
    Clock* clock = nullptr;
    std::shared_ptr<const Function> fn;
    ProbeOptions options;
    bool running = false;
    bool requested = false;
    bool stop = false;
    std::uint64_t started = 0;
    std::uint64_t finished = 0;
    Nanos run_started_at{0};
    bool has_last = false;
    ProbeReport last;
    Nanos last_finished_at{0};
  };

  static void check_options(const ProbeOptions& o) {
    if (o.timeout <= Nanos(0)) {
      throw std::invalid_argument("statusz: probe timeout must be > 0");
    }
    if (o.max_age < Nanos(0)) {
      throw std::invalid_argument("statusz: probe max_age must be >= 0");
    }
  }

  static ProbeResult call(const Function& fn) {
    try {
      ProbeResult r = fn();
      if (static_cast<std::uint8_t>(r.status) > 3) {
        return {Status::Ko, "probe returned an invalid status"};
      }
      return r;
    } catch (const std::exception& e) {
      return {Status::Ko, e.what()};
#if defined(__GLIBCXX__)
    } catch (abi::__forced_unwind&) {
      throw;  // a thread being cancelled or exited must unwind
#endif
    } catch (...) {
      return {Status::Ko, "probe threw a non-standard exception"};
    }
  }

  static void work(State& s) {
    std::unique_lock<std::mutex> lock(s.mu);
    for (;;) {
      s.cv.wait(lock, [&] { return s.requested || s.stop; });
      if (s.stop) return;
      s.requested = false;
      std::shared_ptr<const Function> fn = s.fn;
      const Nanos t0 = s.clock->now();
      lock.unlock();
      ProbeResult r = call(*fn);
      fn.reset();  // if it was replaced meanwhile, destroy it unlocked
      lock.lock();
      // After stop the Probe (and maybe its clock) is gone: touch neither.
      if (s.stop) return;
      const Nanos t1 = s.clock->now();
      s.last.status = r.status;
      s.last.message = std::move(r.message);
      s.last.duration = t1 - t0;
      s.last.timed_out = false;
      s.last.reused = false;
      s.has_last = true;
      s.last_finished_at = t1;
      s.running = false;
      s.finished = s.started;
      s.cv.notify_all();
    }
  }

  std::shared_ptr<State> state_;
  std::thread worker_;  // guarded by state_->mu until destruction
};

}  // namespace statusz
