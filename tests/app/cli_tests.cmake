# Tests of the tfreeze command line: exit code and message together (see check_cli.cmake).
set(TFREEZE_CLI_DATA "${CMAKE_CURRENT_SOURCE_DIR}/../data")

# tfreeze_add_cli_test(<name> EXIT <code> [STDOUT <regex>] [STDERR <regex>] ARGS <tfreeze arguments>...)
function(tfreeze_add_cli_test name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXIT;STDOUT;STDERR" "ARGS")
    set(definitions "-DEXPECT_EXIT=${arg_EXIT}")
    if(DEFINED arg_STDOUT)
        list(APPEND definitions "-DEXPECT_STDOUT=${arg_STDOUT}")
    endif()
    if(DEFINED arg_STDERR)
        list(APPEND definitions "-DEXPECT_STDERR=${arg_STDERR}")
    endif()
    add_test(NAME cli_${name}
        COMMAND ${CMAKE_COMMAND} ${definitions} -P ${CMAKE_CURRENT_SOURCE_DIR}/check_cli.cmake
                -- $<TARGET_FILE:tfreeze> ${arg_ARGS})
    set_tests_properties(cli_${name} PROPERTIES TIMEOUT 120 LABELS cli)
    tfreeze_set_test_environment(cli_${name})
endfunction()

set(tiny "${TFREEZE_CLI_DATA}/cli/tiny-1f1b.json")

# Help on every command, exit 0.
tfreeze_add_cli_test(help EXIT 0 STDOUT "simulate.*plan.*bench" ARGS --help)
tfreeze_add_cli_test(simulate_help EXIT 0 STDOUT "--schedule.*--bwd-input-ms" ARGS simulate --help)
tfreeze_add_cli_test(plan_help EXIT 0 STDOUT "--profile.*--max-freeze.*--stage-max-freeze.*--basis" ARGS plan --help)
tfreeze_add_cli_test(bench_plan_help EXIT 0 STDOUT "60 to 16,384 actions.*--max-actions.*--repeats" ARGS bench plan --help)
# --jitter's help, its messages and the core agree on the range: 1 would scale a time to 0.
tfreeze_add_cli_test(simulate_help_jitter EXIT 0 STDOUT "--jitter FLOAT:\\[0,1\\)" ARGS simulate --help)
tfreeze_add_cli_test(bench_replan_help EXIT 0 STDOUT "--max-actions.*--profiles" ARGS bench replan --help)
# --version: tfreeze's and the solver's and store's library versions, for a bug report.
tfreeze_add_cli_test(version EXIT 0 STDOUT "^tfreeze ${PROJECT_VERSION}\nlp_solve 5\.5\.[0-9.]+\nSQLite 3\.[0-9.]+\nLibTorch"
    ARGS --version)

# Flags the parser rejects: exit 2 with tfreeze's prefix.
tfreeze_add_cli_test(no_command EXIT 2
    STDERR "^tfreeze: error: tfreeze needs a subcommand: simulate, plan, bench, runs, export, import, .*launch\n$" ARGS)
# A mistyped command is named, with the commands there are at that level.
tfreeze_add_cli_test(unknown_command EXIT 2
    STDERR "^tfreeze: error: \"simulat\" is not a command of tfreeze \\(its commands: simulate, plan, bench, .*\\)\n$"
    ARGS simulat --ranks 2)
tfreeze_add_cli_test(unknown_group_command EXIT 2
    STDERR "^tfreeze: error: \"lst\" is not a command of tfreeze runs \\(its commands: list, show, delete, rename, notes, compare, check\\)\n$"
    ARGS runs lst)
tfreeze_add_cli_test(group_without_command EXIT 2
    STDERR "^tfreeze: error: tfreeze bench needs a subcommand: plan, replan, store.*\n$" ARGS bench)
tfreeze_add_cli_test(unknown_flag EXIT 2 STDERR "^tfreeze: error: .*--no-such-flag"
    ARGS simulate --schedule 1F1B --ranks 4 --microbatches 8 --no-such-flag)
tfreeze_add_cli_test(not_a_number EXIT 2 STDERR "^tfreeze: error: .*--ranks"
    ARGS simulate --schedule 1F1B --ranks four --microbatches 8)
tfreeze_add_cli_test(nan_duration EXIT 2 STDERR "^tfreeze: error: --bwd-ms: \"nan\" is not a finite number"
    ARGS simulate --schedule 1F1B --ranks 4 --microbatches 8 --bwd-ms nan)
tfreeze_add_cli_test(simulate_zero_processors EXIT 2 STDERR "^tfreeze: error: .*--processors"
    ARGS simulate --schedule 1F1B --ranks 4 --microbatches 8 --processors 0)
# On one shared processor the batch is the total work: 2 ranks × 2 microbatches × (1 + 2) ms, and
# (1 + 1) ms per pair with everything frozen.
tfreeze_add_cli_test(simulate_one_processor EXIT 0
    STDOUT "sharing 1 processor.*no freezing +12\\.000 .*all frozen +8\\.000 "
    ARGS simulate --schedule GPipe --ranks 2 --microbatches 2 --processors 1)
tfreeze_add_cli_test(max_freeze_above_one EXIT 2
    STDERR "^tfreeze: error: --max-freeze: \"1.5\" is not a number in \\[0, 1\\]"
    ARGS plan --profile ${tiny} --max-freeze 1.5)
tfreeze_add_cli_test(stage_max_freeze_below_zero EXIT 2 STDERR "^tfreeze: error: --stage-max-freeze: \"-0.1\""
    ARGS plan --profile ${tiny} --stage-max-freeze=0.5,-0.1)
tfreeze_add_cli_test(negative_progress_every EXIT 2 STDERR "^tfreeze: error: --progress-every: "
    ARGS plan --profile ${tiny} --progress-every=-1)
tfreeze_add_cli_test(jitter_one EXIT 2 STDERR "^tfreeze: error: --jitter: \"1\" is not a number in \\[0, 1\\)"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --jitter 1)
tfreeze_add_cli_test(jitter_negative EXIT 2 STDERR "^tfreeze: error: --jitter: \"-0.5\" is not a number in \\[0, 1\\)"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --jitter=-0.5)
# Durations above the planner's limit (1e9 ms): simulate printed a batch of inf and wrote the profile.
tfreeze_add_cli_test(duration_above_limit EXIT 2
    STDERR "^tfreeze: error: --fwd-ms: \"1e308\" is not a finite number of ms in \\[0, 1e9\\]"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --fwd-ms 1e308 --bwd-ms 1e308
         --out ${CMAKE_CURRENT_BINARY_DIR}/never-written.json)
tfreeze_add_cli_test(jittered_duration_above_limit EXIT 2
    STDERR "^tfreeze: error: --bwd-ms: values times \\(1 \\+ --jitter 0\\.5\\) must be at most 1e\\+09 ms"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --bwd-ms 9e8 --jitter 0.5)
# The list flags: CLI11's delimiter dropped the empty entry, so "1,,2" read as two stages.
tfreeze_add_cli_test(empty_list_entry EXIT 2 STDERR "^tfreeze: error: --fwd-ms: \"1,,2\" has an empty entry"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --fwd-ms 1,,2)
tfreeze_add_cli_test(empty_stage_bound EXIT 2 STDERR "^tfreeze: error: --stage-max-freeze: \"0.5,\" has an empty entry"
    ARGS plan --profile ${tiny} --stage-max-freeze 0.5,)
# A split backward's frozen time includes I, which freezing cannot skip: it was clamped silently.
tfreeze_add_cli_test(frozen_below_input EXIT 2
    STDERR "^tfreeze: error: --bwd-frozen-ms: a frozen backward of 1 ms is shorter than its input gradient I, 1\\.5 ms \\(--bwd-input-ms\\)"
    ARGS simulate --schedule ZBH1 --ranks 2 --microbatches 2 --bwd-input-ms 1.5 --bwd-frozen-ms 1)
tfreeze_add_cli_test(frozen_below_default_input EXIT 2
    STDERR "^tfreeze: error: --bwd-frozen-ms: .* 1 ms \\(--bwd-input-ms, by default half of --bwd-ms\\)"
    ARGS simulate --schedule ZBV --ranks 2 --microbatches 2 --bwd-frozen-ms 0.5)
tfreeze_add_cli_test(input_time_without_split EXIT 2
    STDERR "^tfreeze: error: --bwd-input-ms: only the schedules with a split backward \\(ZBH1, ZBV\\) take it; 1F1B"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --bwd-input-ms 1)
# simulate's shape errors name the flag the user typed, not a profile's "schedule" field.
tfreeze_add_cli_test(zero_ranks_names_flag EXIT 2 STDERR "^tfreeze: error: --ranks: ranks must be at least 1 \\(got 0\\)"
    ARGS simulate --schedule 1F1B --ranks 0 --microbatches 8)
tfreeze_add_cli_test(zbv_microbatches_names_flag EXIT 2 STDERR "^tfreeze: error: --microbatches: ZBV needs microbatches"
    ARGS simulate --schedule ZBV --ranks 4 --microbatches 2)
tfreeze_add_cli_test(max_freeze_excludes_stage_max_freeze EXIT 2 STDERR "^tfreeze: error: .*excludes"
    ARGS plan --profile ${tiny} --max-freeze 0.5 --stage-max-freeze 0.5,0.5)

# Bad values that the core rejects: exit 2 naming the flag or file and the field.
tfreeze_add_cli_test(unknown_schedule EXIT 2 STDERR "^tfreeze: error: --schedule: unknown schedule \"Foo\""
    ARGS simulate --schedule Foo --ranks 4 --microbatches 8)
tfreeze_add_cli_test(zero_ranks EXIT 2 STDERR "^tfreeze: error: .*ranks must be at least 1"
    ARGS simulate --schedule 1F1B --ranks 0 --microbatches 8)
tfreeze_add_cli_test(interleaved_microbatches EXIT 2 STDERR "^tfreeze: error: .*microbatches: .*multiple of ranks"
    ARGS simulate --schedule Interleaved1F1B --ranks 4 --microbatches 6)
tfreeze_add_cli_test(zbv_microbatches EXIT 2 STDERR "^tfreeze: error: .*microbatches: ZBV needs microbatches"
    ARGS simulate --schedule ZBV --ranks 4 --microbatches 2)
tfreeze_add_cli_test(per_stage_cost_count EXIT 2 STDERR "^tfreeze: error: --fwd-ms"
    ARGS simulate --schedule 1F1B --ranks 4 --microbatches 8 --fwd-ms 1,2,3)
tfreeze_add_cli_test(too_many_actions EXIT 2 STDERR "^tfreeze: error: .*at most 4000000"
    ARGS simulate --schedule 1F1B --ranks 100000 --microbatches 100000)
tfreeze_add_cli_test(unwritable_profile EXIT 2 STDERR "^tfreeze: error: .*/no-such-dir/profile.json: cannot write file"
    ARGS simulate --schedule 1F1B --ranks 2 --microbatches 2 --out ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir/profile.json)
tfreeze_add_cli_test(missing_profile EXIT 2 STDERR "^tfreeze: error: .*/no-such-profile.json: cannot open file"
    ARGS plan --profile ${CMAKE_CURRENT_BINARY_DIR}/no-such-profile.json)
tfreeze_add_cli_test(profile_not_json EXIT 2 STDERR "^tfreeze: error: .*/not-json.json: not valid JSON"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/cli/not-json.json)
tfreeze_add_cli_test(profile_wrong_format EXIT 2
    STDERR "^tfreeze: error: .*/wrong-format.json: format: expected \"tfreeze-profile/1\""
    ARGS plan --profile ${TFREEZE_CLI_DATA}/cli/wrong-format.json)
tfreeze_add_cli_test(profile_missing_field EXIT 2
    STDERR "^tfreeze: error: .*/missing-max-ms.json: actions\\[2\\]\\.max_ms: is missing"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/cli/missing-max-ms.json)
tfreeze_add_cli_test(profile_negative_duration EXIT 2
    STDERR "^tfreeze: error: .*/negative-min-ms.json: actions\\[5\\]\\.min_ms: "
    ARGS plan --profile ${TFREEZE_CLI_DATA}/cli/negative-min-ms.json)
tfreeze_add_cli_test(profile_deadlock EXIT 2 STDERR "^tfreeze: error: .*/deadlock.json: .*cycle"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/cli/deadlock.json)
# A profile's durations above the limit: the LP took them for infinite ("infeasible", exit code 1).
tfreeze_add_cli_test(profile_duration_above_limit EXIT 2
    STDERR "^tfreeze: error: .*/duration-above-limit.json: actions\\[3\\]\\.max_ms: must be at most 1e\\+09 ms"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/profiles/bad/duration-above-limit.json)
tfreeze_add_cli_test(import_trace_duration_above_limit EXIT 2
    STDERR "^tfreeze: error: .*/trace-huge-dur.json: actions\\[3\\]\\.max_ms: must be at most 1e\\+09 ms"
    ARGS import trace ${TFREEZE_CLI_DATA}/cli/trace-huge-dur.json)
tfreeze_add_cli_test(profile_unknown_key EXIT 2 STDERR "^tfreeze: error: .*/unknown-key.json: procesors: unknown key"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/profiles/bad/unknown-key.json)
tfreeze_add_cli_test(profile_number_overflow EXIT 2
    STDERR "^tfreeze: error: .*/overflowing-max.json: not valid JSON: number overflow parsing '1e400' at line 6, column 69"
    ARGS plan --profile ${TFREEZE_CLI_DATA}/profiles/bad/overflowing-max.json)
tfreeze_add_cli_test(stage_max_freeze_count EXIT 2 STDERR "^tfreeze: error: --stage-max-freeze: expected 2 values"
    ARGS plan --profile ${tiny} --stage-max-freeze 0.5,0.5,0.5)

# Every malformed profile that the reader's tests use must also fail cleanly here, naming the file.
file(GLOB badProfiles CONFIGURE_DEPENDS "${TFREEZE_CLI_DATA}/profiles/bad/*.json")
foreach(profile IN LISTS badProfiles)
    get_filename_component(stem "${profile}" NAME_WLE)
    get_filename_component(fileName "${profile}" NAME)
    string(REGEX REPLACE "([][+.*?()^$|\\\\])" "\\\\\\1" fileNameRegex "${fileName}")
    string(MAKE_C_IDENTIFIER "${stem}" testStem)
    tfreeze_add_cli_test(bad_profile_${testStem} EXIT 2 STDERR "^tfreeze: error: .*${fileNameRegex}: "
        ARGS plan --profile ${profile})
endforeach()

# Working commands. 1F1B with uniform costs: (M + P − 1)(t_F + t_B) = 11 · 3 ms, idle 3/11.
tfreeze_add_cli_test(simulate_1f1b EXIT 0
    STDOUT "no freezing +33\\.000 +27\\.3 .*all frozen +22\\.000 +27\\.3"
    ARGS simulate --schedule 1f1b --ranks 4 --microbatches 8)
tfreeze_add_cli_test(simulate_zbv_default_stages EXIT 0 STDOUT "8 stages \\(2 per rank\\)"
    ARGS simulate --schedule ZBV --ranks 4 --microbatches 8 --jitter 0.1 --seed 2)
# The engine's commands are listed with or without the engine (app/tfreeze/engine_commands.h);
# without it they say what is missing.
tfreeze_add_cli_test(help_lists_engine_commands EXIT 0 STDOUT "\n  train +Train a model.*\n  doctor +Show the engine" ARGS --help)
tfreeze_add_cli_test(bench_help_lists_train EXIT 0 STDOUT "\n  train +Train the same config" ARGS bench --help)
if(NOT TFREEZE_ENGINE)
    tfreeze_add_cli_test(train_without_engine EXIT 1
        STDERR "^tfreeze: error: train needs the LibTorch engine, which this build leaves out \\(configure with -DTFREEZE_ENGINE=ON\\)"
        ARGS train --steps 1)
    tfreeze_add_cli_test(bench_train_without_engine EXIT 1 STDERR "^tfreeze: error: bench train needs the LibTorch engine"
        ARGS bench train)
endif()
tfreeze_add_cli_test(plan_tiny EXIT 0 STDOUT "no freeze .*planned .*all frozen .*solve time"
    ARGS plan --profile ${tiny} --max-freeze 0.5)
# A 64-action pipeline's target is 100 ms (cold / target depends on the machine and the build).
tfreeze_add_cli_test(bench_plan_smallest EXIT 0
    STDOUT "cold \\(ms\\) +cold pivots +target \\(ms\\) +cold / target .*\n1F1B +4 +8 +64 +117 +97 +[0-9.]+ +[1-9][0-9]* +100 +[0-9]+\\.[0-9][0-9] .*ZBV +2 +5 +60 "
    ARGS bench plan --max-actions 64 --repeats 1)
tfreeze_add_cli_test(bench_plan_nothing_fits EXIT 2 STDERR "^tfreeze: error: --max-actions: "
    ARGS bench plan --max-actions 10)
tfreeze_add_cli_test(bench_replan_nothing_fits EXIT 2
    STDERR "^tfreeze: error: --max-actions: the smallest pipeline has 64 actions" ARGS bench replan --max-actions 10)
# positiveInteger(): CLI::PositiveNumber said "Value 0 not in range 0.000000 to 1797...".
tfreeze_add_cli_test(bench_plan_zero_max_actions EXIT 2
    STDERR "^tfreeze: error: --max-actions: \"0\" is not a whole number >= 1" ARGS bench plan --max-actions 0)

# --basis: a file that is not a basis is bad input; the rest of its story in plan_basis_scenario.cmake.
tfreeze_add_cli_test(plan_basis_not_json EXIT 2 STDERR "^tfreeze: error: .*not-json.json: not valid JSON"
    ARGS plan --profile ${tiny} --basis ${TFREEZE_CLI_DATA}/cli/not-json.json)
tfreeze_add_cli_test(plan_basis_wrong_format EXIT 2
    STDERR "^tfreeze: error: .*tiny-1f1b.json: format: expected \"tfreeze-basis/1\""
    ARGS plan --profile ${tiny} --basis ${tiny})
tfreeze_add_cli_test(plan_basis_bad_shape EXIT 2
    STDERR "^tfreeze: error: .*basis-bad-shape.json: shape: must be 16 hexadecimal digits"
    ARGS plan --profile ${tiny} --basis ${TFREEZE_CLI_DATA}/cli/basis-bad-shape.json)
tfreeze_add_cli_test(plan_basis_bad_entry EXIT 2 STDERR "^tfreeze: error: .*basis-bad-entry.json: entries\\[2\\]: "
    ARGS plan --profile ${tiny} --basis ${TFREEZE_CLI_DATA}/cli/basis-bad-entry.json)
add_test(NAME cli_plan_basis
    COMMAND ${CMAKE_COMMAND} -DTFREEZE=$<TARGET_FILE:tfreeze> -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_plan_basis
            -P ${CMAKE_CURRENT_SOURCE_DIR}/plan_basis_scenario.cmake)
set_tests_properties(cli_plan_basis PROPERTIES TIMEOUT 120 LABELS cli)
tfreeze_set_test_environment(cli_plan_basis)
tfreeze_add_cli_test(bench_replan_smallest EXIT 0 STDOUT "1F1B +4 +8 +64 .*x .*1F1B +8 +16 +256 "
    ARGS bench replan --max-actions 256 --profiles 1)

add_test(NAME cli_simulate_plan_round_trip
    COMMAND ${CMAKE_COMMAND} -DTFREEZE=$<TARGET_FILE:tfreeze> -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_round_trip
            -P ${CMAKE_CURRENT_SOURCE_DIR}/cli_round_trip.cmake)
set_tests_properties(cli_simulate_plan_round_trip PROPERTIES TIMEOUT 120 LABELS cli)
tfreeze_set_test_environment(cli_simulate_plan_round_trip)

# A long plan's progress lines and its Ctrl-C (exit 130, nothing written).
add_test(NAME cli_plan_progress_interrupt
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/plan_progress_interrupt.sh $<TARGET_FILE:tfreeze>
            ${CMAKE_CURRENT_BINARY_DIR}/plan_progress_interrupt)
set_tests_properties(cli_plan_progress_interrupt PROPERTIES TIMEOUT 120 LABELS cli)
tfreeze_set_test_environment(cli_plan_progress_interrupt)
