// Counting while every allocation fails (README "Lifecycle"): nothing throws.
// KeyedCounter::inc() of a new key counts under the overflow key and
// dropped(), as for a refused key (keyed_counter.hpp); a thread whose cells
// cannot be allocated drops that count (detail/cells.hpp). A program of its
// own: it replaces the global operator new, which the test binary's other
// tests must not see.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <statusz/keyed_counter.hpp>
#include <statusz/meter.hpp>
#include <string>
#include <thread>

namespace {
std::atomic<bool> g_fail{false};
}  // namespace

// The replacements pair malloc with free; g++ sees operator new's pointer
// reach free() and would warn.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  if (g_fail) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// The aligned forms too: cell arrays and histogram rows are cache-line
// aligned.
void* operator new(std::size_t n, std::align_val_t a) {
  const auto align = static_cast<std::size_t>(a);
  if (g_fail) throw std::bad_alloc();
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

int main() {
  using statusz::KeyedCounter;
  KeyedCounter k(100);
  k.inc("warm");                  // this thread's cells, and a key's
  k.inc(std::string(300, 'x'));   // the overflow key's cell and dropped()'s
  for (int i = 0; i < 20; ++i) {  // up to a table that must grow next
    k.inc("k" + std::to_string(i));
  }
  const std::size_t keys = k.size();
  bool threw = false;
  g_fail = true;
  try {
    k.inc("new", 3);      // a new node (and the table's growth)
    k.inc("bad\xff", 2);  // the repaired copy of an invalid key
  } catch (...) {
    threw = true;
  }
  g_fail = false;
  const bool ok = !threw && k.size() == keys && !k.contains("new") &&
                  k.value(KeyedCounter::kOverflowKey) == 1 + 3 + 2 &&
                  k.dropped() == 3 && k.value("warm") == 1;
  k.inc("new", 4);  // memory again: admitted
  const bool after = k.contains("new") && k.value("new") == 4;

  // A thread's first count allocates its cell array: made to fail, the mark
  // is dropped, nothing else; once memory is back, it counts.
  statusz::ManualClock clock;
  statusz::Meter meter(clock);
  std::atomic<int> step{0};
  bool thread_threw = false;
  std::thread writer([&] {
    while (step.load() != 1) std::this_thread::yield();
    try {
      meter.mark();
    } catch (...) {
      thread_threw = true;
    }
    step.store(2);
    while (step.load() != 3) std::this_thread::yield();
    meter.mark();
  });
  g_fail = true;
  step.store(1);
  while (step.load() != 2) std::this_thread::yield();
  g_fail = false;
  const bool dropped_mark = !thread_threw && meter.count() == 0;
  step.store(3);
  writer.join();
  const bool marks = dropped_mark && meter.count() == 1;
  std::printf(
      "threw=%d size=%zu overflow=%llu dropped=%llu after=%d marks=%d\n",
      threw ? 1 : 0, k.size(),
      static_cast<unsigned long long>(k.value(KeyedCounter::kOverflowKey)),
      static_cast<unsigned long long>(k.dropped()), after ? 1 : 0,
      marks ? 1 : 0);
  return ok && after && marks ? 0 : 1;
}
