# `tfreeze plan --basis FILE` end to end: the first plan saves its optimal basis, a plan of the same
# profile starts from it without a pivot, one of the same pipeline with new costs starts from it to
# the plan a cold start gives, and a basis of another pipeline or a damaged one is only a note.
#   cmake -DTFREEZE=<path to tfreeze> -DWORK_DIR=<scratch dir> -P plan_basis_scenario.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs tfreeze; exit code 0 expected; stdout and stderr land in `out` and `err`.
function(run_step)
    execute_process(COMMAND "${TFREEZE}" ${ARGN}
        WORKING_DIRECTORY "${WORK_DIR}"
        RESULT_VARIABLE exitCode
        OUTPUT_VARIABLE stdout
        ERROR_VARIABLE stderr)
    list(JOIN ARGN " " commandText)
    message(STATUS "tfreeze ${commandText}\n${stdout}${stderr}")
    if(NOT exitCode STREQUAL "0")
        message(FATAL_ERROR "tfreeze ${commandText}: exit code ${exitCode}\n${stderr}")
    endif()
    set(out "${stdout}" PARENT_SCOPE)
    set(err "${stderr}" PARENT_SCOPE)
endfunction()

function(expect text regex what)
    if(NOT text MATCHES "${regex}")
        message(FATAL_ERROR "${what}: expected \"${regex}\" in:\n${text}")
    endif()
endfunction()

# The planned batch time of a `tfreeze plan` output.
function(planned_ms text result)
    string(REGEX MATCH "planned +([0-9.]+)" line "${text}")
    set(${result} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

run_step(simulate --schedule 1F1B --ranks 4 --microbatches 16 --jitter 0.2 --seed 1 --out before.json)
run_step(simulate --schedule 1F1B --ranks 4 --microbatches 16 --jitter 0.2 --seed 2 --out again.json)
run_step(simulate --schedule GPipe --ranks 4 --microbatches 16 --jitter 0.2 --seed 1 --out gpipe.json)

run_step(plan --profile before.json --max-freeze 0.5 --basis saved.json)
expect("${out}" "from the critical-path start" "no basis file yet")
expect("${out}" "optimal basis saved to saved.json" "the basis saved")
file(READ "${WORK_DIR}/saved.json" savedJson)
string(JSON format GET "${savedJson}" format)
if(NOT format STREQUAL "tfreeze-basis/1")
    message(FATAL_ERROR "saved.json: format is \"${format}\"")
endif()

run_step(plan --profile before.json --max-freeze 0.5 --basis saved.json)
expect("${out}" "from the basis in saved.json, 0 simplex pivots" "the same profile from its own optimum")

run_step(plan --profile again.json --max-freeze 0.5)
planned_ms("${out}" cold)
run_step(plan --profile again.json --max-freeze 0.5 --basis saved.json)
expect("${out}" "from the basis in saved.json" "a profile measured again")
planned_ms("${out}" fromBasis)
if(NOT cold OR NOT cold STREQUAL fromBasis)
    message(FATAL_ERROR "planned batch: ${fromBasis} ms from the basis, ${cold} ms cold")
endif()

run_step(plan --profile gpipe.json --max-freeze 0.5 --basis saved.json)
expect("${err}" "saved.json holds the basis of another LP" "another pipeline's basis")
expect("${out}" "from the critical-path start" "another pipeline's basis")

# The GPipe plan saved its own basis; one entry repeated makes it no basis at all.
file(READ "${WORK_DIR}/saved.json" savedJson)
string(JSON first GET "${savedJson}" entries 1)
string(JSON savedJson SET "${savedJson}" entries 2 "${first}")
file(WRITE "${WORK_DIR}/saved.json" "${savedJson}")
run_step(plan --profile gpipe.json --max-freeze 0.5 --basis saved.json)
expect("${err}" "saved.json: entries: not a basis of this LP" "a damaged basis")
