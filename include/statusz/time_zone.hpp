// statusz::TimeZone: how the document's `date` ("YYYY-MM-DD HH:MM:SS") is
// written: UTC (the default), the machine's local time, or a fixed offset
// such as "+02:00". A small value type; format() is thread-safe.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>
#include <string_view>

namespace statusz {

class TimeZone {
 public:
  static TimeZone utc() noexcept { return TimeZone(Kind::Fixed, 0); }
  static TimeZone local() noexcept { return TimeZone(Kind::Local, 0); }
  static TimeZone fixed(std::chrono::minutes offset) {
    constexpr std::chrono::minutes::rep kDay = 1440;  // minutes
    if (offset.count() <= -kDay || offset.count() >= kDay) {
      throw std::invalid_argument("statusz: time zone offset out of range");
    }
    return TimeZone(Kind::Fixed, static_cast<int>(offset.count()));
  }
  // "UTC", "Z", "local", or "+HH:MM" / "-HH:MM".
  static TimeZone parse(std::string_view text) {
    if (text == "UTC" || text == "utc" || text == "Z") return utc();
    if (text == "local") return local();
    const auto digit = [&](std::size_t i) {
      return text[i] >= '0' && text[i] <= '9';
    };
    if (text.size() == 6 && (text[0] == '+' || text[0] == '-') && digit(1) &&
        digit(2) && text[3] == ':' && digit(4) && digit(5)) {
      const int hours = (text[1] - '0') * 10 + (text[2] - '0');
      const int minutes = (text[4] - '0') * 10 + (text[5] - '0');
      if (hours < 24 && minutes < 60) {
        const int total = hours * 60 + minutes;
        return fixed(std::chrono::minutes(text[0] == '-' ? -total : total));
      }
    }
    throw std::invalid_argument("statusz: bad time zone '" + std::string(text) +
                                "' (expected UTC, local or +HH:MM)");
  }

  bool is_local() const noexcept { return kind_ == Kind::Local; }
  std::chrono::minutes offset() const noexcept {
    return std::chrono::minutes(offset_minutes_);
  }

  std::string format(std::chrono::system_clock::time_point t) const {
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
    std::time_t tt = static_cast<std::time_t>(secs.count()) +
                     static_cast<std::time_t>(offset_minutes_) * 60;
    std::tm tm{};
#if defined(_WIN32)
    if (kind_ == Kind::Local) {
      localtime_s(&tm, &tt);
    } else {
      gmtime_s(&tm, &tt);
    }
#else
    if (kind_ == Kind::Local) {
      localtime_r(&tt, &tm);
    } else {
      gmtime_r(&tt, &tm);
    }
#endif
    char buf[64];
    const int n = std::snprintf(
        buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  }

 private:
  enum class Kind { Fixed, Local };
  TimeZone(Kind k, int offset) noexcept : kind_(k), offset_minutes_(offset) {}
  Kind kind_;
  int offset_minutes_;
};

}  // namespace statusz
