// Runs the real promtool (Debian package prometheus; its path is
// STATUSZ_PROMTOOL, set by tests/CMakeLists.txt when found) on an exposition:
// `promtool check metrics` reads it from a file on stdin. Shared by the tests
// that check the exposition against promtool's parser and linter.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace statusz_test {

struct PromtoolResult {
  int status = -1;     // pclose()'s status: 0 when promtool exits 0
  std::string output;  // stdout and stderr: empty when it has no complaint
};

#ifdef STATUSZ_PROMTOOL
inline PromtoolResult promtool_check_metrics(const std::string& exposition,
                                             const std::string& file_name) {
  const std::string path = ::testing::TempDir() + file_name;
  {
    std::ofstream out(path);
    out << exposition;
  }
  const std::string cmd =
      std::string(STATUSZ_PROMTOOL) + " check metrics < " + path + " 2>&1";
  PromtoolResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) r.output += buf;
  r.status = pclose(p);
  return r;
}
#endif

}  // namespace statusz_test
