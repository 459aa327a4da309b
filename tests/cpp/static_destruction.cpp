// A registry held by a global, constructed (empty) before default_clock()
// exists and filled in main(): it is destroyed after main returns, after the
// clock's own static lifetime would have ended. default_clock() is never
// destroyed, so this is clean under AddressSanitizer (no use after free), and
// exits 0 (the ticker thread is stopped at exit).
#include <memory>
#include <statusz/registry.hpp>

namespace {
std::unique_ptr<statusz::Registry> g_registry;
std::unique_ptr<statusz::Meter> g_meter;
}  // namespace

int main() {
  g_registry = std::make_unique<statusz::Registry>();
  g_registry->meter("requests").mark(3);
  g_registry->probe("db", [] { return statusz::Status::Ok; });
  g_meter = std::make_unique<statusz::Meter>();
  g_meter->mark();
  return g_registry->status() == statusz::Status::Ok &&
                 g_registry->to_json().find("\"count\":3") != std::string::npos
             ? 0
             : 1;
}
