# tfreeze train and bench train end to end on tiny configs (tests/data/engine): outputs in --out,
# recording in a run database, checkpoints and --resume, and bench train --json.
#   cmake -DTFREEZE=<tfreeze> -DDATA=<tests/data> -DWORK_DIR=<dir> [-DGLOO=ON] -P train_cli_scenario.cmake
# GLOO=ON: also checkpoints and --resume of a run in two processes (tfreeze launch).
cmake_minimum_required(VERSION 3.25)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(engine "${DATA}/engine")

include(${CMAKE_CURRENT_LIST_DIR}/expect_tfreeze.cmake)

# check_metrics(<file> <rows>): the header, one row per step 0..rows-1 in order, a phase on each.
function(check_metrics file rows)
    file(STRINGS "${file}" lines)
    list(LENGTH lines count)
    math(EXPR expected "${rows} + 1")
    if(NOT count EQUAL expected)
        message(FATAL_ERROR "${file}: ${count} lines, expected ${expected}:\n${lines}")
    endif()
    list(GET lines 0 header)
    if(NOT header MATCHES "^step,loss,val_loss,tokens_per_s,batch_ms,bubble,phase")
        message(FATAL_ERROR "${file}: header \"${header}\"")
    endif()
    math(EXPR last "${rows} - 1")
    foreach(step RANGE ${last})
        math(EXPR line "${step} + 1")
        list(GET lines ${line} row)
        if(NOT row MATCHES "^${step},[0-9.e+-]+,[0-9.e+-]*,[0-9.e+-]+,[0-9.e+-]+,[0-9.e+-]+,[a-z_]+")
            message(FATAL_ERROR "${file}: row of step ${step} is \"${row}\"")
        endif()
    endforeach()
    set(LAST_METRICS "${lines}" PARENT_SCOPE)
endfunction()

# A plain run: a progress line per step (4 steps), evaluations, the final line; metrics.csv.
expect(0 "^step 1/4  loss [0-9.]+  [0-9]+ tokens/s  bubble [0-9.]+%  phase stable  ETA [0-9]+m[0-9]+s\n.*eval at step 2: .*step 4/4 .*final: validation loss [0-9.]+"
    "" train --config ${engine}/tiny-1f1b.json --out plain)
check_metrics("${WORK_DIR}/plain/metrics.csv" 4)
if(EXISTS "${WORK_DIR}/plain/plan.json")
    message(FATAL_ERROR "freezer none wrote a plan.json")
endif()

# TimelyFreeze with short phases: the phases in order, a plan, plan.json and profile.json.
expect(0 "phase warmup .*phase monitor_max .*phase monitor_min .*plan \\(engine\\) from step 6: predicted batch .*phase ramp .*phase stable .*plan: predicted batch [0-9.]+ ms, realised [0-9.]+ ms"
    "" train --config ${engine}/tiny-timely.json --out timely)
check_metrics("${WORK_DIR}/timely/metrics.csv" 8)
list(GET LAST_METRICS 5 step4)
list(GET LAST_METRICS 8 step7)
if(NOT step4 MATCHES ",monitor_min" OR NOT step7 MATCHES ",stable")
    message(FATAL_ERROR "timely/metrics.csv: step 4 \"${step4}\", step 7 \"${step7}\"")
endif()
foreach(name plan.json profile.json)
    if(NOT EXISTS "${WORK_DIR}/timely/${name}")
        message(FATAL_ERROR "timely/${name} was not written")
    endif()
endforeach()
file(READ "${WORK_DIR}/timely/plan.json" planText)
string(JSON planFormat GET "${planText}" format)
file(READ "${WORK_DIR}/timely/profile.json" profileText)
string(JSON profileFormat GET "${profileText}" format)
if(NOT planFormat STREQUAL "tfreeze-plan/1" OR NOT profileFormat STREQUAL "tfreeze-profile/1")
    message(FATAL_ERROR "plan.json format \"${planFormat}\", profile.json format \"${profileFormat}\"")
endif()
# The profile the engine measured plans offline too.
expect(0 "planned " "" plan --profile timely/profile.json --max-freeze 0.5)

# --freezer and --max-freeze override the config; --db records the run.
expect(0 "run 1 recorded in history.sqlite.*final: " "" train --config ${engine}/tiny-1f1b.json --freezer timelyfreeze
    --max-freeze 0.5 --steps 3 --db history.sqlite --name "tiny recorded")
