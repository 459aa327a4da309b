// Shared declarations of the statusz Python extension (statusz._core).
//
// GIL rules followed by every file here:
//  - the hot calls (Meter.mark, Counter.inc/dec/set, KeyedCounter.inc) keep
//    the GIL: they are a few instructions, releasing it would cost more;
//  - every call that takes a statusz lock a GIL-needing thread may hold
//    (registration, probes, gauges, snapshots, ManualClock.advance) releases
//    the GIL first, so no thread ever holds the GIL while blocking on such a
//    lock;
//  - Python callables stored in C++ (probe and gauge functions) live in a
//    PyRef, which takes the GIL to call them and to drop them, from whatever
//    thread the C++ library happens to do that on.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <statusz/http.hpp>
#include <statusz/json.hpp>
#include <statusz/prometheus.hpp>
#include <statusz/registry.hpp>
#include <statusz/version.hpp>
#include <string>
#include <string_view>

namespace py = pybind11;

namespace statusz_py {

// False once the interpreter is finalizing: C++ threads must not touch
// Python any more (taking the GIL then would end the thread abruptly).
bool interpreter_alive() noexcept;

// Marks the interpreter as shutting down (called from an atexit hook, before
// finalization starts): later probe and gauge calls from C++ threads no
// longer enter Python.
void mark_shutting_down() noexcept;

// Blocks the calling thread for good. For a thread that the finalizing
// interpreter would otherwise end abruptly (CPython < 3.14 ends a thread that
// takes the GIL during finalization with pthread_exit, whose unwinding through
// C++ destructors crashes or calls std::terminate); the process ends anyway.
[[noreturn]] void park_forever() noexcept;

// Runs take() (which takes the GIL) and, if the interpreter is finalizing and
// ends the thread there, parks the thread instead of letting that unwind C++
// frames. Used wherever a thread may take the GIL while the interpreter exits.
void take_gil_or_park(PyThreadState* state) noexcept;

// py::gil_scoped_release for the bindings' blocking calls (to_json, status,
// Probe.run, serve() requests, ...): a thread still inside one when the
// interpreter finalizes is parked on its way back instead of crashing the
// process (see park_forever()).
class ReleaseGil {
 public:
  ReleaseGil() noexcept : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() { take_gil_or_park(state_); }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  PyThreadState* state_;
};

// Lifecycle support installed at import (lifecycle.cpp): garbage collector
// support for standalone Probe and Gauge objects, TypeError for bound objects
// created with __new__ but never initialised, and os.register_at_fork hooks.
void install_lifecycle(py::module_& m);

// A strong reference to a Python object that C++ code may copy and drop on
// any thread, with or without the GIL. Copies share the reference; the last
// one takes the GIL to release it (or leaks it if the interpreter is gone).
class PyRef {
 public:
  PyRef() = default;
  explicit PyRef(py::object o);  // GIL held
  py::handle get() const noexcept {
    return holder_ ? py::handle(holder_->ptr) : py::handle();
  }
  explicit operator bool() const noexcept { return holder_ != nullptr; }

 private:
  struct Holder {
    PyObject* ptr = nullptr;
    Holder() = default;
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    ~Holder();
  };
  std::shared_ptr<Holder> holder_;
};

// True (and `out` set) if obj is one of the statusz.Status members.
bool status_from_python(py::handle obj, statusz::Status& out);

// A Python callable installed in a C++ Probe or Gauge, shared by the C++
// function (which calls it) and by the owner of that Probe or Gauge (which
// shows it to Python's garbage collector, and drops it in tp_clear to break
// reference cycles).
class FnSlot {
 public:
  explicit FnSlot(PyRef fn) : fn_(std::move(fn)) {}
  PyRef get() const {
    std::lock_guard<std::mutex> g(mu_);
    return fn_;
  }
  // The callable, without a new reference (for tp_traverse; GIL held).
  PyObject* peek() const {
    std::lock_guard<std::mutex> g(mu_);
    return fn_.get().ptr();
  }
  // Empties the slot; the caller drops what it returns (GIL held).
  PyRef take() {
    std::lock_guard<std::mutex> g(mu_);
    PyRef out = std::move(fn_);
    fn_ = PyRef();
    return out;
  }

 private:
  mutable std::mutex mu_;  // never held while taking the GIL or calling Python
  PyRef fn_;
};

// A slot for fn (GIL held); TypeError naming `what` unless fn is callable.
std::shared_ptr<FnSlot> make_slot(py::object fn, const char* what);

// The C++ functions of Python probes and gauges (named, so the garbage
// collector support of standalone Probe and Gauge can find their slot).
struct ProbeCall {
  std::shared_ptr<FnSlot> slot;
  statusz::ProbeResult operator()() const;
};
struct GaugeCall {
  std::shared_ptr<FnSlot> slot;
  statusz::Value operator()() const;
};

// A probe function calling the slot's callable: returns its Status or
// (Status, message); an exception or a result of another type is Ko with a
// message naming it; an emptied slot reads Unknown.
statusz::Probe::Function make_probe_function(std::shared_ptr<FnSlot> slot);

// A gauge function calling the slot's callable; its result is converted with
// to_value(). Exceptions, unconvertible results and an emptied slot read null.
statusz::Gauge::Function make_gauge_function(std::shared_ptr<FnSlot> slot);

// Python -> statusz::Value (GIL held): None, bool, int, float, str, Status,
// sequences (list, tuple) and mappings with str keys, nested. Throws
// py::type_error / py::value_error for anything else.
statusz::Value to_value(py::handle obj, int depth = 0);

// statusz::Value -> Python (GIL held): dict (ordered as the document), list,
// str, int, float, bool, None. Strings are decoded exactly as the JSON
// renderer writes them (invalid UTF-8 bytes become U+FFFD).
py::object to_python(const statusz::Value& v);

// A str as UTF-8 bytes for the C++ side. Lone surrogates (which UTF-8 cannot
// encode) are passed through as their raw bytes, which the C++ library then
// repairs to U+FFFD, as it does for any invalid UTF-8. Sets a Python error
// and returns false if `obj` is not a str.
bool utf8_view(PyObject* obj, std::string_view& out, py::object& keep_alive,
               const char* what);

// Installs the hand-written METH_FASTCALL hot methods on the bound classes.
void install_fast_methods(py::handle meter_cls, py::handle counter_cls,
                          py::handle keyed_cls);

// Seconds (float) -> nanoseconds, rejecting NaN, infinities and values out of
// the range of int64 nanoseconds (py::value_error naming `what`).
statusz::Nanos seconds_to_nanos(double seconds, const char* what);

inline double nanos_to_seconds(statusz::Nanos d) noexcept {
  return static_cast<double>(d.count()) / 1e9;
}

}  // namespace statusz_py
