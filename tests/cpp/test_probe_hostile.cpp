// Probes that hang, are slow, throw anything or return garbage: every
// snapshot still returns within its timeout, with the right statuses, and the
// number of threads stays bounded however many requests arrive.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <statusz/registry.hpp>
#include <thread>
#include <vector>

#include "os_threads.hpp"

namespace statusz {
namespace {

using namespace std::chrono_literals;

using statusz_test::thread_count;

struct Hostile {
  std::shared_ptr<std::promise<void>> release =
      std::make_shared<std::promise<void>>();
  std::shared_future<void> gate = release->get_future().share();

  void register_into(Registry& reg, Nanos timeout) {
    auto g = gate;
    reg.probe("applications.hung",
              [g] {
                g.wait();
                return Status::Ok;
              },
              {timeout, Nanos(0)});
    quick.push_back(&reg.probe("applications.throwsInt",
                               []() -> ProbeResult { throw 42; },
                               {timeout, Nanos(0)}));
    quick.push_back(&reg.probe(
        "applications.throwsString",
        []() -> ProbeResult { throw std::string("not an exception"); },
        {timeout, Nanos(0)}));
    quick.push_back(
        &reg.probe("applications.invalid",
                   [] { return ProbeResult(static_cast<Status>(200)); },
                   {timeout, Nanos(0)}));
    quick.push_back(&reg.probe("applications.fine", [] { return Status::Ok; },
                               {timeout, Nanos(0)}));
  }
  // With a ManualClock, advancing time past the timeout must wait until the
  // quick probes have answered (in real time they take microseconds).
  void await_quick_probes() const {
    for (const Probe* p : quick) {
      while (p->running()) std::this_thread::yield();
    }
  }
  std::vector<Probe*> quick;
  ~Hostile() { release->set_value(); }
};

void expect_statuses(const Value& doc) {
  const Value& apps = doc.at("applications");
  EXPECT_EQ(apps.at("hung").at("status").as_string(), "Unknown");
  EXPECT_EQ(apps.at("throwsInt").at("status").as_string(), "Ko");
  EXPECT_EQ(apps.at("throwsString").at("status").as_string(), "Ko");
  EXPECT_EQ(apps.at("invalid").at("status").as_string(), "Ko");
  EXPECT_EQ(apps.at("fine").at("status").as_string(), "Ok");
  EXPECT_EQ(doc.at("status").as_string(), "Ko");
}

// Runtimes may add threads of their own on the first thread creation
// (TSan does): create one before counting.
std::size_t thread_count_after_warm_up() {
  std::thread([] {}).join();
  return thread_count();
}

TEST(HostileProbes, ManyRequestsKeepThreadsBounded) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  Hostile hostile;
  hostile.register_into(reg, 1s);
  constexpr int kRequests = 200;
  std::mutex mu;
  std::condition_variable cv;
  int served = 0;
  std::vector<Value> docs;
  const std::size_t before = thread_count_after_warm_up();
  std::thread requester([&] {
    for (int i = 0; i < kRequests; ++i) {
      Value doc = reg.snapshot();
      std::lock_guard<std::mutex> g(mu);
      docs.push_back(std::move(doc));
      ++served;
      cv.notify_all();
    }
  });
  std::size_t after_first = 0;
  for (int i = 0; i < kRequests; ++i) {
    clock.await_waiters(1);
    hostile.await_quick_probes();
    clock.advance(1s);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return served == i + 1; });
    if (i == 0) after_first = thread_count();
  }
  // The requester plus one worker per probe; none added per request.
  EXPECT_LE(after_first, before + 1 + 5);
  EXPECT_LE(thread_count(), after_first);
  requester.join();
  ASSERT_EQ(docs.size(), static_cast<std::size_t>(kRequests));
  for (const Value& doc : docs) expect_statuses(doc);
}

TEST(HostileProbes, ConcurrentRequestsShareTheHungRun) {
  ManualClock clock;
  Registry reg({&clock, "h", "v"});
  Hostile hostile;
  hostile.register_into(reg, 1s);
  const std::size_t before = thread_count_after_warm_up();
  std::vector<Value> docs(8);
  std::vector<std::thread> requesters;
  for (auto& doc : docs) {
    requesters.emplace_back([&reg, &doc] { doc = reg.snapshot(); });
  }
  clock.await_waiters(docs.size());
  hostile.await_quick_probes();
  EXPECT_LE(thread_count(), before + docs.size() + 5);
  clock.advance(1s);
  for (auto& t : requesters) t.join();
  for (const Value& doc : docs) expect_statuses(doc);
}

TEST(HostileProbes, RealTimeSnapshotsReturnSoonAfterTheTimeout) {
  Registry reg({nullptr, "h", "v"});
  Hostile hostile;
  hostile.register_into(reg, 50ms);
  for (int request = 0; request < 10; ++request) {
    const auto t0 = std::chrono::steady_clock::now();
    const Value doc = reg.snapshot();
    const auto took = std::chrono::steady_clock::now() - t0;
    expect_statuses(doc);
    // A generous bound: this asserts "does not hang", not a speed.
    EXPECT_LT(took, 50ms + 2s);
  }
}

}  // namespace
}  // namespace statusz
