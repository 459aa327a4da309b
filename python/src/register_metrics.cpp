// statusz._core: Meter, Counter, KeyedCounter and Gauge (their hot methods
// are in fast.cpp).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bindings.hpp"

namespace statusz_py {

namespace {

// A meter's reads may take its mutex (a tick due) or, on a shared registry,
// the store's mutex, which another process holds: without the GIL, so that a
// stopped process stops only the reading thread, not the interpreter.
template <double (statusz::Meter::*Rate)() const>
double meter_rate(const statusz::Meter& m) {
  ReleaseGil nogil;
  return (m.*Rate)();
}

// {"count", "meanRate", "oneMinuteRate", ...}: the document's names (written
// once, in statusz/document.hpp), count first.
py::dict meter_snapshot(const statusz::Meter& m) {
  namespace names = statusz::document_names;
  statusz::MeterSnapshot s;
  {
    ReleaseGil nogil;
    s = m.snapshot();
  }
  const auto key = [](std::string_view name) {
    return py::str(name.data(), name.size());
  };
  py::dict d;
  d[key(names::kCount)] = py::int_(s.count);
  d[key(names::kMeanRate)] = s.mean_rate;
  d[key(names::kOneMinuteRate)] = s.one_minute_rate;
  d[key(names::kFiveMinuteRate)] = s.five_minute_rate;
  d[key(names::kFifteenMinuteRate)] = s.fifteen_minute_rate;
  return d;
}

// A key for lookups: the UTF-8 of a str (TypeError otherwise).
std::string key_arg(py::handle key) {
  std::string_view view;
  py::object keep;
  if (!utf8_view(key.ptr(), view, keep, "key")) throw py::error_already_set();
  return std::string(view);
}

// Whether `key` is one iteration gives: an admitted key, or OVERFLOW_KEY
// when its count is not 0. O(1): one lookup in the key table.
bool keyed_contains(const statusz::KeyedCounter& k, py::handle key) {
  if (!PyUnicode_Check(key.ptr())) return false;
  const std::string text = key_arg(key);
  if (text == statusz::KeyedCounter::kOverflowKey) {
    return k.value(statusz::KeyedCounter::kOverflowKey) != 0;
  }
  return k.contains(text);
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

// Keys iteration gives: the admitted ones, and OVERFLOW_KEY when its count
// is not 0. O(1).
std::size_t keyed_len(const statusz::KeyedCounter& k) {
  return k.size() +
         (k.value(statusz::KeyedCounter::kOverflowKey) != 0 ? 1 : 0);
}

}  // namespace

void register_metrics(py::module_& m) {
  using statusz::Clock;
  using statusz::Counter;
  using statusz::Gauge;
  using statusz::KeyedCounter;
  using statusz::Meter;
  using py::arg;

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
      .def_property_readonly("mean_rate", &meter_rate<&Meter::mean_rate>,
                             "count / seconds since the meter was created.")
      .def_property_readonly("one_minute_rate", &meter_rate<&Meter::one_minute_rate>,
                             "The 1-minute moving average, events per second.")
      .def_property_readonly("five_minute_rate", &meter_rate<&Meter::five_minute_rate>,
                             "The 5-minute moving average, events per second.")
      .def_property_readonly("fifteen_minute_rate", &meter_rate<&Meter::fifteen_minute_rate>,
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

}

}  // namespace statusz_py
