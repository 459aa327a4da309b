// Conversions between statusz::Value (the document tree) and Python objects.
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>

#include "common.hpp"

namespace statusz_py {

namespace {
constexpr int kMaxDepth = 64;

py::object str_to_python(const std::string& s) {
  // Everything the library stores is valid UTF-8 except what a gauge or a
  // name passed through (lone surrogates): decode the way the JSON renderer
  // writes it, so snapshot() and json.loads(to_json()) agree.
  if (statusz::detail::is_valid_utf8(s)) {
    PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()),
                                       nullptr);
    if (o == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(o);
  }
  const std::string fixed = statusz::detail::to_valid_utf8(s);
  PyObject* o = PyUnicode_DecodeUTF8(fixed.data(),
                                     static_cast<Py_ssize_t>(fixed.size()), nullptr);
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

std::string key_of(py::handle k) {
  std::string_view view;
  py::object keep;
  if (!utf8_view(k.ptr(), view, keep, "a mapping key")) throw py::error_already_set();
  return std::string(view);
}
}  // namespace

statusz::Value to_value(py::handle obj, int depth) {
  if (depth > kMaxDepth) {
    throw py::value_error("value nested more than 64 levels deep");
  }
  PyObject* o = obj.ptr();
  if (o == Py_None) return statusz::Value();
  if (PyBool_Check(o)) return statusz::Value(o == Py_True);
  if (PyLong_Check(o)) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (overflow == 0) return statusz::Value(static_cast<std::int64_t>(v));
    if (overflow > 0) {  // [2**63, 2**64): exact, as an unsigned integer
      const unsigned long long u = PyLong_AsUnsignedLongLong(o);
      if (!(u == static_cast<unsigned long long>(-1) && PyErr_Occurred())) {
        return statusz::Value(static_cast<std::uint64_t>(u));
      }
      if (!PyErr_ExceptionMatches(PyExc_OverflowError)) {
        throw py::error_already_set();
      }
      PyErr_Clear();
    }
    // Beyond 64 bits: keep the magnitude as a double.
    const double d = PyLong_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return statusz::Value(d);
  }
  if (PyFloat_Check(o)) return statusz::Value(PyFloat_AS_DOUBLE(o));
  if (PyUnicode_Check(o)) {
    std::string_view view;
    py::object keep;
    if (!utf8_view(o, view, keep, "value")) throw py::error_already_set();
    return statusz::Value(std::string(view));
  }
  statusz::Status status;
  if (status_from_python(obj, status)) {
    return statusz::Value(std::string(statusz::to_string(status)));
  }
  if (PyDict_Check(o)) {
    statusz::Object members;
    members.reserve(static_cast<std::size_t>(PyDict_Size(o)));
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o, &pos, &key, &value)) {
      members.emplace_back(key_of(key), to_value(value, depth + 1));
    }
    return statusz::Value(std::move(members));
  }
  if (PyList_Check(o) || PyTuple_Check(o)) {
    py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
    statusz::Array items;
    items.reserve(seq.size());
    for (py::handle item : seq) items.push_back(to_value(item, depth + 1));
    return statusz::Value(std::move(items));
  }
  // Other mappings (anything with items()) and numbers (__index__ first, so
  // integer-like objects stay integers, then __float__).
  if (PyMapping_Check(o) && py::hasattr(obj, "items")) {
    statusz::Object members;
    for (py::handle kv : obj.attr("items")()) {
      py::tuple pair = py::reinterpret_borrow<py::tuple>(kv);
      if (!PyTuple_Check(pair.ptr()) || pair.size() != 2) {
        throw py::type_error("items() must yield (key, value) pairs");
      }
      members.emplace_back(key_of(pair[0]), to_value(pair[1], depth + 1));
    }
    return statusz::Value(std::move(members));
  }
  if (PyIndex_Check(o)) {
    py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!i) throw py::error_already_set();
    return to_value(i, depth + 1);
  }
  if (Py_TYPE(o)->tp_as_number != nullptr &&
      Py_TYPE(o)->tp_as_number->nb_float != nullptr) {
    const double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return statusz::Value(d);
  }
  throw py::type_error(
      std::string("cannot put a ") + Py_TYPE(o)->tp_name +
      " in the status document (expected None, bool, int, float, str, "
      "Status, list, tuple or dict)");
}

py::object to_python(const statusz::Value& v) {
  using T = statusz::Value::Type;
  switch (v.type()) {
    case T::Null:
      return py::none();
    case T::Bool:
      return py::bool_(v.as_bool());
    case T::Int: {
      PyObject* o = PyLong_FromLongLong(v.as_int());
      if (o == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(o);
    }
    case T::UInt: {
      PyObject* o = PyLong_FromUnsignedLongLong(v.as_uint());
      if (o == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(o);
    }
    case T::Double: {
      // The JSON renderer writes non-finite numbers as null: so does this.
      const double d = v.as_double();
      if (!std::isfinite(d)) return py::none();
      PyObject* o = PyFloat_FromDouble(d);
      if (o == nullptr) throw py::error_already_set();
      return py::reinterpret_steal<py::object>(o);
    }
    case T::String:
      return str_to_python(v.as_string());
    case T::Array: {
      const statusz::Array& a = v.as_array();
      py::list out(a.size());
      for (std::size_t i = 0; i < a.size(); ++i) {
        out[i] = to_python(a[i]);
      }
      return py::object(std::move(out));
    }
    case T::Object: {
      py::dict out;
      for (const statusz::Member& m : v.as_object()) {
        py::object key = str_to_python(m.first);
        py::object value = to_python(m.second);
        if (PyDict_SetItem(out.ptr(), key.ptr(), value.ptr()) != 0) {
          throw py::error_already_set();
        }
      }
      return py::object(std::move(out));
    }
  }
  return py::none();
}

}  // namespace statusz_py
