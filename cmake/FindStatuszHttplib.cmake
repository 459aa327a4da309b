# Defines the target statusz_httplib for cpp-httplib when it is available.
# Debian's libcpp-httplib-dev ships it compiled, with OpenSSL, zlib and Brotli
# support: the same -D flags must be used, or class layouts differ from the
# library's (a crash). pkg-config gives them; a header alone (upstream's
# header-only form) is used as is.
if(TARGET statusz_httplib)
  return()
endif()
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(STATUSZ_PC_HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
endif()
if(STATUSZ_PC_HTTPLIB_FOUND)
  add_library(statusz_httplib INTERFACE)
  target_link_libraries(statusz_httplib INTERFACE PkgConfig::STATUSZ_PC_HTTPLIB)
else()
  find_path(STATUSZ_HTTPLIB_INCLUDE_DIR httplib.h)
  if(STATUSZ_HTTPLIB_INCLUDE_DIR)
    find_package(Threads REQUIRED)
    add_library(statusz_httplib INTERFACE)
    target_include_directories(statusz_httplib INTERFACE ${STATUSZ_HTTPLIB_INCLUDE_DIR})
    target_link_libraries(statusz_httplib INTERFACE Threads::Threads)
  endif()
endif()
