// statusz._core: Timer, Histogram, TimerContext, Registry.timer() and
// Registry.histogram() (statusz/timer.hpp, statusz/histogram.hpp). The hot
// calls (Histogram.update, Timer.update, Timer.update_ns and a TimerContext's
// __enter__ / __exit__) are METH_FASTCALL descriptors, as fast.cpp's; they
// keep the GIL (a few instructions of C++).
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include <pybind11/eval.h>

#include "bindings.hpp"

namespace statusz_py {

namespace {

using statusz::Histogram;
using statusz::Nanos;
using statusz::Timer;

// A `with` block or a decorated call timed by a Timer: time() returns one.
// A plain CPython object (no pybind11 instance: creating one per `with`
// would cost more than the timing). __enter__ reads the timer's clock,
// __exit__ reads it again and records the difference (also when the block
// raised; the exception propagates). It holds a reference to the Timer's
// Python object, which keeps the timer (and its registry) alive. One context
// may be entered again after it exited; entering it twice at once (nesting,
// several threads) times from the later __enter__: use one time() per block.
struct ContextObject {
  PyObject_HEAD
  PyObject* owner;  // the Timer's Python object
  Timer* timer;
  std::int64_t start;
  bool entered;
};

PyTypeObject* g_context_type = nullptr;
PyObject* g_timed = nullptr;  // _timed(time, fn): the decorator's wrapper

void context_dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  Py_XDECREF(reinterpret_cast<ContextObject*>(self)->owner);
  tp->tp_free(self);
  Py_DECREF(tp);
}

template <class T>
T* self_of(PyObject* self) {
  void* p = value_of(self);
  if (p == nullptr) {
    PyErr_Format(PyExc_TypeError, "%.200s object is not initialized",
                 Py_TYPE(self)->tp_name);
  }
  return static_cast<T*>(p);
}

// The one argument of a one-argument method, positional or by `name`.
PyObject* one_arg(const char* fname, const char* name, PyObject* const* args,
                  Py_ssize_t nargs, PyObject* kwnames) {
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  if (nargs + nkw != 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes exactly one argument (%zd given)",
                 fname, nargs + nkw);
    return nullptr;
  }
  if (nkw == 1 &&
      PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), name) != 0) {
    PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'",
                 fname, PyTuple_GET_ITEM(kwnames, 0));
    return nullptr;
  }
  return args[0];
}

// An int >= 0 below 2^64, or below 2^63 with `below_2_63` (TypeError /
// ValueError naming `what` and the bound).
bool as_uint64(PyObject* o, const char* what, std::uint64_t& out,
               bool below_2_63 = false) {
  if (!PyLong_Check(o)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int, not %.200s", what,
                 Py_TYPE(o)->tp_name);
    return false;
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow == 0) {
    if (v == -1 && PyErr_Occurred()) return false;
    if (v < 0) {
      PyErr_Format(PyExc_ValueError, "%s must be >= 0, got %lld", what, v);
      return false;
    }
    out = static_cast<std::uint64_t>(v);
    return true;
  }
  if (overflow < 0) {
    PyErr_Format(PyExc_ValueError, "%s must be >= 0", what);
    return false;
  }
  // o > 2^63 - 1.
  if (!below_2_63) {
    const unsigned long long u = PyLong_AsUnsignedLongLong(o);
    if (u != static_cast<unsigned long long>(-1) || !PyErr_Occurred()) {
      out = u;
      return true;
    }
    PyErr_Clear();
  }
  PyErr_Format(PyExc_ValueError, "%s must be below %s", what,
               below_2_63 ? "2**63" : "2**64");
  return false;
}

PyObject* histogram_update(PyObject* self, PyObject* const* args,
                           Py_ssize_t nargs, PyObject* kwnames) {
  Histogram* h = self_of<Histogram>(self);
  if (h == nullptr) return nullptr;
  PyObject* a = one_arg("update", "value", args, nargs, kwnames);
  std::uint64_t v = 0;
  if (a == nullptr || !as_uint64(a, "value", v)) return nullptr;
  h->update(v);
  Py_RETURN_NONE;
}

