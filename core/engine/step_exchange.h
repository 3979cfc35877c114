#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.
//
// What the processes of a multi-process pipeline exchange around each step, over the c10d group.
// Every function is a collective: every process calls it, in the same order.

#include "core/engine/pipeline_stage.h"
#include "core/plan/telemetry.h"

#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

class ProcessGroup;

// Rank 0's decision at a step boundary, sent to every process.
struct StepCommand {
    enum class Kind { Run, Stop, Paused };
    Kind kind = Kind::Run;
    std::optional<std::vector<double>> freezeRatios; // Run: ratios from this step on, when new
};

// Rank 0 sends `command` (the others' argument is ignored); every process returns rank 0's.
// `actions`: the schedule's action count (the size of every ratio vector).
StepCommand broadcastCommand(ProcessGroup& group, const StepCommand& command, std::size_t actions);

// Each process's failure of the step (empty: none). Returns "rank r: what" for the lowest failing
// rank, or empty when every process completed the step.
std::string agreeOnFailure(ProcessGroup& group, const std::string& localError);

// Sums over processes, in place: the losses, and per stage the frozen fractions and their counts.
void allReduceStepSums(
    ProcessGroup& group, double& lossSum, std::vector<double>& stageFrozenSum, std::vector<int>& stageActions);

// Every process's spans, in process order (each process's are rank-major already): all of them.
std::vector<ActionSpan> allGatherSpans(ProcessGroup& group, const std::vector<ActionSpan>& local);

// Every stage's parameters from the process that trains it (stageProcess[s]) to all the others, so
// that any process can evaluate the whole model.
void broadcastStageParameters(
    ProcessGroup& group, const std::vector<PipelineStagePtr>& stages, const std::vector<int>& stageProcess);

} // namespace tfreeze
