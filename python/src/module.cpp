// statusz._core: the Python bindings of the statusz C++ library.
// See common.hpp for the GIL rules every binding here follows.
#include <pybind11/native_enum.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common.hpp"

using namespace pybind11::literals;

namespace statusz_py {

namespace {

// The four members of statusz.Status (leaked: the module lives forever).
PyObject* g_status_members[4] = {nullptr, nullptr, nullptr, nullptr};
PyObject* g_kind_error = nullptr;

// A Registry plus what the bindings need to know about it.
class PyRegistry {
 public:
  explicit PyRegistry(statusz::RegistryOptions options)
      : reg(std::move(options)) {}
  PyRegistry(const PyRegistry&) = delete;
  PyRegistry& operator=(const PyRegistry&) = delete;

  statusz::Registry reg;

  void remember(const statusz::Meter* m) {
    std::lock_guard<std::mutex> g(mu_);
    meters_.insert(m);
  }
  bool owns(const statusz::Meter* m) const {
    std::lock_guard<std::mutex> g(mu_);
    return meters_.count(m) != 0;
  }

  // The Python callable of the gauge or probe `key` (GIL held). The slot it
  // replaces, if any, is dropped here, with the GIL.
  void set_slot(const void* key, std::shared_ptr<FnSlot> slot) {
    std::shared_ptr<FnSlot> old;
    auto it = slots_.find(key);
    if (it == slots_.end()) {
      slots_.emplace(key, std::move(slot));
    } else {
      old = std::move(it->second);
      it->second = std::move(slot);
    }
  }
  void forget_slot(const void* key) { slots_.erase(key); }  // GIL held

  // Python's garbage collector (GIL held): the callables this registry
  // holds, and dropping them to break a reference cycle.
  int traverse(visitproc visit, void* arg) const {
    for (const auto& entry : slots_) Py_VISIT(entry.second->peek());
    return 0;
  }
  void clear() {
    for (auto& entry : slots_) entry.second->take();
  }

 private:
  // Slots of the Python functions of this registry's gauges and probes, by
  // Gauge* / Probe*. Guarded by the GIL.
  std::unordered_map<const void*, std::shared_ptr<FnSlot>> slots_;
  // The meters handed out by meter(): ratio() need not keep those alive.
  mutable std::mutex mu_;
  std::unordered_set<const statusz::Meter*> meters_;
};

std::string time_zone_text(const statusz::TimeZone& tz) {
  if (tz.is_local()) return "local";
  const int minutes = static_cast<int>(tz.offset().count());  // |m| < 24 h
  if (minutes == 0) return "UTC";
  const int a = minutes < 0 ? -minutes : minutes;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", minutes < 0 ? '-' : '+',
                a / 60 % 100, a % 60);
  return buf;
}

std::string repr_str(const std::string& s) {
  return py::repr(py::str(s)).cast<std::string>();
}

std::string repr_double(double d) {
  return py::repr(py::float_(d)).cast<std::string>();
}

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

std::size_t positive_size(long long v, const char* what) {
  if (v <= 0) {
    throw py::value_error(std::string(what) + " must be > 0, got " +
                          std::to_string(v));
  }
  return static_cast<std::size_t>(v);
}

statusz::ProbeOptions probe_options(double timeout, double max_age) {
  statusz::ProbeOptions o;
  o.timeout = seconds_to_nanos(timeout, "timeout");
  o.max_age = seconds_to_nanos(max_age, "max_age");
  return o;
}

py::dict meter_snapshot(const statusz::Meter& m) {
  const statusz::MeterSnapshot s = m.snapshot();
  py::dict d;
  d["count"] = py::int_(s.count);
  d["meanRate"] = s.mean_rate;
  d["oneMinuteRate"] = s.one_minute_rate;
  d["fiveMinuteRate"] = s.five_minute_rate;
  d["fifteenMinuteRate"] = s.fifteen_minute_rate;
  return d;
}

// A key for lookups: the UTF-8 of a str (TypeError otherwise).
std::string key_arg(py::handle key) {
  std::string_view view;
  py::object keep;
  if (!utf8_view(key.ptr(), view, keep, "key")) throw py::error_already_set();
  return std::string(view);
}

bool keyed_contains(const statusz::KeyedCounter& k, py::handle key) {
  if (!PyUnicode_Check(key.ptr())) return false;
  std::string text = key_arg(key);
  if (k.value(text) != 0) return true;
  // A count of 0 (inc(key, 0)) or an absent key: look for it.
  if (!statusz::detail::is_valid_utf8(text)) {
    text = statusz::detail::to_valid_utf8(text);
  }
  bool found = false;
  k.for_each([&](std::string_view name, std::uint64_t) {
    if (!found && name == text) found = true;
  });
  return found;
}

py::object utf8_to_str(std::string_view s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()),
                                     "replace");
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

