# The run-history commands on a fresh database made by make_store_fixture: list, show, compare,
# export (plan round trip through `tfreeze plan --db`, metrics), delete, and the files that must be
# refused and left unchanged (newer schema, not a database).
#   cmake -DTFREEZE=<tfreeze> -DFIXTURE=<make_store_fixture> -DDATA=<tests/data> -DWORK_DIR=<dir>
#         -P store_cli_scenario.cmake
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

include(${CMAKE_CURRENT_LIST_DIR}/expect_tfreeze.cmake)

function(make_fixture path)
    execute_process(COMMAND "${FIXTURE}" ${path} ${ARGN} WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE exitCode)
    if(NOT exitCode STREQUAL "0")
        message(FATAL_ERROR "make_store_fixture ${path}: exit code ${exitCode}")
    endif()
endfunction()

make_fixture(history.sqlite)
set(db --db history.sqlite)

# Newest first, the id first on each line, with the status.
expect(0 "^ *id +status +steps.*\n +2 +finished +30 .*frozen\n +1 +finished +30 .*baseline\n$" "^$" runs list ${db})
expect(0 "^ *id .*\n +2 +finished .*frozen\n$" "" runs list ${db} --limit 1)
expect(0 "^no runs with status failed in history.sqlite" "" runs list ${db} --status failed)
# A cmake list cannot carry ";", hence no "; DROP TABLE" here (tst_runstore has it).
expect(2 "" "^tfreeze: error: --status: unknown run status \"finished' OR 1=1 --\"" runs list ${db}
    "--status=finished' OR 1=1 --")
expect(0 "run 2: frozen\nstatus: finished\n.*steps: 30\n.*plans:\n.*engine +19 +20 .*events:\n.*finished 30 steps" ""
    runs show ${db} 2)
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 42\n" runs show ${db} 42)
expect(2 "" "^tfreeze: error: .*ID" runs show ${db} two)

# makeSpans: a backward lasts 40 + rank µs; the fixture's frozen run shortens each by 10 µs.
expect(0 "tokens/s \\(mean\\) .*bubble % \\(mean\\).*stage 0 F mean \\(ms\\) +0\\.020 +0\\.020 +\\+0\\.000.*stage 0 B mean \\(ms\\) +0\\.040 +0\\.030 +-0\\.010 \\(-25\\.0%\\)"
    "" runs compare ${db} 1 2)
expect(2 "" "no run with id 7" runs compare ${db} 1 7)

expect(0 "30 steps of run 2 written to metrics.csv" "" export metrics ${db} 2 --out metrics.csv)
file(STRINGS "${WORK_DIR}/metrics.csv" metrics)
list(LENGTH metrics metricsLines)
list(GET metrics 0 header)
list(GET metrics 10 step9)
list(GET metrics 11 step10)
if(NOT metricsLines EQUAL 31 OR NOT header MATCHES "^step,loss,val_loss,tokens_per_s,batch_ms,bubble,phase"
   OR NOT step9 MATCHES "^9,[0-9.e-]+,2\\.5,[0-9.]+,[0-9.]+,[0-9.]+,warmup," OR NOT step10 MATCHES "^10,[0-9.e-]+,,")
    message(FATAL_ERROR "metrics.csv: ${metricsLines} lines, header \"${header}\", step 9 \"${step9}\", step 10 \"${step10}\"")
endif()
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 42\n" export metrics ${db} 42 --out none.csv)
if(EXISTS "${WORK_DIR}/none.csv")
    message(FATAL_ERROR "export metrics of an unknown run wrote a file")
endif()
expect(2 "" "^tfreeze: error: missing/metrics.csv: cannot write file: No such file or directory\n"
    export metrics ${db} 2 --out missing/metrics.csv)

# tfreeze plan --db records an offline plan; exporting it gives back the files plan wrote.
expect(0 "offline plan [0-9]+ recorded in history.sqlite" "" plan --profile ${DATA}/cli/tiny-1f1b.json --max-freeze 0.5
    --out plan.json --csv plan.csv ${db})
string(REGEX MATCH "offline plan ([0-9]+)" unused "${LAST_STDOUT}")
set(planId ${CMAKE_MATCH_1})
if(NOT planId EQUAL 2) # plan 1 is run 2's engine plan
    message(FATAL_ERROR "offline plan id ${planId}, expected 2")
endif()
expect(0 "plan 2 written to exported.json" "" export plan ${db} ${planId} --out exported.json)
expect(0 "" "" export plan ${db} ${planId} --format csv --out exported.csv)
foreach(pair "plan.json;exported.json" "plan.csv;exported.csv")
    list(GET pair 0 original)
    list(GET pair 1 exported)
    file(SHA256 "${WORK_DIR}/${original}" originalHash)
    file(SHA256 "${WORK_DIR}/${exported}" exportedHash)
    if(NOT originalHash STREQUAL exportedHash)
        message(FATAL_ERROR "${exported} differs from ${original}")
    endif()
endforeach()
expect(2 "" "^tfreeze: error: history.sqlite: no plan with id 99\n" export plan ${db} 99 --out none.json)
expect(2 "" "^tfreeze: error: .*--format" export plan ${db} 1 --format xml --out none.xml)

# export trace: a run's steps as a Chrome trace, with a plan drawn beside them; the trace reads
# back through import trace to a profile of the fixture's schedule (4 ranks × 8 microbatches,
# 1F1B, see make_store_fixture) that tfreeze plan accepts.
expect(0 "^steps 3-5 of run 2 \\(3 steps, 192 actions, plan 2\\) written to trace.json" "" export trace ${db} 2 --steps 3-5
    --plan ${planId} --out trace.json)
