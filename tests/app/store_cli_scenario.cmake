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

# The same as JSON for scripts, read back with CMake's own JSON parser.
function(expect_json_equal json expected)
    string(JSON actual GET "${json}" ${ARGN})
    if(NOT actual STREQUAL expected)
        list(JOIN ARGN "." key)
        message(FATAL_ERROR "${key}: expected \"${expected}\", got \"${actual}\"\n${json}")
    endif()
endfunction()
expect(0 "^{\n" "^$" runs list ${db} --json)
string(JSON runCount LENGTH "${LAST_STDOUT}" runs)
if(NOT runCount EQUAL 2)
    message(FATAL_ERROR "runs list --json: ${runCount} runs, expected 2")
endif()
expect_json_equal("${LAST_STDOUT}" "2" runs 0 id)
expect_json_equal("${LAST_STDOUT}" "frozen" runs 0 name)
expect_json_equal("${LAST_STDOUT}" "finished" runs 0 status)
expect_json_equal("${LAST_STDOUT}" "30" runs 0 steps)
expect_json_equal("${LAST_STDOUT}" "4" runs 0 config ranks) # the config as JSON, not its text
expect_json_equal("${LAST_STDOUT}" "baseline" runs 1 name)
expect(0 "" "^$" runs list ${db} --json --status failed)
string(JSON runCount LENGTH "${LAST_STDOUT}" runs)
if(NOT runCount EQUAL 0)
    message(FATAL_ERROR "runs list --json --status failed: ${runCount} runs, expected none")
endif()
expect(0 "" "^$" runs show ${db} 2 --json)
expect_json_equal("${LAST_STDOUT}" "2" id)
expect_json_equal("${LAST_STDOUT}" "20" plans 0 applied_at_step)
expect_json_equal("${LAST_STDOUT}" "engine" plans 0 source)
expect_json_equal("${LAST_STDOUT}" "finished 30 steps" events 0 message)
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 42\n" runs show ${db} 42 --json)
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

# export trace: a run's steps as a Chrome trace; the trace reads back through import trace to a
# profile of the fixture's schedule (4 ranks × 8 microbatches, 1F1B, see make_store_fixture) that
# tfreeze plan accepts, and the plan of that profile is drawn beside the run's steps.
expect(0 "^steps 3-5 of run 2 \\(3 steps, 192 actions\\) written to trace.json" "" export trace ${db} 2 --steps 3-5
    --out trace.json)
file(READ "${WORK_DIR}/trace.json" traceText)
string(JSON eventCount LENGTH "${traceText}" traceEvents)
if(eventCount LESS 192)
    message(FATAL_ERROR "trace.json has ${eventCount} events, fewer than its 192 actions")
endif()
expect(0 "4 ranks .*8 microbatches, 64 actions, 3 steps seen" "" import trace trace.json --out reimported.json)
expect(0 "offline plan 3 recorded in history.sqlite" "" plan --profile reimported.json --max-freeze 0.5 ${db})
expect(0 "^steps 3-5 of run 2 \\(3 steps, 192 actions, plan 3\\) written to planned.json" "" export trace ${db} 2
    --steps 3-5 --plan 3 --out planned.json)
file(READ "${WORK_DIR}/planned.json" traceText)
string(JSON eventCount LENGTH "${traceText}" traceEvents)
if(eventCount LESS 384)
    message(FATAL_ERROR "planned.json has ${eventCount} events, fewer than its 192 actions and 192 planned ones")
endif()
# A plan of another pipeline would line its timeline up with the wrong actions: plan 2 is
# tiny-1f1b.json's (2 ranks × 2 microbatches), plan 1 the fixture's 2-rank engine plan.
expect(2 "" "^tfreeze: error: --plan: plan 2 is not a plan of run 2's pipeline: the run's steps have 4 ranks, 8 microbatches and 4 stages, the plan's 1F1B schedule 2 ranks, 2 microbatches and 2 stages"
    export trace ${db} 2 --steps 3-5 --plan ${planId} --out none.json)
expect(2 "" "^tfreeze: error: --plan: plan 1 is not a plan of run 2's pipeline: .*3 microbatches"
    export trace ${db} 2 --plan 1 --out none.json)
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
# A name is one line of valid UTF-8 that is not blank; notes may hold line breaks and tabs but no
# other control characters. Refused before the file is opened: it stays as it was.
string(ASCII 27 escape)
string(ASCII 255 notUtf8)
file(SHA256 "${WORK_DIR}/history.sqlite" before)
foreach(case "is empty: a run keeps a name|" "is only white space|   " "U\\+000A \\(a line break\\) at offset 1: a name is one line|a\nb"
        "U\\+001B \\(escape\\) at offset 0|${escape}[31mred" "not valid UTF-8: byte 0xFF at offset 3|bad${notUtf8}")
    string(FIND "${case}" "|" bar)
    string(SUBSTRING "${case}" 0 ${bar} reason)
    math(EXPR bar "${bar} + 1")
    string(SUBSTRING "${case}" ${bar} -1 name)
    execute_process(COMMAND "${TFREEZE}" runs rename ${db} 2 "${name}" WORKING_DIRECTORY "${WORK_DIR}"
        RESULT_VARIABLE exitCode ERROR_VARIABLE stderr)
    if(NOT exitCode STREQUAL "2" OR NOT stderr MATCHES "^tfreeze: error: run name: .*${reason}")
        message(FATAL_ERROR "runs rename 2 \"${name}\": exit code ${exitCode}, stderr \"${stderr}\"")
    endif()
