// statusz::Probe: a named health check, a callable returning a Status and an
// optional message, run on demand with a timeout.
//
// Each probe runs on a worker thread of its own, created when a run is
// requested and ended after `worker_idle` without one, so the probes of one
// snapshot run concurrently, a caller never waits longer than the timeout,
// and idle probes hold no thread. A run that throws is Ko with the exception's
// message; a run that does not finish in time reads Unknown. A run still in
// progress is never started again: later callers wait for it (up to their own
// timeout), so a probe that hangs forever holds one thread, however many
// requests come. With max_age > 0, a result younger than max_age is reused
// without a run. Durations are measured with the probe's clock; timeouts wait
// on it too (a ManualClock test drives them with advance(), without sleeping).
//
// Cost: start() + wait() take the probe's mutex and wake its worker; the
// function runs outside any statusz lock.
// Thread-safety: every member is safe to call from any thread. Destroying a
// Probe whose function is still running detaches the worker, which exits when
// the function returns (it touches neither the Probe nor its clock again).
// Lifecycle: in a child forked while a run was in progress, that run is
// forgotten (its thread did not cross the fork); the child's next start()
// runs the function on a new worker. A worker that cannot be created (EAGAIN)
// reads Unknown with the error as message, and the next start() retries.
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
#include <string_view>
#include <thread>
#include <utility>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "clock.hpp"
#include "detail/fork.hpp"
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

// Kubernetes-style health groups (Registry::probe, HttpHandler's /livez and
// /readyz): a probe in "live" tells whether the process should be restarted,
// one in "ready" whether it should get traffic. A probe registered without
// groups is in "ready" only.
namespace health {
inline constexpr std::string_view kLive = "live";
inline constexpr std::string_view kReady = "ready";
}  // namespace health

// One check of a health group, as Registry::health() reports it: the probe's
// path, and its report unless the request excluded it (then not run).
struct HealthCheck {
  std::string name;
  bool excluded = false;
  ProbeReport report;
};

