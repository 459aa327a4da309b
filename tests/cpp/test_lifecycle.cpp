// Process lifecycle: saturating time, maximal timeouts, probes that use their
// own registry, thread creation failing (EAGAIN), idle probe workers ending,
// deeply nested gauge values, and fork(): the child ticks, runs its probes,
// counts from what the parent had, and inherits no statusz lock held.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <statusz/json.hpp>
#include <statusz/registry.hpp>
#include <string>
#include <thread>
#include <vector>

#include "os_threads.hpp"
#include "sanitizers.hpp"

namespace statusz {
namespace {

using namespace std::chrono_literals;

using statusz_test::thread_count;

// Waits (real time, bounded) until cond() holds: for OS threads to exit.
template <class F>
bool eventually(F cond, std::chrono::seconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// ---- arithmetic -------------------------------------------------------------

TEST(Lifecycle, ManualClockAdvanceSaturates) {
  ManualClock clock;
  clock.advance(Nanos::max() - Nanos(1));
  clock.advance(Nanos::max());
  EXPECT_EQ(clock.now(), Nanos::max());
  clock.advance(1s);
  EXPECT_EQ(clock.now(), Nanos::max());
}

TEST(Lifecycle, MaximalTimeoutWaitsAsLongAsItTakes) {
  ManualClock clock;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  Probe probe(
      [gate] {
        gate.wait();
        return ProbeResult(Status::Warning, "late");
      },
      clock, {Nanos::max(), Nanos(0)});
  auto report = std::async(std::launch::async, [&] { return probe.run(); });
  ASSERT_TRUE(clock.await_waiters(1, 10s));
  clock.advance(std::chrono::hours(24 * 365 * 100));
  EXPECT_EQ(report.wait_for(20ms), std::future_status::timeout);
  release.set_value();
  ASSERT_EQ(report.wait_for(10s), std::future_status::ready);
  const ProbeReport r = report.get();
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.status, Status::Warning);
  EXPECT_EQ(r.message, "late");
}

TEST(Lifecycle, MaximalTimeoutOnTheSteadyClockDoesNotTimeOutAtOnce) {
  SteadyClock clock;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  Probe probe(
      [gate] {
        gate.wait();
        return Status::Ok;
      },
      clock, {Nanos::max(), Nanos(0)});
  auto report = std::async(std::launch::async, [&] { return probe.run(); });
  EXPECT_EQ(report.wait_for(50ms), std::future_status::timeout);
  release.set_value();
  ASSERT_EQ(report.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(report.get().status, Status::Ok);
}

Value nested(int levels) {
  Value v = 1;
  for (int i = 0; i < levels; ++i) {
    Array a;
    a.push_back(std::move(v));
    v = Value(std::move(a));
  }
  return v;
}

TEST(Lifecycle, DeeplyNestedValuesRenderNullPastTheDepthLimit) {
  std::string shallow = to_json(nested(3));
  EXPECT_EQ(shallow, "[[[1]]]");
  const std::string limit = to_json(nested(kMaxJsonDepth));
  EXPECT_EQ(limit, std::string(kMaxJsonDepth, '[') + "1" +
                       std::string(kMaxJsonDepth, ']'));
  const std::string over = to_json(nested(kMaxJsonDepth + 1));
  EXPECT_EQ(over, std::string(kMaxJsonDepth + 1, '[') + "null" +
                      std::string(kMaxJsonDepth + 1, ']'));
}

// The document copies a gauge's value only down to kMaxJsonDepth
// (document.hpp), but the gauge's own value is destroyed by Value's
// recursive destructor (value.hpp): in an unoptimised AddressSanitizer or
// ThreadSanitizer build 100 000 levels of that overflow the test's stack, so
// there the gauge is nested 2 000 levels (8 times the limit; before the
// document's copy was bounded, 2 000 levels overflowed it under ASan).
#if defined(STATUSZ_ASAN) || defined(STATUSZ_TSAN)
constexpr int kDeep = 2000;
#else
constexpr int kDeep = 100000;
#endif

TEST(Lifecycle, AGaugeNestedAHundredThousandLevelsRendersWithoutOverflow) {
  ManualClock clock;
  RegistryOptions o;
  o.clock = &clock;
  Registry reg(o);
  reg.gauge("deep", [] { return nested(kDeep); });
  const std::string doc = reg.to_json();
  // The gauge sits at depth 1 of the document: depths 1 to kMaxJsonDepth
  // render as arrays, the next one as null.
  const std::string expected = "\"deep\":" + std::string(kMaxJsonDepth, '[') +
                               "null" + std::string(kMaxJsonDepth, ']');
  EXPECT_NE(doc.find(expected), std::string::npos) << doc.substr(0, 400);
  EXPECT_LT(doc.size(), 2000u);
  const std::string pretty = reg.to_json(true, true);
  EXPECT_NE(pretty.find("null"), std::string::npos);
  // The snapshot keeps what the JSON shows: arrays down to kMaxJsonDepth,
  // then null (the copy is bounded as the rendering is).
  const Value snap = reg.snapshot();
  const Value* v = snap.find("deep");
  ASSERT_NE(v, nullptr);
  int levels = 0;
  while (v->is_array()) {
    ASSERT_EQ(v->as_array().size(), 1u);
    v = &v->as_array()[0];
    ++levels;
  }
  EXPECT_EQ(levels, kMaxJsonDepth);
  EXPECT_TRUE(v->is_null());
}

// ---- re-entrancy -----------------------------------------------------------

TEST(Lifecycle, AProbeUsingItsOwnRegistryDoesNotWaitForItself) {
  ManualClock clock;
  RegistryOptions o;
  o.clock = &clock;
  Registry reg(o);
  std::vector<Status> seen;
  std::string nested_doc;
  reg.probe("applications.self", [&] {
    seen.push_back(reg.status());
    nested_doc = reg.to_json();
    return ProbeResult(Status::Warning, "self");
  });
  // ManualClock never moves here: a self-wait would never end.
  auto outer = std::async(std::launch::async, [&] { return reg.status(); });
  ASSERT_EQ(outer.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(outer.get(), Status::Warning);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], Status::Unknown);  // running, no result yet
  EXPECT_NE(nested_doc.find("still running"), std::string::npos);
  auto again = std::async(std::launch::async, [&] { return reg.status(); });
  ASSERT_EQ(again.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(again.get(), Status::Warning);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], Status::Warning);  // its last result
}

TEST(Lifecycle, TwoProbesAskingForEachOtherDoNotDeadlock) {
  ManualClock clock;
  RegistryOptions o;
  o.clock = &clock;
  Registry reg(o);
  reg.probe("a", [&] {
    return reg.status() == Status::Ko ? Status::Ko : Status::Ok;
  });
  reg.probe("b", [&] {
    return reg.status() == Status::Ko ? Status::Ko : Status::Ok;
  });
  auto outer = std::async(std::launch::async, [&] { return reg.to_json(); });
  ASSERT_EQ(outer.wait_for(10s), std::future_status::ready);
  const std::string doc = outer.get();
  EXPECT_EQ(doc.find("no answer"), std::string::npos) << doc;
}

// ---- thread creation failure
// -------------------------------------------------

std::atomic<int> g_failures{0};
bool fail_n_times() { return g_failures.fetch_sub(1) <= 0; }

struct FailThreadCreation {
  explicit FailThreadCreation(int n) {
    g_failures = n;
    detail::thread_creation_hook() = &fail_n_times;
  }
  ~FailThreadCreation() { detail::thread_creation_hook() = nullptr; }
};

TEST(Lifecycle, AProbeWorkerThatCannotBeCreatedIsRetriedOnTheNextRun) {
  ManualClock clock;
  Probe probe([] { return ProbeResult(Status::Ok, "fine"); }, clock);
  FailThreadCreation fail(1);
  const ProbeReport first = probe.run();
  EXPECT_EQ(first.status, Status::Unknown);
  EXPECT_NE(first.message.find("cannot start the probe's thread"),
            std::string::npos)
      << first.message;
  EXPECT_FALSE(probe.running());
  const ProbeReport second = probe.run();
  EXPECT_EQ(second.status, Status::Ok);
  EXPECT_EQ(second.message, "fine");
}

TEST(Lifecycle, ARegistryProbeReportsTheFailureAsItsMessage) {
  ManualClock clock;
  RegistryOptions o;
  o.clock = &clock;
  Registry reg(o);
  reg.probe("db", [] { return Status::Ok; });
  {
    FailThreadCreation fail(1);
    const std::string doc = reg.to_json();
    EXPECT_NE(doc.find("cannot start the probe's thread"), std::string::npos)
        << doc;
    EXPECT_EQ(reg.status(), Status::Ok);  // retried at once
  }
}

TEST(Lifecycle, ASteadyClockTickerThatCannotBeCreatedIsRetried) {
  SteadyClock clock;
  std::unique_ptr<Meter> meter;
  {
    FailThreadCreation fail(1);
    meter = std::make_unique<Meter>(clock);  // does not throw
    EXPECT_FALSE(clock.ticking());
    meter->mark(3);
    EXPECT_EQ(meter->count(), 3u);
    (void)clock.wall_now();  // the next document retries
    EXPECT_TRUE(clock.ticking());
  }
  FailThreadCreation fail(1);
  SteadyClock other;
  Meter first(other);
  EXPECT_FALSE(other.ticking());
  Meter second(other);  // the next attach retries
  EXPECT_TRUE(other.ticking());
}

// ---- idle probe workers
// --------------------------------------------------------

TEST(Lifecycle, IdleProbeWorkersEnd) {
  ManualClock clock;
  ProbeOptions o;
  o.worker_idle = Nanos(0);
  Probe probe([] { return Status::Ok; }, clock, o);
  EXPECT_FALSE(probe.has_worker());
  EXPECT_EQ(probe.run().status, Status::Ok);
  EXPECT_TRUE(eventually([&] { return !probe.has_worker(); }));
  EXPECT_EQ(probe.run().status, Status::Ok);  // a new worker
  o.worker_idle = Nanos::max();
  probe.set_options(o);
  EXPECT_EQ(probe.run().status, Status::Ok);
  EXPECT_TRUE(probe.has_worker());
}

TEST(Lifecycle, ProbeWorkersEndAfterAMinuteIdleByDefault) {
  EXPECT_EQ(ProbeOptions().worker_idle, std::chrono::seconds(60));
  ProbeOptions o;
  o.worker_idle = Nanos(-1);
  EXPECT_THROW(Probe([] { return Status::Ok; }, default_clock(), o),
               std::invalid_argument);
}

TEST(Lifecycle, TwoThousandProbesDoNotKeepTwoThousandThreads) {
  ManualClock clock;
  RegistryOptions ro;
  ro.clock = &clock;
  Registry reg(ro);
  ProbeOptions o;
  o.worker_idle = 1ms;
  for (int i = 0; i < 2000; ++i) {
    reg.probe(
        "p" + std::to_string(i), [] { return Status::Ok; }, o);
  }
  const std::size_t before = thread_count();
  EXPECT_EQ(reg.status(), Status::Ok);
  EXPECT_TRUE(eventually([&] { return thread_count() <= before + 10; }))
      << thread_count() << " threads";
  EXPECT_EQ(reg.status(), Status::Ok);  // workers come back on demand
}

// ---- fork
// ---------------------------------------------------------------------

// Runs child() in a forked child (guarded by an alarm: a deadlock fails the
// test instead of hanging it) and returns its exit status; 0 means success.
template <class F>
int in_child(F child) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    int code = 99;
    try {
      code = child();
    } catch (...) {
      code = 98;
    }
    _exit(code);
  }
  if (pid < 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -2;
  if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

TEST(Lifecycle, AForkedChildHasATickerOfItsOwn) {
  SKIP_UNDER_TSAN();
  SteadyClock clock;
  Meter meter(clock);
  meter.mark(5);
  ASSERT_TRUE(clock.ticking());
  EXPECT_EQ(in_child([&] {
              if (!clock.ticking()) return 1;
              if (meter.count() != 5) return 2;
              Meter fresh(clock);  // attach works (no lock held)
              fresh.mark(2);
              return fresh.count() == 2 && clock.ticking() ? 0 : 3;
            }),
            0);
}

TEST(Lifecycle, AForkedChildRunsItsProbes) {
  SKIP_UNDER_TSAN();
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<bool> hang{false};
  Registry reg;
  reg.probe("db",
            [&hang, gate] {
              if (hang) gate.wait();
              return ProbeResult(Status::Ok, "fine");
            },
            {200ms, Nanos(0)});
  ASSERT_EQ(reg.status(), Status::Ok);
  // A run in progress in the parent at the fork (hung there).
  hang = true;
  EXPECT_EQ(reg.status(), Status::Unknown);
  EXPECT_EQ(in_child([&] {
              hang = false;
              // The child's probe runs (no thread, no run carried over).
              if (reg.status() != Status::Ok) return 1;
              const std::string doc = reg.to_json();
              return doc.find("\"Ok\"") != std::string::npos ? 0 : 2;
            }),
            0);
  release.set_value();
}

TEST(Lifecycle, AManualClockWithWaitersInTheParentWorksInTheChild) {
  SKIP_UNDER_TSAN();
  ManualClock clock;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  Probe probe(
      [gate] {
        gate.wait();
        return Status::Ok;
      },
      clock, {1s, Nanos(0)});
  auto waiting = std::async(std::launch::async, [&] { return probe.run(); });
  ASSERT_TRUE(clock.await_waiters(1, 10s));
  EXPECT_EQ(in_child([&] {
              if (clock.waiters() != 0) return 1;  // the waiter is not here
              clock.advance(10s);                  // no phantom waiter to wake
              return clock.now() == 10s ? 0 : 2;
            }),
            0);
  clock.advance(1s);
  EXPECT_TRUE(waiting.get().timed_out);
  release.set_value();
}

TEST(Lifecycle, ForkingWhileWritersMarkAndAReaderRendersIsSafe) {
  SKIP_UNDER_TSAN();
  SKIP_UNDER_ASAN_FORK_WITH_ALLOCATING_THREADS();  // the reader allocates
  Registry reg;
  Meter& hits = reg.meter("hits");
  Counter& volume = reg.counter("volume");
  reg.probe("ok", [] { return Status::Ok; });
  std::atomic<bool> stop{false};
  constexpr int kWriters = 3;
  std::vector<std::uint64_t> marked(kWriters, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      while (!stop.load(std::memory_order_relaxed)) {
        hits.mark();
        volume.inc();
        ++marked[static_cast<std::size_t>(w)];
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) (void)reg.to_json();
  });
  for (int i = 0; i < 25; ++i) {
    const int code = in_child([&] {
      // The writers are gone: the child counts from what the parent had at
      // the fork, exactly, and its own marks add to it.
      const std::uint64_t at_fork = hits.count();
      const std::int64_t volume_at_fork = volume.value();
      std::thread writer([&] {
        for (int k = 0; k < 1000; ++k) hits.mark();
      });
      writer.join();
      hits.mark(10);
      volume.inc(7);
      if (hits.count() != at_fork + 1010) return 1;
      if (volume.value() != volume_at_fork + 7) return 2;
      const std::string doc = reg.to_json();
      if (doc.find("\"count\":" + std::to_string(at_fork + 1010)) ==
          std::string::npos) {
        return 3;
      }
      if (reg.status() != Status::Ok) return 4;
      Meter& fresh = reg.meter("fresh");
      fresh.mark(4);
      return fresh.count() == 4 ? 0 : 5;
    });
    ASSERT_EQ(code, 0) << "fork " << i;
  }
  stop = true;
  for (auto& t : threads) t.join();
  std::uint64_t total = 0;
  for (std::uint64_t n : marked) total += n;
  EXPECT_EQ(hits.count(), total);
  EXPECT_EQ(volume.value(), static_cast<std::int64_t>(total));
}