endforeach()
expect(2 "" "^tfreeze: error: run notes: control character U\\+001B \\(escape\\) at offset 4: notes may hold line breaks and tabs"
    runs notes ${db} 2 "red ${escape}[31m")
expect(2 "" "^tfreeze: error: run notes: not valid UTF-8" runs notes ${db} 2 "${notUtf8}")
file(SHA256 "${WORK_DIR}/history.sqlite" after)
if(NOT before STREQUAL after)
    message(FATAL_ERROR "a refused rename or notes altered history.sqlite")
endif()
expect(0 "^set the notes of run 2\n$" "" runs notes ${db} 2 "line 1\n\tline 2")
expect(0 "notes: line 1\n\tline 2\n" "" runs show ${db} 2)

# Ids past the largest SQLite integer are refused as such, not looked up clamped to it.
set(huge 99999999999999999999)
set(outOfRange "\"${huge}\" is out of range: ids are whole numbers from 1 to 9223372036854775807")
expect(2 "" "^tfreeze: error: ID: ${outOfRange}" runs show ${db} ${huge})
expect(2 "" "^tfreeze: error: B: ${outOfRange}" runs compare ${db} 1 ${huge})
expect(2 "" "^tfreeze: error: ID: ${outOfRange}" runs rename ${db} ${huge} x)
expect(2 "" "^tfreeze: error: ID: ${outOfRange}" runs notes ${db} ${huge} x)
expect(2 "" "^tfreeze: error: ID: ${outOfRange}" runs delete ${db} ${huge})
expect(2 "" "^tfreeze: error: ID: ${outOfRange}" export plan ${db} ${huge} --out none.json)
expect(2 "" "^tfreeze: error: RUN: ${outOfRange}" export metrics ${db} ${huge} --out none.csv)
expect(2 "" "^tfreeze: error: --plan: ${outOfRange}" export trace ${db} 2 --plan ${huge} --out none.json)
expect(2 "" "^tfreeze: error: ID: \"0\" is not a whole number >= 1" runs show ${db} 0)

expect(2 "" "^tfreeze: error: missing.sqlite: no such run database\n" runs rename --db missing.sqlite 1 x)
if(EXISTS "${WORK_DIR}/missing.sqlite")
    message(FATAL_ERROR "runs rename created a database")
endif()

# Deleting a run removes it and nothing else; every id is checked before anything goes, and an id
# given twice is deleted once.
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 7; nothing was deleted\n" runs delete ${db} 1 7)
expect(0 "^ *id .*\n +2 +finished .*\n +1 +finished .*baseline\n$" "" runs list ${db})
expect(0 "^deleted run 1\n$" "" runs delete ${db} 1 1)
expect(0 "^ *id .*\n +2 +finished .*frozen \"ρ=0.5\" it's\n$" "" runs list ${db})
expect(2 "" "^tfreeze: error: history.sqlite: no run with id 1; nothing was deleted\n" runs delete ${db} 1)
make_fixture(two-runs.sqlite)
expect(0 "^deleted run 2\ndeleted run 1\n$" "" runs delete --db two-runs.sqlite 2 1)
expect(0 "^no runs in two-runs.sqlite\n$" "" runs list --db two-runs.sqlite)
expect(0 "" "" export plan ${db} 1 --out engine-plan.json)

# Refused files stay as they were.
make_fixture(newer.sqlite 4)
file(SHA256 "${WORK_DIR}/newer.sqlite" before)
expect(2 "" "^tfreeze: error: newer.sqlite: user_version: schema version 4 is newer than this tfreeze understands \\(3\\)"
    runs list --db newer.sqlite)
expect(2 "" "schema version 4 is newer" runs delete --db newer.sqlite 1)
expect(2 "" "schema version 4 is newer" runs rename --db newer.sqlite 1 x)
expect(2 "" "schema version 4 is newer" runs notes --db newer.sqlite 1 x)
expect(2 "" "schema version 4 is newer" plan --profile ${DATA}/cli/tiny-1f1b.json --db newer.sqlite)
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

