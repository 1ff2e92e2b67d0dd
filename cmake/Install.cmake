# `cmake --install build --prefix P`: the SDK a connector author builds a plugin with.
#
#   P/bin/lakeflow                             the CLI (finds its libraries through $ORIGIN/../lib)
#   P/include/lakeflow/...                     the public headers (LAKEFLOW_PUBLIC_HEADERS below)
#   P/lib/liblakeflow.so*, liblakeflow_http.so*  Lakeflow::sdk and Lakeflow::http
#   P/lib/lakeflow/objects-<config>/...        Lakeflow::testing, the conformance suite (objects)
#   P/lib/cmake/Lakeflow/                      find_package(Lakeflow CONFIG), lakeflow_add_connector()
#   P/lib/pkgconfig/lakeflow.pc, lakeflow-http.pc
#   P/share/lakeflow/templates/                what `lakeflow new --out-of-tree` copies
include(CMakePackageConfigHelpers)

# What a connector includes. Engine internals (src/columnar/: record_converter.h, column_batch.h,
# arrow_c_data.h) stay out. http/client.h includes rate_limiter.h, log.h and the other http/ headers, so all of
# http/ is installed. conformance.h is the suite's interface; conformance_checks.h is internal to it.
set(LAKEFLOW_PUBLIC_HEADERS
  connector.h connector_spec.h cursor.h error.h files.h instant.h json.h offset.h options.h plugin.h
  records.h registry.h text.h types.h
  testing/conformance.h testing/temp_dir.h)
file(GLOB LAKEFLOW_HTTP_HEADERS RELATIVE ${CMAKE_SOURCE_DIR}/include/lakeflow
     ${CMAKE_SOURCE_DIR}/include/lakeflow/http/*.h)
foreach(header ${LAKEFLOW_PUBLIC_HEADERS} ${LAKEFLOW_HTTP_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES include/lakeflow/${header}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lakeflow/${dir} COMPONENT sdk)
endforeach()
install(FILES ${CMAKE_BINARY_DIR}/generated/include/lakeflow/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lakeflow COMPONENT sdk)

set_target_properties(lakeflow PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
set_target_properties(lakeflow_http PROPERTIES INSTALL_RPATH "$ORIGIN")
install(TARGETS lakeflow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sdk)
set(LAKEFLOW_EXPORTED_TARGETS lakeflow_core lakeflow_http)
if(TARGET lakeflow_testing)
  list(APPEND LAKEFLOW_EXPORTED_TARGETS lakeflow_testing)
endif()
install(TARGETS ${LAKEFLOW_EXPORTED_TARGETS} EXPORT LakeflowTargets COMPONENT sdk
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        OBJECTS DESTINATION ${CMAKE_INSTALL_LIBDIR}/lakeflow)

set(LAKEFLOW_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Lakeflow)
install(EXPORT LakeflowTargets NAMESPACE Lakeflow:: DESTINATION ${LAKEFLOW_CMAKE_DIR} COMPONENT sdk)
configure_package_config_file(cmake/LakeflowConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/LakeflowConfig.cmake
                              INSTALL_DESTINATION ${LAKEFLOW_CMAKE_DIR}
                              PATH_VARS CMAKE_INSTALL_BINDIR)
# 0.x: a new minor version may change the ABI, which the plugin loader checks too (plugin.h).
write_basic_package_version_file(${CMAKE_BINARY_DIR}/LakeflowConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/LakeflowConfig.cmake
              ${CMAKE_BINARY_DIR}/LakeflowConfigVersion.cmake
              cmake/LakeflowAddConnector.cmake
              cmake/LakeflowConnectorTests.cmake
              cmake/LakeflowConnectorSpec.cmake
        DESTINATION ${LAKEFLOW_CMAKE_DIR} COMPONENT sdk)

# pkg-config files, relocatable: the prefix is found from the file's own place.
file(RELATIVE_PATH LAKEFLOW_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(JOIN " " LAKEFLOW_PC_CPU_FLAGS ${LAKEFLOW_CPU_FLAGS})
foreach(pc lakeflow lakeflow-http)
  configure_file(cmake/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT sdk)
endforeach()

install(DIRECTORY templates/ DESTINATION ${CMAKE_INSTALL_DATADIR}/lakeflow/templates COMPONENT sdk)
# The workflow guide the scaffolded DESIGN.md refers to.
install(FILES docs/workflow.md DESTINATION ${CMAKE_INSTALL_DATADIR}/lakeflow/docs COMPONENT sdk)
