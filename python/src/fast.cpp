// The hot calls, written against the CPython API directly (METH_FASTCALL
// method descriptors installed on the pybind11 classes): Meter.mark,
// Counter.inc/dec/set and KeyedCounter.inc. pybind11's generic dispatcher
// (argument loaders, overload resolution, keyword matching) costs several
// times the C++ call itself; these cost one descriptor call plus the C++.
// They keep the GIL: the C++ calls are a few instructions (KeyedCounter.inc
// of a new key takes a short mutex no Python-running thread ever holds).
#include <cstdint>
#include <new>

#include "common.hpp"

namespace statusz_py {
namespace {

// The C++ object behind a pybind11 instance of a final class (no Python
// subclass, so the simple layout: [value pointer][holder]).
template <class T>
T* self_as(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  void* p = inst->simple_layout ? inst->simple_value_holder[0]
                                : inst->nonsimple.values_and_holders[0];
  if (p == nullptr) {
    PyErr_Format(PyExc_TypeError, "%.200s object is not initialized",
                 Py_TYPE(self)->tp_name);
  }
  return static_cast<T*>(p);
}

// Matches a vectorcall's positional and keyword arguments to `names`
// (out[i] stays nullptr for an omitted optional one).
bool parse_args(const char* fname, const char* const* names, int nparams,
                int nrequired, PyObject* const* args, Py_ssize_t nargs,
                PyObject* kwnames, PyObject** out) {
  if (nargs > nparams) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %d argument%s (%zd given)",
                 fname, nparams, nparams == 1 ? "" : "s", nargs);
    return false;
  }
  for (int i = 0; i < nparams; ++i) out[i] = i < nargs ? args[i] : nullptr;
  if (kwnames != nullptr) {
    const Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; ++k) {
      PyObject* name = PyTuple_GET_ITEM(kwnames, k);
      int index = -1;
      for (int i = 0; i < nparams; ++i) {
        if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0) {
          index = i;
          break;
        }
      }
      if (index < 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s() got an unexpected keyword argument '%U'", fname, name);
        return false;
      }
      if (out[index] != nullptr) {
        PyErr_Format(PyExc_TypeError,
                     "%s() got multiple values for argument '%s'", fname,
                     names[index]);
        return false;
      }
      out[index] = args[nargs + k];
    }
  }
  for (int i = 0; i < nrequired; ++i) {
    if (out[i] == nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'",
                   fname, names[i]);
      return false;
    }
  }
  return true;
}

// An int argument as a long long; `overflow` as PyLong_AsLongLongAndOverflow.
bool as_long_long(PyObject* o, const char* what, long long& v, int& overflow) {
  if (!PyLong_Check(o)) {
    if (!PyIndex_Check(o)) {
      PyErr_Format(PyExc_TypeError, "%s must be an int, not %.200s", what,
                   Py_TYPE(o)->tp_name);
      return false;
    }
    PyObject* i = PyNumber_Index(o);
    if (i == nullptr) return false;
    v = PyLong_AsLongLongAndOverflow(i, &overflow);
    Py_DECREF(i);
  } else {
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
  }
  return !(v == -1 && overflow == 0 && PyErr_Occurred());
}

// A count of events: an int in [0, 2**64).
bool as_count(PyObject* o, const char* what, std::uint64_t& n) {
  long long v = 0;
  int overflow = 0;
  if (!as_long_long(o, what, v, overflow)) return false;
  if (overflow == 0 && v >= 0) {
    n = static_cast<std::uint64_t>(v);
    return true;
  }
  if (overflow < 0 || (overflow == 0 && v < 0)) {
    PyErr_Format(PyExc_ValueError, "%s must be >= 0, got %S", what, o);
    return false;
  }
  PyObject* i = PyNumber_Index(o);
  if (i == nullptr) return false;
  const unsigned long long u = PyLong_AsUnsignedLongLong(i);
  Py_DECREF(i);
  if (u == static_cast<unsigned long long>(-1) && PyErr_Occurred()) {
    PyErr_Format(PyExc_OverflowError, "%s must be < 2**64", what);
    return false;
  }
  n = u;
  return true;
}

// A signed 64-bit amount.
bool as_int64(PyObject* o, const char* what, std::int64_t& n) {
  long long v = 0;
  int overflow = 0;
  if (!as_long_long(o, what, v, overflow)) return false;
  if (overflow != 0) {
    PyErr_Format(PyExc_OverflowError,
                 "%s does not fit in a signed 64-bit integer", what);
    return false;
  }
  n = v;
  return true;
}

const char* const kN[] = {"n"};
const char* const kValue[] = {"value"};
const char* const kKeyN[] = {"key", "n"};

