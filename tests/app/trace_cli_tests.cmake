# Tests of `tfreeze import trace` (included by tests/app/CMakeLists.txt after cli_tests.cmake, whose
# tfreeze_add_cli_test it uses): exit code and message together.
set(traceData "${CMAKE_CURRENT_SOURCE_DIR}/../data/export")

tfreeze_add_cli_test(import_help EXIT 0 STDOUT "trace" ARGS import --help)
tfreeze_add_cli_test(import_trace_help EXIT 0 STDOUT "--out.*--frozen-fraction.*2F0, 1W3" ARGS import trace --help)
tfreeze_add_cli_test(import_without_subcommand EXIT 2 STDERR "^tfreeze: error: .*subcommand" ARGS import)
tfreeze_add_cli_test(import_trace_without_file EXIT 2 STDERR "^tfreeze: error: .*trace is required"
    ARGS import trace)
tfreeze_add_cli_test(import_trace_missing_file EXIT 2
    STDERR "^tfreeze: error: .*/no-such-trace\\.json: cannot open file: No such file or directory"
    ARGS import trace ${CMAKE_CURRENT_BINARY_DIR}/no-such-trace.json)
tfreeze_add_cli_test(import_trace_not_json EXIT 2 STDERR "^tfreeze: error: .*/bad-not-json\\.json: not valid JSON: "
    ARGS import trace ${traceData}/bad-not-json.json)
tfreeze_add_cli_test(import_trace_no_actions EXIT 2
    STDERR "^tfreeze: error: .*/bad-no-actions\\.json: traceEvents: no compute events: expected .*\\{stage\\}\\{F\\|B\\|I\\|W\\}\\{microbatch\\}, e\\.g\\. 2F0"
    ARGS import trace ${traceData}/bad-no-actions.json)
tfreeze_add_cli_test(import_trace_frozen_fraction_above_one EXIT 2 STDERR "^tfreeze: error: --frozen-fraction: \"1.5\""
    ARGS import trace ${traceData}/object-1f1b.json --frozen-fraction 1.5)
tfreeze_add_cli_test(import_trace_unwritable_out EXIT 2 STDERR "^tfreeze: error: .*/no-such-dir/profile\\.json: cannot write file"
    ARGS import trace ${traceData}/object-1f1b.json --out ${CMAKE_CURRENT_BINARY_DIR}/no-such-dir/profile.json)

# The summary of a good trace: P = 2, M = 2, 1F1B over two steps; the busy time of rank 0 is the
# sum of its four medians (1.1 + 1.1 + 2.2 + 2.2 ms).
tfreeze_add_cli_test(import_trace_summary EXIT 0
    STDOUT "2 ranks \\(one process each\\), 2 stages \\(1 per rank\\), 2 microbatches, 8 actions, 2 steps seen .* 0 +pid 7 +0 +4 +6\\.600"
    ARGS import trace ${traceData}/object-1f1b.json)
tfreeze_add_cli_test(import_trace_gzip EXIT 0 STDOUT "8 actions, 2 steps seen"
    ARGS import trace ${traceData}/gzip-named-json.json)
tfreeze_add_cli_test(import_trace_freeze_args EXIT 0 STDOUT "min_ms fitted from the freeze ratios"
    ARGS import trace ${traceData}/freeze-args.json)

# Every malformed trace of the import's tests fails here too, with exit code 2 and the file named.
file(GLOB badTraces CONFIGURE_DEPENDS "${traceData}/bad-*")
foreach(trace IN LISTS badTraces)
    get_filename_component(fileName "${trace}" NAME)
    string(REGEX REPLACE "([][+.*?()^$|\\\\])" "\\\\\\1" fileNameRegex "${fileName}")
    string(MAKE_C_IDENTIFIER "${fileName}" testStem)
    tfreeze_add_cli_test(import_trace_${testStem} EXIT 2 STDERR "^tfreeze: error: .*${fileNameRegex}: "
        ARGS import trace ${trace})
endforeach()

# import → plan: the imported profile is one that `tfreeze plan` accepts, and with freeze ratios in
# the trace the plan is faster than no freezing.
foreach(trace object-1f1b freeze-args)
    set(work "${CMAKE_CURRENT_BINARY_DIR}/import_trace_${trace}")
    set(speedUp none)
    if(trace STREQUAL "freeze-args")
        set(speedUp "^planned +[0-9.]+ +[1-9]")
    endif()
    add_test(NAME cli_import_trace_then_plan_${trace}
        COMMAND sh -c "set -e; rm -rf \"$3\"; mkdir -p \"$3\"; \"$0\" import trace \"$1\" --out \"$3/profile.json\"; \"$0\" plan --profile \"$3/profile.json\" --max-freeze 0.5 --out \"$3/plan.json\" | tee \"$3/plan.txt\"; grep -q '^planned ' \"$3/plan.txt\"; grep -q '\"format\": \"tfreeze-plan/1\"' \"$3/plan.json\"; test \"$2\" = none || grep -Eq \"$2\" \"$3/plan.txt\""
            $<TARGET_FILE:tfreeze> ${traceData}/${trace}.json
            "${speedUp}" "${work}")
    set_tests_properties(cli_import_trace_then_plan_${trace} PROPERTIES TIMEOUT 120 LABELS cli)
    tfreeze_set_test_environment(cli_import_trace_then_plan_${trace})
endforeach()
