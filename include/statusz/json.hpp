// JSON rendering of a statusz::Value: compact, or pretty with two-space
// indentation (the layout of the seed document). Always valid JSON: strings
// and keys are escaped, invalid UTF-8 becomes U+FFFD, integers are written as
// integers (signed and unsigned 64-bit, exactly), doubles in their shortest
// round-trip form (always with a '.' or an exponent, so they read back as
// floating point), and NaN/Infinity as null. Depth is bounded: a value nested
// deeper than kMaxJsonDepth arrays/objects renders as null at that depth (the
// stack use of rendering is bounded). Cost: one pass, appending to a string;
// no allocation beyond its growth. Pure functions: thread-safe on distinct
// outputs.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "detail/utf8.hpp"
#include "value.hpp"

namespace statusz {

// Arrays and objects nested deeper than this render as null.
inline constexpr int kMaxJsonDepth = 256;

namespace detail {

inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      // Copy the run of plain ASCII in one go.
      std::size_t j = i + 1;
      while (j < s.size()) {
        const auto d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(esc, sizeof esc);
        } else {
          i += append_utf8_sequence(out, s, i);
          continue;
        }
    }
    ++i;
  }
  out.push_back('"');
}

// The most bytes write_json_double() writes (its digits, and the ".0").
inline constexpr std::size_t kJsonDoubleRoom = 34;

// Writes finite d at p in its shortest round-trip form, with ".0" added when
// it would read back as an integer; p must have room for kJsonDoubleRoom
// bytes. Returns the end.
inline char* write_json_double(char* p, double d) noexcept {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  char* const end = std::to_chars(p, p + kJsonDoubleRoom - 2, d).ptr;
#else
  // Shortest of %.15g..%.17g that reads back exactly.
  char* end = p;
  for (int precision = 15; precision <= 17; ++precision) {
    end = p + std::snprintf(p, kJsonDoubleRoom - 1, "%.*g", precision, d);
    if (std::strtod(p, nullptr) == d) break;
  }
#endif
  const auto len = static_cast<std::size_t>(end - p);
  if (std::string_view(p, len).find_first_of(".e") != std::string_view::npos) {
    return end;
  }
  end[0] = '.';
  end[1] = '0';
  return end + 2;
}

inline void append_json_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[kJsonDoubleRoom];
  out.append(buf, static_cast<std::size_t>(write_json_double(buf, d) - buf));
}

inline void append_json_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

inline void append_json_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

inline void append_newline_indent(std::string& out, int depth) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(depth) * 2, ' ');
}

inline void append_json(std::string& out, const Value& v, bool pretty,
                        int depth) {
  if (depth > kMaxJsonDepth) {
    out += "null";
    return;
  }
  switch (v.type()) {
    case Value::Type::Null:
      out += "null";
      return;
    case Value::Type::Bool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Type::Int:
      append_json_int(out, v.as_int());
      return;
    case Value::Type::UInt:
      append_json_uint(out, v.as_uint());
      return;
    case Value::Type::Double:
      append_json_double(out, v.as_double());
      return;
    case Value::Type::String:
      append_json_string(out, v.as_string());
      return;
    case Value::Type::Array: {
      const Array& a = v.as_array();
      out.push_back('[');
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (i != 0) out.push_back(',');
        if (pretty) append_newline_indent(out, depth + 1);
        append_json(out, a[i], pretty, depth + 1);
      }
      if (pretty && !a.empty()) append_newline_indent(out, depth);
      out.push_back(']');
      return;
    }
    case Value::Type::Object: {
      const Object& o = v.as_object();
      out.push_back('{');
      for (std::size_t i = 0; i < o.size(); ++i) {
        if (i != 0) out.push_back(',');
        if (pretty) append_newline_indent(out, depth + 1);
        append_json_string(out, o[i].first);
        out += pretty ? ": " : ":";
        append_json(out, o[i].second, pretty, depth + 1);
      }
      if (pretty && !o.empty()) append_newline_indent(out, depth);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace detail

// Appends v as JSON to out.
inline void write_json(std::string& out, const Value& v, bool pretty = false) {
  detail::append_json(out, v, pretty, 0);
}

inline std::string to_json(const Value& v, bool pretty = false) {
  std::string out;
  write_json(out, v, pretty);
  return out;
}

}  // namespace statusz
