# Every dependency comes from Debian 12 packages installed by scripts/install-deps.
find_package(simdjson REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
if(LAKEFLOW_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(yaml-cpp REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SNAPPY REQUIRED IMPORTED_TARGET snappy)
# cpp-httplib: the server of `lakeflow ui` (src/ui/), the example connector's source (served on
# 127.0.0.1) and the tests' loopback servers.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
