// Python callables run by C++ threads (probe workers, snapshot builders), and
// the small conversions they need.
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <utility>

#include "common.hpp"

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

namespace statusz_py {

namespace {
std::atomic<bool> g_shutting_down{false};

// "TypeName: message" for the Python exception in `e` (GIL held).
std::string describe(py::error_already_set& e) {
  std::string type_name = "Exception";
  try {
    type_name = py::str(e.type().attr("__name__")).cast<std::string>();
  } catch (...) {
  }
  std::string text;
  try {
    text = py::str(e.value()).cast<std::string>();
  } catch (...) {
  }
  return text.empty() ? type_name : type_name + ": " + text;
}

std::string type_name_of(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

// A C++ thread (a probe worker) that calls into Python gets a Python thread
// state on its first call and keeps it until the thread exits: creating and
// deleting one per call costs more than a whole snapshot of C++ probes.
// Threads that already had a thread state (Python threads) are left alone.
struct ThreadStateKeeper {
  bool decided = false;
  PyThreadState* kept = nullptr;  // this thread's own state (GIL not held)
  ~ThreadStateKeeper() {
    if (kept == nullptr || !interpreter_alive()) return;  // at exit: leaked
    take_gil_or_park(kept);
    PyGILState_Release(PyGILState_UNLOCKED);  // deletes the state
  }
};
thread_local ThreadStateKeeper t_keeper;

// PyGILState_Ensure(), or, when the finalizing interpreter ends the thread
// inside it (an exception or a forced unwind), the thread parked for good.
PyGILState_STATE ensure_or_park() noexcept {
  try {
    return PyGILState_Ensure();
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    park_forever();
#endif
  } catch (...) {
    park_forever();
  }
}

// Holds the GIL for a call from a C++ thread, keeping its thread state. If
// the interpreter is finalizing, taking the GIL parks the thread for good.
class PythonCall {
 public:
  PythonCall() noexcept {
    if (!t_keeper.decided) {
      t_keeper.decided = true;
      if (PyGILState_GetThisThreadState() == nullptr) {
        ensure_or_park();  // a fresh thread state, kept for the thread's life
        t_keeper.kept = PyThreadState_Get();
        kept_ = true;
        return;
      }
    }
    if (t_keeper.kept != nullptr) {
      take_gil_or_park(t_keeper.kept);
      kept_ = true;
    } else {
      state_ = ensure_or_park();
    }
  }
  ~PythonCall() {
    if (kept_) {
      PyEval_SaveThread();
    } else {
      PyGILState_Release(state_);
    }
  }
  PythonCall(const PythonCall&) = delete;
  PythonCall& operator=(const PythonCall&) = delete;

 private:
  bool kept_ = false;
  PyGILState_STATE state_ = PyGILState_UNLOCKED;
};

// Calls fn() (GIL held) and converts its result with convert(result);
// a thread the finalizing interpreter ends inside the call is parked (no C++
// destructor runs without the GIL). convert() owns the new reference.
// PythonCall is outside the try block: the catch must be reached without
// releasing a GIL this thread no longer holds.
template <class R, class Convert>
R call_python(PyObject* fn, R on_error, Convert convert) noexcept {
  PythonCall gil;
  try {
    PyObject* r = PyObject_CallNoArgs(fn);
    return convert(r, std::move(on_error));
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    park_forever();
#endif
  } catch (...) {
    return on_error;
  }
}
}  // namespace

bool interpreter_alive() noexcept {
  if (g_shutting_down.load(std::memory_order_acquire)) return false;
  if (!Py_IsInitialized()) return false;
#if PY_VERSION_HEX >= 0x030D0000
  return !Py_IsFinalizing();
#else
  return !_Py_IsFinalizing();
#endif
}

void mark_shutting_down() noexcept {
  g_shutting_down.store(true, std::memory_order_release);
}

void park_forever() noexcept {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
}

void take_gil_or_park(PyThreadState* state) noexcept {
  try {
    PyEval_RestoreThread(state);
#if defined(__GLIBCXX__)
  } catch (abi::__forced_unwind&) {
    park_forever();  // never rethrown: the thread never unwinds
#endif
  } catch (...) {
    park_forever();
  }
}

PyRef::PyRef(py::object o) : holder_(std::make_shared<Holder>()) {
  holder_->ptr = o.release().ptr();
}

PyRef::Holder::~Holder() {
  if (ptr == nullptr || !Py_IsInitialized()) return;
  if (PyGILState_Check()) {  // already holding the GIL (a Python thread)
    Py_DECREF(ptr);
    return;
  }
  // From a C++ thread: take the GIL, unless the interpreter is finalizing,
  // when a C++ thread must not (the object is leaked; the process is ending).
#if PY_VERSION_HEX >= 0x030D0000
  if (Py_IsFinalizing()) return;
#else
  if (_Py_IsFinalizing()) return;
#endif
  const PyGILState_STATE state = ensure_or_park();
  Py_DECREF(ptr);
  PyGILState_Release(state);
}

std::shared_ptr<FnSlot> make_slot(py::object fn, const char* what) {
  if (!PyCallable_Check(fn.ptr())) {
    throw py::type_error(std::string(what) +
                         " function must be callable, not " + type_name_of(fn));
  }
  return std::make_shared<FnSlot>(PyRef(std::move(fn)));
}

namespace {

// The probe result of r (a new reference, or nullptr with the Python error
// set), GIL held.
statusz::ProbeResult probe_result(PyObject* raw) {
  if (raw == nullptr) {
    py::error_already_set e;
    return {statusz::Status::Ko, describe(e)};
  }
  py::object r = py::reinterpret_steal<py::object>(raw);
  try {
    statusz::Status s;
    if (status_from_python(r, s)) return s;
    if (PyTuple_Check(r.ptr()) && PyTuple_GET_SIZE(r.ptr()) == 2) {
      py::handle first = PyTuple_GET_ITEM(r.ptr(), 0);
      py::handle second = PyTuple_GET_ITEM(r.ptr(), 1);
      if (status_from_python(first, s)) {
        if (second.is_none()) return s;
        if (PyUnicode_Check(second.ptr())) {
          std::string_view text;
          py::object keep;
          if (utf8_view(second.ptr(), text, keep, "message")) {
            // Lone surrogates came through as invalid UTF-8: repair them.
            return {s, statusz::detail::is_valid_utf8(text)
                           ? std::string(text)
                           : statusz::detail::to_valid_utf8(text)};
          }
          PyErr_Clear();
        }
        return {statusz::Status::Ko,
                "TypeError: probe message must be str, not " +
                    type_name_of(second)};
      }
    }
    return {statusz::Status::Ko,
            "TypeError: probe must return a Status or (Status, str), not " +
                type_name_of(r)};
  } catch (py::error_already_set& e) {
    return {statusz::Status::Ko, describe(e)};
  }
}

statusz::Value gauge_value(PyObject* raw) {
  if (raw == nullptr) {
    PyErr_Clear();
    return statusz::Value();
  }
  py::object r = py::reinterpret_steal<py::object>(raw);
  try {
    return to_value(r);
  } catch (py::error_already_set&) {
    return statusz::Value();
  } catch (const std::exception&) {
    return statusz::Value();
  }
}

}  // namespace

statusz::ProbeResult ProbeCall::operator()() const {
  if (!interpreter_alive()) {
    return {statusz::Status::Unknown, "Python interpreter is shutting down"};
  }
  const PyRef ref = slot->get();
  if (!ref) return {statusz::Status::Unknown, "probe function was cleared"};
  return call_python(
      ref.get().ptr(),
      statusz::ProbeResult(statusz::Status::Ko, "probe call failed"),
      [](PyObject* r, statusz::ProbeResult) { return probe_result(r); });
}

statusz::Value GaugeCall::operator()() const {
  if (!interpreter_alive()) return statusz::Value();
  const PyRef ref = slot->get();
  if (!ref) return statusz::Value();
  return call_python(
      ref.get().ptr(), statusz::Value(),
      [](PyObject* r, statusz::Value) { return gauge_value(r); });
}

statusz::Probe::Function make_probe_function(std::shared_ptr<FnSlot> slot) {
  return ProbeCall{std::move(slot)};
}

statusz::Gauge::Function make_gauge_function(std::shared_ptr<FnSlot> slot) {
  return GaugeCall{std::move(slot)};
}

bool utf8_view(PyObject* obj, std::string_view& out, py::object& keep_alive,
               const char* what) {
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %.200s", what,
                 Py_TYPE(obj)->tp_name);
    return false;
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(obj, &size);
  if (data != nullptr) {
    out = std::string_view(data, static_cast<std::size_t>(size));
    return true;
  }
  // Lone surrogates: pass their bytes through; the C++ side repairs them.
  PyErr_Clear();
  PyObject* bytes = PyUnicode_AsEncodedString(obj, "utf-8", "surrogatepass");
  if (bytes == nullptr) return false;
  keep_alive = py::reinterpret_steal<py::object>(bytes);
  out = std::string_view(PyBytes_AS_STRING(bytes),
                         static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
  return true;
}

statusz::Nanos seconds_to_nanos(double seconds, const char* what) {
  if (!std::isfinite(seconds)) {
    throw py::value_error(std::string(what) +
                          " must be a finite number of seconds");
  }
  const double ns = std::round(seconds * 1e9);
  // 2^63 ns is about 292 years.
  if (ns >= 9.2e18 || ns <= -9.2e18) {
    throw py::value_error(std::string(what) + " is out of range");
  }
  return statusz::Nanos(static_cast<std::int64_t>(ns));
}

}  // namespace statusz_py