file(READ "${WORK_DIR}/trace.json" traceText)
string(JSON eventCount LENGTH "${traceText}" traceEvents)
if(eventCount LESS 192)
    message(FATAL_ERROR "trace.json has ${eventCount} events, fewer than its 192 actions")
endif()
expect(0 "4 ranks .*8 microbatches, 64 actions, 3 steps seen" "" import trace trace.json --out reimported.json)
expect(0 "" "" plan --profile reimported.json --max-freeze 0.5)
expect(0 "^steps 20-29 of run 2 \\(10 steps, 640 actions\\) written to trace.json.gz" "" export trace ${db} 2
    --out trace.json.gz)
expect(2 "" "^tfreeze: error: --steps: run 2 has no spans in steps 500-600" export trace ${db} 2 --steps 500-600
    --out none.json)
expect(2 "" "^tfreeze: error: --steps: \"5-x\" is not a step range" export trace ${db} 2 --steps 5-x --out none.json)
expect(2 "" "^tfreeze: error: --steps: \"9-3\" ends before it starts" export trace ${db} 2 --steps 9-3 --out none.json)
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 42" export trace ${db} 42 --out none.json)
expect(2 "" "no plan with id 99" export trace ${db} 2 --plan 99 --out none.json)
if(EXISTS "${WORK_DIR}/none.json")
    message(FATAL_ERROR "a refused export trace wrote a file")
endif()

# Rename and notes: shown by show and list, quotes and non-ASCII kept as typed; unknown ids refused.
expect(0 "^renamed run 2 to frozen \"ρ=0.5\" it's\n$" "" runs rename ${db} 2 "frozen \"ρ=0.5\" it's")
expect(0 "^set the notes of run 2\n$" "" runs notes ${db} 2 "B 25% shorter — 'as planned'")
expect(0 "^run 2: frozen \"ρ=0.5\" it's\n.*steps: 30\nnotes: B 25% shorter — 'as planned'\n" "" runs show ${db} 2)
expect(0 " +2 +finished +30 .*frozen \"ρ=0.5\" it's\n +1 +finished" "" runs list ${db})
expect(0 "^run 1: baseline\n" "" runs show ${db} 1)
if(LAST_STDOUT MATCHES "notes:")
    message(FATAL_ERROR "runs show printed notes for a run without any:\n${LAST_STDOUT}")
endif()
# An empty argument does not survive expect()'s ARGN: run it directly.
execute_process(COMMAND "${TFREEZE}" runs notes ${db} 2 "" WORKING_DIRECTORY "${WORK_DIR}"
    RESULT_VARIABLE exitCode OUTPUT_VARIABLE stdout)
if(NOT exitCode STREQUAL "0" OR NOT stdout STREQUAL "cleared the notes of run 2\n")
    message(FATAL_ERROR "runs notes 2 \"\": exit code ${exitCode}, stdout \"${stdout}\"")
endif()
expect(0 "steps: 30\n" "" runs show ${db} 2)
if(LAST_STDOUT MATCHES "notes:")
    message(FATAL_ERROR "runs show printed cleared notes:\n${LAST_STDOUT}")
endif()
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 42\n" runs rename ${db} 42 x)
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 42\n" runs notes ${db} 42 x)
expect(2 "" "^tfreeze: error: missing.sqlite: no such run database\n" runs rename --db missing.sqlite 1 x)
if(EXISTS "${WORK_DIR}/missing.sqlite")
    message(FATAL_ERROR "runs rename created a database")
endif()

# Deleting a run removes it and nothing else.
expect(0 "^deleted run 1\n$" "" runs delete ${db} 1)
expect(0 "^ *id .*\n +2 +finished .*frozen \"ρ=0.5\" it's\n$" "" runs list ${db})
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 1\n" runs delete ${db} 1)
expect(0 "" "" export plan ${db} 1 --out engine-plan.json)

# Refused files stay as they were.
make_fixture(newer.sqlite 3)
file(SHA256 "${WORK_DIR}/newer.sqlite" before)
expect(2 "" "^tfreeze: error: newer.sqlite: user_version: schema version 3 is newer than this tfreeze understands \\(2\\)"
    runs list --db newer.sqlite)
expect(2 "" "schema version 3 is newer" runs delete --db newer.sqlite 1)
expect(2 "" "schema version 3 is newer" runs rename --db newer.sqlite 1 x)
expect(2 "" "schema version 3 is newer" runs notes --db newer.sqlite 1 x)
expect(2 "" "schema version 3 is newer" plan --profile ${DATA}/cli/tiny-1f1b.json --db newer.sqlite)
file(SHA256 "${WORK_DIR}/newer.sqlite" after)
if(NOT before STREQUAL after)
    message(FATAL_ERROR "newer.sqlite was altered")
endif()

file(COPY "${DATA}/store/not-a-database.sqlite" DESTINATION "${WORK_DIR}")
file(SHA256 "${WORK_DIR}/not-a-database.sqlite" before)
expect(2 "" "^tfreeze: error: not-a-database.sqlite: not an SQLite database" runs list --db not-a-database.sqlite)
expect(2 "" "not an SQLite database" plan --profile ${DATA}/cli/tiny-1f1b.json --db not-a-database.sqlite)
file(SHA256 "${WORK_DIR}/not-a-database.sqlite" after)
if(NOT before STREQUAL after)
    message(FATAL_ERROR "not-a-database.sqlite was altered")
endif()
