# simulate → plan on a fresh directory: the profile that simulate writes must plan, and plan must
# write both the JSON and the CSV.
#   cmake -DTFREEZE=<path to tfreeze> -DWORK_DIR=<scratch dir> -P cli_round_trip.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include(${CMAKE_CURRENT_LIST_DIR}/expect_tfreeze.cmake)

expect(0 "" "" simulate --schedule ZBH1 --ranks 4 --microbatches 8 --jitter 0.1 --seed 3 --out profile.json)
expect(0 "" "" plan --profile profile.json --max-freeze 0.5 --out plan.json --csv plan.csv)
expect(0 "" "" plan --profile profile.json --stage-max-freeze 0.2,0.4,0.6,0.8 --out plan-per-stage.json)

foreach(output profile.json plan.json plan.csv plan-per-stage.json)
    if(NOT EXISTS "${WORK_DIR}/${output}")
        message(FATAL_ERROR "${output} was not written")
    endif()
endforeach()
file(READ "${WORK_DIR}/plan.json" planJson)
string(JSON format GET "${planJson}" format)
if(NOT format STREQUAL "tfreeze-plan/1")
    message(FATAL_ERROR "plan.json: format is \"${format}\"")
endif()
string(JSON actionCount LENGTH "${planJson}" actions)
# ZBH1 at P = 4, M = 8: F, I and W per (stage, microbatch).
if(NOT actionCount EQUAL 96)
    message(FATAL_ERROR "plan.json has ${actionCount} actions, expected 96")
endif()
file(STRINGS "${WORK_DIR}/plan.csv" csvLines)
list(LENGTH csvLines csvLineCount)
list(GET csvLines 0 csvHeader)
if(NOT csvLineCount EQUAL 97 OR NOT csvHeader MATCHES "^rank,stage,microbatch,kind,max_ms,min_ms,ratio,start_ms,end_ms")
    message(FATAL_ERROR "plan.csv: ${csvLineCount} lines, header \"${csvHeader}\"")
endif()

# A plan that fails writes nothing: every output and the run database are checked before the solve,
# so no plan.json is left beside a CSV, a database or a basis that could not be written.
function(expect_nothing_written stderrRegex)
    expect(2 "" "${stderrRegex}" plan --profile profile.json --out failed.json ${ARGN})
    if(EXISTS "${WORK_DIR}/failed.json")
        message(FATAL_ERROR "failed.json was written by a plan that failed (${ARGN})")
    endif()
endfunction()
expect_nothing_written("^tfreeze: error: no-such-dir/plan.csv: cannot write file: No such file or directory"
    --csv no-such-dir/plan.csv)
expect_nothing_written("^tfreeze: error: no-such-dir/saved.json: cannot write file" --basis no-such-dir/saved.json)
file(WRITE "${WORK_DIR}/not-a-db.sqlite" "plain text, not SQLite\n")
expect_nothing_written("^tfreeze: error: not-a-db.sqlite: not an SQLite database" --db not-a-db.sqlite)
# A new database's folders are created, but not under a file.
expect_nothing_written("^tfreeze: error: plan.csv/runs/history.sqlite: cannot create the run database in plan.csv: Not a directory"
    --db plan.csv/runs/history.sqlite)
file(READ "${WORK_DIR}/not-a-db.sqlite" notADb)
if(NOT notADb STREQUAL "plain text, not SQLite\n")
    message(FATAL_ERROR "not-a-db.sqlite was changed")
endif()
# And a plan into a new database in a new folder still works.
expect(0 "offline plan 1 recorded in runs/new/history.sqlite" "" plan --profile profile.json --db runs/new/history.sqlite)
