// detail ASCII character classes, locale-free (the <cctype> functions depend
// on the C locale and take int): what names, paths and HTTP tokens use, and
// Prometheus' name grammars built on them. Pure constexpr functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace statusz::detail {

constexpr bool ascii_is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
constexpr bool ascii_is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool ascii_is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr char ascii_lower(char c) noexcept {
  return ascii_is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// Prometheus' data model (prometheus.io/docs/concepts/data_model): a metric
// name is [a-zA-Z_:][a-zA-Z0-9_:]* (`metric`), a label name
// [a-zA-Z_][a-zA-Z0-9_]*.
constexpr bool is_prometheus_name(std::string_view s, bool metric) noexcept {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = ascii_is_lower(c) || ascii_is_upper(c) || c == '_' ||
                    (metric && c == ':') || (i > 0 && ascii_is_digit(c));
    if (!ok) return false;
  }
  return true;
}

}  // namespace statusz::detail
