// Shared registries (shared.hpp, detail/shm.hpp): real forked processes
// counting into one store, some of them killed with SIGKILL.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "promtool.hpp"
#include "sanitizers.hpp"
#include "statusz/prometheus.hpp"
#include "statusz/registry.hpp"
#include "statusz/shared.hpp"

namespace {

// Forking a process that has threads (the clock's ticker) is unsupported
// under ThreadSanitizer (sanitizers.hpp); the threads-only tests run there.

using statusz::CounterMode;
using statusz::Registry;
using statusz::RegistryOptions;

// A store name no other test (or test run) uses; removed on destruction.
struct Name {
  std::string value;
  explicit Name(const char* what)
      : value(std::string("test-") + std::to_string(::getpid()) + "-" + what) {
    statusz::remove_shared(value);
  }
  ~Name() { statusz::remove_shared(value); }
};

RegistryOptions shared_options(const std::string& name,
                               statusz::Clock* clock = nullptr) {
  RegistryOptions o;
  o.shared = name;
  o.clock = clock;
  o.host_name = "test";
  return o;
}

// Memory shared with forked children (anonymous, MAP_SHARED).
template <class T>
T* shared_anon(std::size_t n) {
  void* p = ::mmap(nullptr, sizeof(T) * n, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(p, MAP_FAILED);
  T* t = static_cast<T*>(p);
  for (std::size_t i = 0; i < n; ++i) new (&t[i]) T();
  return t;
}

int wait_status(pid_t pid) {
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

// A forked worker that runs body() and exits 0 (or never returns from it:
// a worker to be killed). The parent gets its pid (-1 if fork() failed).
template <class Body>
pid_t fork_worker(Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  return pid;
}

// Waits for the `exiting` workers (each must exit 0); then SIGKILLs each of
// the `killed` ones, mid-count, once done[i] says it has counted 1 000 times.
void reap_exited_then_kill(const std::vector<pid_t>& exiting,
                           const std::vector<pid_t>& killed,
                           const std::atomic<std::uint64_t>* done) {
  for (pid_t pid : exiting) EXPECT_EQ(wait_status(pid), 0);
  for (std::size_t i = 0; i < killed.size(); ++i) {
    while (done[i].load() < 1000) std::this_thread::yield();
    ASSERT_EQ(::kill(killed[i], SIGKILL), 0);
    const int status = wait_status(killed[i]);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
}

TEST(Shared, WorkersThatExitAndWorkersKilledMidMarkGiveExactTotals) {
  SKIP_UNDER_TSAN();
  Name name("totals");
  Registry reg(shared_options(name.value));
  statusz::Meter& requests = reg.meter("pool.requests");
  statusz::Counter& bytes = reg.counter("pool.bytes");
  requests.mark(7);  // the parent counts too
  constexpr int kExiting = 12;
  constexpr int kKilled = 4;
  constexpr std::uint64_t kMarks = 20000;
  // done[i]: marks a killed worker has completed (written after each).
  auto* done = shared_anon<std::atomic<std::uint64_t>>(kKilled);
  std::vector<pid_t> exiting, killed;
  for (int i = 0; i < kExiting; ++i) {
    exiting.push_back(fork_worker([&] {
      for (std::uint64_t k = 0; k < kMarks; ++k) {
        requests.mark();
        bytes.inc(3);
      }
    }));
    ASSERT_GE(exiting.back(), 0);
  }
  for (int i = 0; i < kKilled; ++i) {
    killed.push_back(fork_worker([&] {
      for (;;) {
        requests.mark();
        done[i].fetch_add(1, std::memory_order_seq_cst);
      }
    }));
    ASSERT_GE(killed.back(), 0);
  }
  ASSERT_NO_FATAL_FAILURE(reap_exited_then_kill(exiting, killed, done));
  std::uint64_t killed_done = 0;
  for (int i = 0; i < kKilled; ++i) killed_done += done[i].load();
  const std::uint64_t exact = 7 + kExiting * kMarks + killed_done;
  // Each killed worker may have completed one mark it did not report.
  const std::uint64_t count = requests.count();
  EXPECT_GE(count, exact);
  EXPECT_LE(count, exact + kKilled);
  EXPECT_EQ(bytes.value(), static_cast<std::int64_t>(3 * kExiting * kMarks));
  // Reaping folds the dead workers' slots and changes no total.
  reg.shared_store()->reap();
  EXPECT_EQ(requests.count(), count);
  EXPECT_EQ(bytes.value(), static_cast<std::int64_t>(3 * kExiting * kMarks));
  EXPECT_EQ(reg.shared_store()->slots_in_use(), 1u);  // the parent's thread
  const auto doc = nlohmann::json::parse(reg.to_json());
  EXPECT_EQ(doc["pool"]["requests"]["count"].get<std::uint64_t>(), count);
  EXPECT_EQ(doc["pool"]["bytes"].get<std::int64_t>(),
            static_cast<std::int64_t>(3 * kExiting * kMarks));
  ::munmap(done, sizeof(std::atomic<std::uint64_t>) * kKilled);
}

TEST(Shared, TwoHundredWorkersComeAndGoInABoundedStore) {
  SKIP_UNDER_TSAN();
  Name name("churn");
  Registry reg(shared_options(name.value));
  statusz::Meter& m = reg.meter("hits");
  const std::size_t bytes = reg.shared_store()->segment_bytes();
  constexpr int kWorkers = 200;
  constexpr int kAtOnce = 8;
  std::size_t most_slots = 0;
  std::vector<pid_t> running;
  for (int i = 0; i < kWorkers; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      m.mark(static_cast<std::uint64_t>(i) + 1);
      ::_exit(0);
    }
    running.push_back(pid);
    if (running.size() == kAtOnce) {
      for (pid_t p : running) EXPECT_EQ(wait_status(p), 0);
      running.clear();
      most_slots = std::max(most_slots, reg.shared_store()->slots_in_use());
      // A render reaps the dead workers' slots.
      (void)reg.to_json();
      EXPECT_EQ(reg.shared_store()->slots_in_use(), 0u);
    }
  }
  for (pid_t p : running) EXPECT_EQ(wait_status(p), 0);
  EXPECT_EQ(m.count(), std::uint64_t{kWorkers} * (kWorkers + 1) / 2);
  // At most the workers alive at once ever held a slot; nothing grew.
  EXPECT_LE(most_slots, std::size_t{kAtOnce});
  EXPECT_GE(most_slots, 1u);
  EXPECT_EQ(reg.shared_store()->segment_bytes(), bytes);
  struct stat st {};
  ASSERT_EQ(::stat(statusz::shared_path(name.value).c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), bytes);
}

TEST(Shared, MoreWorkersAliveThanSlotsStillCountExactly) {
  Name name("full");
  statusz::detail::SharedStore::Limits limits;
  limits.slots = 2;
  statusz::detail::SharedStore store(name.value, limits);
  const auto r =
      store.register_metric("x", statusz::detail::SharedStore::kCounter,
                            CounterMode::Sum, statusz::Nanos(0));
  statusz::Counter c(r.cell);
  // 4 threads alive at once, 2 slots: two count through the common slot.
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      c.inc();
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  }
  while (ready.load() < 4) std::this_thread::yield();
  EXPECT_EQ(store.slots_in_use(), 2u);
  go.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 4 * 10001);
}

TEST(Shared, ThreadsThatExitParkTheirSlotForTheProcess) {
  Name name("threads");
  Registry reg(shared_options(name.value));
  statusz::Counter& c = reg.counter("c");
  for (int i = 0; i < 50; ++i) {
    std::thread([&] { c.inc(2); }).join();
  }
  EXPECT_EQ(c.value(), 100);
  EXPECT_EQ(reg.shared_store()->slots_in_use(), 1u);
}

TEST(Shared, ProcessIdentityHandlesPidReuseAndZombies) {
  SKIP_UNDER_TSAN();
  const statusz::detail::ProcessIdentity me = statusz::detail::self_identity();
  EXPECT_EQ(me.pid, ::getpid());
  EXPECT_TRUE(statusz::detail::process_alive(me.pid, me.start));
  // The same pid with another start time is another (dead) process.
  EXPECT_FALSE(statusz::detail::process_alive(me.pid, me.start + 1));
  // A zombie (exited, not yet waited for) is dead.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  char state = 0;
  std::uint64_t start = 0;
  ASSERT_TRUE(statusz::detail::read_proc_stat(pid, state, start));
  for (int i = 0; i < 5000 && state != 'Z'; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(statusz::detail::read_proc_stat(pid, state, start));
  }
  EXPECT_EQ(state, 'Z');
  EXPECT_FALSE(statusz::detail::process_alive(pid, start));
  EXPECT_EQ(wait_status(pid), 0);
  EXPECT_FALSE(statusz::detail::process_alive(pid, start));
}

TEST(Shared, AZombieWorkersSlotIsReapedBeforeItsParentWaits) {
  SKIP_UNDER_TSAN();
  Name name("zombie");
  Registry reg(shared_options(name.value));
  statusz::Counter& live = reg.counter("live", CounterMode::LiveSum);
  statusz::Counter& total = reg.counter("total");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    live.inc(5);
    total.inc(5);
    ::_exit(0);
  }
  char state = 0;
  std::uint64_t start = 0;
  while (statusz::detail::read_proc_stat(pid, state, start) && state != 'Z') {
    std::this_thread::yield();
  }
  EXPECT_EQ(live.value(), 0);
  EXPECT_EQ(total.value(), 5);
  EXPECT_EQ(reg.shared_store()->slots_in_use(), 0u);
  EXPECT_EQ(wait_status(pid), 0);
}

