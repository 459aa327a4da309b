// statusz version: the single source of truth. CMake and the Python package
// read the three numbers below; keep the format of these lines.
#pragma once

#define STATUSZ_VERSION_MAJOR 0
#define STATUSZ_VERSION_MINOR 1
#define STATUSZ_VERSION_PATCH 0

#define STATUSZ_DETAIL_STR2(x) #x
#define STATUSZ_DETAIL_STR(x) STATUSZ_DETAIL_STR2(x)
#define STATUSZ_VERSION_STRING                                          \
  STATUSZ_DETAIL_STR(STATUSZ_VERSION_MAJOR)                             \
  "." STATUSZ_DETAIL_STR(STATUSZ_VERSION_MINOR) "." STATUSZ_DETAIL_STR( \
      STATUSZ_VERSION_PATCH)

namespace statusz {
inline constexpr const char* version_string = STATUSZ_VERSION_STRING;
}  // namespace statusz
