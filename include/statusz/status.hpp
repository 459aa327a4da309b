// statusz::Status: the health of a component or of the whole server, as the
// status document spells it ("Ok", "Warning", "Unknown", "Ko"), ordered from
// best to worst. Plain values: every function here is pure and thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "detail/ascii.hpp"

namespace statusz {

enum class Status : std::uint8_t { Ok = 0, Warning = 1, Unknown = 2, Ko = 3 };

constexpr std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::Ok:
      return "Ok";
    case Status::Warning:
      return "Warning";
    case Status::Unknown:
      return "Unknown";
    case Status::Ko:
      return "Ko";
  }
  return "Unknown";
}

// The worse of two statuses: Ok < Warning < Unknown < Ko.
constexpr Status worst(Status a, Status b) noexcept {
  return static_cast<std::uint8_t>(a) >= static_cast<std::uint8_t>(b) ? a : b;
}

// Case-insensitive parse of "ok", "WARNING", ...; nullopt for anything else.
inline std::optional<Status> try_parse_status(std::string_view text) noexcept {
  const auto equals = [&](std::string_view name) {
    return std::equal(text.begin(), text.end(), name.begin(), name.end(),
                      [](char a, char b) {
                        return detail::ascii_lower(a) == detail::ascii_lower(b);
                      });
  };
  for (Status s : {Status::Ok, Status::Warning, Status::Unknown, Status::Ko}) {
    if (equals(to_string(s))) return s;
  }
  return std::nullopt;
}

// Like try_parse_status, but throws std::invalid_argument naming the bad text.
inline Status parse_status(std::string_view text) {
  if (auto s = try_parse_status(text)) return *s;
  throw std::invalid_argument("statusz: unknown status '" + std::string(text) +
                              "' (expected Ok, Warning, Unknown or Ko)");
}

}  // namespace statusz
