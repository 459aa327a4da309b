// statusz::write_textfile(): writes a Registry's Prometheus exposition (text
// format 0.0.4) to a file for node_exporter's textfile collector, atomically:
// the text goes to a new temporary file in the same directory (named
// ".<name>.<n>.tmp", which the collector, reading only *.prom, skips), which
// gets mode 0644 and is then renamed over the target. A reader sees the old
// file or the new one, never a part of either.
//
// Cost: one render (probes run, as for a scrape) and one file write; for batch
// jobs and periodic exporters, not hot paths. Standard library only, so the
// data is flushed to the operating system but not fsync'ed: after a power
// loss the file may be older (never torn). Thread-safety: concurrent calls
// for the same path are safe (each has its own temporary file; the last
// rename wins).
#pragma once

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <thread>

#include "prometheus.hpp"
#include "registry.hpp"

namespace statusz {

namespace textfile_detail {

// A temporary file's name unique across threads and processes sharing the
// directory: process-wide counter, thread, and time; created exclusively.
inline std::filesystem::path temporary_path(const std::filesystem::path& target,
                                            unsigned attempt) {
  static std::atomic<std::uint64_t> counter{0};
  const auto now = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  const std::uint64_t n =
      counter.fetch_add(1, std::memory_order_relaxed) ^
      (std::hash<std::thread::id>{}(std::this_thread::get_id()) << 1U) ^
      (now << 20U) ^ attempt;
  std::filesystem::path tmp = target;
  tmp.replace_filename("." + target.filename().string() + "." +
                       std::to_string(n) + ".tmp");
  return tmp;
}

}  // namespace textfile_detail

// Writes `text` to `path` atomically (see above). Throws std::system_error
// (the errno of the failed step) or std::filesystem::filesystem_error; the
// temporary file is removed on any error, and `path` is left as it was.
inline void write_file_atomically(const std::filesystem::path& path,
                                  const std::string& text) {
  namespace fs = std::filesystem;
  fs::path tmp;
  std::FILE* f = nullptr;
  for (unsigned attempt = 0; f == nullptr; ++attempt) {
    tmp = textfile_detail::temporary_path(path, attempt);
    errno = 0;
    f = std::fopen(tmp.c_str(), "wbx");  // C11 "x": fails if it exists
    if (f == nullptr && (errno != EEXIST || attempt >= 100)) {
      throw std::system_error(errno != 0 ? errno : EIO, std::generic_category(),
                              "statusz: cannot create " + tmp.string());
    }
  }
  const bool written =
      std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const bool flushed = std::fflush(f) == 0;
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  try {
    if (!written || !flushed || !closed) {
      throw std::system_error(err != 0 ? err : EIO, std::generic_category(),
                              "statusz: cannot write " + tmp.string());
    }
    fs::permissions(tmp,
                    fs::perms::owner_read | fs::perms::owner_write |
                        fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::replace);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

// Renders `registry` (text format 0.0.4 whatever options.format says: the
// textfile collector reads that) and writes it to `path` atomically.
inline void write_textfile(const Registry& registry,
                           const std::filesystem::path& path,
                           PrometheusOptions options = {}) {
  options.format = ExpositionFormat::Text004;
  write_file_atomically(path, to_prometheus(registry, options));
}

}  // namespace statusz
