// KeyedCounter::inc() of a new key while every allocation fails: the count
// goes to the overflow key and dropped(), as for a refused key, and nothing
// throws (keyed_counter.hpp). A program of its own: it replaces the global
// operator new, which the test binary's other tests must not see.
#include <cstdio>
#include <cstdlib>
#include <new>
#include <statusz/keyed_counter.hpp>
#include <string>

namespace {
bool g_fail = false;
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
  std::printf(
      "threw=%d size=%zu overflow=%llu dropped=%llu after=%d\n", threw ? 1 : 0,
      k.size(),
      static_cast<unsigned long long>(k.value(KeyedCounter::kOverflowKey)),
      static_cast<unsigned long long>(k.dropped()), after ? 1 : 0);
  return ok && after ? 0 : 1;
}