PyObject* timer_update(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                       PyObject* kwnames) {
  Timer* t = self_of<Timer>(self);
  if (t == nullptr) return nullptr;
  PyObject* a = one_arg("update", "seconds", args, nargs, kwnames);
  if (a == nullptr) return nullptr;
  const double s = PyFloat_AsDouble(a);
  if (s == -1.0 && PyErr_Occurred()) return nullptr;
  if (!std::isfinite(s) || s < 0 || s >= 9.2e9) {
    PyErr_Format(PyExc_ValueError,
                 "seconds must be finite, >= 0 and below 9.2e9, got %R", a);
    return nullptr;
  }
  t->update(Nanos(static_cast<std::int64_t>(std::llround(s * 1e9))));
  Py_RETURN_NONE;
}

PyObject* timer_update_ns(PyObject* self, PyObject* const* args,
                          Py_ssize_t nargs, PyObject* kwnames) {
  Timer* t = self_of<Timer>(self);
  if (t == nullptr) return nullptr;
  PyObject* a = one_arg("update_ns", "ns", args, nargs, kwnames);
  std::uint64_t v = 0;
  if (a == nullptr || !as_uint64(a, "ns", v, /*below_2_63=*/true)) return nullptr;
  t->update(Nanos(static_cast<std::int64_t>(v)));
  Py_RETURN_NONE;
}

PyObject* context_enter(PyObject* self, PyObject* const*, Py_ssize_t nargs,
                        PyObject* kwnames) {
  auto* c = reinterpret_cast<ContextObject*>(self);
  if (nargs != 0 || kwnames != nullptr) {
    PyErr_SetString(PyExc_TypeError, "__enter__() takes no arguments");
    return nullptr;
  }
  c->entered = true;
  c->start = c->timer->clock().now().count();
  Py_INCREF(self);
  return self;
}

PyObject* context_exit(PyObject* self, PyObject* const*, Py_ssize_t,
                       PyObject*) {
  auto* c = reinterpret_cast<ContextObject*>(self);
  if (c->entered) {
    c->entered = false;
    c->timer->update(c->timer->clock().now() - Nanos(c->start));
  }
  Py_RETURN_FALSE;  // never swallows the block's exception
}

// Decorating: fn wrapped so that each call is timed by a fresh context.
PyObject* context_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  PyObject* fn = nullptr;
  if ((kwargs != nullptr && PyDict_GET_SIZE(kwargs) != 0) ||
      !PyArg_UnpackTuple(args, "TimerContext", 1, 1, &fn)) {
    if (!PyErr_Occurred()) {
      PyErr_SetString(PyExc_TypeError, "TimerContext() takes one callable");
    }
    return nullptr;
  }
  // A classmethod is not callable itself (a staticmethod is from 3.10).
  if (!PyCallable_Check(fn) && !PyObject_TypeCheck(fn, &PyStaticMethod_Type) &&
      !PyObject_TypeCheck(fn, &PyClassMethod_Type)) {
    PyErr_SetString(PyExc_TypeError, "Timer.time() decorates a callable");
    return nullptr;
  }
  PyObject* time =
      PyObject_GetAttrString(reinterpret_cast<ContextObject*>(self)->owner, "time");
  if (time == nullptr) return nullptr;
  PyObject* wrapped = PyObject_CallFunctionObjArgs(g_timed, time, fn, nullptr);
  Py_DECREF(time);
  return wrapped;
}

PyObject* timer_time(PyObject* self, PyObject* const*, Py_ssize_t nargs,
                     PyObject* kwnames) {
  Timer* t = self_of<Timer>(self);
  if (t == nullptr) return nullptr;
  if (nargs != 0 || kwnames != nullptr) {
    PyErr_SetString(PyExc_TypeError, "time() takes no arguments");
    return nullptr;
  }
  ContextObject* c = PyObject_New(ContextObject, g_context_type);
  if (c == nullptr) return nullptr;
  Py_INCREF(self);
  c->owner = self;
  c->timer = t;
  c->start = 0;
  c->entered = false;
  return reinterpret_cast<PyObject*>(c);
}

PyMethodDef g_histogram_update = {
    "update",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(histogram_update)),
    METH_FASTCALL | METH_KEYWORDS,
    "update($self, value)\n--\n\n"
    "Records value (an int, 0 <= value < 2**64). Lock-free.\n\n"
    "TypeError if value is not an int, ValueError if it is out of range."};
PyMethodDef g_timer_update = {
    "update",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(timer_update)),
    METH_FASTCALL | METH_KEYWORDS,
    "update($self, seconds)\n--\n\n"
    "Records a duration of `seconds` (a float, rounded to the nanosecond).\n\n"
    "ValueError unless 0 <= seconds < 9.2e9 (int64 nanoseconds)."};
