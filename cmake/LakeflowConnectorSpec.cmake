# lakeflow_embed_connector_spec(TARGET NAME SPEC_FILE)
# Compiles the connector's connector_spec.yaml into TARGET (lakeflow/connector_spec.h): generates
# lakeflow_connector_spec.h, defining embedded_connector_spec() (the spec, parsed once on first
# use), in a directory on TARGET's include path. A change to SPEC_FILE re-runs CMake, so the build
# never holds a stale copy. lakeflow_connector() (in tree) and lakeflow_add_connector() (the
# installed SDK) call it with the connector folder's connector_spec.yaml.
include_guard(GLOBAL)

function(lakeflow_embed_connector_spec target name spec_file)
  if(NOT EXISTS ${spec_file})
    message(FATAL_ERROR "connector ${name}: ${spec_file} is missing; every connector lists its "
                        "connection parameters and table options there (templates/connector/)")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${spec_file})
  file(READ ${spec_file} LAKEFLOW_SPEC_TEXT)
  if(LAKEFLOW_SPEC_TEXT MATCHES "\\)lakeflow_spec\"")
    message(FATAL_ERROR "${spec_file} holds the text ')lakeflow_spec\"', which cannot be embedded")
  endif()
  set(LAKEFLOW_SPEC_NAME ${name})
  set(LAKEFLOW_SPEC_FILE ${spec_file})
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}_spec)
  file(CONFIGURE OUTPUT ${dir}/lakeflow_connector_spec.h @ONLY CONTENT [=[
// Generated from @LAKEFLOW_SPEC_FILE@ by lakeflow_embed_connector_spec(): do not edit.
#pragma once

#include "lakeflow/connector_spec.h"

namespace {

// The spec of connector '@LAKEFLOW_SPEC_NAME@', parsed on first use (lakeflow/connector_spec.h).
[[maybe_unused]] const ::lakeflow::ConnectorSpec& embedded_connector_spec() {
  static const ::lakeflow::ConnectorSpec spec = ::lakeflow::ConnectorSpec::parse(
      "@LAKEFLOW_SPEC_NAME@", R"lakeflow_spec(@LAKEFLOW_SPEC_TEXT@)lakeflow_spec",
      "connector_spec.yaml of connector '@LAKEFLOW_SPEC_NAME@'");
  return spec;
}

}  // namespace
]=])
  target_include_directories(${target} PRIVATE ${dir})
endfunction()