PyObject* meter_mark(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                     PyObject* kwnames) {
  statusz::Meter* m = self_as<statusz::Meter>(self);
  if (m == nullptr) return nullptr;
  std::uint64_t n = 1;
  if (nargs != 0 || kwnames != nullptr) {
    PyObject* a[1];
    if (!parse_args("mark", kN, 1, 0, args, nargs, kwnames, a)) return nullptr;
    if (a[0] != nullptr && !as_count(a[0], "n", n)) return nullptr;
  }
  m->mark(n);
  Py_RETURN_NONE;
}

template <bool Up>
PyObject* counter_step(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                       PyObject* kwnames) {
  statusz::Counter* c = self_as<statusz::Counter>(self);
  if (c == nullptr) return nullptr;
  std::int64_t n = 1;
  if (nargs != 0 || kwnames != nullptr) {
    PyObject* a[1];
    if (!parse_args(Up ? "inc" : "dec", kN, 1, 0, args, nargs, kwnames, a)) {
      return nullptr;
    }
    if (a[0] != nullptr && !as_int64(a[0], "n", n)) return nullptr;
  }
  if (Up) {
    c->inc(n);
  } else {
    c->dec(n);
  }
  Py_RETURN_NONE;
}

PyObject* counter_set(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                      PyObject* kwnames) {
  statusz::Counter* c = self_as<statusz::Counter>(self);
  if (c == nullptr) return nullptr;
  PyObject* a[1];
  if (!parse_args("set", kValue, 1, 1, args, nargs, kwnames, a)) return nullptr;
  std::int64_t v = 0;
  if (!as_int64(a[0], "value", v)) return nullptr;
  c->set(v);
  Py_RETURN_NONE;
}

PyObject* keyed_inc(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames) {
  statusz::KeyedCounter* k = self_as<statusz::KeyedCounter>(self);
  if (k == nullptr) return nullptr;
  PyObject* a[2];
  if (nargs == 1 && kwnames == nullptr) {
    a[0] = args[0];
    a[1] = nullptr;
  } else if (!parse_args("inc", kKeyN, 2, 1, args, nargs, kwnames, a)) {
    return nullptr;
  }
  std::uint64_t n = 1;
  if (a[1] != nullptr && !as_count(a[1], "n", n)) return nullptr;
  std::string_view key;
  py::object keep;
  if (!utf8_view(a[0], key, keep, "key")) return nullptr;
  try {
    k->inc(key, n);
  } catch (const std::bad_alloc&) {
    return PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyMethodDef g_meter_mark = {
    "mark", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(meter_mark)),
    METH_FASTCALL | METH_KEYWORDS,
    "mark($self, n=1)\n--\n\n"
    "Records n events (default 1). n must be an int >= 0.\n\n"
    "Lock-free: adds to a cell owned by the calling thread; no clock read."};

PyMethodDef g_counter_inc = {
    "inc",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(counter_step<true>)),
    METH_FASTCALL | METH_KEYWORDS,
    "inc($self, n=1)\n--\n\n"
    "Adds n (default 1; any signed 64-bit int) to the value, atomically."};

PyMethodDef g_counter_dec = {
    "dec",
    reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(counter_step<false>)),
    METH_FASTCALL | METH_KEYWORDS,
    "dec($self, n=1)\n--\n\n"
    "Subtracts n (default 1; any signed 64-bit int) from the value, atomically."};

PyMethodDef g_counter_set = {
    "set", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(counter_set)),
    METH_FASTCALL | METH_KEYWORDS,
    "set($self, value)\n--\n\n"
    "Sets the value (a signed 64-bit int), atomically: exact even while other\n"
    "threads call inc() and dec()."};

PyMethodDef g_keyed_inc = {
    "inc", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(keyed_inc)),
    METH_FASTCALL | METH_KEYWORDS,
    "inc($self, key, n=1)\n--\n\n"
    "Adds n (default 1, an int >= 0) to the count of key (a str).\n\n"
    "A new key past max_keys, or longer than max_key_bytes in UTF-8, is counted\n"
    "under OVERFLOW_KEY instead and adds one to dropped. Existing keys are\n"
    "lock-free; a new key takes a short lock."};

void add_method(py::handle cls, PyMethodDef* def) {
  PyObject* descr =
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(cls.ptr()), def);
  if (descr == nullptr) throw py::error_already_set();
  const int rc = PyObject_SetAttrString(cls.ptr(), def->ml_name, descr);
  Py_DECREF(descr);
  if (rc != 0) throw py::error_already_set();
}

}  // namespace

void install_fast_methods(py::handle meter_cls, py::handle counter_cls,
                          py::handle keyed_cls) {
  add_method(meter_cls, &g_meter_mark);
  add_method(counter_cls, &g_counter_inc);
  add_method(counter_cls, &g_counter_dec);
  add_method(counter_cls, &g_counter_set);
  add_method(keyed_cls, &g_keyed_inc);
}

}  // namespace statusz_py
