// The process's OS threads as Linux counts them (the entries of
// /proc/self/task; 0 where it cannot be read): for the tests that check
// statusz's threads come and go (test_lifecycle.cpp, test_probe_hostile.cpp).
#pragma once

#include <dirent.h>

#include <cstddef>

namespace statusz_test {

inline std::size_t thread_count() {
  std::size_t n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
  }
  return n;
}

}  // namespace statusz_test
