#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <statusz/probe.hpp>

namespace statusz {
namespace {

using namespace std::chrono_literals;

// A gate a probe blocks on until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void await_waiting(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return waiting_ >= n; });
  }
  void open() {
    std::lock_guard<std::mutex> g(mu_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(Probe, ReportsStatusMessageAndDurationOnTheClock) {
  ManualClock clock;
  Probe p(
      [&] {
        clock.advance(40ms);
        return ProbeResult(Status::Warning, "disk 91% full");
      },
      clock);
  const ProbeReport r = p.run();
  EXPECT_EQ(r.status, Status::Warning);
  EXPECT_EQ(r.message, "disk 91% full");
  EXPECT_EQ(r.duration, Nanos(40ms));
  EXPECT_FALSE(r.timed_out);
}

TEST(Probe, ThrowingIsKoWithTheMessage) {
  ManualClock clock;
  Probe p([]() -> ProbeResult { throw std::runtime_error("db down"); }, clock);
  const ProbeReport r = p.run();
  EXPECT_EQ(r.status, Status::Ko);
  EXPECT_EQ(r.message, "db down");
}

TEST(Probe, ThrowingANonStandardExceptionIsKo) {
  ManualClock clock;
  Probe p([]() -> ProbeResult { throw 42; }, clock);
  const ProbeReport r = p.run();
  EXPECT_EQ(r.status, Status::Ko);
  EXPECT_FALSE(r.message.empty());
}

TEST(Probe, AnInvalidStatusIsKo) {
  ManualClock clock;
  Probe p([] { return ProbeResult(static_cast<Status>(9)); }, clock);
  EXPECT_EQ(p.run().status, Status::Ko);
}

TEST(Probe, RejectsBadOptionsAndEmptyFunctions) {
  ManualClock clock;
  auto ok = [] { return Status::Ok; };
  EXPECT_THROW(Probe(ok, clock, ProbeOptions{Nanos(0), Nanos(0)}),
               std::invalid_argument);
  EXPECT_THROW(Probe(ok, clock, ProbeOptions{1s, Nanos(-1)}),
               std::invalid_argument);
  EXPECT_THROW(Probe(Probe::Function(), clock), std::invalid_argument);
}

TEST(Probe, SlowPastTheTimeoutIsUnknownThenRecovers) {
  ManualClock clock;
  Gate gate;
  std::atomic<int> calls{0};
  Probe p(
      [&] {
        if (calls.fetch_add(1) == 0) gate.wait();
        return Status::Ok;
      },
      clock, ProbeOptions{100ms, Nanos(0)});
  auto first = std::async(std::launch::async, [&] { return p.run(); });
  clock.await_waiters(1);
  clock.advance(99ms);
  EXPECT_EQ(first.wait_for(0s), std::future_status::timeout);
  clock.advance(1ms);
  const ProbeReport r = first.get();
  EXPECT_EQ(r.status, Status::Unknown);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.duration, Nanos(100ms));
  EXPECT_NE(r.message.find("100 ms"), std::string::npos);
  EXPECT_TRUE(p.running());
  gate.open();
  // The slow run finishes; the next request starts a fresh one.
  ProbeReport next;
  do {
    next = p.run();
  } while (next.timed_out);
  EXPECT_EQ(next.status, Status::Ok);
}

TEST(Probe, AHungProbeIsNeverStartedTwice) {
  ManualClock clock;
  auto gate = std::make_shared<Gate>();  // outlives the detached worker
  auto calls = std::make_shared<std::atomic<int>>(0);
  {
    Probe p(
        [gate, calls] {
          calls->fetch_add(1);
          gate->wait();
          return Status::Ok;
        },
        clock, ProbeOptions{50ms, Nanos(0)});
    auto first = p.start();  // the one run, entered before any request below
    gate->await_waiting(1);
    for (int request = 0; request < 20; ++request) {
      auto f = std::async(std::launch::async, [&] { return p.run(); });
      clock.await_waiters(1);
      clock.advance(50ms);
      const ProbeReport r = f.get();
      EXPECT_EQ(r.status, Status::Unknown);
      EXPECT_EQ(r.duration, Nanos(50ms) * (request + 1))
          << "reports the age of the one hung run";
      EXPECT_TRUE(r.timed_out);
    }
    EXPECT_EQ(calls->load(), 1);
  }  // destroyed while hung: the worker is detached, not joined
  gate->open();
  EXPECT_EQ(calls->load(), 1);
}

TEST(Probe, ResultsYoungerThanMaxAgeAreReused) {
  ManualClock clock;
  std::atomic<int> calls{0};
  Probe p(
      [&] {
        calls.fetch_add(1);
        return Status::Ok;
      },
      clock, ProbeOptions{1s, 10s});
  EXPECT_FALSE(p.run().reused);
  clock.advance(10s);
  EXPECT_TRUE(p.run().reused);
  EXPECT_EQ(calls.load(), 1);
  clock.advance(1ms);
  EXPECT_FALSE(p.run().reused);
  EXPECT_EQ(calls.load(), 2);
}

TEST(Probe, MaxAgeZeroRunsEveryTime) {
  ManualClock clock;
  std::atomic<int> calls{0};
  Probe p(
      [&] {
        calls.fetch_add(1);
        return Status::Ok;
      },
      clock);
  for (int i = 0; i < 5; ++i) p.run();
  EXPECT_EQ(calls.load(), 5);
}

TEST(Probe, StartedProbesRunConcurrently) {
  // Each probe waits for the other to have started: sequential runs would
  // time out (after 60 s of real time, as a failure bound).
  SteadyClock clock;
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  auto both = [&]() -> ProbeResult {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    if (!cv.wait_for(lock, 60s, [&] { return started == 2; })) {
      return {Status::Ko, "ran alone"};
    }
    return Status::Ok;
  };
  Probe a(both, clock, ProbeOptions{120s, Nanos(0)});
  Probe b(both, clock, ProbeOptions{120s, Nanos(0)});
  Probe::Pending pa = a.start();
  Probe::Pending pb = b.start();
  EXPECT_EQ(a.wait(pa).status, Status::Ok);
  EXPECT_EQ(b.wait(pb).status, Status::Ok);
}

TEST(Probe, RealTimeoutOnTheSteadyClockIsBounded) {
  SteadyClock clock;
  auto gate = std::make_shared<Gate>();  // outlives the detached worker
  {
    Probe p(
        [gate] {
          gate->wait();
          return Status::Ok;
        },
        clock, ProbeOptions{20ms, Nanos(0)});
    const auto t0 = std::chrono::steady_clock::now();
    const ProbeReport r = p.run();
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, Status::Unknown);
    EXPECT_GE(waited, 20ms);
  }
  gate->open();
}

}  // namespace
}  // namespace statusz