TEST(Shared, CounterModesAggregateLiveProcesses) {
  SKIP_UNDER_TSAN();
  Name name("modes");
  Registry reg(shared_options(name.value));
  statusz::Counter& most = reg.counter("most", CounterMode::Max);
  statusz::Counter& least = reg.counter("least", CounterMode::Min);
  statusz::Counter& live = reg.counter("live", CounterMode::LiveSum);
  statusz::Counter& sum = reg.counter("sum");
  most.set(10);
  least.set(10);
  live.set(10);
  sum.set(10);
  int pipes[2];
  ASSERT_EQ(::pipe(pipes), 0);
  auto* ready = shared_anon<std::atomic<int>>(1);
  std::vector<pid_t> kids;
  for (int v : {3, 42}) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(pipes[1]);
      most.set(v);
      least.set(v);
      live.set(v);
      sum.set(v);
      ready->fetch_add(1);
      char b;
      while (::read(pipes[0], &b, 1) != 0) {
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  ::close(pipes[0]);
  while (ready->load() < 2) std::this_thread::yield();
  EXPECT_EQ(most.value(), 42);
  EXPECT_EQ(least.value(), 3);
  EXPECT_EQ(live.value(), 55);
  EXPECT_EQ(sum.value(), 55);
  // The parent's own value is still its own.
  live.set(1);
  EXPECT_EQ(live.value(), 46);
  ::close(pipes[1]);  // the children exit
  for (pid_t p : kids) EXPECT_EQ(wait_status(p), 0);
  EXPECT_EQ(most.value(), 10);
  EXPECT_EQ(least.value(), 10);
  EXPECT_EQ(live.value(), 1);
  EXPECT_EQ(sum.value(), 55);  // the dead children's values stay
  // Another mode for the same path is refused.
  EXPECT_THROW(
      {
        Registry other(shared_options(name.value));
        other.counter("most", CounterMode::Min);
      },
      std::invalid_argument);
  // And so it is by the registry that has it, which once returned its
  // counter as it was.
  EXPECT_THROW(reg.counter("most", CounterMode::Min), std::invalid_argument);
  EXPECT_EQ(&reg.counter("most", CounterMode::Max), &most);
  ::munmap(ready, sizeof(std::atomic<int>));
}

TEST(Shared, OneRateForThePoolFromTheSummedCount) {
  SKIP_UNDER_TSAN();
  Name name("rates");
  statusz::ManualClock clock;
  Registry reg(shared_options(name.value, &clock));
  statusz::Meter& m = reg.meter("m");
  statusz::ManualClock private_clock;
  statusz::Meter reference(private_clock);
  m.mark(40);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    m.mark(60);
    ::_exit(0);
  }
  EXPECT_EQ(wait_status(pid), 0);
  reference.mark(100);
  clock.advance(std::chrono::seconds(6));
  private_clock.advance(std::chrono::seconds(6));
  const statusz::MeterSnapshot s = m.snapshot();
  const statusz::MeterSnapshot r = reference.snapshot();
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.one_minute_rate, 20.0);
  EXPECT_DOUBLE_EQ(s.one_minute_rate, r.one_minute_rate);
  EXPECT_DOUBLE_EQ(s.five_minute_rate, r.five_minute_rate);
  EXPECT_DOUBLE_EQ(s.fifteen_minute_rate, r.fifteen_minute_rate);
  EXPECT_DOUBLE_EQ(s.mean_rate, r.mean_rate);
  // A second interval: a child marks 50 while the parent marks 25.
  const pid_t second = ::fork();
  ASSERT_GE(second, 0);
  if (second == 0) {
    m.mark(50);
    ::_exit(0);
  }
  m.mark(25);
  EXPECT_EQ(wait_status(second), 0);
  reference.mark(75);
  clock.advance(std::chrono::seconds(5));
  private_clock.advance(std::chrono::seconds(5));
  EXPECT_DOUBLE_EQ(m.one_minute_rate(), reference.one_minute_rate());
  EXPECT_DOUBLE_EQ(m.fifteen_minute_rate(), reference.fifteen_minute_rate());
  // Another process of the pool reads the same (one) rate.
  const double seen = m.one_minute_rate();
  const pid_t reader = ::fork();
  ASSERT_GE(reader, 0);
  if (reader == 0) {
    Registry joined(shared_options(name.value, &clock));
    ::_exit(joined.meter("m").one_minute_rate() == seen &&
                    joined.meter("m").count() == 175
                ? 0
                : 1);
  }
  EXPECT_EQ(wait_status(reader), 0);
}

