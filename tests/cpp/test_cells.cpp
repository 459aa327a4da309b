// detail::CellSpace: per-thread records stay bounded by the peak number of
// live counting threads (also when a thread counts from a thread_local
// destructor), and a fork()ed child inherits no held lock, can reuse the
// records of the threads that did not survive, and starts from the parent's
// counts.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <statusz/counter.hpp>
#include <statusz/keyed_counter.hpp>
#include <statusz/meter.hpp>
#include <string>
#include <thread>
#include <vector>

#if __has_include(<sys/wait.h>) && __has_include(<unistd.h>)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define STATUSZ_TEST_FORK 1
#endif

#include "sanitizers.hpp"

namespace statusz {
namespace {

using detail::CellSpace;

TEST(Cells, AddAndSumAcrossThreadsAndGrowth) {
  // Indices far apart make each thread's array grow several times.
  std::vector<std::unique_ptr<detail::CellIndex>> cells;
  for (int i = 0; i < 3000; ++i) {
    cells.push_back(std::make_unique<detail::CellIndex>());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = 0; i < cells.size(); ++i) cells[i]->add(i + 1);
      for (std::size_t i = cells.size(); i-- > 0;) cells[i]->add(1);
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    ASSERT_EQ(cells[i]->sum(), 3 * (i + 2)) << i;
  }
}

TEST(Cells, ReadersSumWhileWritersOutgrowTheirArrays) {
  // Writers grow their arrays (each growth frees the outgrown one when no
  // reader is in flight) while readers sum: under AddressSanitizer a reader
  // touching a freed array fails; every sum read is a count some writer made.
  std::vector<std::unique_ptr<detail::CellIndex>> cells;
  for (int i = 0; i < 20000; ++i) {
    cells.push_back(std::make_unique<detail::CellIndex>());
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::size_t i = static_cast<std::size_t>(r);
      while (!stop.load(std::memory_order_relaxed)) {
        const std::uint64_t v = cells[i % cells.size()]->sum();
        EXPECT_LE(v, 3u);
        i += 7919;
      }
    });
  }
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        if (w != round) return;
        for (auto& c : cells) c->add(1);  // from index 0 upwards: many growths
      });
    }
    for (auto& t : writers) t.join();
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  for (auto& c : cells) ASSERT_EQ(c->sum(), 3u);
}

TEST(Cells, ReleasedIndexStartsFromZeroWhenReused) {
  std::uint32_t index = 0;
  {
    detail::CellIndex c;
    index = c.index();
    c.add(41);
    std::thread([&] { c.add(1); }).join();
    EXPECT_EQ(c.sum(), 42u);
  }
  detail::CellIndex again;
  EXPECT_EQ(again.index(), index) << "the freed index is reused first";
  EXPECT_EQ(again.sum(), 0u);
}

// A thread_local whose destructor marks: it runs after the thread's record was
// handed back (its owner is destroyed first when the object was constructed
// before the thread's first mark).
struct MarksOnExit {
  Meter* meter = nullptr;
  ~MarksOnExit() {
    if (meter != nullptr) meter->mark();
  }
};
thread_local MarksOnExit on_exit;

TEST(Cells, ThreadLocalDestructorsThatMarkLeakNoRecord) {
  ManualClock clock;
  Meter meter(clock);
  Counter counter;
  // Warm up: the records this test can reuse exist already.
  std::thread([&] {
    on_exit.meter = &meter;
    meter.mark();
  }).join();
  const std::size_t before = CellSpace::instance().records();
  constexpr int kThreads = 1000;
  for (int i = 0; i < kThreads; ++i) {
    std::thread([&] {
      on_exit.meter = &meter;  // constructed before the first mark
      meter.mark();
      counter.inc();
    }).join();
  }
  EXPECT_EQ(meter.count(), 2u * kThreads + 2);
  EXPECT_EQ(counter.value(), kThreads);
  EXPECT_LE(CellSpace::instance().records(), before + 1)
      << "records stay bounded by the peak number of live threads";
}

TEST(Cells, RecordsBoundedByPeakLiveThreads) {
  ManualClock clock;
  Meter meter(clock);
  constexpr int kAtOnce = 4;
  const std::size_t before = CellSpace::instance().records();
  for (int round = 0; round < 100; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kAtOnce; ++t) {
      threads.emplace_back([&] { meter.mark(); });
    }
    for (auto& t : threads) t.join();
  }
  EXPECT_EQ(meter.count(), 100u * kAtOnce);
  EXPECT_LE(CellSpace::instance().records(), before + kAtOnce);
}

TEST(Cells, KeysDifferingInOneByteAnywhereCountApart) {
  // KeyedCounter::inc compares keys inline, by overlapping 8-byte words.
  for (std::size_t len = 1; len <= 80; ++len) {
    KeyedCounter k;
    const std::string base(len, 'a');
    k.inc(base, 1000);
    for (std::size_t i = 0; i < len; ++i) {
      std::string other = base;
      other[i] = 'b';
      k.inc(other, i + 1);
    }
    ASSERT_EQ(k.value(base), 1000u) << len;
    ASSERT_EQ(k.size(), len + 1) << len;
    for (std::size_t i = 0; i < len; ++i) {
      std::string other = base;
      other[i] = 'b';
      ASSERT_EQ(k.value(other), i + 1) << len << " " << i;
    }
  }
}

