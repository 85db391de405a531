# SPDX-License-Identifier: MIT
# Finds Debian's libuv1-dev through pkg-config. Defines the imported target Libuv::uv.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
if(NOT TARGET Libuv::uv)
  add_library(Libuv::uv ALIAS PkgConfig::LIBUV)
endif()
set(Libuv_FOUND TRUE)