TEST(Shared, TheSegmentIsPrivateToTheUser) {
  Name name("perm");
  Registry reg(shared_options(name.value));
  struct stat st {};
  ASSERT_EQ(::stat(statusz::shared_path(name.value).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  // A store readable by others is refused.
  Name open("open");
  const std::string path = statusz::shared_path(open.value);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fchmod(fd, 0644), 0);
  ::close(fd);
  try {
    Registry bad(shared_options(open.value));
    ADD_FAILURE() << "joined a 0644 store";
  } catch (const statusz::SharedStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("0600"), std::string::npos)
        << e.what();
  }
}

TEST(Shared, BadNamesAreRefused) {
  // (An empty name is a private registry.)
  for (const char* bad : {".", "..", "a/b", "../x", "white space", "é"}) {
    EXPECT_THROW(Registry(shared_options(bad)), std::invalid_argument) << bad;
  }
  EXPECT_THROW(Registry(shared_options(std::string(101, 'a'))),
               std::invalid_argument);
}

TEST(Shared, AnotherLayoutVersionRefusesToJoin) {
  Name name("layout");
  Registry reg(shared_options(name.value));
  reg.meter("m").mark();
  // Rewrite the version field (after the 8-byte magic), as a build with
  // another layout would have written it.
  const int fd = ::open(statusz::shared_path(name.value).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::uint32_t other = 999;
  ASSERT_EQ(::pwrite(fd, &other, sizeof other, 8),
            static_cast<ssize_t>(sizeof other));
  ::close(fd);
  try {
    Registry joined(shared_options(name.value));
    ADD_FAILURE() << "joined a store of another layout";
  } catch (const statusz::SharedStoreError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("layout version 999"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot join"), std::string::npos) << what;
  }
}

TEST(Shared, KindsClashAcrossProcessesAndHistogramsAreRefused) {
  SKIP_UNDER_TSAN();
  Name name("kinds");
  Registry reg(shared_options(name.value));
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Registry child(shared_options(name.value));
    child.counter("x").inc();
    child.keyed("k", 10).inc("a");
    ::_exit(0);
  }
  EXPECT_EQ(wait_status(pid), 0);
  EXPECT_THROW(reg.meter("x"), statusz::KindError);
  EXPECT_FALSE(reg.contains("x"));
  EXPECT_EQ(reg.counter("x").value(), 1);
  try {
    reg.counter("k");
    ADD_FAILURE() << "a keyed counter of another process is not a counter";
  } catch (const statusz::KindError& e) {
    EXPECT_EQ(e.existing(), statusz::Kind::KeyedCounter);
  }
  EXPECT_FALSE(reg.contains("k"));
  EXPECT_EQ(reg.keyed("k").value("a"), 1u);
  // Not shared: refused, not counted per process.
  try {
    reg.histogram("h");
    ADD_FAILURE() << "a histogram on a shared registry";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("not supported by a shared registry"),
              std::string::npos);
  }
  EXPECT_THROW(reg.timer("t"), std::logic_error);
  EXPECT_FALSE(reg.contains("h"));
  EXPECT_FALSE(reg.contains("t"));
}

