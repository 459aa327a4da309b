// Lifecycle support of the bound classes, installed once at import:
//  - garbage collector support for standalone Probe and Gauge objects: their
//    Python function is shown to the collector and dropped by tp_clear, so a
//    probe or gauge built on a bound method of the object that owns it is
//    collected (and its worker thread ends);
//  - every method and property of the bound classes raises TypeError on an
//    object made with __new__ whose __init__ never ran (instead of using a
//    null C++ object). The hot methods (Meter.mark, Counter.inc/dec/set,
//    KeyedCounter.inc) check this themselves (fast.cpp).
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"

namespace statusz_py {
namespace {

bool owns_value(PyObject* self) {
  return reinterpret_cast<py::detail::instance*>(self)->owned;
}

// The slot of a standalone Probe's or Gauge's Python function. Only an
// owning wrapper has one to show: a registry's probes and gauges are shown
// (once) by their registry.
template <class T, class Call>
std::shared_ptr<FnSlot> slot_of(PyObject* self) {
  if (!owns_value(self)) return nullptr;
  auto* obj = static_cast<T*>(value_of(self));
  if (obj == nullptr) return nullptr;
  const auto fn = obj->function();
  if (!fn) return nullptr;
  const Call* call = fn->template target<Call>();
  return call != nullptr ? call->slot : nullptr;
}

template <class T, class Call>
int traverse_with_function(PyObject* self, visitproc visit, void* arg) {
  if (const int rc = traverse_patients(self, visit, arg)) return rc;
  if (const auto slot = slot_of<T, Call>(self)) Py_VISIT(slot->peek());
  return 0;
}

template <class T, class Call>
int clear_function(PyObject* self) {
  if (const auto slot = slot_of<T, Call>(self)) {
    PyRef dropped = slot->take();  // released here, with the GIL
  }
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->owned && inst->has_patients) py::detail::clear_patients(self);
  return 0;
}

template <class T, class Call>
void install_gc(py::handle cls) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse_with_function<T, Call>;
  type->tp_clear = clear_function<T, Call>;
}

// A method or property function of class `cls`, checked: self must be an
// initialised instance. data is (original, cls).
PyObject* checked_call(PyObject* data, PyObject* const* args, Py_ssize_t nargs,
                       PyObject* kwnames) {
  PyObject* original = PyTuple_GET_ITEM(data, 0);
  auto* cls = reinterpret_cast<PyTypeObject*>(PyTuple_GET_ITEM(data, 1));
  if (nargs >= 1 && PyObject_TypeCheck(args[0], cls) &&
      value_of(args[0]) == nullptr) {
    PyErr_Format(PyExc_TypeError,
                 "%.200s object is not initialized (its __init__ was not "
                 "called)",
                 Py_TYPE(args[0])->tp_name);
    return nullptr;
  }
  return PyObject_Vectorcall(original, args, static_cast<std::size_t>(nargs),
                             kwnames);
}

// The checked function, named and documented as the original (its method
// definition and strings are leaked: they live as long as the class).
py::object checked(py::handle original, py::handle cls) {
  auto text_of = [&](const char* attr) -> std::string {
    py::object v = py::getattr(original, attr, py::none());
    return v.is_none() ? std::string() : py::str(v).cast<std::string>();
  };
  auto* name = new std::string(text_of("__name__"));
  auto* doc = new std::string(text_of("__doc__"));
  auto* def = new PyMethodDef{
      name->c_str(),
      reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(checked_call)),
      METH_FASTCALL | METH_KEYWORDS, doc->empty() ? nullptr : doc->c_str()};
  py::tuple data = py::make_tuple(original, cls);
  PyObject* f = PyCFunction_New(def, data.ptr());
  if (f == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(f);
}

void guard_uninitialised(py::handle cls) {
  static const char* const kSkip[] = {
      "__init__",   "__new__",     "__dict__",    "__doc__",
      "__module__", "__weakref__", "__qualname__"};
  py::dict members = py::reinterpret_borrow<py::dict>(
      reinterpret_cast<PyTypeObject*>(cls.ptr())->tp_dict);
  py::object property = py::module_::import("builtins").attr("property");
  std::vector<std::pair<py::object, py::object>> replace;
  for (auto item : members) {
    const std::string name = py::str(item.first);
    bool skip = false;
    for (const char* s : kSkip) skip = skip || name == s;
    if (skip) continue;
    py::handle v = item.second;
    if (PyInstanceMethod_Check(v.ptr())) {
      py::handle fn = PyInstanceMethod_GET_FUNCTION(v.ptr());
      PyObject* m = PyInstanceMethod_New(checked(fn, cls).ptr());
      if (m == nullptr) throw py::error_already_set();
      replace.emplace_back(py::reinterpret_borrow<py::object>(item.first),
                           py::reinterpret_steal<py::object>(m));
    } else if (py::isinstance(v, property)) {
      py::object fget = v.attr("fget"), fset = v.attr("fset");
      py::object new_get = fget.is_none() ? fget : checked(fget, cls);
      py::object new_set = fset.is_none() ? fset : checked(fset, cls);
      replace.emplace_back(
          py::reinterpret_borrow<py::object>(item.first),
          property(new_get, new_set, py::none(), v.attr("__doc__")));
    }
  }
  for (auto& [name, value] : replace) {
    if (PyObject_SetAttr(cls.ptr(), name.ptr(), value.ptr()) != 0) {
      throw py::error_already_set();
    }
  }
}

}  // namespace

void install_lifecycle(py::module_& m) {
  install_gc<statusz::Probe, ProbeCall>(m.attr("Probe"));
  install_gc<statusz::Gauge, GaugeCall>(m.attr("Gauge"));
  for (const char* name :
       {"Clock", "SteadyClock", "ManualClock", "ProbeReport", "Meter",
        "Counter", "KeyedCounter", "Gauge", "Probe", "Registry", "HttpHandler"}) {
    guard_uninitialised(m.attr(name));
  }
}

}  // namespace statusz_py