PyMethodDef g_timer_update_ns = {
    "update_ns",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(timer_update_ns)),
    METH_FASTCALL | METH_KEYWORDS,
    "update_ns($self, ns)\n--\n\n"
    "Records a duration of ns nanoseconds (an int, 0 <= ns < 2**63), as\n"
    "time.perf_counter_ns() differences give."};
PyMethodDef g_timer_time = {
    "time",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(timer_time)),
    METH_FASTCALL | METH_KEYWORDS,
    "time($self)\n--\n\n"
    "A TimerContext: `with t.time(): ...` records the block's elapsed time;\n"
    "`@t.time()` records each call of the decorated function. Both record\n"
    "also when the body raises (the exception propagates)."};
PyMethodDef g_context_enter = {
    "__enter__",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(context_enter)),
    METH_FASTCALL | METH_KEYWORDS,
    "__enter__($self)\n--\n\nStarts timing: reads the timer's clock."};
PyMethodDef g_context_exit = {
    "__exit__",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(context_exit)),
    METH_FASTCALL | METH_KEYWORDS,
    "__exit__($self, exc_type, exc, tb)\n--\n\n"
    "Records the time since __enter__ (also when the block raised; the\n"
    "exception propagates). Returns False."};

PyMethodDef g_context_methods[] = {
    {g_context_enter.ml_name, g_context_enter.ml_meth, g_context_enter.ml_flags,
     g_context_enter.ml_doc},
    {g_context_exit.ml_name, g_context_exit.ml_meth, g_context_exit.ml_flags,
     g_context_exit.ml_doc},
    {nullptr, nullptr, 0, nullptr}};

constexpr const char* kContextDoc =
    "What Timer.time() returns: a context manager (`with t.time(): ...`) and a "
    "decorator (`@t.time()`) that record the elapsed time of the block or of "
    "each call, also when it raises (the exception propagates). Use one per "
    "block: entering the same context twice at once times from the later "
    "entry.";

// Only Timer.time() makes a TimerContext: one made by calling the type
// would have no timer (a heap type inherits object's tp_new otherwise;
// Py_TPFLAGS_DISALLOW_INSTANTIATION is 3.10+, and 3.9 is supported).
PyObject* context_new(PyTypeObject*, PyObject*, PyObject*) {
  PyErr_SetString(PyExc_TypeError,
                  "cannot create TimerContext instances: use Timer.time()");
  return nullptr;
}

PyType_Slot g_context_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(context_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(context_dealloc)},
    {Py_tp_call, reinterpret_cast<void*>(context_call)},
    {Py_tp_methods, g_context_methods},
    {Py_tp_doc, const_cast<char*>(kContextDoc)},
    {0, nullptr}};

PyType_Spec g_context_spec = {"statusz._core.TimerContext",
                              static_cast<int>(sizeof(ContextObject)), 0,
                              Py_TPFLAGS_DEFAULT, g_context_slots};

void add_fast(py::handle cls, PyMethodDef* def) {
  PyObject* descr =
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), def);
  if (descr == nullptr) throw py::error_already_set();
  const int rc = PyObject_SetAttrString(cls.ptr(), def->ml_name, descr);
  Py_DECREF(descr);
  if (rc != 0) throw py::error_already_set();
}

// Wraps fn so that each call is timed by a fresh context of `time`
// (Timer.time), keeping fn's name, docstring and signature. A call that
// returns an awaitable (a coroutine function's, an object's async __call__,
// a partial of either) is timed until that awaitable completes: the wrapper
// returns a coroutine awaiting it, and a coroutine function's wrapper is one
// too, so inspect.iscoroutinefunction still sees it. A staticmethod or
// classmethod is wrapped inside and stays one. A generator function's call
// returns before its body runs, so there is no call to time: TypeError.
constexpr const char* kDecorate = R"(
def _timed(time, fn):
    import functools
    import inspect

    if isinstance(fn, (staticmethod, classmethod)):
        return type(fn)(_timed(time, fn.__func__))
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(
            "Timer.time() cannot decorate a generator function (its calls "
            "return before its body runs): time the loop that consumes it")

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def timed_async(*args, **kwargs):
            with time():
                return await fn(*args, **kwargs)

        return timed_async

    async def until_done(context, awaitable):
        try:
            return await awaitable
        finally:
            context.__exit__(None, None, None)

    # The context entered and left by hand, so that a call returning an
    # awaitable (any object whose type has __await__) leaves it open until
    # the awaitable completes. A plain call costs 1.1-1.9 times what a
    # wrapper of one `with` block did (timeit, empty function).
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        context = time()
        context.__enter__()
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            context.__exit__(None, None, None)
            raise
        if hasattr(type(result), "__await__"):
            return until_done(context, result)
        context.__exit__(None, None, None)
        return result

    return timed
)";

}  // namespace