TEST(Shared, ClosingARegistryKeepsItsCounts) {
  Name name("close");
  {
    Registry a(shared_options(name.value));
    a.meter("m").mark(3);
    a.counter("live", CounterMode::LiveSum).inc(4);
  }
  Registry b(shared_options(name.value));
  EXPECT_EQ(b.meter("m").count(), 3u);
  EXPECT_EQ(b.counter("live", CounterMode::LiveSum).value(), 0);
  EXPECT_EQ(b.shared_store()->slots_in_use(), 0u);
}

// A thread's adds reach the store of the metric they are made on: the first
// meter, counter and keyed counter of two stores have the same cell indices,
// and a private registry's the same ones in the process's CellSpace, so an
// add that went to the store (or space) the thread counted into last would
// show here (detail::CellIndex::add() checks the thread's cached slot is in
// the metric's store before it adds there).
TEST(Shared, OneThreadAlternatingBetweenStoresCountsIntoEach) {
  Name name_a("alt-a");
  Name name_b("alt-b");
  Registry a(shared_options(name_a.value));
  Registry b(shared_options(name_b.value));
  Registry p;
  auto& ma = a.meter("m");
  auto& mb = b.meter("m");
  auto& mp = p.meter("m");
  auto& ca = a.counter("c");
  auto& cb = b.counter("c");
  auto& ka = a.keyed("k");
  auto& kb = b.keyed("k");
  auto& kp = p.keyed("k");
  const auto count_once = [&](std::uint64_t i) {
    ma.mark(1);
    mb.mark(10);
    mp.mark(100);
    ca.inc(2);
    cb.dec(3);
    ka.inc("x", 1);
    kb.inc("x", 5);
    kp.inc("x", 7);
    if (i % 3 == 0) kb.inc("y");
  };
  for (std::uint64_t i = 0; i < 1000; ++i) count_once(i);
  std::thread t([&] {
    for (std::uint64_t i = 0; i < 1000; ++i) count_once(i);
  });
  t.join();
  EXPECT_EQ(ma.count(), 2000u);
  EXPECT_EQ(mb.count(), 20000u);
  EXPECT_EQ(mp.count(), 200000u);
  EXPECT_EQ(ca.value(), 4000);
  EXPECT_EQ(cb.value(), -6000);
  EXPECT_EQ(ka.value("x"), 2000u);
  EXPECT_EQ(kb.value("x"), 10000u);
  EXPECT_EQ(kb.value("y"), 668u);
  EXPECT_EQ(kp.value("x"), 14000u);
  EXPECT_EQ(ka.value("y"), 0u);
  EXPECT_EQ(ka.dropped() + kb.dropped() + kp.dropped(), 0u);
}

