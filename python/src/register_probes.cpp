// statusz._core: ProbeReport and Probe.
#include <memory>
#include <string>

#include "bindings.hpp"

namespace statusz_py {

namespace {

// A read-write property of the probe's option `field`, in seconds (setting
// it validates, as Probe::set_options does).
template <statusz::Nanos statusz::ProbeOptions::*Field>
void option_property(py::class_<statusz::Probe>& cls, const char* name,
                     const char* doc) {
  cls.def_property(
      name,
      [](const statusz::Probe& p) {
        ReleaseGil nogil;
        return nanos_to_seconds(p.options().*Field);
      },
      [name](statusz::Probe& p, double seconds) {
        const statusz::Nanos d = seconds_to_nanos(seconds, name);
        ReleaseGil nogil;
        statusz::ProbeOptions o = p.options();
        o.*Field = d;
        p.set_options(o);
      },
      doc);
}

}  // namespace

void register_probes(py::module_& m) {
  using statusz::Clock;
  using statusz::Nanos;
  using statusz::Probe;
  using statusz::ProbeReport;
  using py::arg;

  // ---- ProbeReport --------------------------------------------------------
  py::class_<ProbeReport>(m, "ProbeReport", py::is_final(),
                          "One observation of a probe, as Probe.run() returns.")
      .def_property_readonly(
          "status", [](const ProbeReport& r) { return status_to_python(r.status); },
          "The Status: the probe's, KO if it raised or returned something else, "
          "UNKNOWN if it did not answer within its timeout.")
      .def_readonly("message", &ProbeReport::message,
                    "The probe's message, the exception if it raised ("
                    "\"TypeName: text\"), or why it timed out; \"\" if none.")
      .def_property_readonly(
          "duration", [](const ProbeReport& r) { return nanos_to_seconds(r.duration); },
          "How long the run took (or had run, if it timed out), in seconds, "
          "on the probe's clock.")
      .def_property_readonly(
          "duration_ns", [](const ProbeReport& r) { return r.duration.count(); },
          "duration in integer nanoseconds.")
      .def_readonly("timed_out", &ProbeReport::timed_out,
                    "True if the run had not finished by the deadline.")
      .def_readonly("reused", &ProbeReport::reused,
                    "True if this is a cached result younger than max_age.")
      .def("__repr__", [](const ProbeReport& r) {
        return "ProbeReport(status=" + status_repr(r.status) +
               ", message=" + repr_str(r.message) +
               ", duration=" + repr_double(nanos_to_seconds(r.duration)) +
               ", timed_out=" + (r.timed_out ? "True" : "False") +
               ", reused=" + (r.reused ? "True" : "False") + ")";
      });


  // ---- Probe --------------------------------------------------------------
  py::class_<Probe> probe_cls(
      m, "Probe", py::is_final(), py::release_gil_before_calling_cpp_dtor(),
      py::custom_type_setup(gc_patients_setup),
      "A health check: a Python callable returning a Status or (Status, "
      "message), run on a worker thread of its own with a timeout. Raising is "
      "KO with the exception; returning anything else is KO; no answer within "
      "`timeout` seconds is UNKNOWN (the caller does not wait longer). A run in "
      "progress is never started twice. With max_age > 0, a result younger "
      "than max_age seconds is reused.");
  probe_cls
      .def(py::init([](py::object fn, Clock* clock, double timeout, double max_age) {
             statusz::Probe::Function f =
                 make_probe_function(make_slot(std::move(fn), "probe"));
             const statusz::ProbeOptions o = probe_options(timeout, max_age);
             Clock& c = clock != nullptr ? *clock : statusz::default_clock();
             ReleaseGil nogil;
             return std::make_unique<Probe>(std::move(f), c, o);
           }),
           arg("fn"), py::kw_only(), arg("clock") = py::none(),
           arg("timeout") = 5.0, arg("max_age") = 0.0, py::keep_alive<1, 3>(),
           "A standalone probe calling fn() on `clock` (default_clock() if None).")
      .def(
          "run",
          [](Probe& p) {
            ReleaseGil nogil;
            return p.run();
          },
          "Runs the probe (or joins the run in progress, or reuses a result "
          "younger than max_age) and returns its ProbeReport. Releases the GIL "
          "while waiting; waits at most `timeout` seconds.")
      .def_property_readonly(
          "running",
          [](const Probe& p) {
            ReleaseGil nogil;
            return p.running();
          },
          "True while a run is in progress (it may be hung).")
      .def("__repr__", [](const Probe& p) {
        statusz::ProbeOptions o;
        {
          ReleaseGil nogil;
          o = p.options();
        }
        return "Probe(timeout=" + repr_double(nanos_to_seconds(o.timeout)) +
               ", max_age=" + repr_double(nanos_to_seconds(o.max_age)) + ")";
      });
  option_property<&statusz::ProbeOptions::timeout>(
      probe_cls, "timeout", "Seconds a caller waits for a run (> 0).");
  option_property<&statusz::ProbeOptions::max_age>(
      probe_cls, "max_age",
      "Seconds a result is reused for (0: run on every request).");
}

}  // namespace statusz_py