// The order of the pthread_atfork handlers does not depend on which part of
// statusz was used first. Here the gate is used before the cell space (each
// registered its own handlers, prepare handlers run in reverse order: the cell
// space's mutex was locked first, then the gate waited for a section that
// needed that mutex). A handler of the test, registered in between, runs after
// the cell space's and before the gate's, and lets a thread inside a section
// reserve a cell (as creating a meter in Registry::meter() does) at exactly
// that point. Reproduces when the test runs in a process where neither was
// used yet (ctest runs each test in its own process).
std::atomic<bool> g_fork_prepared{false};
void note_fork_prepared() { g_fork_prepared.store(true); }

TEST(Lifecycle, ForkWhileASectionReservesACellDoesNotDeadlock) {
  SKIP_UNDER_TSAN();
  // In a child of its own: the handler below stays out of this process, and
  // a deadlock ends with the child's alarm.
  EXPECT_EQ(in_child([] {
              (void)detail::ForkGate::instance();
              if (pthread_atfork(&note_fork_prepared, nullptr, nullptr) != 0) {
                return 1;
              }
              (void)detail::CellSpace::instance();
              std::atomic<bool> inside{false};
              std::thread reserving([&] {
                detail::ForkGate::Section section;
                inside.store(true);
                while (!g_fork_prepared.load()) std::this_thread::yield();
                detail::CellIndex cell;
                cell.add(1);
              });
              while (!inside.load()) std::this_thread::yield();
              const int code = in_child([] {
                detail::CellIndex cell;  // the space's mutex is free
                cell.add(2);
                return cell.sum() == 2 ? 0 : 1;
              });
              reserving.join();
              return code == 0 ? 0 : 10 + code;
            }),
            0);
}