TEST(Shared, ProcessesJoiningAndLeavingWhileAnotherRenders) {
  SKIP_UNDER_TSAN();
  Name name("stress");
  Registry reg(shared_options(name.value));
  statusz::Meter& m = reg.meter("m");
  std::atomic<bool> stop{false};
  std::thread renderer([&] {
    std::uint64_t last = 0;
    while (!stop.load()) {
      const auto doc = nlohmann::json::parse(reg.to_json());
      const auto c = doc["m"]["count"].get<std::uint64_t>();
      EXPECT_GE(c, last);  // never goes back, never double counts a fold
      last = c;
    }
  });
  constexpr int kWorkers = 60;
  std::vector<pid_t> pids;
  for (int i = 0; i < kWorkers; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Registry joined(shared_options(name.value));
      statusz::Meter& jm = joined.meter("m");
      for (int k = 0; k < 1000; ++k) jm.mark();
      ::_exit(0);  // no destructor: the renderer reaps it
    }
    pids.push_back(pid);
    if (pids.size() == 6) {
      for (pid_t p : pids) EXPECT_EQ(wait_status(p), 0);
      pids.clear();
    }
  }
  for (pid_t p : pids) EXPECT_EQ(wait_status(p), 0);
  stop.store(true);
  renderer.join();
  EXPECT_EQ(m.count(), std::uint64_t{kWorkers} * 1000);
}

// ---- keyed counters ---------------------------------------------------------

