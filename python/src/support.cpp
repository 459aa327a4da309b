// statusz._core helpers the register_*.cpp files share: reprs, argument
// checks, and the garbage collector hooks of wrappers with keep_alive
// patients.
#include <string>

#include "bindings.hpp"

namespace statusz_py {

std::string repr_str(const std::string& s) {
  return py::repr(py::str(s)).cast<std::string>();
}

std::string repr_double(double d) {
  return py::repr(py::float_(d)).cast<std::string>();
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

namespace {
// Only a wrapper that does not own its C++ object lets go of its patients
// early: an owner's patient (its clock) must outlive the C++ object.
int clear_patients(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->owned && inst->has_patients) py::detail::clear_patients(self);
  return 0;
}
}  // namespace

void gc_patients_setup(PyHeapTypeObject* heap_type) {
  PyTypeObject* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse_patients;
  type->tp_clear = clear_patients;
}

}  // namespace statusz_py
