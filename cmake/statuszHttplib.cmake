# Defines statusz::httplib, for the cpp-httplib adapter
# (<statusz/httplib.hpp>): statusz::statusz plus cpp-httplib with the
# compile flags it was built with, when cpp-httplib is found. Used by this
# project's build and installed beside statuszConfig.cmake, so consumers
# of an installed statusz find cpp-httplib on their own machine.
#
# Debian's libcpp-httplib-dev ships it compiled, with OpenSSL, zlib and
# Brotli support: the same CPPHTTPLIB_* defines must be used, or class
# layouts differ from the library's (a crash). pkg-config (cpp-httplib.pc)
# gives them; without it, a header-only httplib.h found on the include path
# is used as is. _statusz_httplib_scope may be GLOBAL (this project's build,
# so a parent project's add_subdirectory() sees the target).
if(TARGET statusz::httplib)
  return()
endif()
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(STATUSZ_PC_HTTPLIB QUIET IMPORTED_TARGET ${_statusz_httplib_scope} cpp-httplib)
endif()
if(STATUSZ_PC_HTTPLIB_FOUND)
  add_library(statusz::httplib INTERFACE IMPORTED ${_statusz_httplib_scope})
  set_target_properties(statusz::httplib PROPERTIES
    INTERFACE_LINK_LIBRARIES "statusz::statusz;PkgConfig::STATUSZ_PC_HTTPLIB")
else()
  find_path(STATUSZ_HTTPLIB_INCLUDE_DIR httplib.h)
  if(STATUSZ_HTTPLIB_INCLUDE_DIR)
    find_package(Threads REQUIRED)
    add_library(statusz::httplib INTERFACE IMPORTED ${_statusz_httplib_scope})
    set_target_properties(statusz::httplib PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${STATUSZ_HTTPLIB_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "statusz::statusz;Threads::Threads")
  endif()
endif()