std::map<std::string, std::uint64_t> keyed_map(const statusz::KeyedCounter& k) {
  std::map<std::string, std::uint64_t> out;
  k.for_each([&](std::string_view key, std::uint64_t v) {
    EXPECT_TRUE(out.emplace(std::string(key), v).second) << key;
  });
  return out;
}

TEST(SharedKeyed,
     WorkersWithOverlappingAndDistinctKeysSomeKilledGiveExactTotals) {
  SKIP_UNDER_TSAN();
  Name name("keyed-totals");
  Registry reg(shared_options(name.value));
  statusz::KeyedCounter& errors = reg.keyed("pool.errors", 64);
  errors.inc("common", 5);  // the parent counts too
  constexpr int kExiting = 8;
  constexpr int kKilled = 3;
  constexpr std::uint64_t kIncs = 20000;
  auto* done = shared_anon<std::atomic<std::uint64_t>>(kKilled);
  std::vector<pid_t> exiting, killed;
  for (int i = 0; i < kExiting; ++i) {
    exiting.push_back(fork_worker([&] {
      const std::string own = "worker-" + std::to_string(i);
      const std::string pair = "pair-" + std::to_string(i / 2);
      for (std::uint64_t k = 0; k < kIncs; ++k) {
        errors.inc("common");
        errors.inc(own);
        if (k % 100 == 0) errors.inc(pair);
      }
    }));
    ASSERT_GE(exiting.back(), 0);
  }
  for (int i = 0; i < kKilled; ++i) {
    killed.push_back(fork_worker([&] {
      const std::string own = "killed-" + std::to_string(i);
      for (;;) {
        errors.inc(own);
        done[i].fetch_add(1, std::memory_order_seq_cst);
      }
    }));
    ASSERT_GE(killed.back(), 0);
  }
  ASSERT_NO_FATAL_FAILURE(reap_exited_then_kill(exiting, killed, done));
  reg.shared_store()->reap();
  EXPECT_EQ(reg.shared_store()->slots_in_use(), 1u);  // the parent's thread
  const auto counts = keyed_map(errors);
  ASSERT_EQ(counts.size(), std::size_t{1 + kExiting + kExiting / 2 + kKilled});
  EXPECT_EQ(errors.size(), counts.size());
  EXPECT_EQ(counts.at("common"), 5 + kExiting * kIncs);
  for (int i = 0; i < kExiting; ++i) {
    EXPECT_EQ(counts.at("worker-" + std::to_string(i)), kIncs);
    EXPECT_EQ(errors.value("worker-" + std::to_string(i)), kIncs);
  }
  for (int i = 0; i < kExiting / 2; ++i) {
    EXPECT_EQ(counts.at("pair-" + std::to_string(i)), 2 * kIncs / 100);
  }
  for (int i = 0; i < kKilled; ++i) {
    // A killed worker may have completed one inc it did not report.
    const std::uint64_t c = counts.at("killed-" + std::to_string(i));
    EXPECT_GE(c, done[i].load());
    EXPECT_LE(c, done[i].load() + 1);
  }
  EXPECT_EQ(errors.dropped(), 0u);
  // The document and the exposition show the same pool counts.
  const auto doc = nlohmann::json::parse(reg.to_json());
  for (const auto& [key, count] : counts) {
    EXPECT_EQ(doc["pool"]["errors"][key].get<std::uint64_t>(), count) << key;
  }
  EXPECT_EQ(doc["pool"]["errors"].size(), counts.size());
  const std::string expo = statusz::to_prometheus(reg);
  EXPECT_NE(expo.find("statusz_pool_errors_total{key=\"common\"} " +
                      std::to_string(5 + kExiting * kIncs) + "\n"),
            std::string::npos)
      << expo;
  EXPECT_NE(expo.find("statusz_pool_errors_dropped_total 0\n"),
            std::string::npos);
  ::munmap(done, sizeof(std::atomic<std::uint64_t>) * kKilled);
}

