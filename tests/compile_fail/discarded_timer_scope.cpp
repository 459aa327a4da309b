// Must not compile with -Werror: a Timer::time() scope discarded at once
// would record an empty interval (tests/CMakeLists.txt looks for the
// compiler's nodiscard diagnostic).
#include <statusz/timer.hpp>

void request(statusz::Timer& latency) { latency.time(); }
