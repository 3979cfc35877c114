# Tests of tfreeze train and bench train (the LibTorch engine) on tiny configs in tests/data/engine.
if(NOT TFREEZE_ENGINE)
    return()
endif()
set(trainCliDir "${CMAKE_CURRENT_BINARY_DIR}/train_cli")
file(MAKE_DIRECTORY "${trainCliDir}")
set(engineData "${TFREEZE_CLI_DATA}/engine")

# tfreeze_add_train_cli_test: tfreeze_add_cli_test with the engine's label and time-out (a
# function, not a macro: a macro would evaluate the regexes' escapes twice).
function(tfreeze_add_train_cli_test name)
    tfreeze_add_cli_test(${name} ${ARGN})
    set_tests_properties(cli_${name} PROPERTIES TIMEOUT 300 LABELS engine)
    set_property(TEST cli_${name} APPEND PROPERTY ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endfunction()

tfreeze_add_train_cli_test(train_help EXIT 0
    STDOUT "--config.*--steps.*--freezer.*--max-freeze.*--db.*--out.*--resume" ARGS train --help)
# The engine's commands run in tfreeze-engine; tfreeze hands them over (help_lists_engine_commands
# in cli_tests.cmake: it lists them).
add_test(NAME cli_engine_split
    COMMAND ${CMAKE_COMMAND} -DTFREEZE=$<TARGET_FILE:tfreeze> -DTFREEZE_ENGINE_EXE=$<TARGET_FILE:tfreeze-engine>
            -DOBJDUMP=${CMAKE_OBJDUMP} -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/cli_engine_split
            -P ${CMAKE_CURRENT_SOURCE_DIR}/engine_split_scenario.cmake)
set_tests_properties(cli_engine_split PROPERTIES TIMEOUT 120 LABELS cli)
tfreeze_set_test_environment(cli_engine_split)

tfreeze_add_train_cli_test(bench_train_help EXIT 0 STDOUT "--config.*--steps.*--freezers.*--json.*--overhead"
    ARGS bench train --help)

# Bad input: exit 2 naming the key, file or flag.
tfreeze_add_train_cli_test(train_unknown_key EXIT 2
    STDERR "^tfreeze: error: .*bad-unknown-key.json: model.widht: unknown key"
    ARGS train --config ${engineData}/bad-unknown-key.json)
tfreeze_add_train_cli_test(train_out_of_range EXIT 2
    STDERR "^tfreeze: error: .*bad-out-of-range.json: optimizer.lr: must be"
    ARGS train --config ${engineData}/bad-out-of-range.json)
tfreeze_add_train_cli_test(train_missing_config EXIT 2 STDERR "^tfreeze: error: .*/no-such-config.json: cannot open file"
    ARGS train --config ${engineData}/no-such-config.json)
tfreeze_add_train_cli_test(train_missing_corpus EXIT 2
    STDERR "^tfreeze: error: .*/bad-missing-corpus.json: data.path: .*/no-such-corpus.txt: no such file\n$"
    ARGS train --config ${engineData}/bad-missing-corpus.json)
tfreeze_add_train_cli_test(train_bad_freezer EXIT 2 STDERR "^tfreeze: error: --freezer: unknown freezer \"frozen\""
    ARGS train --config ${engineData}/tiny-1f1b.json --freezer frozen)
# An output folder that cannot be made (a file stands in its path): exit 2 with the reason, before any step.
tfreeze_add_train_cli_test(train_out_not_creatable EXIT 2
    STDERR "^tfreeze: error: .*/tiny-1f1b.json/out: cannot create the output folder: Not a directory\n$"
    ARGS train --config ${engineData}/tiny-1f1b.json --out ${engineData}/tiny-1f1b.json/out)
tfreeze_add_train_cli_test(train_max_freeze_above_one EXIT 2
    STDERR "^tfreeze: error: --max-freeze: \"1.5\" is not a number in \\[0, 1\\]"
    ARGS train --config ${engineData}/tiny-1f1b.json --max-freeze 1.5)
tfreeze_add_train_cli_test(train_comm_timeout_zero EXIT 2 STDERR "--comm-timeout: Value 0 not in range 1 to 3600"
    ARGS train --config ${engineData}/tiny-1f1b.json --comm-timeout 0)
# Inputs read as the run starts and outputs written at its end are checked before its first step.
tfreeze_add_train_cli_test(train_init_from_missing EXIT 2
    STDERR "^tfreeze: error: --init: no checkpoint in .*/no-such-checkpoint"
    ARGS train --config ${engineData}/tiny-1f1b.json --init ${engineData}/no-such-checkpoint)
tfreeze_add_train_cli_test(train_config_init_from_missing EXIT 2
    STDERR "^tfreeze: error: .*/bad-missing-init.json: init_from: no checkpoint in .*/no-such-checkpoint"
    ARGS train --config ${engineData}/bad-missing-init.json)
tfreeze_add_train_cli_test(train_summary_json_no_folder EXIT 2
    STDERR "^tfreeze: error: --summary-json: .*/no-such-folder/s.json: cannot write file: No such file or directory\n$"
    ARGS train --config ${engineData}/tiny-1f1b.json --summary-json ${trainCliDir}/no-such-folder/s.json)
tfreeze_add_train_cli_test(bench_train_json_is_a_folder EXIT 2
    STDERR "^tfreeze: error: --json: .*: cannot write file: Is a directory\n$"
    ARGS bench train --config ${engineData}/tiny-1f1b.json --steps 1 --json ${trainCliDir})
tfreeze_add_train_cli_test(train_progress_every_zero EXIT 2
    STDERR "^tfreeze: error: --progress-every: \"0\" is not a whole number >= 1\n$"
    ARGS train --config ${engineData}/tiny-1f1b.json --progress-every 0)
tfreeze_add_train_cli_test(train_checkpoint_without_out EXIT 2 STDERR "^tfreeze: error: --out: checkpoint_interval"
    ARGS train --config ${engineData}/tiny-checkpoint.json)
# Every name is checked before the first run starts (nothing on stderr but the error).
tfreeze_add_train_cli_test(bench_train_bad_freezer EXIT 2 STDERR "^tfreeze: error: --freezers: unknown freezer \"fast\""
    ARGS bench train --config ${engineData}/tiny-1f1b.json --steps 1 --freezers none,fast)

# Working runs (no database: the tiny configs set output.db to "").
tfreeze_add_train_cli_test(train_tiny EXIT 0
    STDOUT "step 1/4 .*step 4/4  loss [0-9.]+ .*final: validation loss [0-9.]+, perplexity [0-9.]+, token accuracy"
    ARGS train --config ${engineData}/tiny-1f1b.json)
tfreeze_add_train_cli_test(bench_train_tiny EXIT 0 STDOUT "freezer .*\n *none .*\n *timelyfreeze "
    ARGS bench train --config ${engineData}/tiny-1f1b.json --steps 3 --freezers none,timelyfreeze)
# Two rounds of steps taking turns with the timing off and on (after 4 warm-up steps, 8 steps: 4
# off, 4 on), and the median over the rounds; too few steps for one of each: exit 2 naming --steps.
tfreeze_add_train_cli_test(bench_train_overhead EXIT 0
    STDOUT "2 rounds of 12 steps.*\n *1 +4 / 4 +[0-9.]+ +[0-9.]+ +[-+][0-9.]+%\n *2 +4 / 4 .*%\noverhead of timing: [-+][0-9.]+% of step time \\(median over 2 rounds"
    ARGS bench train --config ${engineData}/tiny-1f1b.json --steps 12 --overhead --repeats 2)
tfreeze_add_train_cli_test(bench_train_overhead_with_freezers EXIT 2 STDERR "^tfreeze: error: --freezers excludes --overhead"
    ARGS bench train --config ${engineData}/tiny-1f1b.json --overhead --freezers none,apf)
tfreeze_add_train_cli_test(bench_train_overhead_too_few_steps EXIT 2
    STDERR "^tfreeze: error: --steps: the timing overhead needs at least 6 steps \\(got 5\\)"
    ARGS bench train --config ${engineData}/tiny-1f1b.json --steps 5 --overhead)

if(TFREEZE_GLOO_INCLUDE_DIR)
    set(scenarioGloo ON)
else()
    set(scenarioGloo OFF)
endif()
add_test(NAME cli_train_scenario
    COMMAND ${CMAKE_COMMAND} -DTFREEZE=$<TARGET_FILE:tfreeze> -DDATA=${TFREEZE_CLI_DATA}
            -DWORK_DIR=${trainCliDir}/scenario -DGLOO=${scenarioGloo} -P ${CMAKE_CURRENT_SOURCE_DIR}/train_cli_scenario.cmake)
tfreeze_set_test_environment(cli_train_scenario)
set_tests_properties(cli_train_scenario PROPERTIES TIMEOUT 300 LABELS engine)
# Torch's OpenMP threads spin when idle by default: slow on a shared 2-core machine.
set_property(TEST cli_train_scenario APPEND PROPERTY ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")

# CUDA on a CPU build: a clear error naming where "cuda" came from, the flag or the config's
# device, not a crash.
if(NOT TFREEZE_CUDA STREQUAL "ON")
    tfreeze_add_train_cli_test(train_cuda_on_cpu_build EXIT 2
        STDERR "^tfreeze: error: --device: \"cuda\": (this build of tfreeze runs on the CPU only|no CUDA device)"
        ARGS train --config ${engineData}/tiny-1f1b.json --device cuda)
    tfreeze_add_train_cli_test(train_config_cuda_on_cpu_build EXIT 2
        STDERR "^tfreeze: error: .*/tiny-cuda.json: device: \"cuda\": (this build of tfreeze runs on the CPU only|no CUDA device)"
        ARGS train --config ${engineData}/tiny-cuda.json)
    tfreeze_add_train_cli_test(bench_train_cuda_on_cpu_build EXIT 2
        STDERR "\ntfreeze: error: --device: \"cuda\": (this build of tfreeze runs on the CPU only|no CUDA device)"
        ARGS bench train --config ${engineData}/tiny-1f1b.json --device cuda --freezers none)
endif()
# tfreeze doctor: the build's capabilities and a world-size-1 collective check over Gloo.
if(TFREEZE_GLOO_INCLUDE_DIR)
    tfreeze_add_train_cli_test(doctor_gloo EXIT 0
        STDOUT "c10d backends: gloo.*rank 0 of 1 over gloo.*all-reduce \\(sum\\): ok.*broadcast from rank 0: ok.*all-gather: ok"
        ARGS doctor --backend gloo --rounds 2)
    set_property(TEST cli_doctor_gloo APPEND PROPERTY ENVIRONMENT "MASTER_PORT=29731")
endif()
tfreeze_add_train_cli_test(doctor_bad_backend EXIT 2 STDERR "^tfreeze: error: --backend: mpi not in \\{gloo,nccl\\}"
    ARGS doctor --backend mpi)

# tfreeze launch: one process per pipeline rank on loopback (c10d Gloo).
if(TFREEZE_GLOO_INCLUDE_DIR)
    tfreeze_add_train_cli_test(launch_doctor EXIT 0
        STDOUT "rank [01] of 2 over gloo.*send/receive ring: ok.*rank [01] of 2 over gloo"
        ARGS launch --nproc 2 -- doctor --backend gloo --rounds 2)
    tfreeze_add_train_cli_test(launch_train_two_processes EXIT 0
        STDOUT "rank 0 of 2: waiting for the others.*step 4/4.*final: validation loss"
        ARGS launch --nproc 2 -- train --config ${engineData}/tiny-1f1b.json)
    # Every rank rejects the job (3 processes for a 2-rank schedule): the launcher forwards the code.
    tfreeze_add_train_cli_test(launch_world_size_mismatch EXIT 2
        STDERR "WORLD_SIZE: a multi-process run needs one process per pipeline rank.*tfreeze launch: failed: rank [0-2] \\(pid [0-9]+\\) exited with code 2"
        ARGS launch --nproc 3 -- train --config ${engineData}/tiny-1f1b.json)
    # A hung rank: the launcher ends it, and nothing outlives the launcher.
    add_test(NAME cli_launch_no_orphans
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/launch_no_orphans.sh $<TARGET_FILE:tfreeze>
                ${engineData}/tiny-1f1b.json ${trainCliDir}/no_orphans)
    tfreeze_set_test_environment(cli_launch_no_orphans)
    set_tests_properties(cli_launch_no_orphans PROPERTIES TIMEOUT 300 LABELS engine)
    set_property(TEST cli_launch_no_orphans APPEND PROPERTY ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
endif()
tfreeze_add_train_cli_test(launch_without_command EXIT 2 STDERR "^tfreeze: error: command is required"
    ARGS launch --nproc 2)
