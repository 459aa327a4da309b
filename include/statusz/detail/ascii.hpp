// detail ASCII character classes, locale-free (the <cctype> functions depend
// on the C locale and take int): what names, paths and HTTP tokens use.
// Pure constexpr functions, thread-safe.
#pragma once

namespace statusz::detail {

constexpr bool ascii_is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
constexpr bool ascii_is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool ascii_is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr char ascii_lower(char c) noexcept {
  return ascii_is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace statusz::detail
