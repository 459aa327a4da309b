// PROTOTYPE of a proposed change to include/statusz/json.hpp, measured by
// proto/doc_render_pretty. Not part of the library.
//
// statusz::detail::append_json_int() formats integers with
// snprintf("%lld"): a varargs call that parses the format string and goes
// through the locale machinery, for every count in the document. The
// proposed change is std::to_chars (which json.hpp already uses for doubles),
// plus reserving the output once. Everything else below calls the header's
// own functions, so the difference measured is that change alone.
#pragma once

#include <charconv>
#include <cstdint>
#include <statusz/json.hpp>
#include <string>

namespace statusz_bench::proto {

inline void append_int_to_chars(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

inline void append_json(std::string& out, const statusz::Value& v, bool pretty,
                        int depth) {
  using statusz::Value;
  switch (v.type()) {
    case Value::Type::Int:
      append_int_to_chars(out, v.as_int());
      return;
    case Value::Type::Array: {
      const statusz::Array& a = v.as_array();
      out.push_back('[');
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i != 0) out.push_back(',');
        if (pretty) statusz::detail::append_newline_indent(out, depth + 1);
        append_json(out, a[i], pretty, depth + 1);
      }
      if (pretty && !a.empty())
        statusz::detail::append_newline_indent(out, depth);
      out.push_back(']');
      return;
    }
    case Value::Type::Object: {
      const statusz::Object& o = v.as_object();
      out.push_back('{');
      for (std::size_t i = 0; i < o.size(); ++i) {
        if (i != 0) out.push_back(',');
        if (pretty) statusz::detail::append_newline_indent(out, depth + 1);
        statusz::detail::append_json_string(out, o[i].first);
        out += pretty ? ": " : ":";
        append_json(out, o[i].second, pretty, depth + 1);
      }
      if (pretty && !o.empty())
        statusz::detail::append_newline_indent(out, depth);
      out.push_back('}');
      return;
    }
    default:  // null, bool, double, string: exactly as the header does
      statusz::detail::append_json(out, v, pretty, depth);
      return;
  }
}

inline std::string to_json(const statusz::Value& v, bool pretty,
                           std::size_t reserve) {
  std::string out;
  out.reserve(reserve);
  append_json(out, v, pretty, 0);
  return out;
}

}  // namespace statusz_bench::proto