expect(0 "^ *id +status +steps.*\n +1 +finished +3 .*tiny recorded" "" runs list --db history.sqlite)
expect(0 "written to trace.json" "" export trace --db history.sqlite 1 --out trace.json)
file(READ "${WORK_DIR}/trace.json" traceText)
string(JSON eventCount LENGTH "${traceText}" traceEvents)
# 3 steps × (2 stages × 4 microbatches × 2 actions) = 48 spans at least.
if(eventCount LESS 48)
    message(FATAL_ERROR "trace.json has ${eventCount} events, fewer than the run's 48 actions")
endif()

# Checkpoints every 2 steps; a run of 4 steps resumes to 6 and the steps add up.
expect(0 "final: validation loss" "" train --config ${engine}/tiny-checkpoint.json --out straight)
check_metrics("${WORK_DIR}/straight/metrics.csv" 6)
expect(0 "step 4/4 .*final: " "" train --config ${engine}/tiny-checkpoint.json --steps 4 --out first)
if(NOT EXISTS "${WORK_DIR}/first/checkpoint/checkpoint.json")
    message(FATAL_ERROR "no checkpoint in first/checkpoint")
endif()
# (--steps 4 gave the first part a shorter learning-rate schedule: exact resumption is
# tst_trainingsession's; here the steps add up.) metrics.csv keeps the first part's rows.
expect(0 "resuming from .*first.* at step 5.*step 6/6 .*final: " "" train --config ${engine}/tiny-checkpoint.json
    --resume first --out first)
check_metrics("${WORK_DIR}/first/metrics.csv" 6)
# A resumed run that is already complete runs no step and records nothing; asked for fewer steps
# than its checkpoint has done, it is refused.
expect(0 "resuming from .* at step 7\nthe run in the checkpoint has done its 6 steps: nothing to do \\(--steps above 6"
    "" train --config ${engine}/tiny-checkpoint.json --resume straight --out straight2)
expect(2 "" "^tfreeze: error: --steps: the checkpoint in .*straight.* is after step 6, so a run of 3 steps cannot continue from it: give --steps above 6"
    train --config ${engine}/tiny-checkpoint.json --resume straight --steps 3 --out straight3)
# A checkpoint of another config is refused, naming the file.
expect(2 "" "^tfreeze: error: .*checkpoint.json: config: the checkpoint is of a run with another config"
    train --config ${engine}/tiny-timely.json --resume straight --out other)
expect(2 "" "^tfreeze: error: .*no-such-run.*checkpoint.json: cannot open file" train --config ${engine}/tiny-1f1b.json
    --resume no-such-run)

# --init: a run starts from another run's weights at step 1 (fine-tuning); its first loss, on the same
# first batch as the plain run's (same seed), is that of the trained weights, so lower.
expect(0 "starting from the weights of .*straight.*\nstep 1/4 .*final: " "" train --config ${engine}/tiny-1f1b.json
    --init straight --out fine)
check_metrics("${WORK_DIR}/fine/metrics.csv" 4)
list(GET LAST_METRICS 1 fineFirst)
file(STRINGS "${WORK_DIR}/plain/metrics.csv" plainLines)
list(GET plainLines 1 plainFirst)
string(REGEX MATCH "^0,([0-9.e+-]+)," ignored "${fineFirst}")
set(fineLoss "${CMAKE_MATCH_1}")
string(REGEX MATCH "^0,([0-9.e+-]+)," ignored "${plainFirst}")
set(plainLoss "${CMAKE_MATCH_1}")
if(NOT fineLoss LESS plainLoss)
    message(FATAL_ERROR "first loss from the checkpoint ${fineLoss}, from scratch ${plainLoss}")
endif()
expect(2 "" "^tfreeze: error: --init: no checkpoint in no-such-run" train --config ${engine}/tiny-1f1b.json
    --init no-such-run)
expect(2 "" "excludes" train --config ${engine}/tiny-1f1b.json --init straight --resume straight)
# bench train --pretrain-steps: the pretraining first, then the runs from its weights.
expect(0 "pretrained 2 steps without freezing in [0-9]+ s: validation loss [0-9.]+; every run below starts from these weights\n.*freezer +max freeze" "pretraining: 2 steps"
    bench train --config ${engine}/tiny-1f1b.json --steps 2 --freezers none --pretrain-steps 2)

