# Tests of the run-history commands (runs, export plan|metrics, bench store, plan --db).
set(storeCliDir "${CMAKE_CURRENT_BINARY_DIR}/store_cli")
file(MAKE_DIRECTORY "${storeCliDir}")

tfreeze_add_cli_test(runs_help EXIT 0 STDOUT "list.*show.*delete.*rename.*notes.*compare" ARGS runs --help)
tfreeze_add_cli_test(runs_rename_help EXIT 0 STDOUT "ID.*NAME.*--db" ARGS runs rename --help)
tfreeze_add_cli_test(runs_notes_help EXIT 0 STDOUT "ID.*TEXT.*--db" ARGS runs notes --help)
tfreeze_add_cli_test(runs_rename_missing_name EXIT 2 STDERR "^tfreeze: error: .*NAME" ARGS runs rename 1
    --db ${storeCliDir}/x.sqlite)
tfreeze_add_cli_test(runs_list_help EXIT 0 STDOUT "--db.*--status.*--limit" ARGS runs list --help)
tfreeze_add_cli_test(export_plan_help EXIT 0 STDOUT "--format.*--out" ARGS export plan --help)
tfreeze_add_cli_test(bench_store_help EXIT 0 STDOUT "--spans.*--repeat.*--steps.*--queries" ARGS bench store --help)
tfreeze_add_cli_test(plan_help_db EXIT 0 STDOUT "--db" ARGS plan --help)

# A database that does not exist: listing it is not an error, and creates nothing.
tfreeze_add_cli_test(runs_list_no_database EXIT 0 STDOUT "^no runs \\(.*/store_cli/missing.sqlite does not exist yet\\)"
    ARGS runs list --db ${storeCliDir}/missing.sqlite)
tfreeze_add_cli_test(runs_show_no_database EXIT 2 STDERR "^tfreeze: error: .*/missing.sqlite: no such run database"
    ARGS runs show 1 --db ${storeCliDir}/missing.sqlite)
tfreeze_add_cli_test(runs_list_not_a_database EXIT 2
    STDERR "^tfreeze: error: .*/not-a-database.sqlite: not an SQLite database"
    ARGS runs list --db ${TFREEZE_CLI_DATA}/store/not-a-database.sqlite)
# A --db that exists and is not a regular file (the FIFO is in store_cli_scenario.cmake): refused
# before SQLite opens it, which fails with an I/O error and leaves a "-journal" beside it.
tfreeze_add_cli_test(runs_list_device EXIT 2
    STDERR "^tfreeze: error: /dev/null: is a character device, not a run database \\(which is a regular file\\); it was left unchanged\n$"
    ARGS runs list --db /dev/null)
tfreeze_add_cli_test(runs_rename_device EXIT 2 STDERR "^tfreeze: error: /dev/null: is a character device"
    ARGS runs rename 1 x --db /dev/null)
tfreeze_add_cli_test(plan_db_device EXIT 2 STDERR "^tfreeze: error: /dev/null: is a character device"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/cli/tiny-1f1b.json --db /dev/null)
tfreeze_add_cli_test(runs_list_folder EXIT 2 STDERR "^tfreeze: error: .*/store_cli: is a folder, not a run database"
    ARGS runs list --db ${storeCliDir})
tfreeze_add_cli_test(runs_show_bad_id EXIT 2 STDERR "^tfreeze: error: .*ID" ARGS runs show x1 --db ${storeCliDir}/x.sqlite)
tfreeze_add_cli_test(runs_list_zero_limit EXIT 2 STDERR "^tfreeze: error: .*--limit" ARGS runs list --limit 0)
tfreeze_add_cli_test(bench_store_small EXIT 0
    STDOUT "spans written per second .*median of 2 runs.*run 2, load average [0-9.]+ to [0-9.]+ on [0-9]+ CPUs.*database bytes per 1,000 steps.*one step's spans, mean .*spans per query \\(check\\) +64\\.0"
    ARGS bench store --spans 6400 --repeat 2 --steps 2000 --queries 20 --dir ${storeCliDir}/bench)

# --dir must be a folder tfreeze can make and write in.
tfreeze_add_cli_test(bench_store_dir_not_a_folder EXIT 2 STDERR "^tfreeze: error: --dir: /dev/full exists and is not a folder\n$"
    ARGS bench store --dir /dev/full --spans 64 --steps 1 --queries 1 --repeat 1)
tfreeze_add_cli_test(bench_store_dir_under_a_file EXIT 2
    STDERR "^tfreeze: error: --dir: cannot create the folder /dev/full/bench: Not a directory\n$"
    ARGS bench store --dir /dev/full/bench --spans 64 --steps 1 --queries 1 --repeat 1)

add_test(NAME cli_store_scenario
    COMMAND ${CMAKE_COMMAND} -DTFREEZE=$<TARGET_FILE:tfreeze> -DFIXTURE=$<TARGET_FILE:make_store_fixture>
            -DDATA=${TFREEZE_CLI_DATA} -DWORK_DIR=${storeCliDir}/scenario
            -P ${CMAKE_CURRENT_SOURCE_DIR}/store_cli_scenario.cmake)
set_tests_properties(cli_store_scenario PROPERTIES TIMEOUT 600 LABELS cli)
tfreeze_set_test_environment(cli_store_scenario)
