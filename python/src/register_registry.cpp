// statusz._core: Kind, KindError, Registry and to_json().
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings.hpp"

using namespace pybind11::literals;

namespace statusz_py {

namespace {

PyObject* g_kind_error = nullptr;


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

void register_registry(py::module_& m) {
  using statusz::Clock;
  using statusz::Counter;
  using statusz::Gauge;
  using statusz::KeyedCounter;
  using statusz::Meter;
  using statusz::Probe;
  using statusz::Status;
  using py::arg;

  // ---- Kind and KindError ----------------------------------------------------
  py::native_enum<statusz::Kind>(m, "Kind", "enum.Enum",
                                 "What is registered at a path of a Registry.")
      .value("GROUP", statusz::Kind::Group, "A group of other paths.")
      .value("METER", statusz::Kind::Meter, "A Meter.")
      .value("COUNTER", statusz::Kind::Counter, "A Counter.")
      .value("KEYED_COUNTER", statusz::Kind::KeyedCounter, "A KeyedCounter.")
      .value("GAUGE", statusz::Kind::Gauge, "A Gauge.")
      .value("HISTOGRAM", statusz::Kind::Histogram, "A Histogram.")
      .value("TIMER", statusz::Kind::Timer, "A Timer.")
      .finalize();

  g_kind_error = PyErr_NewExceptionWithDoc(
      "statusz.KindError",
      "A path is already registered as another kind (a ValueError). Attributes: "
      "path (the clashing prefix), existing and requested (statusz.Kind).",
      PyExc_ValueError, nullptr);
  if (g_kind_error == nullptr) throw py::error_already_set();
  m.attr("KindError") = py::handle(g_kind_error);
  py::register_exception<statusz::SharedStoreError>(m, "SharedStoreError",
                                                   PyExc_OSError);
  m.attr("SharedStoreError").attr("__doc__") =
      "A shared registry's store cannot be opened or joined (another layout "
      "version, not a private file of this user, full). An OSError.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const statusz::KindError& e) {
      translate_kind_error(e);
    }
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
                       std::string version, std::string time_zone,
                       std::optional<std::string> shared,
                       std::optional<long long> shared_slots,
                       std::optional<long long> shared_cells,
                       std::optional<long long> shared_entries,
                       std::optional<long long> shared_key_bytes) {
             statusz::RegistryOptions o;
             o.clock = clock;
             if (host_name) o.host_name = std::move(*host_name);
             o.version = std::move(version);
             o.time_zone = statusz::TimeZone::parse(time_zone);
             if (shared) {
               if (shared->empty()) {
                 throw py::value_error("shared: the store's name must not be empty");
               }
               o.shared = std::move(*shared);
             }
             const auto limit = [&](const std::optional<long long>& v, const char* what,
                                    long long max) -> std::optional<long long> {
               if (!v) return std::nullopt;
               if (!shared) {
                 throw py::value_error(std::string(what) +
                                       ": only for a shared registry (shared=NAME)");
               }
               if (*v < 1 || *v > max) {
                 throw py::value_error(std::string(what) + " must be 1 to " +
                                       std::to_string(max) + ", not " + std::to_string(*v));
               }
               return v;
             };
             constexpr long long kU32 = 0xffffffffLL - 1;
             if (auto v = limit(shared_slots, "shared_slots", 1 << 16)) {
               o.shared_limits.slots = static_cast<std::uint32_t>(*v);
             }
             if (auto v = limit(shared_cells, "shared_cells", kU32)) {
               o.shared_limits.cells = static_cast<std::uint32_t>(*v);
             }
             if (auto v = limit(shared_entries, "shared_entries", kU32)) {
               o.shared_limits.entries = static_cast<std::uint32_t>(*v);
             }
             if (auto v = limit(shared_key_bytes, "shared_key_bytes", 1LL << 40)) {
               o.shared_limits.key_bytes = static_cast<std::uint64_t>(*v);
             }
             ReleaseGil nogil;
             return std::make_unique<PyRegistry>(std::move(o));
           }),
           py::kw_only(), arg("clock") = py::none(), arg("host_name") = py::none(),
           arg("version") = "", arg("time_zone") = "UTC", arg("shared") = py::none(),
           arg("shared_slots") = py::none(), arg("shared_cells") = py::none(),
           arg("shared_entries") = py::none(), arg("shared_key_bytes") = py::none(),
           py::keep_alive<1, 2>(),
           "clock: a Clock (default_clock() if None); host_name: the document's "
           "hostName (the machine's name if None or \"\"); version: the "
           "service's version; time_zone: how `date` is written: \"UTC\", "
           "\"local\" or a fixed offset like \"+02:00\"; shared: the name of a "
           "shared-memory store (/dev/shm/statusz.NAME, mode 0600) that every "
           "process of this user opening the same name counts into: meters, "
           "counters and keyed counters are then the pool's; histograms and "
           "timers are refused (RuntimeError). ValueError for a bad name, "
           "statusz.SharedStoreError if the store cannot be opened or joined. "
           "shared_slots (counting threads alive at once, default 128), "
           "shared_cells (counts: 1 per meter or counter, max_keys + 2 per "
           "keyed counter; default 16384), shared_entries (metrics, default "
           "1024), shared_key_bytes (keyed counters' keys: 264 bytes per "
           "max_keys; default 8 MiB): the store's capacities, fixed by the "
           "process that creates it; every process must give the same ones "
           "(SharedStoreError otherwise).")
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
          [](PyRegistry& r, const std::string& path, const std::string& mode) -> Counter& {
            statusz::CounterMode counter_mode = statusz::CounterMode::Sum;
            if (mode == "max") {
              counter_mode = statusz::CounterMode::Max;
            } else if (mode == "min") {
              counter_mode = statusz::CounterMode::Min;
            } else if (mode == "live-sum") {
              counter_mode = statusz::CounterMode::LiveSum;
            } else if (mode != "sum") {
              throw py::value_error("mode must be \"sum\", \"max\", \"min\" or "
                                    "\"live-sum\", not " + repr_str(mode));
            }
            ReleaseGil nogil;
            return r.reg.counter(path, counter_mode);
          },
          arg("path"), py::kw_only(), arg("mode") = "sum",
          py::return_value_policy::reference_internal,
          "The Counter at `path`, created on first use. mode (a shared "
          "registry's only): how the pool's processes' values aggregate: "
          "\"sum\" (every process that ever counted), \"max\" or \"min\" (over "
          "the live processes), \"live-sum\" (the live processes only).")
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
          "max_keys keys (an existing one is returned as it is). On a shared "
          "registry the pool's: keys and counts of every process, one "
          "max_keys for the pool (the first process's); it reserves max_keys "
          "+ 2 cells and max_keys x 264 key bytes of the store "
          "(SharedStoreError when they are not left).")
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
             double max_age, std::optional<std::vector<std::string>> groups) -> py::object {
            const statusz::ProbeOptions o = probe_options(timeout, max_age);
            if (fn.is_none()) {
              return py::cpp_function(
                  [self, path, timeout, max_age, groups](py::object f) {
                    return self.attr("probe")(path, f, "timeout"_a = timeout,
                                              "max_age"_a = max_age, "groups"_a = groups);
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
              p = &r.reg.probe(path, std::move(f), o, groups.value_or(std::vector<std::string>{}));
            }
            r.set_slot(p, std::move(slot));
            return py::cast(p, py::return_value_policy::reference_internal, self);
          },
          arg("path"), arg("fn") = py::none(), py::kw_only(), arg("timeout") = 5.0,
          arg("max_age") = 0.0, arg("groups") = py::none(),
          "Attaches a probe to the group at `path` (its `status` and "
          "`durationMs`), or replaces its function, options and groups; returns "
          "the Probe. Without fn, returns a decorator doing that (and returning "
          "the Probe): @reg.probe(\"applications.runtime\", timeout=2.0). "
          "groups: the Kubernetes-style health groups it is in, \"live\" "
          "(GET /livez) and/or \"ready\" (GET /readyz), e.g. (\"live\", "
          "\"ready\"); None or empty: (\"ready\",). Another name raises "
          "ValueError.")
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
          py::kw_only(), arg("prefix") = statusz::PrometheusOptions{}.prefix,
          arg("openmetrics") = false,
          "The registry in the Prometheus text exposition format 0.0.4 (or "
          "OpenMetrics 1.0), rendered by the C++ library: meters as counters "
          "and rate gauges, keyed counters as labelled counters, counters and "
          "numeric gauges as gauges, probe statuses one-hot. Runs the probes.")
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
      .def_property_readonly(
          "shared",
          [](const PyRegistry& r) -> std::optional<std::string> {
            if (auto* store = r.reg.shared_store()) return store->name();
            return std::nullopt;
          },
          "The shared store's name (None for a private registry).")
      .def("__repr__", [](const PyRegistry& r) {
        return "Registry(host_name=" + repr_str(r.reg.host_name()) +
               ", version=" + repr_str(r.reg.version()) +
               ", time_zone=" + repr_str(time_zone_text(r.reg.time_zone())) + ")";
      });

  // ---- Free functions -----------------------------------------------------
  m.def(
      "remove_shared",
      [](const std::string& name) { return statusz::remove_shared(name); },
      arg("name"),
      "Unlinks the shared store `name` (/dev/shm/statusz.NAME), e.g. when a "
      "pool starts, to count from zero; False if there was none. Processes "
      "that have it open keep counting into the unlinked store.");
  m.def(
      "shared_path", [](const std::string& name) { return statusz::shared_path(name); },
      arg("name"), "The file backing the shared store `name`.");
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
}

}  // namespace statusz_py