TEST(SharedKeyed, MaxKeysIsPoolWideAndOverflowIsCountedOnce) {
  SKIP_UNDER_TSAN();
  Name name("keyed-overflow");
  Registry reg(shared_options(name.value));
  statusz::KeyedCounter& k = reg.keyed("by_bot", 4);
  k.inc("a");
  k.inc("b");
  const auto child = [&](auto&& body) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      Registry joined(shared_options(name.value));
      // Another max_keys: the pool's (the first registration's) applies.
      statusz::KeyedCounter& jk = joined.keyed("by_bot", 1000);
      body(jk);
      ::_exit(jk.max_keys() == 4 ? 0 : 1);
    }
    EXPECT_EQ(wait_status(pid), 0);
  };
  child([](statusz::KeyedCounter& jk) {
    jk.inc("c");
    jk.inc("d");
    jk.inc("e");  // the fifth key: overflow
  });
  child([](statusz::KeyedCounter& jk) {
    jk.inc("f", 2);                                   // overflow
    jk.inc("a");                                      // admitted by the parent
    jk.inc(std::string(300, 'x'));                    // too long: overflow
    jk.inc(statusz::KeyedCounter::kOverflowKey, 10);  // not a drop
  });
  EXPECT_EQ(k.size(), 4u);
  EXPECT_EQ(k.max_keys(), 4u);
  EXPECT_EQ(k.value("a"), 2u);
  EXPECT_TRUE(k.contains("d"));
  EXPECT_FALSE(k.contains("e"));
  EXPECT_FALSE(k.contains(statusz::KeyedCounter::kOverflowKey));
  EXPECT_EQ(k.value(statusz::KeyedCounter::kOverflowKey), 1u + 2 + 1 + 10);
  EXPECT_EQ(k.dropped(), 3u);
  // This process had not seen "c": it is the pool's key, not an overflow.
  k.inc("c");
  k.inc("g");
  EXPECT_EQ(k.value("c"), 2u);
  EXPECT_EQ(k.dropped(), 4u);
  const std::vector<std::pair<std::string, std::uint64_t>> expected = {
      {"a", 2}, {"b", 1}, {"c", 2}, {"d", 1}, {"__overflow__", 15}};
  EXPECT_EQ(k.snapshot(), expected);
  const auto doc = nlohmann::json::parse(reg.to_json());
  EXPECT_EQ(doc["by_bot"], nlohmann::json::parse(
                               R"({"a": 2, "b": 1, "c": 2, "d": 1,
                                   "__overflow__": 15})"));
  const std::string expo = statusz::to_prometheus(reg);
  EXPECT_NE(expo.find("statusz_by_bot_total{key=\"__overflow__\"} 15\n"),
            std::string::npos)
      << expo;
  EXPECT_NE(expo.find("statusz_by_bot_dropped_total 4\n"), std::string::npos);
#ifdef STATUSZ_PROMTOOL
  const auto r =
      statusz_test::promtool_check_metrics(expo, "shared_keyed.prom");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << expo;
#endif
}

TEST(SharedKeyed, ANewKeyRacingFromSeveralProcessesLandsOnce) {
  SKIP_UNDER_TSAN();
  Name name("keyed-race");
  Registry reg(shared_options(name.value));
  statusz::KeyedCounter& k = reg.keyed("race", 1000);
  constexpr int kWorkers = 4;
  constexpr int kKeys = 300;
  auto* go = shared_anon<std::atomic<int>>(1);
  std::vector<pid_t> pids;
  for (int i = 0; i < kWorkers; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      go->fetch_add(1);
      while (go->load() < kWorkers) {
      }
      for (int key = 0; key < kKeys; ++key) k.inc("key-" + std::to_string(key));
      ::_exit(0);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) EXPECT_EQ(wait_status(pid), 0);
  const auto counts = keyed_map(k);
  EXPECT_EQ(counts.size(), std::size_t{kKeys});
  EXPECT_EQ(k.size(), std::size_t{kKeys});
  for (int key = 0; key < kKeys; ++key) {
    EXPECT_EQ(counts.at("key-" + std::to_string(key)), std::uint64_t{kWorkers});
  }
  EXPECT_EQ(k.dropped(), 0u);
  ::munmap(go, sizeof(std::atomic<int>));
}

