# lakeflow_connector(NAME SOURCES src.cc... [TESTS test.cc...] [LIBRARIES lib...]
#                    [TEST_ENVIRONMENT VAR=value...])
# Declares a connector: an OBJECT library (so its static registrar is always linked into the CLI)
# and, when TESTS are given, a test binary (linked with the conformance suite, lakeflow_testing)
# registered with ctest under the connector's name (lakeflow_connector_tests(), in
# cmake/LakeflowConnectorTests.cmake: `ctest -R '^NAME\.'`). TEST_ENVIRONMENT sets variables for its
# tests, e.g. the non-secret LAKEFLOW_TEST_CONFIG_JSON of a source that needs no credentials. The
# folder's connector_spec.yaml is compiled in (cmake/LakeflowConnectorSpec.cmake).
#
# What a connector is linked with, here and out of tree (lakeflow_add_connector()) alike:
#   lakeflow_core  (Lakeflow::sdk)   lakeflow/*.h: the interface, types, options, offsets, records,
#                                    errors, registry, JSON, instants; simdjson and fmt
#   lakeflow_http  (Lakeflow::http)  lakeflow/http/*.h: the HTTP client, retries, rate limits, auth,
#                                    pagination, redaction (libcurl and OpenSSL stay inside it)
#   LIBRARIES                        whatever else the source needs (e.g. a database client)
# and its tests also with the conformance suite (lakeflow_testing), GoogleTest and GoogleMock.
include(${CMAKE_CURRENT_LIST_DIR}/LakeflowConnectorTests.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/LakeflowConnectorSpec.cmake)

function(lakeflow_connector name)
  cmake_parse_arguments(ARG "" "" "SOURCES;TESTS;LIBRARIES;TEST_ENVIRONMENT" ${ARGN})
  set(target lakeflow_source_${name})
  add_library(${target} OBJECT ${ARG_SOURCES})
  target_link_libraries(${target} PUBLIC lakeflow_core lakeflow_http ${ARG_LIBRARIES})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  lakeflow_embed_connector_spec(${target} ${name} ${CMAKE_CURRENT_SOURCE_DIR}/connector_spec.yaml)
  lakeflow_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY LAKEFLOW_CONNECTOR_TARGETS ${target})
  if(LAKEFLOW_TESTS AND ARG_TESTS)
    add_executable(${target}_tests ${ARG_TESTS})
    target_link_libraries(${target}_tests PRIVATE ${target} lakeflow_testing GTest::gtest_main)
    # In-tree tests may check against engine internals (the converter, column builders).
    target_include_directories(${target}_tests PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_compile_definitions(${target}_tests PRIVATE
      LAKEFLOW_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
    lakeflow_warnings(${target}_tests)
    set(environment "LAKEFLOW_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}" ${ARG_TEST_ENVIRONMENT})
    lakeflow_connector_tests(${name} ${target}_tests ENVIRONMENT ${environment})
  endif()
endfunction()
