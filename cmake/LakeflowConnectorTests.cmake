# lakeflow_connector_tests(NAME TARGET [ENVIRONMENT VAR=value...])
#
# Registers TARGET, the test binary of connector NAME (it links the conformance suite), with
# ctest. Every test name starts with the connector's name, so `ctest -R '^NAME\.'` selects the
# connector's tests and a failure names the connector:
#   NAME.TestReadTable, ...   one ctest test per conformance test class (LAKEFLOW_CONFORMANCE_CLASSES):
#                             the class's tests run in one process and share its reads of the
#                             source. A class whose every test skipped is reported as skipped.
#   NAME.Suite.Test           each of the binary's other tests (the connector's own unit tests).
# ENVIRONMENT sets variables for every test. Also writes <build>/lakeflow_connectors/NAME.json,
# how `lakeflow check` runs the binary: {"tests": the binary, "working_directory",
# "environment": {VAR: value}}, as ctest runs it. Used by lakeflow_connector()
# (cmake/Connectors.cmake) and, installed, by lakeflow_add_connector() (LakeflowAddConnector.cmake).
include_guard(GLOBAL)
include(GoogleTest)

# The conformance suite's test classes (src/testing/conformance_tests.cc), in the order they run.
set(LAKEFLOW_CONFORMANCE_CLASSES
    TestListTables TestGetTableSchema TestReadTableMetadata TestReadTable TestIncrementalRead
    TestReadTableDeletes TestInvalidTableName TestWriteBack)

# <build>/lakeflow_connectors/NAME.json for TARGET run with the VAR=value entries after it.
function(lakeflow_connector_test_manifest name target)
  set(manifest "{}")
  foreach(field tests working_directory)
    if(field STREQUAL "tests")
      set(value "$<TARGET_FILE:${target}>")
    else()
      set(value "${CMAKE_CURRENT_BINARY_DIR}")
    endif()
    string(REPLACE "\\" "\\\\" value "${value}")
    string(REPLACE "\"" "\\\"" value "${value}")
    string(JSON manifest SET "${manifest}" ${field} "\"${value}\"")
  endforeach()
  set(environment_json "{}")
  foreach(entry IN LISTS ARGN)
    string(FIND "${entry}" "=" eq)
    string(SUBSTRING "${entry}" 0 ${eq} key)
    math(EXPR start "${eq} + 1")
    string(SUBSTRING "${entry}" ${start} -1 value)
    string(REPLACE "\\" "\\\\" value "${value}")
    string(REPLACE "\"" "\\\"" value "${value}")
    string(JSON environment_json SET "${environment_json}" "${key}" "\"${value}\"")
  endforeach()
  string(JSON manifest SET "${manifest}" environment "${environment_json}")
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/lakeflow_connectors/${name}.json
       CONTENT "${manifest}\n")
endfunction()

function(lakeflow_connector_tests name target)
  cmake_parse_arguments(ARG "" "" "ENVIRONMENT" ${ARGN})
  set(conformance_filter "")
  foreach(class IN LISTS LAKEFLOW_CONFORMANCE_CLASSES)
    add_test(NAME ${name}.${class} COMMAND ${target} --gtest_filter=${class}.*)
    # gtest prints "[  PASSED  ] 0 tests." when every selected test skipped.
    set_tests_properties(${name}.${class} PROPERTIES
                         SKIP_REGULAR_EXPRESSION "\\[  PASSED  \\] 0 tests\\."
                         LABELS conformance)
    if(ARG_ENVIRONMENT)
      set_tests_properties(${name}.${class} PROPERTIES ENVIRONMENT "${ARG_ENVIRONMENT}")
    endif()
    string(APPEND conformance_filter ":${class}.*")
  endforeach()
  string(SUBSTRING "${conformance_filter}" 1 -1 conformance_filter)
  gtest_discover_tests(${target} TEST_PREFIX "${name}." TEST_FILTER "-${conformance_filter}"
                       DISCOVERY_TIMEOUT 60 TEST_LIST ${target}_TESTS)
  lakeflow_connector_test_manifest(${name} ${target} ${ARG_ENVIRONMENT})
  if(ARG_ENVIRONMENT)
    # CMake 3.25's gtest_discover_tests splits a list-valued ENVIRONMENT property into separate
    # arguments, keeping only the first variable; so the environment is set on the discovered
    # tests from an include file that ctest runs after discovery.
    set(environment ${ARG_ENVIRONMENT})
    file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${target}_environment.cmake @ONLY CONTENT [=[
foreach(test IN LISTS @target@_TESTS)
  set_tests_properties("${test}" PROPERTIES ENVIRONMENT [==[@environment@]==])
endforeach()
]=])
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES
                 ${CMAKE_CURRENT_BINARY_DIR}/${target}_environment.cmake)
  endif()
endfunction()
