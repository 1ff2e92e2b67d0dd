# lakeflow_connector(NAME SOURCES src.cc... [TESTS test.cc...] [TEST_ENVIRONMENT VAR=value...])
# Declares a connector: an OBJECT library (so its static registrar is always linked into the CLI)
# and, when TESTS are given, a test binary (linked with the conformance suite, lakeflow_testing)
# registered with ctest. TEST_ENVIRONMENT sets variables for its tests, e.g. the non-secret
# LAKEFLOW_TEST_CONFIG_JSON of a source that needs no credentials. The folder's connector_spec.yaml
# is compiled in (cmake/LakeflowConnectorSpec.cmake).
include(${CMAKE_CURRENT_LIST_DIR}/LakeflowConnectorSpec.cmake)

function(lakeflow_connector name)
  cmake_parse_arguments(ARG "" "" "SOURCES;TESTS;TEST_ENVIRONMENT" ${ARGN})
  set(target lakeflow_source_${name})
  add_library(${target} OBJECT ${ARG_SOURCES})
  target_link_libraries(${target} PUBLIC lakeflow_core)
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
    gtest_discover_tests(${target}_tests DISCOVERY_TIMEOUT 60 TEST_LIST ${target}_TESTS)
    # CMake 3.25's gtest_discover_tests splits a list-valued ENVIRONMENT property into separate
    # arguments, keeping only the first variable; so the environment is set on the discovered tests
    # from an include file that ctest runs after discovery.
    set(environment "LAKEFLOW_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}" ${ARG_TEST_ENVIRONMENT})
    file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${target}_environment.cmake @ONLY CONTENT [=[
foreach(test IN LISTS @target@_TESTS)
  set_tests_properties("${test}" PROPERTIES ENVIRONMENT [==[@environment@]==])
endforeach()
]=])
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
                 ${CMAKE_CURRENT_BINARY_DIR}/${target}_environment.cmake)
  endif()
endfunction()
