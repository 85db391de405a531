# SPDX-License-Identifier: MIT
# Finds Debian's libcmocka-dev through pkg-config. Defines the imported target CMocka::cmocka.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
if(NOT TARGET CMocka::cmocka)
  add_library(CMocka::cmocka ALIAS PkgConfig::CMOCKA)
endif()
set(CMocka_FOUND TRUE)
