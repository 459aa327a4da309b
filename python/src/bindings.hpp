// What the register_*.cpp files of statusz._core share: one register
// function per concept (called in this order by module.cpp), the Python
// wrapper of a Registry, and the small conversions and garbage collector
// hooks more than one of them uses. GIL rules: see common.hpp.
#pragma once

#include <pybind11/native_enum.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common.hpp"

namespace statusz_py {

// Status, worst(), and the clocks (Clock, SteadyClock, ManualClock,
// default_clock()).
void register_status_and_clocks(py::module_& m);
// Meter, Counter, KeyedCounter, Gauge.
void register_metrics(py::module_& m);
// ProbeReport, Probe.
void register_probes(py::module_& m);
// Kind, KindError, Registry, and to_json().
void register_registry(py::module_& m);
// Timer, Histogram, TimerContext, Registry.timer() / .histogram().
void register_timers(py::module_& m);
// HttpHandler: the C++ HTTP handler, which statusz.serve() holds.
void register_http(py::module_& m);
// Registry.process_metrics() (statusz/process.hpp).
void register_process(py::module_& m);

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

// The statusz.Status member of s.
py::object status_to_python(statusz::Status s);
// The Status `h` is; TypeError naming `what` if it is not a statusz.Status.
statusz::Status status_arg(py::handle h, const char* what);
// "Status.OK", ... (the member's repr).
std::string status_repr(statusz::Status s);

// Python's repr() of a str / a float.
std::string repr_str(const std::string& s);
std::string repr_double(double d);

// v as a size, ValueError naming `what` unless v > 0.
std::size_t positive_size(long long v, const char* what);

// ProbeOptions from seconds (ValueError naming the bad one).
statusz::ProbeOptions probe_options(double timeout, double max_age);

// The C++ object of a pybind11 instance (nullptr if not constructed).
void* value_of(PyObject* self);

// Garbage collector support: the wrappers of registry-owned objects keep
// their registry alive through pybind11's keep_alive ("patients"). Showing
// those references to the GC lets it collect cycles such as: an object
// holding a registry and its meters, whose method is one of the registry's
// probes. A py::custom_type_setup for such classes; traverse_patients is the
// tp_traverse it installs.
void gc_patients_setup(PyHeapTypeObject* heap_type);
int traverse_patients(PyObject* self, visitproc visit, void* arg);

}  // namespace statusz_py
