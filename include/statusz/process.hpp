// statusz::add_process_metrics(): the process's own CPU time, memory, file
// descriptors, threads and start time as gauges of a "process" group, the
// figures every Prometheus client library exports (process_cpu_seconds_total,
// process_resident_memory_bytes, ...), read from Linux's /proc/self.
//
// Cost: nothing until the document or exposition is built; then each gauge
// reads one small /proc file (open_fds lists /proc/self/fd): a few
// microseconds per gauge, never on a hot path. Linux only: where
// /proc/self/stat cannot be read the gauges read null (JSON null, left out of
// the exposition) and add_process_metrics() returns false.
// Thread-safety: the gauges only read /proc; safe from any thread.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "registry.hpp"

namespace statusz {

namespace process_detail {

// /proc reports times in USER_HZ ticks, 100 per second on every Linux ABI
// (the constant the Go client's procfs uses too; sysconf is not standard C++).
inline constexpr double kTicksPerSecond = 100.0;

inline std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  return text;
}

// The fields of /proc/self/stat after the command name (which may hold
// spaces and parentheses: it ends at the last ')'); index 0 is field 3,
// the state, of proc(5).
inline std::vector<std::string> stat_fields() {
  std::vector<std::string> fields;
  const auto text = read_file("/proc/self/stat");
  if (!text) return fields;
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream in(text->substr(close + 1));
  for (std::string f; in >> f;) fields.push_back(std::move(f));
  return fields;
}

// Field `n` (1-based, as proc(5) numbers them) of /proc/self/stat.
inline std::optional<double> stat_field(std::size_t n) {
  const std::vector<std::string> f = stat_fields();
  if (n < 3 || n - 3 >= f.size()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(f[n - 3].c_str(), &end);
  if (end == f[n - 3].c_str()) return std::nullopt;
  return v;
}

// The number after "<key>" at the start of a line of a /proc text file
// ("VmRSS:" in /proc/self/status, "btime" in /proc/stat).
inline std::optional<double> keyed_number(const char* path,
                                          std::string_view key) {
  const auto text = read_file(path);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, key.size(), key) != 0) continue;
    char* end = nullptr;
    const char* start = line.c_str() + key.size();
    const double v = std::strtod(start, &end);
    if (end == start) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

inline Value bytes_from_kib(const char* key) {
  const auto kib = keyed_number("/proc/self/status", key);
  if (!kib) return Value();
  return static_cast<std::int64_t>(*kib) * 1024;
}

inline Value cpu_seconds() {
  const auto user = stat_field(14);    // utime
  const auto system = stat_field(15);  // stime
  if (!user || !system) return Value();
  return (*user + *system) / kTicksPerSecond;
}

inline Value start_time_seconds() {
  const auto ticks = stat_field(22);  // starttime, since boot
  const auto boot = keyed_number("/proc/stat", "btime");
  if (!ticks || !boot) return Value();
  return *boot + *ticks / kTicksPerSecond;
}

inline Value threads() {
  const auto n = stat_field(20);  // num_threads
  if (!n) return Value();
  return static_cast<std::int64_t>(*n);
}

inline Value open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return Value();
  std::int64_t n = 0;
  for (const std::filesystem::directory_iterator end; it != end;
       it.increment(ec)) {
    if (ec) return Value();
    ++n;
  }
  return n;
}

// The soft limit of "Max open files" in /proc/self/limits (null when
// "unlimited", which Linux does not allow for open files).
inline Value max_fds() {
  const auto text = read_file("/proc/self/limits");
  if (!text) return Value();
  std::istringstream in(*text);
  constexpr std::string_view key = "Max open files";
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, key.size(), key) != 0) continue;
    std::istringstream fields(line.substr(key.size()));
    std::string soft;
    fields >> soft;
    char* end = nullptr;
    const double v = std::strtod(soft.c_str(), &end);
    if (end == soft.c_str()) return Value();
    return static_cast<std::int64_t>(v);
  }
  return Value();
}

}  // namespace process_detail

// Registers, under `group` (default "process"), the gauges below, each read
// from /proc/self when the document or exposition is built, and each
// declaring the family every Prometheus client exports for it (see
// prometheus_client's ProcessCollector), unprefixed:
//   gauge                source in /proc/self          exposition family
//   cpuSecondsTotal      stat utime + stime, seconds   process_cpu_seconds
//                                                      (counter: _total)
//   residentMemoryBytes  status VmRSS, bytes process_resident_memory_bytes
//   virtualMemoryBytes   status VmSize, bytes process_virtual_memory_bytes
//   openFds              the entries of fd/            process_open_fds
//   maxFds               limits, soft "Max open files" process_max_fds
//   startTimeSeconds     stat starttime + btime, epoch
//   process_start_time_seconds threads              stat num_threads
//   process_threads
// Calling it again for another group adds gauges that fall back to their
// paths' names in the exposition (the first group keeps the process_*
// families); for the same group it replaces them. Returns whether
// /proc/self/stat is readable (false off Linux: the gauges then read null).
// Throws as Registry::gauge() does when `group` names something that is not
// a group.
inline bool add_process_metrics(Registry& registry,
                                std::string_view group = "process") {
  namespace d = process_detail;
  const std::string base = std::string(group) + ".";
  const auto add = [&](const char* name, Gauge::Function fn, const char* family,
                       bool counter, const char* help) {
    registry.gauge(base + name, std::move(fn))
        .set_exposition({family, counter, help});
  };
  add("cpuSecondsTotal", d::cpu_seconds, "process_cpu_seconds", true,
      "CPU time (user and system) used by the process, in seconds.");
  add(
      "residentMemoryBytes", [] { return d::bytes_from_kib("VmRSS:"); },
      "process_resident_memory_bytes", false,
      "Resident set size of the process, in bytes.");
  add(
      "virtualMemoryBytes", [] { return d::bytes_from_kib("VmSize:"); },
      "process_virtual_memory_bytes", false,
      "Virtual memory size of the process, in bytes.");
  add("openFds", d::open_fds, "process_open_fds", false,
      "Open file descriptors of the process.");
  add("maxFds", d::max_fds, "process_max_fds", false,
      "Soft limit of the process's open file descriptors.");
  add("startTimeSeconds", d::start_time_seconds, "process_start_time_seconds",
      false, "Start time of the process, in seconds since the Unix epoch.");
  add("threads", d::threads, "process_threads", false,
      "Threads of the process.");
  return !d::stat_fields().empty();
}

}  // namespace statusz