py::list keyed_keys(const statusz::KeyedCounter& k) {
  py::list out;
  k.for_each([&](std::string_view key, std::uint64_t) {
    out.append(utf8_to_str(key));
  });
  return out;
}

py::list keyed_values(const statusz::KeyedCounter& k) {
  py::list out;
  k.for_each([&](std::string_view, std::uint64_t v) { out.append(py::int_(v)); });
  return out;
}

py::list keyed_items(const statusz::KeyedCounter& k) {
  py::list out;
  k.for_each([&](std::string_view key, std::uint64_t v) {
    out.append(py::make_tuple(utf8_to_str(key), py::int_(v)));
  });
  return out;
}

py::dict keyed_dict(const statusz::KeyedCounter& k) {
  py::dict out;
  k.for_each([&](std::string_view key, std::uint64_t v) {
    out[utf8_to_str(key)] = py::int_(v);
  });
  return out;
}

std::size_t keyed_len(const statusz::KeyedCounter& k) {
  std::size_t n = 0;
  k.for_each([&](std::string_view, std::uint64_t) { ++n; });
  return n;
}

// ---- garbage collector support ----------------------------------------------
// The wrappers of registry-owned objects keep their registry alive through
// pybind11's keep_alive ("patients"). Showing those references to the GC lets
// it collect cycles such as: an object holding a registry and its meters,
// whose method is one of the registry's probes.

// The C++ object of a pybind11 instance (nullptr if not constructed).
void* value_of(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  return inst->simple_layout ? inst->simple_value_holder[0]
                             : inst->nonsimple.values_and_holders[0];
}

int traverse_patients(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->has_patients) return 0;
  int rc = 0;
  py::detail::with_internals([&](py::detail::internals& internals) {
    auto it = internals.patients.find(self);
    if (it == internals.patients.end()) return;
    for (PyObject* patient : it->second) {
      rc = visit(patient, arg);
      if (rc != 0) return;
    }
  });
  return rc;
}

// Only a wrapper that does not own its C++ object lets go of its patients
// early: an owner's patient (its clock) must outlive the C++ object.
int clear_patients(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->owned && inst->has_patients) py::detail::clear_patients(self);
  return 0;
}

void gc_patients_setup(PyHeapTypeObject* heap_type) {
  PyTypeObject* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse_patients;
  type->tp_clear = clear_patients;
}

int traverse_registry(PyObject* self, visitproc visit, void* arg) {
  if (const int rc = traverse_patients(self, visit, arg)) return rc;
  if (auto* r = static_cast<PyRegistry*>(value_of(self))) {
    return r->traverse(visit, arg);
  }
  return 0;
}

int clear_registry(PyObject* self) {
  if (auto* r = static_cast<PyRegistry*>(value_of(self))) r->clear();
  return 0;
}

void gc_registry_setup(PyHeapTypeObject* heap_type) {
  PyTypeObject* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse_registry;
  type->tp_clear = clear_registry;
}

void translate_kind_error(const statusz::KindError& e) {
  py::object type = py::reinterpret_borrow<py::object>(g_kind_error);
  py::object exc = type(e.what());
  exc.attr("path") = e.path();
  exc.attr("existing") = py::cast(e.existing());
  exc.attr("requested") = py::cast(e.requested());
  PyErr_SetObject(g_kind_error, exc.ptr());
}

}  // namespace