# The same across two processes: each writes its part of the checkpoint, and a resume needs as many.
if(GLOO)
    expect(0 "rank 0 of 2: waiting for the others.*step 4/4 .*final: " "" launch --nproc 2 -- train --config
        ${engine}/tiny-checkpoint.json --steps 4 --out twoProcesses)
    foreach(file checkpoint.json rank-0/part.json rank-0/model.pt rank-1/part.json rank-1/model.pt rank-1/optimizer.pt)
        if(NOT EXISTS "${WORK_DIR}/twoProcesses/checkpoint/${file}")
            message(FATAL_ERROR "no ${file} in twoProcesses/checkpoint")
        endif()
    endforeach()
    expect(0 "resuming from .*twoProcesses.* at step 5.*step 6/6 .*final: " "" launch --nproc 2 -- train --config
        ${engine}/tiny-checkpoint.json --resume twoProcesses --out twoProcesses)
    check_metrics("${WORK_DIR}/twoProcesses/metrics.csv" 6)
    expect(2 "" "^tfreeze: error: .*checkpoint.json: world_size: the checkpoint is of a run in 2 process"
        train --config ${engine}/tiny-checkpoint.json --resume twoProcesses --out oneProcess)
    # A fine-tuning run needs a one-process checkpoint.
    expect(2 "" "^tfreeze: error: .*checkpoint.json: world_size: init_from needs the checkpoint of a one-process run"
        train --config ${engine}/tiny-1f1b.json --init twoProcesses)
    # bench train --nproc writes the config for its launched processes into a temporary folder: the
    # corpus and the checkpoint, both given relative to this folder, must still be found from there.
    file(RELATIVE_PATH relativeConfig "${WORK_DIR}" "${engine}/tiny-1f1b.json")
    expect(0 "none +[0-9]+ +[0-9]+ " "none in 2 processes" bench train --config ${relativeConfig} --steps 2
        --freezers none --nproc 2 --init straight)
    # With a plan, both sides report realised against predicted batch time (none has no plan: "-").
    expect(0 "vs plan +processes vs plan *\n *none .* - +- *\n *timelyfreeze .* [-+][0-9.]+% +[-+][0-9.]+% *\n" ""
        bench train --config ${engine}/tiny-timely.json --freezers none,timelyfreeze --nproc 2 --json nproc.json)
    file(READ "${WORK_DIR}/nproc.json" nprocText)
    foreach(key in_process_predicted_batch_ms in_process_realised_batch_ms processes_predicted_batch_ms
            processes_realised_batch_ms)
        string(JSON noPlan TYPE "${nprocText}" rows 0 ${key})
        string(JSON planned GET "${nprocText}" rows 1 ${key})
        if(NOT noPlan STREQUAL "NULL" OR NOT planned GREATER 0)
            message(FATAL_ERROR "nproc.json: ${key} is ${noPlan} for none and ${planned} for timelyfreeze")
        endif()
    endforeach()
endif()

# bench train: one row per freezer with the documented keys.
expect(0 "freezer +max freeze +tokens/s +spread +vs none .*\n *none .*\n *timelyfreeze " "" bench train --config ${engine}/tiny-timely.json
    --steps 8 --freezers none,timelyfreeze --json bench.json)
file(READ "${WORK_DIR}/bench.json" benchText)
string(JSON rowCount LENGTH "${benchText}" rows)
if(NOT rowCount EQUAL 2)
    message(FATAL_ERROR "bench.json has ${rowCount} rows")
endif()
foreach(index 0 1)
    foreach(key freezer tokens_per_s ratio_vs_none mean_freeze_ratio val_loss val_accuracy predicted_batch_ms
            realised_batch_ms)
        string(JSON value ERROR_VARIABLE missing GET "${benchText}" rows ${index} ${key})
        if(missing)
            message(FATAL_ERROR "bench.json row ${index} has no ${key}: ${missing}")
        endif()
    endforeach()
endforeach()
# Realised against predicted: null without a plan; with one, above zero exactly when the realised
# batch is longer than the predicted one (and the same for the prediction at the forwards' speed,
# which scales it by 1 + forward_drift).
foreach(key realised_vs_predicted forward_drift realised_vs_predicted_at_forward_speed)
    string(JSON noPlan TYPE "${benchText}" rows 0 ${key})
    string(JSON withPlan TYPE "${benchText}" rows 1 ${key})
    if(NOT noPlan STREQUAL "NULL" OR NOT withPlan STREQUAL "NUMBER")
        message(FATAL_ERROR "bench.json: ${key} is ${noPlan} for none and ${withPlan} for timelyfreeze")
    endif()
