# SPDX-License-Identifier: MIT
# Finds Debian's libjansson-dev through pkg-config. Defines the imported target Jansson::jansson.
find_package(PkgConfig REQUIRED)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
if(NOT TARGET Jansson::jansson)
  add_library(Jansson::jansson ALIAS PkgConfig::JANSSON)
endif()
set(Jansson_FOUND TRUE)