struct ProbeOptions {
  // How long a caller waits for a run; Nanos::max(): as long as it takes.
  Nanos timeout = std::chrono::seconds(5);
  Nanos max_age = Nanos(0);  // 0: run on every request
  // A worker thread with no run requested for this long (real time) ends; the
  // next run starts a new one. 0: end after every run; Nanos::max(): never.
  Nanos worker_idle = std::chrono::seconds(60);
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
    State* raw = state_.get();
    fork_handler_ = detail::ForkGate::instance().add_child_handler(
        [raw] { reset_after_fork(*raw); });
  }

  ~Probe() {
    detail::ForkGate::instance().remove_child_handler(fork_handler_);
    std::thread worker;
    bool hung = false;
    {
      detail::ForkGate::Section gate;
      std::lock_guard<std::mutex> g(state_->mu);
      state_->stop = true;
      hung = state_->running;
      worker = std::move(state_->thread);
    }
    state_->cv.notify_all();
    if (!worker.joinable()) return;
    if (hung || worker.get_id() == std::this_thread::get_id()) {
      worker.detach();
    } else {
      worker.join();
    }
  }

  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  void set_function(Function fn) { (void)exchange_function(std::move(fn)); }

  // set_function() returning the replaced function, so a caller inside a
  // detail::ForkGate section can destroy it outside (a destructor may wait
  // for another thread: ForkGate's rule). A run in flight keeps its own.
  std::shared_ptr<const Function> exchange_function(Function fn) {
    if (!fn) throw std::invalid_argument("statusz: a probe needs a function");
    auto p = std::make_shared<const Function>(std::move(fn));
    detail::ForkGate::Section gate;
    std::lock_guard<std::mutex> g(state_->mu);
    state_->fn.swap(p);
    return p;
  }

  // The current function (shared: it stays valid while a run uses it).
  std::shared_ptr<const Function> function() const {
    std::lock_guard<std::mutex> g(state_->mu);
    return state_->fn;
  }

  void set_options(ProbeOptions options) {
    check_options(options);
    {
      detail::ForkGate::Section gate;
      std::lock_guard<std::mutex> g(state_->mu);
      state_->options = options;
    }
    state_->cv.notify_all();  // an idle worker re-reads worker_idle
  }
  ProbeOptions options() const {
    std::lock_guard<std::mutex> g(state_->mu);
    return state_->options;
  }

  // Starts a run, unless one is in progress (then joins it) or a result
  // younger than max_age exists (then reuses it). Never blocks on the run.
  // Called from inside a probe function (a probe using its registry), a run
  // in progress is not joined: the last result is reused (Unknown if none),
  // so a probe never waits for itself, nor two probes for each other.
  // If no worker thread can be created, the report is Unknown with the
  // error as its message, and the next start() tries again.
  Pending start() {
    State& s = *state_;
    Pending p;
    detail::ForkGate::Section gate;
    std::lock_guard<std::mutex> g(s.mu);
    const Nanos now = s.clock->now();
    if (s.has_last && s.options.max_age > Nanos(0) &&
        now - s.last_finished_at <= s.options.max_age) {
      p.ready_ = s.last;
      p.ready_->reused = true;
      return p;
    }
    if (s.running && inside_probe_function()) {
      if (s.has_last) {
        p.ready_ = s.last;
        p.ready_->reused = true;
      } else {
        p.ready_ = ProbeReport();
        p.ready_->message = "still running (asked from inside a probe)";
      }
      return p;
    }
    if (!s.running) {
      if (!s.worker) {
        // A worker that ended when idle has left its loop: let it finish.
        if (s.thread.joinable()) s.thread.detach();
        try {
          s.thread = detail::start_thread([st = state_] { work(st); });
        } catch (const std::exception& e) {
          p.ready_ = ProbeReport();
          p.ready_->message =
              std::string("cannot start the probe's thread: ") + e.what();
          return p;
        }
        s.worker = true;
      }
      s.running = true;
      s.requested = true;
      ++s.started;
      s.run_started_at = now;
      s.cv.notify_all();
    }
    p.generation_ = s.started;
    p.deadline_ = detail::saturating_add(now, s.options.timeout);
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

  // True while the probe has a worker thread (it ends after worker_idle).
  bool has_worker() const {
    std::lock_guard<std::mutex> g(state_->mu);
    return state_->worker;
  }

  // True on a thread that is running a probe function.
  static bool inside_probe_function() noexcept { return running_here() > 0; }

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
    bool worker = false;  // a worker thread is in its loop
    std::thread thread;   // the last worker started
    std::uint64_t started = 0;
    std::uint64_t finished = 0;
    Nanos run_started_at{0};
    bool has_last = false;
    ProbeReport last;
    Nanos last_finished_at{0};
  };

  static constexpr Nanos kForever = Nanos::max() / 2;

  static int& running_here() noexcept {
    static thread_local int depth = 0;
    return depth;
  }

  static void check_options(const ProbeOptions& o) {
    if (o.timeout <= Nanos(0)) {
      throw std::invalid_argument("statusz: probe timeout must be > 0");
    }
    if (o.max_age < Nanos(0)) {
      throw std::invalid_argument("statusz: probe max_age must be >= 0");
    }
    if (o.worker_idle < Nanos(0)) {
      throw std::invalid_argument("statusz: probe worker_idle must be >= 0");
    }
  }

  static ProbeResult call(const Function& fn) {
    struct Depth {
      Depth() { ++running_here(); }
      ~Depth() { --running_here(); }
      Depth(const Depth&) = delete;
      Depth& operator=(const Depth&) = delete;
    } depth;
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

  // The worker's loop. Its locked sections are inside ForkGate sections; its
  // waits are not (fork() waits for sections only).
  static void work(const std::shared_ptr<State>& sp) {
    State& s = *sp;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(s.mu);
        auto ready = [&] { return s.requested || s.stop; };
        for (;;) {
          const Nanos idle = s.options.worker_idle;
          if (ready()) break;
          if (idle >= kForever) {
            s.cv.wait(lock);
          } else if (s.cv.wait_for(lock, idle) == std::cv_status::timeout &&
                     idle == s.options.worker_idle) {
            break;
          }
        }
      }
      std::shared_ptr<const Function> fn;
      Nanos t0{0};
      {
        detail::ForkGate::Section gate;
        std::lock_guard<std::mutex> g(s.mu);
        if (s.stop || !s.requested) {  // stopped, or idle for worker_idle
          s.worker = false;
          return;
        }
        s.requested = false;
        fn = s.fn;
        t0 = s.clock->now();
      }
      ProbeResult r = call(*fn);
      fn.reset();  // if it was replaced meanwhile, destroy it unlocked
      detail::ForkGate::Section gate;
      std::lock_guard<std::mutex> g(s.mu);
      // After stop the Probe (and maybe its clock) is gone: touch neither.
      if (s.stop) {
        s.worker = false;
        return;
      }
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

  // In a forked child's only thread: the worker (and any run in progress)
  // stayed in the parent. The next start() creates a worker; the last result
  // the parent had is kept.
  static void reset_after_fork(State& s) noexcept {
    new (&s.mu) std::mutex();
    new (&s.cv) std::condition_variable();
    detail::forget_thread(s.thread);
    s.worker = false;
    s.requested = false;
    if (s.running) {
      s.running = false;
      s.finished = s.started;
    }
  }

  std::shared_ptr<State> state_;
  std::uint64_t fork_handler_ = 0;
};

}  // namespace statusz
