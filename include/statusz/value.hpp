// statusz::Value: the document as a tree of JSON-like values (null, bool,
// 64-bit integer, double, string, array, object with ordered members), built
// by Registry::snapshot() and rendered by to_json(). Integers and doubles are
// distinct types, so counts stay integers; an unsigned integer above INT64_MAX
// (a count at or past 2^63) is its own type, UInt, kept exact; smaller
// unsigned values are Int. An ordinary value type: copies are
// deep; concurrent const access is safe, mutation is not.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace statusz {

class Value;
// Declared before the Array and Object aliases, which its enumerators would
// otherwise shadow (-Wshadow); used as Value::Type.
enum class ValueType { Null, Bool, Int, Double, String, Array, Object, UInt };
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;
using Array = std::vector<Value>;

class Value {
 public:
  using Type = ValueType;

  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  Value(bool b) noexcept : data_(b) {}
  template <class I, std::enable_if_t<
                         std::is_integral_v<I> && std::is_signed_v<I>, int> = 0>
  Value(I i) noexcept : data_(static_cast<std::int64_t>(i)) {}
  template <class I,
            std::enable_if_t<std::is_integral_v<I> && std::is_unsigned_v<I> &&
                                 !std::is_same_v<I, bool>,
                             int> = 0>
  Value(I i) noexcept {
    if (static_cast<std::uint64_t>(i) <=
        static_cast<std::uint64_t>(INT64_MAX)) {
      data_ = static_cast<std::int64_t>(i);
    } else {
      data_ = static_cast<std::uint64_t>(i);
    }
  }
  Value(double d) noexcept : data_(d) {}
  Value(std::string s) noexcept : data_(std::move(s)) {}
  Value(std::string_view s) : data_(std::string(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(Array a) noexcept : data_(std::move(a)) {}
  Value(Object o) noexcept : data_(std::move(o)) {}

  Type type() const noexcept { return static_cast<Type>(data_.index()); }
  bool is_null() const noexcept { return type() == Type::Null; }
  bool is_bool() const noexcept { return type() == Type::Bool; }
  bool is_int() const noexcept { return type() == Type::Int; }
  bool is_double() const noexcept { return type() == Type::Double; }
  // An unsigned integer above INT64_MAX.
  bool is_uint() const noexcept { return type() == Type::UInt; }
  bool is_number() const noexcept {
    return is_int() || is_double() || is_uint();
  }
  bool is_string() const noexcept { return type() == Type::String; }
  bool is_array() const noexcept { return type() == Type::Array; }
  bool is_object() const noexcept { return type() == Type::Object; }

  bool as_bool() const { return get<bool>("a bool"); }
  std::int64_t as_int() const { return get<std::int64_t>("an integer"); }
  std::uint64_t as_uint() const {
    return get<std::uint64_t>("an unsigned integer above INT64_MAX");
  }
  // The number as a double, whether stored as an integer or a double.
  double as_double() const {
    if (is_int()) return static_cast<double>(std::get<std::int64_t>(data_));
    if (is_uint()) return static_cast<double>(std::get<std::uint64_t>(data_));
    return get<double>("a number");
  }
  const std::string& as_string() const { return get<std::string>("a string"); }
  const Array& as_array() const { return get<Array>("an array"); }
  Array& as_array() { return get<Array>("an array"); }
  const Object& as_object() const { return get<Object>("an object"); }
  Object& as_object() { return get<Object>("an object"); }

  // The member named `key` of an object, or nullptr (also for non-objects).
  const Value* find(std::string_view key) const noexcept {
    const Object* o = std::get_if<Object>(&data_);
    if (o == nullptr) return nullptr;
    for (const auto& m : *o) {
      if (m.first == key) return &m.second;
    }
    return nullptr;
  }
  Value* find(std::string_view key) noexcept {
    return const_cast<Value*>(std::as_const(*this).find(key));
  }
  // The member named `key`; throws std::out_of_range if there is none.
  const Value& at(std::string_view key) const {
    if (const Value* v = find(key)) return *v;
    throw std::out_of_range("statusz: no member '" + std::string(key) + "'");
  }
  // Appends a member (an object is created from null). No duplicate check.
  Value& add(std::string key, Value v) {
    if (is_null()) data_ = Object{};
    Object& o = as_object();
    o.emplace_back(std::move(key), std::move(v));
    return o.back().second;
  }

  friend bool operator==(const Value& a, const Value& b) {
    return a.data_ == b.data_;
  }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  template <class T>
  const T& get(const char* what) const {
    if (const T* p = std::get_if<T>(&data_)) return *p;
    throw std::logic_error(std::string("statusz: value is not ") + what);
  }
  template <class T>
  T& get(const char* what) {
    if (T* p = std::get_if<T>(&data_)) return *p;
    throw std::logic_error(std::string("statusz: value is not ") + what);
  }

  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array,
               Object, std::uint64_t>
      data_;
};

}  // namespace statusz
