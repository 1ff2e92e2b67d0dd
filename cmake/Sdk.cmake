# lakeflow_sdk_library(TARGET OUTPUT_NAME name EXPORT_NAME name)
# Makes TARGET (a SHARED library) part of the installed SDK: liblakeflow*.so.MAJOR, exported as
# Lakeflow::<EXPORT_NAME> by cmake/Install.cmake.
function(lakeflow_sdk_library target)
  cmake_parse_arguments(ARG "" "OUTPUT_NAME;EXPORT_NAME" "" ${ARGN})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${ARG_OUTPUT_NAME}
    EXPORT_NAME ${ARG_EXPORT_NAME}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR})
  # Calls inside the library bind to its own definitions, so they inline as in a static build;
  # nothing outside is meant to replace the SDK's functions.
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-fno-semantic-interposition>)
  # Every dependency is named at link time, so a missing one fails the build, not a plugin load.
  # (Sanitizer runtimes are provided by the executable, so those builds leave symbols open.)
  if(NOT LAKEFLOW_SANITIZE AND NOT LAKEFLOW_FUZZ)
    target_link_options(${target} PRIVATE LINKER:--no-undefined)
  endif()
  set_property(GLOBAL APPEND PROPERTY LAKEFLOW_SDK_TARGETS ${target})
endfunction()
