// statusz._core: the Python bindings of the statusz C++ library.
// See common.hpp for the GIL rules every binding here follows.
#include "bindings.hpp"

// mod_gil_used(): this extension relies on the GIL (and names it, which also
// keeps -Wpedantic quiet about an empty variadic macro argument).
PYBIND11_MODULE(_core, m, py::mod_gil_used()) {
  using namespace statusz_py;
  m.doc() =
      "statusz._core: the compiled bindings of the statusz C++ library. "
      "Import `statusz` instead.";
  m.attr("__version__") = statusz::version_string;

  register_status_and_clocks(m);
  register_metrics(m);
  register_probes(m);
  register_registry(m);
  register_timers(m);
  register_http(m);
  register_process(m);

  // Lifecycle (lifecycle.cpp): GC of standalone probes and gauges, TypeError
  // on uninitialised objects.
  install_lifecycle(m);

  // From now on C++ threads must not enter Python: set before finalization.
  py::module_::import("atexit").attr("register")(py::cpp_function(
      []() { mark_shutting_down(); }, py::name("_statusz_shutdown"),
      "Stops probe and gauge calls into Python at interpreter exit."));
}
