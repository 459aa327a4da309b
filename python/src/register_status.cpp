// statusz._core: Status, worst() and the clocks.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "bindings.hpp"

namespace statusz_py {

namespace {

// The four members of statusz.Status (leaked: the module lives forever).
PyObject* g_status_members[4] = {nullptr, nullptr, nullptr, nullptr};

}  // namespace

statusz::Status status_arg(py::handle h, const char* what) {
  statusz::Status s;
  if (!status_from_python(h, s)) {
    throw py::type_error(std::string(what) + " must be a statusz.Status, not " +
                         py::str(py::type::handle_of(h).attr("__name__"))
                             .cast<std::string>());
  }
  return s;
}

py::object status_to_python(statusz::Status s) {
  return py::reinterpret_borrow<py::object>(
      g_status_members[static_cast<int>(s)]);
}

std::string status_repr(statusz::Status s) {
  switch (s) {
    case statusz::Status::Ok:
      return "Status.OK";
    case statusz::Status::Warning:
      return "Status.WARNING";
    case statusz::Status::Unknown:
      return "Status.UNKNOWN";
    case statusz::Status::Ko:
      return "Status.KO";
  }
  return "Status.UNKNOWN";
}

bool status_from_python(py::handle obj, statusz::Status& out) {
  for (int i = 0; i < 4; ++i) {
    if (obj.ptr() == g_status_members[i]) {
      out = static_cast<statusz::Status>(i);
      return true;
    }
  }
  return false;
}

void register_status_and_clocks(py::module_& m) {
  using statusz::Clock;
  using statusz::ManualClock;
  using statusz::Nanos;
  using statusz::Status;
  using statusz::SteadyClock;
  using py::arg;

  // ---- Status --------------------------------------------------------------
  py::native_enum<Status>(
      m, "Status", "enum.Enum",
      "The health of a component or of the whole server, ordered from best to "
      "worst: OK < WARNING < UNKNOWN < KO. str() gives the document's spelling "
      "(\"Ok\", \"Warning\", \"Unknown\", \"Ko\").")
      .value("OK", Status::Ok, "Healthy.")
      .value("WARNING", Status::Warning, "Working, but something needs attention.")
      .value("UNKNOWN", Status::Unknown,
             "Could not tell (for instance, the probe did not answer in time).")
      .value("KO", Status::Ko, "Failing (or the probe raised).")
      .finalize();
  py::object status_cls = m.attr("Status");
  for (int i = 0; i < 4; ++i) {
    py::object member = status_cls(i);
    g_status_members[i] = member.release().ptr();
  }
  status_cls.attr("__str__") = py::cpp_function(
      [](py::handle self) {
        return std::string(statusz::to_string(status_arg(self, "self")));
      },
      py::is_method(status_cls), py::name("__str__"),
      "The document's spelling: \"Ok\", \"Warning\", \"Unknown\" or \"Ko\".");
  status_cls.attr("parse") = py::staticmethod(py::cpp_function(
      [](const std::string& text) {
        return status_to_python(statusz::parse_status(text));
      },
      arg("text"), py::name("parse"),
      "Parses a status name, case-insensitively (\"ok\", \"Ko\", \"WARNING\", "
      "...). Raises ValueError for anything else."));
  struct Cmp {
    const char* name;
    int op;
  };
  for (Cmp c : {Cmp{"__lt__", Py_LT}, Cmp{"__le__", Py_LE}, Cmp{"__gt__", Py_GT},
                Cmp{"__ge__", Py_GE}}) {
    const int op = c.op;
    status_cls.attr(c.name) = py::cpp_function(
        [op](py::handle self, py::handle other) -> py::object {
          Status a, b;
          if (!status_from_python(self, a) || !status_from_python(other, b)) {
            return py::reinterpret_borrow<py::object>(Py_NotImplemented);
          }
          const int x = static_cast<int>(a), y = static_cast<int>(b);
          const bool r = op == Py_LT ? x < y : op == Py_LE ? x <= y
                                           : op == Py_GT ? x > y
                                                         : x >= y;
          return py::bool_(r);
        },
        py::is_method(status_cls), py::name(c.name),
        "Orders statuses from best (OK) to worst (KO).");
  }

  m.def(
      "worst",
      [](const py::args& statuses) {
        Status w = Status::Ok;
        for (py::handle s : statuses) w = statusz::worst(w, status_arg(s, "status"));
        return status_to_python(w);
      },
      "worst(*statuses) -> Status\n\n"
      "The worst of the given statuses (OK < WARNING < UNKNOWN < KO); OK when "
      "none are given.");


  // ---- Clocks -------------------------------------------------------------
  py::class_<Clock>(m, "Clock", py::custom_type_setup(gc_patients_setup),
                    "A source of time for meters, probes and registries "
                    "(ManualClock or SteadyClock).")
      .def_property_readonly(
          "now_ns", [](const Clock& c) { return c.now().count(); },
          "Monotonic time in nanoseconds since an arbitrary origin.")
      .def_property_readonly(
          "now", [](const Clock& c) { return nanos_to_seconds(c.now()); },
          "Monotonic time in seconds (float) since an arbitrary origin.")
      .def_property_readonly(
          "wall_time",
          [](const Clock& c) {
            return std::chrono::duration<double>(c.wall_now().time_since_epoch())
                .count();
          },
          "Wall-clock time in seconds since the Unix epoch (the document's "
          "`date`).");

  py::class_<SteadyClock, Clock>(
      m, "SteadyClock", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "Real monotonic time (std::chrono::steady_clock). Meters attached to it "
      "are ticked by one background thread. default_clock() is the shared one "
      "used when no clock is given.")
      .def(py::init<>(), "A new steady clock with its own ticker thread.")
      .def("__repr__", [](const SteadyClock&) { return std::string("SteadyClock()"); });

  py::class_<ManualClock, Clock>(
      m, "ManualClock", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "A clock that moves only when told to, for tests: advance() ticks the "
      "meters attached to it and wakes probe timeouts, so nothing sleeps. "
      "Starts at now_ns == 0 and at wall_time == wall_start.")
      .def(py::init([](double wall_start) {
             const Nanos start = seconds_to_nanos(wall_start, "wall_start");
             return std::make_unique<ManualClock>(
                 std::chrono::system_clock::time_point(
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         start)));
           }),
           arg("wall_start") = 0.0,
           "wall_start: the wall time at now_ns == 0, in seconds since the Unix "
           "epoch.")
      .def(
          "advance",
          [](ManualClock& c, double seconds) {
            const Nanos d = seconds_to_nanos(seconds, "seconds");
            ReleaseGil nogil;
            c.advance(d);
          },
          arg("seconds"),
          "Moves time forward by `seconds` (float, >= 0), ticking every "
          "attached meter through each 5 s boundary crossed and waking probe "
          "waiters whose deadline passed. ValueError if negative.")
      .def(
          "advance_ns",
          [](ManualClock& c, std::int64_t ns) {
            ReleaseGil nogil;
            c.advance(Nanos(ns));
          },
          arg("ns"), "Like advance(), in integer nanoseconds.")
      .def_property_readonly(
          "waiters",
          [](const ManualClock& c) {
            ReleaseGil nogil;
            return c.waiters();
          },
          "How many threads are blocked waiting on this clock (a snapshot or "
          "Probe.run() waiting for a probe).")
      .def(
          "await_waiters",
          [](const ManualClock& c, std::size_t n, std::optional<double> timeout) {
            if (!timeout) {
              ReleaseGil nogil;
              c.await_waiters(n);
              return true;
            }
            // Bounded wait (real time): poll, backing off to 1 ms.
            const auto deadline =
                std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(*timeout < 0 ? 0 : *timeout));
            auto pause = std::chrono::microseconds(20);
            for (;;) {
              {
                ReleaseGil nogil;
                if (c.waiters() >= n) return true;
                if (std::chrono::steady_clock::now() >= deadline) return false;
                std::this_thread::sleep_for(pause);
                pause = std::min(pause * 2, std::chrono::microseconds(1000));
              }
              if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
          },
          arg("n"), arg("timeout") = py::none(),
          "Blocks until at least n threads wait on this clock, so a test can "
          "advance() exactly when a snapshot waits for a probe. With a timeout "
          "(real seconds), returns False if that does not happen in time; "
          "without one, waits as long as it takes and returns True.")
      .def("__repr__", [](const ManualClock& c) {
        return "ManualClock(now_ns=" + std::to_string(c.now().count()) + ")";
      });

  m.def(
      "default_clock", []() -> Clock& { return statusz::default_clock(); },
      py::return_value_policy::reference,
      "The process-wide SteadyClock used when no clock is given.");
}

}  // namespace statusz_py
