// statusz._core: Registry.process_metrics(), the C++ process gauges
// (statusz/process.hpp) added to the bound Registry class. The gauges are
// C++ functions: building the document reads /proc without the GIL.
#include <statusz/process.hpp>
#include <string>

#include "bindings.hpp"

namespace statusz_py {

void register_process(py::module_& m) {
  py::object cls = m.attr("Registry");
  py::setattr(
      cls, "process_metrics",
      py::cpp_function(
          [](PyRegistry& r, const std::string& group) {
            ReleaseGil nogil;
            return statusz::add_process_metrics(r.reg, group);
          },
          py::name("process_metrics"), py::is_method(cls),
          py::sibling(py::getattr(cls, "process_metrics", py::none())),
          py::arg("group") = "process",
          "Adds the process's own figures as gauges of `group` (default "
          "\"process\"), read from /proc/self when the document or exposition "
          "is built: cpuSecondsTotal (user + system CPU seconds), "
          "residentMemoryBytes, virtualMemoryBytes, openFds, maxFds (soft "
          "limit), startTimeSeconds (since the epoch), threads. In the "
          "exposition they are the standard unprefixed process_* families "
          "of every Prometheus client (process_cpu_seconds_total a counter, "
          "process_resident_memory_bytes, ...); a second group falls back to "
          "names from its paths. Linux only: returns whether /proc/self/stat "
          "is readable (elsewhere the gauges read None). Calling it again "
          "for the same group replaces them. Raises KindError when `group` "
          "is not a group."));
}

}  // namespace statusz_py