endforeach()
string(JSON benchPredicted GET "${benchText}" rows 1 predicted_batch_ms)
string(JSON benchRealised GET "${benchText}" rows 1 realised_batch_ms)
string(JSON benchVsPredicted GET "${benchText}" rows 1 realised_vs_predicted)
if((benchRealised GREATER benchPredicted AND NOT benchVsPredicted GREATER 0)
   OR (benchRealised LESS benchPredicted AND NOT benchVsPredicted LESS 0))
    message(FATAL_ERROR "bench.json: realised ${benchRealised} against predicted ${benchPredicted} reads "
                        "${benchVsPredicted}")
endif()
string(JSON first GET "${benchText}" rows 0 freezer)
string(JSON ratio GET "${benchText}" rows 0 ratio_vs_none)
string(JSON timelyPredicted GET "${benchText}" rows 1 predicted_batch_ms)
string(JSON timelyFreeze GET "${benchText}" rows 1 mean_freeze_ratio)
if(NOT first STREQUAL "none" OR NOT ratio EQUAL 1 OR timelyPredicted STREQUAL "null" OR NOT timelyFreeze GREATER 0)
    message(FATAL_ERROR "bench.json: first row ${first} (ratio ${ratio}), timelyfreeze predicted ${timelyPredicted}, "
                        "mean freeze ${timelyFreeze}")
endif()

# bench train --max-freeze: a planning freezer once per bound (none once, without one). ρ = 0 plans
# no freezing: it freezes only while measuring w_min (2 of 8 steps), a mean of at most 0.25, and 0.9
# freezes more; the JSON names each row's bound. (Each run profiles for itself, so on this tiny model
# the two predicted batches differ by noise more than by the bound.)
expect(0 "freezer +max freeze +tokens/s .*\n *none +- .*\n *timelyfreeze +0\\.00 .*\n *timelyfreeze +0\\.90 " ""
    bench train --config ${engine}/tiny-timely.json --steps 8 --freezers none,timelyfreeze --max-freeze 0,0.9
    --json bounds.json)
file(READ "${WORK_DIR}/bounds.json" boundsText)
string(JSON rowCount LENGTH "${boundsText}" rows)
string(JSON noneBound TYPE "${boundsText}" rows 0 max_freeze)
string(JSON zeroBound GET "${boundsText}" rows 1 max_freeze)
string(JSON highBound GET "${boundsText}" rows 2 max_freeze)
string(JSON zeroFreeze GET "${boundsText}" rows 1 mean_freeze_ratio)
string(JSON highFreeze GET "${boundsText}" rows 2 mean_freeze_ratio)
if(NOT rowCount EQUAL 3 OR NOT noneBound STREQUAL "NULL" OR NOT zeroBound EQUAL 0 OR highBound LESS 0.8999
   OR highBound GREATER 0.9001 OR zeroFreeze GREATER 0.25 OR NOT highFreeze GREATER 0.25)
    message(FATAL_ERROR "bounds.json: ${rowCount} rows, bounds ${noneBound} ${zeroBound} ${highBound}, "
                        "mean freeze ${zeroFreeze} and ${highFreeze}")
endif()
expect(2 "" "^tfreeze: error: --max-freeze: \"1.5\" is not a number in \\[0, 1\\]" bench train --max-freeze 0.5,1.5)

# bench train --repeats: every round's tokens/s in the JSON, and the row is the run of median tokens/s
# (as many rounds below it as above it).
expect(0 "freezer +max freeze +tokens/s +spread .*\n *none +- +[0-9]+ +±[0-9.]+% " "round 3/3"
    bench train --config ${engine}/tiny-1f1b.json --steps 2 --freezers none --repeats 3 --json repeats.json)
file(READ "${WORK_DIR}/repeats.json" repeatsText)
string(JSON rounds LENGTH "${repeatsText}" rows 0 tokens_per_s_repeats)
string(JSON reported GET "${repeatsText}" rows 0 tokens_per_s)
set(below 0)
set(above 0)
foreach(index RANGE 2)
    string(JSON value GET "${repeatsText}" rows 0 tokens_per_s_repeats ${index})
    if(value LESS reported)
        math(EXPR below "${below} + 1")
    elseif(value GREATER reported)
        math(EXPR above "${above} + 1")
    endif()
endforeach()
if(NOT rounds EQUAL 3 OR NOT below EQUAL above)
    message(FATAL_ERROR "repeats.json: ${rounds} rounds, ${below} below and ${above} above the reported ${reported}")
endif()
