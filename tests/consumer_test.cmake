# ctest driver: installs statusz from BUILD_DIR into a fresh prefix, then
# configures, builds and runs tests/consumer against it with find_package(),
# and again with add_subdirectory() of SOURCE_DIR.
set(work "${WORK_DIR}")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${work}/prefix")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${work}/installed"
    -DCMAKE_PREFIX_PATH=${work}/prefix -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build "${work}/installed")
run("${work}/installed/app")
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${work}/subdir"
    -DSTATUSZ_SOURCE_DIR=${SOURCE_DIR} -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build "${work}/subdir")
run("${work}/subdir/app")
message(STATUS "consumer built and ran both ways")