# A damaged file (a bad disk, a copy cut short) is bad input, exit code 2, named with what to do,
# and left as it was: every command, reading or writing. Page 2 onwards overwritten; cut to 20,000
# bytes; cut inside the header page.
set(damagedMessage "^tfreeze: error: damaged.sqlite: cannot (read|write): database disk image is malformed \\(the run database is damaged; tfreeze left it as it is. `sqlite3 damaged.sqlite .recover")
make_fixture(pristine.sqlite)
expect(0 "^pristine.sqlite: no problems found \\(2 runs, schema version 3\\)\n$" "" runs check --db pristine.sqlite)
expect(2 "" "^tfreeze: error: absent.sqlite: no such run database" runs check --db absent.sqlite)
# Damage that reading the runs does not meet (a page of spans): runs list works, runs check finds it.
execute_process(COMMAND "${FIXTURE}" --damage pristine.sqlite spans-damaged.sqlite 150000 1000
    WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE exitCode)
if(NOT exitCode STREQUAL "0")
    message(FATAL_ERROR "make_store_fixture --damage: exit code ${exitCode}")
endif()
expect(0 "frozen" "" runs list --db spans-damaged.sqlite)
expect(2 "\n  On tree page [0-9]+ cell [0-9]+: " "^tfreeze: error: spans-damaged.sqlite: integrity check: [1-9][0-9]* problems, listed above"
    runs check --db spans-damaged.sqlite)
foreach(damage "4096;2000" "20000" "100")
    execute_process(COMMAND "${FIXTURE}" --damage pristine.sqlite damaged.sqlite ${damage} WORKING_DIRECTORY "${WORK_DIR}"
        RESULT_VARIABLE exitCode)
    if(NOT exitCode STREQUAL "0")
        message(FATAL_ERROR "make_store_fixture --damage ${damage}: exit code ${exitCode}")
    endif()
    file(SHA256 "${WORK_DIR}/damaged.sqlite" before)
    set(damaged --db damaged.sqlite)
    expect(2 "" "${damagedMessage}" runs list ${damaged})
    expect(2 "" "${damagedMessage}" runs show ${damaged} 2)
    expect(2 "" "${damagedMessage}" runs compare ${damaged} 1 2)
    expect(2 "" "${damagedMessage}" runs rename ${damaged} 1 renamed)
    expect(2 "" "${damagedMessage}" runs notes ${damaged} 1 noted)
    expect(2 "" "${damagedMessage}" runs delete ${damaged} 1)
    expect(2 "" "${damagedMessage}" export metrics ${damaged} 2 --out none.csv)
    expect(2 "" "${damagedMessage}" export trace ${damaged} 2 --out none.json)
    # The check reads every page: it finds what the commands above may not touch.
    expect(2 "" "^tfreeze: error: damaged.sqlite: (integrity check: [1-9][0-9]* problems?, listed above|cannot read: database disk image is malformed) \\(the run database is damaged"
        runs check ${damaged})
    if(NOT damage STREQUAL "4096;2000") # the offline plan's rows lie outside that damage: it is written
        expect(2 "" "${damagedMessage}" plan --profile ${DATA}/cli/tiny-1f1b.json ${damaged})
    endif()
    file(SHA256 "${WORK_DIR}/damaged.sqlite" after)
    if(NOT before STREQUAL after)
        message(FATAL_ERROR "damaged.sqlite (${damage}) was altered by a refused command")
    endif()
endforeach()
if(EXISTS "${WORK_DIR}/none.csv" OR EXISTS "${WORK_DIR}/none.json")
    message(FATAL_ERROR "a command refused for a damaged database wrote a file")
endif()

# A path that is not a regular file is refused before SQLite opens it: no I/O error, no stray
# "-journal" beside it, and a FIFO does not block the command.
execute_process(COMMAND mkfifo fifo.sqlite WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE exitCode)
if(exitCode STREQUAL "0")
    # Not through expect(): a blocked open must fail the test in seconds, not at ctest's timeout.
    execute_process(COMMAND "${TFREEZE}" runs list --db fifo.sqlite WORKING_DIRECTORY "${WORK_DIR}" TIMEOUT 30
        RESULT_VARIABLE exitCode ERROR_VARIABLE stderr)
    if(NOT exitCode STREQUAL "2" OR NOT stderr MATCHES "^tfreeze: error: fifo.sqlite: is a FIFO \\(named pipe\\), not a run database")
        message(FATAL_ERROR "runs list --db fifo.sqlite: exit code ${exitCode}, stderr \"${stderr}\"")
    endif()
    expect(2 "" "^tfreeze: error: fifo.sqlite: is a FIFO" runs rename --db fifo.sqlite 1 x)
    expect(2 "" "^tfreeze: error: fifo.sqlite: is a FIFO" plan --profile ${DATA}/cli/tiny-1f1b.json --db fifo.sqlite)
    if(EXISTS "${WORK_DIR}/fifo.sqlite-journal" OR EXISTS "${WORK_DIR}/fifo.sqlite-wal")
        message(FATAL_ERROR "a refused FIFO got a journal beside it")
    endif()
endif()