#ifdef STATUSZ_TEST_FORK

// TSan cannot run threads started in a child of a multi-threaded fork() (as
// test_lifecycle.cpp's fork tests, these run in the plain and ASan builds).

// Runs child() in a fork()ed child with a 20 s alarm (a deadlock kills it);
// returns the child's exit status, or -100 - the signal that ended it.
template <class F>
int in_child(F child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(20);
    int code = 1;
    try {
      code = child();
    } catch (...) {
      code = 99;
    }
    ::_exit(code);
  }
  if (pid < 0) return -2;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -3;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -100 - WTERMSIG(status);
}

TEST(CellsFork, ChildStartsFromTheParentsCountsAndReusesRecords) {
  SKIP_UNDER_TSAN();
  ManualClock clock;
  Meter meter(clock);
  Counter counter;
  KeyedCounter keyed;
  constexpr int kWriters = 3;
  constexpr std::uint64_t kMarks = 100000;
  // Writers count a known amount, then stay alive (holding their records)
  // across the fork.
  std::atomic<int> done{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&] {
      for (std::uint64_t i = 0; i < kMarks; ++i) {
        meter.mark();
        counter.dec();
        keyed.inc("k");
      }
      done.fetch_add(1);
      while (!release.load()) std::this_thread::yield();
    });
  }
  while (done.load() < kWriters) std::this_thread::yield();
  meter.mark(7);
  const std::size_t records_at_fork = CellSpace::instance().records();
  const std::uint64_t total = kWriters * kMarks + 7;

  const int code = in_child([&] {
    if (meter.count() != total) return 10;
    if (counter.value() != -static_cast<std::int64_t>(kWriters * kMarks)) {
      return 11;
    }
    if (keyed.value("k") != kWriters * kMarks) return 12;
    if (CellSpace::instance().free_records() < kWriters) return 13;
    // New threads in the child take the records of the parent's writers.
    std::vector<std::thread> threads;
    for (int t = 0; t < kWriters; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) {
          meter.mark();
          counter.inc();
        }
      });
    }
    for (auto& t : threads) t.join();
    if (meter.count() != total + kWriters * 1000) return 14;
    if (counter.value() !=
        -static_cast<std::int64_t>(kWriters * kMarks) + kWriters * 1000) {
      return 15;
    }
    if (CellSpace::instance().records() != records_at_fork) return 16;
    Meter fresh(clock);  // reserve() takes the space's mutex
    fresh.mark(3);
    return fresh.count() == 3 ? 0 : 17;
  });
  release.store(true);
  for (auto& t : writers) t.join();
  EXPECT_EQ(code, 0);
  EXPECT_EQ(meter.count(), total) << "the parent's counts are untouched";
}

TEST(CellsFork, ForkWhileThreadsMarkAndCreateMetersNeverDeadlocks) {
  SKIP_UNDER_TSAN();
  SKIP_UNDER_ASAN_FORK_WITH_ALLOCATING_THREADS();
  ManualClock clock;
  Meter meter(clock);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  // Two writers mark; one thread creates and destroys cells and counters all
  // the time (reserve/release hold the space's mutex); short-lived threads
  // claim and hand back records (and grow arrays under the mutex).
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) meter.mark();
    });
  }
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      detail::CellIndex cell;
      cell.add(1);
      Counter c;
      c.inc();
    }
  });
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::thread([&] { meter.mark(); }).join();
    }
  });
  for (int round = 0; round < 20; ++round) {
    const int code = in_child([&] {
      const std::uint64_t at_fork = meter.count();
      std::vector<std::thread> ts;
      for (int t = 0; t < 2; ++t) {
        ts.emplace_back([&] {
          ManualClock child_clock;  // the parent's clock is not under test
          Meter m(child_clock);
          for (int i = 0; i < 1000; ++i) {
            m.mark();
            meter.mark();
          }
          if (m.count() != 1000) ::_exit(20);
        });
      }
      for (auto& t : ts) t.join();
      return meter.count() == at_fork + 2000 ? 0 : 21;
    });
    EXPECT_EQ(code, 0) << "round " << round;
    if (code != 0) break;
  }
  stop.store(true);
  for (auto& t : threads) t.join();
}

TEST(CellsFork, ChildInsertsNewKeysAfterAForkDuringInsertions) {
  SKIP_UNDER_TSAN();
  // Two threads insert new keys all the time (the keyed counter's mutex is
  // held for most of it); the child of each fork inserts keys of its own.
  KeyedCounter keyed(1u << 20);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        keyed.inc("w" + std::to_string(w) + "-" + std::to_string(i));
      }
    });
  }
  while (keyed.size() < 1000) std::this_thread::yield();
  for (int round = 0; round < 20; ++round) {
    const int code = in_child([&] {
      const std::size_t at_fork = keyed.size();
      for (int i = 0; i < 100; ++i) keyed.inc("child-" + std::to_string(i), 2);
      if (keyed.size() != at_fork + 100) return 30;
      return keyed.value("child-99") == 2 ? 0 : 31;
    });
    EXPECT_EQ(code, 0) << "round " << round;
    if (code != 0) break;
  }
  stop.store(true);
  for (auto& t : threads) t.join();
}

#endif  // STATUSZ_TEST_FORK

}  // namespace
}  // namespace statusz