// A function held by a gauge or a probe may own things whose destructor
// waits for another thread (a Python callable's takes the GIL, which the
// thread calling fork() holds). Replacing the function must destroy the old
// one outside any ForkGate section; inside, fork()'s prepare handler would
// wait for that section while the section waits for the forking thread.
struct SectionWitness {
  int* out;
  ~SectionWitness() { *out = detail::ForkGate::in_section() ? 1 : 0; }
};

TEST(Lifecycle,
     AReplacedGaugeOrProbeFunctionIsDestroyedOutsideAForkGateSection) {
  {
    detail::ForkGate::Section section;
    EXPECT_TRUE(detail::ForkGate::in_section());
  }
  EXPECT_FALSE(detail::ForkGate::in_section());

  Registry reg;
  int gauge_inside = -1;
  int probe_inside = -1;
  {
    std::shared_ptr<SectionWitness> g(new SectionWitness{&gauge_inside});
    std::shared_ptr<SectionWitness> p(new SectionWitness{&probe_inside});
    reg.gauge("g", [g] { return Value(1); });
    reg.probe("p", [p] { return Status::Ok; });
  }  // the functions now hold the only references
  EXPECT_EQ(gauge_inside, -1);
  EXPECT_EQ(probe_inside, -1);
  reg.gauge("g", [] { return Value(2); });
  reg.probe("p", [] { return Status::Warning; });
  EXPECT_EQ(gauge_inside, 0);
  EXPECT_EQ(probe_inside, 0);
}

}  // namespace
}  // namespace statusz
