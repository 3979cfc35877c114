# tfreeze and tfreeze-engine (app/tfreeze/engine_commands.h): tfreeze links no LibTorch, the engine
# does, and tfreeze without tfreeze-engine beside it says so for an engine command (exit 1) while
# its other commands still work.
#   cmake -DTFREEZE=... -DTFREEZE_ENGINE_EXE=... -DOBJDUMP=... -DWORK_DIR=... -P engine_split_scenario.cmake
include(${CMAKE_CURRENT_LIST_DIR}/expect_tfreeze.cmake)

function(needed_libraries executable out)
    execute_process(COMMAND ${OBJDUMP} -p ${executable} OUTPUT_VARIABLE dump RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "${OBJDUMP} -p ${executable}: exit code ${status}")
    endif()
    string(REGEX MATCHALL "NEEDED +[^\n]+" needed "${dump}")
    set(${out} "${needed}" PARENT_SCOPE)
endfunction()

needed_libraries(${TFREEZE} light)
if(light MATCHES "libtorch|libc10")
    message(FATAL_ERROR "tfreeze links LibTorch: ${light}")
endif()
needed_libraries(${TFREEZE_ENGINE_EXE} engine)
if(NOT engine MATCHES "libtorch")
    message(FATAL_ERROR "tfreeze-engine does not link LibTorch (so the check above proves nothing): ${engine}")
endif()

# tfreeze alone in a directory.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(COPY ${TFREEZE} DESTINATION ${WORK_DIR})
get_filename_component(name ${TFREEZE} NAME)
set(alone ${WORK_DIR}/${name})
set(TFREEZE ${alone})
expect(1 ""
    "tfreeze: error: train runs in tfreeze-engine, which could not be started from ${WORK_DIR}/tfreeze-engine: No such file or directory \\(build the CMake target tfreeze-engine"
    train --steps 1)
expect(1 "" "^tfreeze: error: bench train runs in tfreeze-engine" bench train --steps 1)
expect(1 "" "^tfreeze: error: doctor runs in tfreeze-engine" doctor)
expect(0 "--profile" "" plan --help)
expect(0 "^tfreeze [0-9.]+\nlp_solve " "" --version)