TEST(SharedKeyed, ThreadsOfOneProcessCountIntoThePoolsKeys) {
  Name name("keyed-threads");
  Registry reg(shared_options(name.value));
  statusz::KeyedCounter& k = reg.keyed("k", 100);
  constexpr int kThreads = 4;
  constexpr std::uint64_t kIncs = 50000;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) (void)keyed_map(k);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&k, t] {
      const std::string own = "t" + std::to_string(t);
      for (std::uint64_t i = 0; i < kIncs; ++i) {
        k.inc("shared");
        k.inc(own);
        k.inc("n" + std::to_string(i % 40));
      }
    });
  }
  for (auto& t : threads) t.join();
  stop.store(true);
  reader.join();
  const auto counts = keyed_map(k);
  EXPECT_EQ(counts.size(), 1u + kThreads + 40);
  EXPECT_EQ(counts.at("shared"), kThreads * kIncs);
  EXPECT_EQ(counts.at("t2"), kIncs);
  EXPECT_EQ(counts.at("n7"), kThreads * kIncs / 40);
  // A second registry on the same store (as another process would) sees them.
  Registry other(shared_options(name.value));
  EXPECT_EQ(keyed_map(other.keyed("k")), counts);
}

TEST(SharedKeyed, CapacityIsReservedAtRegistrationOrRefusedClearly) {
  Name name("keyed-capacity");
  RegistryOptions o = shared_options(name.value);
  o.shared_limits.cells = 40;
  o.shared_limits.key_bytes = 20 * 264;
  Registry reg(o);
  reg.meter("m");
  statusz::KeyedCounter& k = reg.keyed("small", 20);  // 22 cells
  try {
    reg.keyed("big", 20);  // 22 more cells: 17 are left
    ADD_FAILURE() << "no cells left";
  } catch (const statusz::SharedStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("cells left"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(reg.contains("big"));
  EXPECT_EQ(reg.shared_store()->cells_used(), 23u);
  try {
    reg.keyed("keys", 1);  // 3 cells, but no key bytes left
    ADD_FAILURE() << "no key bytes left";
  } catch (const statusz::SharedStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("key bytes left"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(reg.keyed("zero", 0), std::invalid_argument);
  for (int i = 0; i < 25; ++i) k.inc("k" + std::to_string(i));
  EXPECT_EQ(k.size(), 20u);
  EXPECT_EQ(k.dropped(), 5u);
  // Another process must open the store with the same limits.
  RegistryOptions other = shared_options(name.value);
  try {
    Registry joined(other);
    ADD_FAILURE() << "joined with other limits";
  } catch (const statusz::SharedStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("other limits"), std::string::npos)
        << e.what();
  }
}

TEST(SharedKeyed, TheDefaultSegmentHoldsADefaultKeyedCounter) {
  Name name("keyed-defaults");
  Registry reg(shared_options(name.value));
  // README: (slots + 1) x cells x 8 + key bytes + the directory, ~24.6 MiB.
  const std::size_t bytes = reg.shared_store()->segment_bytes();
  EXPECT_GT(bytes, std::size_t{24} << 20);
  EXPECT_LT(bytes, std::size_t{25} << 20);
  statusz::KeyedCounter& k = reg.keyed("errors");  // max_keys 10 000
  EXPECT_EQ(k.max_keys(), statusz::KeyedCounter::kDefaultMaxKeys);
  EXPECT_EQ(reg.shared_store()->cells_used(), 10002u);
  EXPECT_EQ(reg.shared_store()->key_bytes_used(), 10000u * 264);
  EXPECT_THROW(reg.keyed("more_errors"), statusz::SharedStoreError);
  EXPECT_NO_THROW(reg.keyed("few_errors", 1000));
}

TEST(SharedKeyed, NewKeysRacingFromTwoRegistriesOfOneStoreLandOnce) {
  // Two registries on one store race as two processes would (and run under
  // ThreadSanitizer, which the fork tests skip).
  Name name("keyed-race-threads");
  Registry a(shared_options(name.value));
  Registry b(shared_options(name.value));
  statusz::KeyedCounter& ka = a.keyed("race", 500);
  statusz::KeyedCounter& kb = b.keyed("race", 500);
  constexpr int kKeys = 200;
  std::atomic<int> ready{0};
  const auto count = [&](statusz::KeyedCounter& k) {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
    for (int key = 0; key < kKeys; ++key) k.inc("key-" + std::to_string(key));
  };
  std::thread ta([&] { count(ka); });
  std::thread tb([&] { count(kb); });
  ta.join();
  tb.join();
  const auto counts = keyed_map(ka);
  EXPECT_EQ(counts.size(), std::size_t{kKeys});
  for (int key = 0; key < kKeys; ++key) {
    EXPECT_EQ(counts.at("key-" + std::to_string(key)), 2u);
  }
  EXPECT_EQ(keyed_map(kb), counts);
}

}  // namespace
