# `tfreeze plan --basis FILE` end to end: the first plan saves its optimal basis, a plan of the same
# profile starts from it without a pivot, one of the same pipeline with new costs starts from it to
# the plan a cold start gives, and a basis of another pipeline or a damaged one is only a note.
#   cmake -DTFREEZE=<path to tfreeze> -DWORK_DIR=<scratch dir> -P plan_basis_scenario.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
include(${CMAKE_CURRENT_LIST_DIR}/expect_tfreeze.cmake)

# The planned batch time of the last `tfreeze plan`.
function(planned_ms result)
    string(REGEX MATCH "planned +([0-9.]+)" line "${LAST_STDOUT}")
    set(${result} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

foreach(seed 1 2)
    expect(0 "" "" simulate --schedule 1F1B --ranks 4 --microbatches 16 --jitter 0.2 --seed ${seed}
        --out 1f1b-${seed}.json)
endforeach()
expect(0 "" "" simulate --schedule GPipe --ranks 4 --microbatches 16 --jitter 0.2 --seed 1 --out gpipe.json)

expect(0 "from the critical-path start.*optimal basis saved to saved.json" ""
    plan --profile 1f1b-1.json --max-freeze 0.5 --basis saved.json)
file(READ "${WORK_DIR}/saved.json" savedJson)
string(JSON format GET "${savedJson}" format)
if(NOT format STREQUAL "tfreeze-basis/1")
    message(FATAL_ERROR "saved.json: format is \"${format}\"")
endif()
# The same profile again: its own optimum, nothing left to pivot.
expect(0 "from the basis in saved.json, 0 simplex pivots" "" plan --profile 1f1b-1.json --max-freeze 0.5 --basis saved.json)

# The same pipeline measured again: the plan a cold start gives.
expect(0 "from the critical-path start" "" plan --profile 1f1b-2.json --max-freeze 0.5)
planned_ms(cold)
expect(0 "from the basis in saved.json" "" plan --profile 1f1b-2.json --max-freeze 0.5 --basis saved.json)
planned_ms(fromBasis)
if(NOT cold OR NOT cold STREQUAL fromBasis)
    message(FATAL_ERROR "planned batch: ${fromBasis} ms from the basis, ${cold} ms cold")
endif()

expect(0 "from the critical-path start" "saved.json holds the basis of another LP"
    plan --profile gpipe.json --max-freeze 0.5 --basis saved.json)

# That GPipe plan saved its own basis; one entry repeated makes it no basis at all.
file(READ "${WORK_DIR}/saved.json" savedJson)
string(JSON first GET "${savedJson}" entries 1)
string(JSON savedJson SET "${savedJson}" entries 2 "${first}")
file(WRITE "${WORK_DIR}/saved.json" "${savedJson}")
expect(0 "from the critical-path start" "saved.json: entries: not a basis of this LP"
    plan --profile gpipe.json --max-freeze 0.5 --basis saved.json)

# A basis that cannot be saved is an error (exit code 2, naming the file), found before the solve:
# a command that fails writes nothing, so no plan.json either.
expect(2 "" "^tfreeze: error: no-such-directory/saved.json: cannot write file"
    plan --profile gpipe.json --max-freeze 0.5 --out plan.json --basis no-such-directory/saved.json)
if(EXISTS "${WORK_DIR}/plan.json")
    message(FATAL_ERROR "plan.json was written although the basis could not be saved")
endif()
