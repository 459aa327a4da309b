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

// A second, larger step, to measure how far rendering is from its floor: the
// same output written through a raw pointer into a buffer grown by doubling
// (no std::string call per character or token: libstdc++ does not inline
// push_back/append, and a profile of the header's renderer shows ~30% of its
// time in those calls), strings copied whole when every byte is plain ASCII
// (checked with a 256-entry table), numbers by std::to_chars.
class FastWriter {
 public:
  explicit FastWriter(std::size_t reserve) {
    buf_.resize(reserve < 64 ? 64 : reserve);
    p_ = buf_.data();
    end_ = p_ + buf_.size();
  }

  void value(const statusz::Value& v, bool pretty, int depth) {
    using statusz::Value;
    switch (v.type()) {
      case Value::Type::Null:
        raw("null");
        return;
      case Value::Type::Bool:
        raw(v.as_bool() ? "true" : "false");
        return;
      case Value::Type::Int: {
        ensure(24);
        p_ = std::to_chars(p_, end_, v.as_int()).ptr;
        return;
      }
      case Value::Type::UInt: {
        ensure(24);
        p_ = std::to_chars(p_, end_, v.as_uint()).ptr;
        return;
      }
      case Value::Type::Double:
        fallback(v);  // the header's exact double format (to_chars + ".0")
        return;
      case Value::Type::String:
        string(v.as_string());
        return;
      case Value::Type::Array: {
        const statusz::Array& a = v.as_array();
        put('[');
        for (std::size_t i = 0; i < a.size(); ++i) {
          if (i != 0) put(',');
          if (pretty) indent(depth + 1);
          value(a[i], pretty, depth + 1);
        }
        if (pretty && !a.empty()) indent(depth);
        put(']');
        return;
      }
      case Value::Type::Object: {
        const statusz::Object& o = v.as_object();
        put('{');
        for (std::size_t i = 0; i < o.size(); ++i) {
          if (i != 0) put(',');
          if (pretty) indent(depth + 1);
          string(o[i].first);
          if (pretty) {
            raw(": ");
          } else {
            put(':');
          }
          value(o[i].second, pretty, depth + 1);
        }
        if (pretty && !o.empty()) indent(depth);
        put('}');
        return;
      }
    }
  }

  std::string finish() {
    buf_.resize(static_cast<std::size_t>(p_ - buf_.data()));
    return std::move(buf_);
  }

 private:
  static constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x80; ++c) t[c] = c != '"' && c != '\\';
    return t;
  }();

  void ensure(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) >= n) return;
    const std::size_t used = static_cast<std::size_t>(p_ - buf_.data());
    buf_.resize(std::max(buf_.size() * 2, used + n + 64));
    p_ = buf_.data() + used;
    end_ = buf_.data() + buf_.size();
  }
  void put(char c) {
    ensure(1);
    *p_++ = c;
  }
  void raw(std::string_view s) {
    ensure(s.size());
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void indent(int depth) {
    const std::size_t n = static_cast<std::size_t>(depth) * 2;
    ensure(n + 1);
    *p_++ = '\n';
    std::memset(p_, ' ', n);
    p_ += n;
  }
  void string(std::string_view s) {
    for (char c : s) {
      if (!kPlain[static_cast<unsigned char>(c)]) {
        std::string escaped;
        statusz::detail::append_json_string(escaped, s);
        raw(escaped);
        return;
      }
    }
    ensure(s.size() + 2);
    *p_++ = '"';
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
    *p_++ = '"';
  }
  void fallback(const statusz::Value& v) {
    std::string tmp;
    statusz::detail::append_json(tmp, v, false, 0);
    raw(tmp);
  }

  std::string buf_;
  char* p_;
  char* end_;
};

inline std::string to_json_fast(const statusz::Value& v, bool pretty,
                                std::size_t reserve) {
  FastWriter w(reserve);
  w.value(v, pretty, 0);
  return w.finish();
}

}  // namespace statusz_bench::proto