bool status_from_python(py::handle obj, statusz::Status& out) {
  for (int i = 0; i < 4; ++i) {
    if (obj.ptr() == g_status_members[i]) {
      out = static_cast<statusz::Status>(i);
      return true;
    }
  }
  return false;
}

}  // namespace statusz_py

// mod_gil_used(): this extension relies on the GIL (and names it, which also
// keeps -Wpedantic quiet about an empty variadic macro argument).
PYBIND11_MODULE(_core, m, py::mod_gil_used()) {
  using namespace statusz_py;
  using statusz::Clock;
  using statusz::Counter;
  using statusz::Gauge;
  using statusz::KeyedCounter;
  using statusz::ManualClock;
  using statusz::Meter;
  using statusz::Nanos;
  using statusz::Probe;
  using statusz::ProbeReport;
  using statusz::Status;
  using statusz::SteadyClock;
  using py::arg;

  m.doc() =
      "statusz._core: the compiled bindings of the statusz C++ library. "
      "Import `statusz` instead.";
  m.attr("__version__") = statusz::version_string;

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

  // ---- Kind and KindError ----------------------------------------------------
  py::native_enum<statusz::Kind>(m, "Kind", "enum.Enum",
                                 "What is registered at a path of a Registry.")
      .value("GROUP", statusz::Kind::Group, "A group of other paths.")
      .value("METER", statusz::Kind::Meter, "A Meter.")
      .value("COUNTER", statusz::Kind::Counter, "A Counter.")
      .value("KEYED_COUNTER", statusz::Kind::KeyedCounter, "A KeyedCounter.")
      .value("GAUGE", statusz::Kind::Gauge, "A Gauge.")
      .finalize();

  g_kind_error = PyErr_NewExceptionWithDoc(
      "statusz.KindError",
      "A path is already registered as another kind (a ValueError). Attributes: "
      "path (the clashing prefix), existing and requested (statusz.Kind).",
      PyExc_ValueError, nullptr);
  if (g_kind_error == nullptr) throw py::error_already_set();
  m.attr("KindError") = py::handle(g_kind_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const statusz::KindError& e) {
      translate_kind_error(e);
    }
  });

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

  // ---- Meter ----------------------------------------------------------------
  py::class_<Meter> meter_cls(
      m, "Meter", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "Counts events and gives their mean rate and 1-, 5- and 15-minute "
      "exponentially weighted moving averages in events per second, with the "
      "semantics of Dropwizard Metrics' Meter: 5 s ticks counted from creation, "
      "alpha = 1 - exp(-5/60/N), the first tick sets the rate, idle intervals "
      "tick with 0, a reading shows the last completed tick.");
  meter_cls
      .def(py::init([](Clock* clock) {
             return std::make_unique<Meter>(clock != nullptr ? *clock
                                                             : statusz::default_clock());
           }),
           arg("clock") = py::none(), py::keep_alive<1, 2>(),
           "A standalone meter on `clock` (default_clock() if None).")
      .def_property_readonly("count", &Meter::count, "Events recorded so far.")
      .def_property_readonly("mean_rate", &Meter::mean_rate,
                             "count / seconds since the meter was created.")
      .def_property_readonly("one_minute_rate", &Meter::one_minute_rate,
                             "The 1-minute moving average, events per second.")
      .def_property_readonly("five_minute_rate", &Meter::five_minute_rate,
                             "The 5-minute moving average, events per second.")
      .def_property_readonly("fifteen_minute_rate", &Meter::fifteen_minute_rate,
                             "The 15-minute moving average, events per second.")
      .def("snapshot", &meter_snapshot,
           "All five figures, consistent with one another: {\"count\", "
           "\"meanRate\", \"oneMinuteRate\", \"fiveMinuteRate\", "
           "\"fifteenMinuteRate\"}.")
      .def_property_readonly(
          "clock", [](const Meter& mt) -> const Clock& { return mt.clock(); },
          py::return_value_policy::reference_internal, "The meter's clock.")
      .def("__repr__", [](const Meter& mt) {
        const statusz::MeterSnapshot s = mt.snapshot();
        return "Meter(count=" + std::to_string(s.count) +
               ", mean_rate=" + repr_double(s.mean_rate) +
               ", one_minute_rate=" + repr_double(s.one_minute_rate) +
               ", five_minute_rate=" + repr_double(s.five_minute_rate) +
               ", fifteen_minute_rate=" + repr_double(s.fifteen_minute_rate) + ")";
      });

  // ---- Counter ------------------------------------------------------------
  py::class_<Counter> counter_cls(
      m, "Counter", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "A signed 64-bit value that goes up and down (volumes, customs): one "
      "lock-free atomic. int(counter) is its value.");
  counter_cls
      .def(py::init([](std::int64_t value) { return std::make_unique<Counter>(value); }),
           arg("value") = 0, "A standalone counter starting at `value`.")
      .def_property_readonly("value", &Counter::value, "The current value.")
      .def("__int__", &Counter::value, "The current value.")
      .def("__repr__", [](const Counter& c) {
        return "Counter(value=" + std::to_string(c.value()) + ")";
      });

  // ---- KeyedCounter -------------------------------------------------------
  py::class_<KeyedCounter> keyed_cls(
      m, "KeyedCounter", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "Counts per str key (errors per bot id), bounded to max_keys keys of at "
      "most max_key_bytes UTF-8 bytes; counts for refused keys go to "
      "OVERFLOW_KEY and `dropped` counts them. A read-only mapping of key -> "
      "count, in first-counted order (OVERFLOW_KEY last, when not 0), like the "
      "document's; an absent key reads 0, as in collections.Counter.");
  keyed_cls
      .def(py::init([](long long max_keys, long long max_key_bytes) {
             return std::make_unique<KeyedCounter>(
                 positive_size(max_keys, "max_keys"),
                 positive_size(max_key_bytes, "max_key_bytes"));
           }),
           arg("max_keys") = static_cast<long long>(KeyedCounter::kDefaultMaxKeys),
           arg("max_key_bytes") =
               static_cast<long long>(KeyedCounter::kDefaultMaxKeyBytes),
           "A standalone keyed counter.")
      .def(
          "__getitem__",
          [](const KeyedCounter& k, py::handle key) { return k.value(key_arg(key)); },
          arg("key"), "The count of key (0 if never counted). TypeError unless str.")
      .def(
          "get",
          [](const KeyedCounter& k, py::handle key, py::object default_) -> py::object {
            if (keyed_contains(k, key)) return py::int_(k.value(key_arg(key)));
            return default_;
          },
          arg("key"), arg("default") = py::none(),
          "The count of key if it was counted, else default.")
      .def("__contains__", &keyed_contains, arg("key"),
           "True if key was counted (admitted, or OVERFLOW_KEY with a count).")
      .def("__len__", &keyed_len,
           "Number of keys iteration gives: admitted keys, plus OVERFLOW_KEY "
           "when its count is not 0.")
      .def(
          "__iter__", [](const KeyedCounter& k) { return py::iter(keyed_keys(k)); },
          "Iterates over the keys (a snapshot), in first-counted order.")
      .def("keys", &keyed_keys, "The keys, in first-counted order (a list).")
      .def("values", &keyed_values, "The counts, in key order (a list).")
      .def("items", &keyed_items, "(key, count) pairs, in key order (a list).")
      .def("snapshot", &keyed_dict, "{key: count}, in key order.")
      .def_property_readonly("size", &KeyedCounter::size,
                             "Distinct keys admitted (OVERFLOW_KEY not included).")
      .def_property_readonly("dropped", &KeyedCounter::dropped,
                             "inc() calls whose key was refused (map full, or "
                             "key too long).")
      .def_property_readonly("max_keys", &KeyedCounter::max_keys,
                             "At most this many distinct keys are admitted.")
      .def_property_readonly("max_key_bytes", &KeyedCounter::max_key_bytes,
                             "Longer keys (in UTF-8 bytes) are refused.")
      .def("__repr__", [](const KeyedCounter& k) {
        return "KeyedCounter(size=" + std::to_string(k.size()) +
               ", dropped=" + std::to_string(k.dropped()) +
               ", max_keys=" + std::to_string(k.max_keys()) + ")";
      });
  keyed_cls.attr("OVERFLOW_KEY") = std::string(KeyedCounter::kOverflowKey);
  install_fast_methods(meter_cls, counter_cls, keyed_cls);

  // ---- Gauge --------------------------------------------------------------
  py::class_<Gauge>(
      m, "Gauge", py::is_final(), py::release_gil_before_calling_cpp_dtor(),
      py::custom_type_setup(gc_patients_setup),
      "A value computed when the document is built, by a Python callable "
      "returning None, bool, int, float, str, Status, or lists/tuples/dicts of "
      "those. A callable that raises, or returns anything else, reads None "
      "(null in the document).")
      .def(py::init([](py::object fn) {
             return std::make_unique<Gauge>(
                 make_gauge_function(make_slot(std::move(fn), "gauge")));
           }),
           arg("fn"), "A standalone gauge calling fn().")
      .def(
          "value",
          [](const Gauge& g) {
            statusz::Value v;
            {
              ReleaseGil nogil;
              v = g.value();
            }
            return to_python(v);
          },
          "Calls the function now and returns its value as the document "
          "would hold it (tuples become lists; None if it raised).")
      .def("__repr__", [](const Gauge&) { return std::string("Gauge()"); });

  // ---- Probe --------------------------------------------------------------
  py::class_<Probe>(
      m, "Probe", py::is_final(), py::release_gil_before_calling_cpp_dtor(),
      py::custom_type_setup(gc_patients_setup),
      "A health check: a Python callable returning a Status or (Status, "
      "message), run on a worker thread of its own with a timeout. Raising is "
      "KO with the exception; returning anything else is KO; no answer within "
      "`timeout` seconds is UNKNOWN (the caller does not wait longer). A run in "
      "progress is never started twice. With max_age > 0, a result younger "
      "than max_age seconds is reused.")
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
      .def_property(
          "timeout",
          [](const Probe& p) {
            ReleaseGil nogil;
            return nanos_to_seconds(p.options().timeout);
          },
          [](Probe& p, double timeout) {
            const Nanos t = seconds_to_nanos(timeout, "timeout");
            ReleaseGil nogil;
            statusz::ProbeOptions o = p.options();
            o.timeout = t;
            p.set_options(o);
          },
          "Seconds a caller waits for a run (> 0).")
      .def_property(
          "max_age",
          [](const Probe& p) {
            ReleaseGil nogil;
            return nanos_to_seconds(p.options().max_age);
          },
          [](Probe& p, double max_age) {
            const Nanos a = seconds_to_nanos(max_age, "max_age");
            ReleaseGil nogil;
            statusz::ProbeOptions o = p.options();
            o.max_age = a;
            p.set_options(o);
          },
          "Seconds a result is reused for (0: run on every request).")
      .def("__repr__", [](const Probe& p) {
        statusz::ProbeOptions o;
        {
          ReleaseGil nogil;
          o = p.options();
        }
        return "Probe(timeout=" + repr_double(nanos_to_seconds(o.timeout)) +
               ", max_age=" + repr_double(nanos_to_seconds(o.max_age)) + ")";
      });

  // ---- Registry -----------------------------------------------------------
  py::class_<PyRegistry> reg_cls(
      m, "Registry", py::is_final(), py::release_gil_before_calling_cpp_dtor(),
      py::custom_type_setup(gc_registry_setup),
      "Named meters, counters, keyed counters, gauges and probes arranged by "
      "dotted path into the server status document. Getters are "
      "get-or-create: asking again for a path returns the same object; asking "
      "for it as another kind raises KindError. Safe from any thread.");
  reg_cls
      .def(py::init([](Clock* clock, std::optional<std::string> host_name,
                       std::string version, std::string time_zone) {
             statusz::RegistryOptions o;
             o.clock = clock;
             if (host_name) o.host_name = std::move(*host_name);
             o.version = std::move(version);
             o.time_zone = statusz::TimeZone::parse(time_zone);
             return std::make_unique<PyRegistry>(std::move(o));
           }),
           py::kw_only(), arg("clock") = py::none(), arg("host_name") = py::none(),
           arg("version") = "", arg("time_zone") = "UTC", py::keep_alive<1, 2>(),
           "clock: a Clock (default_clock() if None); host_name: the document's "
           "hostName (the machine's name if None or \"\"); version: the "
           "service's version; time_zone: how `date` is written: \"UTC\", "
           "\"local\" or a fixed offset like \"+02:00\".")
      .def(
          "meter",
          [](PyRegistry& r, const std::string& path) -> Meter& {
            Meter* mt = nullptr;
            {
              ReleaseGil nogil;
              mt = &r.reg.meter(path);
            }
            r.remember(mt);
            return *mt;
          },
          arg("path"), py::return_value_policy::reference_internal,
          "The Meter at `path`, created on first use.")
      .def(
          "counter",
          [](PyRegistry& r, const std::string& path) -> Counter& {
            ReleaseGil nogil;
            return r.reg.counter(path);
          },
          arg("path"), py::return_value_policy::reference_internal,
          "The Counter at `path`, created on first use.")
      .def(
          "keyed",
          [](PyRegistry& r, const std::string& path, long long max_keys) -> KeyedCounter& {
            const std::size_t n = positive_size(max_keys, "max_keys");
            ReleaseGil nogil;
            return r.reg.keyed(path, n);
          },
          arg("path"),
          arg("max_keys") = static_cast<long long>(KeyedCounter::kDefaultMaxKeys),
          py::return_value_policy::reference_internal,
          "The KeyedCounter at `path`, created on first use with at most "
          "max_keys keys (an existing one is returned as it is).")
      .def(
          "gauge",
          [](py::object self, const std::string& path, py::object fn) -> py::object {
            if (fn.is_none()) {
              return py::cpp_function(
                  [self, path](py::object f) { return self.attr("gauge")(path, f); },
                  arg("fn"), "Registers the decorated function as the gauge.");
            }
            PyRegistry& r = self.cast<PyRegistry&>();
            std::shared_ptr<FnSlot> slot = make_slot(std::move(fn), "gauge");
            statusz::Gauge::Function f = make_gauge_function(slot);
            Gauge* g = nullptr;
            {
              ReleaseGil nogil;
              g = &r.reg.gauge(path, std::move(f));
            }
            r.set_slot(g, std::move(slot));
            return py::cast(g, py::return_value_policy::reference_internal, self);
          },
          arg("path"), arg("fn") = py::none(),
          "Registers fn (or replaces the function of the gauge at `path`) and "
          "returns the Gauge. Without fn, returns a decorator doing that.")
      .def(
          "ratio",
          [](py::object self, const std::string& path, py::object errors,
             py::object successes) -> py::object {
            PyRegistry& r = self.cast<PyRegistry&>();
            for (const auto& [name, obj] : {std::pair<const char*, py::handle>{"errors", errors},
                                            {"successes", successes}}) {
              if (!py::isinstance<Meter>(obj)) {
                throw py::type_error(std::string(name) + " must be a statusz.Meter, not " +
                                     py::str(py::type::handle_of(obj).attr("__name__"))
                                         .cast<std::string>());
              }
            }
            const Meter& e = errors.cast<const Meter&>();
            const Meter& s = successes.cast<const Meter&>();
            statusz::Gauge::Function f;
            if (r.owns(&e) && r.owns(&s)) {
              f = statusz::ratio_gauge(e, s);  // lives as long as the registry
            } else {
              // Meters from elsewhere: the gauge keeps them alive.
              f = [keep_e = PyRef(errors), keep_s = PyRef(successes),
                   ratio = statusz::ratio_gauge(e, s)]() { return ratio(); };
            }
            Gauge* g = nullptr;
            {
              ReleaseGil nogil;
              g = &r.reg.gauge(path, std::move(f));
            }
            r.forget_slot(g);  // a Python function it replaced is gone
            return py::cast(g, py::return_value_policy::reference_internal, self);
          },
          arg("path"), py::kw_only(), arg("errors"), arg("successes"),
          "Registers a gauge of errors / (errors + successes) over the meters' "
          "5-minute rates (0 when both are 0), and returns it.")
      .def(
          "probe",
          [](py::object self, const std::string& path, py::object fn, double timeout,
             double max_age) -> py::object {
            const statusz::ProbeOptions o = probe_options(timeout, max_age);
            if (fn.is_none()) {
              return py::cpp_function(
                  [self, path, timeout, max_age](py::object f) {
                    return self.attr("probe")(path, f, "timeout"_a = timeout,
                                              "max_age"_a = max_age);
                  },
                  arg("fn"),
                  "Registers the decorated function as the probe and returns "
                  "the Probe.");
            }
            PyRegistry& r = self.cast<PyRegistry&>();
            std::shared_ptr<FnSlot> slot = make_slot(std::move(fn), "probe");
            statusz::Probe::Function f = make_probe_function(slot);
            Probe* p = nullptr;
            {
              ReleaseGil nogil;
              p = &r.reg.probe(path, std::move(f), o);
            }
            r.set_slot(p, std::move(slot));
            return py::cast(p, py::return_value_policy::reference_internal, self);
          },
          arg("path"), arg("fn") = py::none(), py::kw_only(), arg("timeout") = 5.0,
          arg("max_age") = 0.0,
          "Attaches a probe to the group at `path` (its `status` and "
          "`durationMs`), or replaces its function and options; returns the "
          "Probe. Without fn, returns a decorator doing that (and returning "
          "the Probe): @reg.probe(\"applications.runtime\", timeout=2.0).")
      .def(
          "contains",
          [](const PyRegistry& r, const std::string& path) {
            ReleaseGil nogil;
            return r.reg.contains(path);
          },
          arg("path"), "True if something (a group or a metric) is at `path`.")
      .def(
          "__contains__",
          [](const PyRegistry& r, py::handle path) {
            std::string_view view;
            py::object keep;
            if (!utf8_view(path.ptr(), view, keep, "path")) {
              PyErr_Clear();
              return false;
            }
            if (!statusz::detail::is_valid_utf8(view)) return false;
            const std::string p(view);
            ReleaseGil nogil;
            try {
              return r.reg.contains(p);
            } catch (const std::invalid_argument&) {
              return false;  // not a valid path: nothing can be there
            }
          },
          arg("path"),
          "`path in registry`: like contains(), but False for an invalid path.")
      .def(
          "kind",
          [](const PyRegistry& r, const std::string& path) {
            statusz::Kind k;
            try {
              ReleaseGil nogil;
              k = r.reg.kind(path);
            } catch (const std::out_of_range&) {
              throw py::key_error("nothing registered at '" + path + "'");
            }
            return k;
          },
          arg("path"), "The Kind at `path`; KeyError if nothing is there.")
      .def(
          "snapshot",
          [](const PyRegistry& r, bool details) {
            statusz::Value v;
            {
              ReleaseGil nogil;
              v = r.reg.snapshot(details);
            }
            return to_python(v);
          },
          arg("details") = true,
          "The document as a dict (ordered as rendered): runs the probes "
          "concurrently (without the GIL; each waits at most its timeout), "
          "reads every metric. details=False keeps withDetails, each probed "
          "group's status and the top-level fields.")
      .def(
          "to_json",
          [](const PyRegistry& r, bool details, bool pretty) {
            std::string s;
            {
              ReleaseGil nogil;
              s = r.reg.to_json(details, pretty);
            }
            return py::str(s);
          },
          arg("details") = true, arg("pretty") = false,
          "The document as JSON text, rendered by the C++ library (pretty: "
          "two-space indentation). Always valid JSON.")
      .def(
          "to_prometheus",
          [](const PyRegistry& r, const std::string& prefix, bool openmetrics) {
            statusz::PrometheusOptions o;
            o.prefix = prefix;
            o.format = openmetrics ? statusz::ExpositionFormat::OpenMetrics100
                                   : statusz::ExpositionFormat::Text004;
            std::string s;
            {
              ReleaseGil nogil;
              s = statusz::to_prometheus(r.reg, o);
            }
            return py::str(s);
          },
          py::kw_only(), arg("prefix") = "statusz", arg("openmetrics") = false,
          "The registry in the Prometheus text exposition format 0.0.4 (or "
          "OpenMetrics 1.0), rendered by the C++ library: meters as counters "
          "and rate gauges, keyed counters as labelled counters, counters and "
          "numeric gauges as gauges, probe statuses one-hot. Runs the probes.")
      .def(
          "_handle",
          [](const PyRegistry& r, const std::string& method, const std::string& target,
             statusz::Headers headers, std::string bearer_token,
             std::string metrics_prefix, std::size_t max_target_bytes) {
            statusz::HttpOptions o;
            o.bearer_token = std::move(bearer_token);
            o.metrics_prefix = std::move(metrics_prefix);
            o.max_target_bytes = max_target_bytes;
            statusz::HttpResponse resp;
            {
              ReleaseGil nogil;
              resp = statusz::HttpHandler(r.reg, std::move(o))
                         .handle(method, target, headers);
            }
            return py::make_tuple(resp.status, resp.content_type, resp.headers,
                                  py::bytes(resp.body));
          },
          arg("method"), arg("target"), arg("headers") = statusz::Headers{},
          py::kw_only(), arg("bearer_token") = "", arg("metrics_prefix") = "statusz",
          arg("max_target_bytes") = std::size_t{8192},
          "The C++ HTTP handler (statusz/http.hpp) on one request: (status, "
          "content type, other headers, body bytes). Used by statusz.serve().")
      .def(
          "status",
          [](const PyRegistry& r) {
            Status s;
            {
              ReleaseGil nogil;
              s = r.reg.status();
            }
            return status_to_python(s);
          },
          "The server's status: the worst of all probes (runs them), OK if "
          "there are none.")
      .def_property_readonly(
          "clock", [](const PyRegistry& r) -> Clock& { return r.reg.clock(); },
          py::return_value_policy::reference_internal, "The registry's clock.")
      .def_property_readonly(
          "host_name", [](const PyRegistry& r) { return r.reg.host_name(); },
          "The document's hostName.")
      .def_property_readonly(
          "version", [](const PyRegistry& r) { return r.reg.version(); },
          "The document's version.")
      .def_property_readonly(
          "time_zone",
          [](const PyRegistry& r) { return time_zone_text(r.reg.time_zone()); },
          "How `date` is written: \"UTC\", \"local\" or \"+HH:MM\".")
      .def("__repr__", [](const PyRegistry& r) {
        return "Registry(host_name=" + repr_str(r.reg.host_name()) +
               ", version=" + repr_str(r.reg.version()) +
               ", time_zone=" + repr_str(time_zone_text(r.reg.time_zone())) + ")";
      });

  // ---- Free functions -----------------------------------------------------
  m.def(
      "to_json",
      [](py::handle value, bool pretty) {
        const statusz::Value v = to_value(value);
        std::string s;
        {
          ReleaseGil nogil;
          s = statusz::to_json(v, pretty);
        }
        return py::str(s);
      },
      arg("value"), arg("pretty") = false,
      "Renders a value (None, bool, int, float, str, Status, lists, tuples, "
      "dicts with str keys) with the C++ JSON renderer: the same bytes a "
      "Registry writes. to_json(reg.snapshot()) == reg.to_json() for the same "
      "moment.");

  // Lifecycle (lifecycle.cpp): GC of standalone probes and gauges, TypeError
  // on uninitialised objects.
  install_lifecycle(m);

  // From now on C++ threads must not enter Python: set before finalization.
  py::module_::import("atexit").attr("register")(py::cpp_function(
      []() { mark_shutting_down(); }, py::name("_statusz_shutdown"),
      "Stops probe and gauge calls into Python at interpreter exit."));
}