void register_timers(py::module_& m) {
  using py::arg;
  using statusz::Clock;

  py::dict scope;
  scope["__builtins__"] = py::module_::import("builtins");
  py::exec(kDecorate, scope);
  py::object timed = scope["_timed"];

  // ---- Histogram ----------------------------------------------------------
  py::class_<Histogram> hist_cls(
      m, "Histogram", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "The distribution of non-negative ints (sizes, depths, durations in a "
      "unit of your own), cumulative and over a sliding window of the last "
      "window_ticks 5-second ticks (60 s by default). Log-linear buckets "
      "(64 per power of two, HdrHistogram style): every quantile, the window's "
      "min and max, and stddev are within 1/128 (0.79 %) of the exact "
      "figures; 0 and values below 128 are exact; count, sum and the "
      "cumulative min and max are exact. update() is lock-free.");
  hist_cls
      .def(py::init([](Clock* clock, long long window_ticks) {
             const std::size_t n = positive_size(window_ticks, "window_ticks");
             return std::make_unique<Histogram>(
                 clock != nullptr ? *clock : statusz::default_clock(), n);
           }),
           arg("clock") = py::none(),
           arg("window_ticks") =
               static_cast<long long>(Histogram::kDefaultWindowTicks),
           py::keep_alive<1, 2>(),
           "A standalone histogram on `clock` (default_clock() if None) whose "
           "window is window_ticks 5-s ticks (ValueError unless > 0).")
      .def_property_readonly(
          "count",
          [](const Histogram& h) {
            ReleaseGil nogil;
            return h.snapshot().count;
          },
          "Values recorded so far.")
      .def(
          "quantile",
          [](const Histogram& h, double q, bool window) {
            if (!(q >= 0.0 && q <= 1.0)) {
              throw py::value_error("q must be in [0, 1]");
            }
            statusz::HistogramSnapshot s;
            {
              ReleaseGil nogil;
              s = h.snapshot();
            }
            return window ? s.window.quantile(q) : s.quantile(q);
          },
          arg("q"), py::kw_only(), arg("window") = true,
          "The ceil(q * count)-th smallest value (nearest rank) within 1/128, "
          "over the window (or since creation with window=False); 0.0 when "
          "empty. ValueError unless 0 <= q <= 1.")
      .def(
          "snapshot",
          [](const Histogram& h) {
            statusz::Value v;
            {
              ReleaseGil nogil;
              v = statusz::histogram_value(h.snapshot());
            }
            return to_python(v);
          },
          "As the document shows it: {\"count\": int, \"sum\": int (both since "
          "creation), then over the window: \"min\", \"mean\", \"max\", "
          "\"stddev\", \"p50\", \"p75\", \"p95\", \"p98\", \"p99\", \"p999\" "
          "(floats, in the values' unit, 0.0 when the window is empty)}.")
      .def_property_readonly(
          "clock", [](const Histogram& h) -> const Clock& { return h.clock(); },
          py::return_value_policy::reference_internal, "The histogram's clock.")
      .def("__repr__", [](const Histogram& h) {
        statusz::HistogramSnapshot s;
        {
          ReleaseGil nogil;
          s = h.snapshot();
        }
        return "Histogram(count=" + std::to_string(s.count) +
               ", sum=" + std::to_string(s.sum) + ")";
      });
  add_fast(hist_cls, &g_histogram_update);

  // ---- TimerContext -------------------------------------------------------
  g_timed = timed.release().ptr();  // kept for the module's lifetime
  g_context_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&g_context_spec));
  if (g_context_type == nullptr) throw py::error_already_set();
  m.attr("TimerContext") = py::reinterpret_steal<py::object>(
      reinterpret_cast<PyObject*>(g_context_type));
  Py_INCREF(g_context_type);  // the module's reference above, and ours

  // ---- Timer ----------------------------------------------------------------
  py::class_<Timer> timer_cls(
      m, "Timer", py::is_final(), py::custom_type_setup(gc_patients_setup),
      "How often and how long: a Meter of the events (count and the mean, 1-, "
      "5- and 15-minute rates, as Meter) and a Histogram of their durations "
      "in nanoseconds (quantiles within 1/128 over 1 ns to 292 years; the "
      "window is the last window_ticks 5-s ticks, 60 s by default). "
      "`with t.time(): ...`, `@t.time()`, t.update(seconds), t.update_ns(ns). "
      "Recording is lock-free.");
  timer_cls
      .def(py::init([](Clock* clock, long long window_ticks) {
             const std::size_t n = positive_size(window_ticks, "window_ticks");
             return std::make_unique<Timer>(
                 clock != nullptr ? *clock : statusz::default_clock(), n);
           }),
           arg("clock") = py::none(),
           arg("window_ticks") =
               static_cast<long long>(Histogram::kDefaultWindowTicks),
           py::keep_alive<1, 2>(),
           "A standalone timer on `clock` (default_clock() if None; its now() "
           "is what time() reads).")
      .def_property_readonly(
          "count", [](const Timer& t) { return t.meter().count(); },
          "Durations recorded so far.")
      .def(
          "quantile",
          [](const Timer& t, double q, bool window) {
            if (!(q >= 0.0 && q <= 1.0)) {
              throw py::value_error("q must be in [0, 1]");
            }
            statusz::HistogramSnapshot s;
            {
              ReleaseGil nogil;
              s = t.histogram().snapshot();
            }
            return (window ? s.window.quantile(q) : s.quantile(q)) / 1e9;
          },
          arg("q"), py::kw_only(), arg("window") = true,
          "The ceil(q * count)-th shortest duration in seconds (within 1/128), "
          "over the window (or since creation with window=False); 0.0 when "
          "empty. ValueError unless 0 <= q <= 1.")
      .def(
          "snapshot",
          [](const Timer& t) {
            statusz::Value v;
            {
              ReleaseGil nogil;
              v = statusz::timer_value(t.snapshot());
            }
            return to_python(v);
          },
          "As the document shows it: {\"fiveMinuteRate\", \"oneMinuteRate\", "
          "\"fifteenMinuteRate\" (events per second), \"count\" (int), "
          "\"meanRate\", \"durationMs\": {\"min\", \"mean\", \"max\", "
          "\"stddev\", \"p50\", \"p75\", \"p95\", \"p98\", \"p99\", \"p999\"}}: "
          "durations in milliseconds (floats) over the window, 0.0 when it is "
          "empty.")
      .def_property_readonly(
          "clock", [](const Timer& t) -> const Clock& { return t.clock(); },
          py::return_value_policy::reference_internal, "The timer's clock.")
      .def("__repr__", [](const Timer& t) {
        return "Timer(count=" + std::to_string(t.meter().count()) + ")";
      });
  add_fast(timer_cls, &g_timer_time);
  add_fast(timer_cls, &g_timer_update);
  add_fast(timer_cls, &g_timer_update_ns);

  // ---- Registry.timer / Registry.histogram ------------------------------
  auto reg_cls = py::reinterpret_borrow<py::class_<PyRegistry>>(m.attr("Registry"));
  reg_cls
      .def(
          "timer",
          [](PyRegistry& r, const std::string& path, long long window_ticks) -> Timer& {
            const std::size_t n = positive_size(window_ticks, "window_ticks");
            ReleaseGil nogil;
            return r.reg.timer(path, n);
          },
          arg("path"),
          arg("window_ticks") =
              static_cast<long long>(Histogram::kDefaultWindowTicks),
          py::return_value_policy::reference_internal,
          "The Timer at `path`, created on first use with a window of "
          "window_ticks 5-s ticks (an existing one is returned as it is). "
          "KindError if `path` is another kind.")
      .def(
          "histogram",
          [](PyRegistry& r, const std::string& path, long long window_ticks) -> Histogram& {
            const std::size_t n = positive_size(window_ticks, "window_ticks");
            ReleaseGil nogil;
            return r.reg.histogram(path, n);
          },
          arg("path"),
          arg("window_ticks") =
              static_cast<long long>(Histogram::kDefaultWindowTicks),
          py::return_value_policy::reference_internal,
          "The Histogram at `path`, created on first use with a window of "
          "window_ticks 5-s ticks (an existing one is returned as it is). "
          "KindError if `path` is another kind.");
}

}  // namespace statusz_py
