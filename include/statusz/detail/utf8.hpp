// detail UTF-8 helpers: validation and repair of byte strings that reach the
// document (keys are user input). Invalid sequences become U+FFFD, one per
// offending byte. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace statusz::detail {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes
// there are not one (overlong forms, surrogates and code points above
// U+10FFFF are invalid).
inline std::size_t utf8_sequence_length(std::string_view s,
                                        std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) {
    return static_cast<unsigned char>(s[k]);
  };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

inline bool is_valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Appends the UTF-8 sequence starting at s[i] to `out`, or U+FFFD if the
// byte there does not start a valid one; returns the bytes consumed (>= 1).
// The one repair every writer of text uses (JSON, Prometheus, stored keys).
inline std::size_t append_utf8_sequence(std::string& out, std::string_view s,
                                        std::size_t i) {
  const std::size_t n = utf8_sequence_length(s, i);
  if (n == 0) {
    out += "\xEF\xBF\xBD";
    return 1;
  }
  out.append(s.data() + i, n);
  return n;
}

// s with every invalid byte replaced by U+FFFD.
inline std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size();) i += append_utf8_sequence(out, s, i);
  return out;
}

}  // namespace statusz::detail
