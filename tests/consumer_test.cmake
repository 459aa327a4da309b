# ctest driver: installs statusz from BUILD_DIR into a fresh prefix, then
# configures, builds and runs tests/consumer against it with find_package(),
# and again with add_subdirectory() of SOURCE_DIR. HTTPLIB=ON: the consumer
# also links statusz::httplib and serves over loopback, both ways.
set(work "${WORK_DIR}")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
set(common -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX} -DCONSUMER_HTTPLIB=${HTTPLIB})
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/prefix")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${work}/installed" ${common}
    -DCMAKE_PREFIX_PATH=${work}/prefix)
run(${CMAKE_COMMAND} --build "${work}/installed")
run("${work}/installed/app")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${work}/subdir" ${common}
    -DSTATUSZ_SOURCE_DIR=${SOURCE_DIR})
run(${CMAKE_COMMAND} --build "${work}/subdir")
run("${work}/subdir/app")
if(HTTPLIB)
  run("${work}/installed/http_app")
  run("${work}/subdir/http_app")
endif()
message(STATUS "consumer built and ran both ways (statusz::httplib: ${HTTPLIB})")
