#pragma once

// Torch-free (the engine stays behind a pimpl): the CLI's `tfreeze train` and the studio run
// training through this class.

#include "core/engine/run_config.h"
#include "core/engine/run_control.h"
#include "core/plan/freeze_plan.h"
#include "core/plan/telemetry.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace tfreeze {

// After each completed step, for progress lines and progress bars.
struct TrainingProgress {
    StepStats stats;
    std::int64_t totalSteps = 0;
    double elapsedSeconds = 0.0; // since run() started
    double etaSeconds = 0.0; // at the mean step time so far
};

struct TrainingOutcome {
    enum class Status { Finished, Stopped, Failed };
    Status status = Status::Finished;
    std::string error; // Failed: the reason
    std::int64_t stepsDone = 0; // the next step to run
    std::optional<EvalStats> finalEval; // evaluated after the last step (not after a failure)
    double meanTokensPerSecond = 0.0; // over the steps this run() took
    double meanFreezeRatio = 0.0; // over those steps and every stage
    // When a plan was in force at the end: its predicted batch time, and the median of the
    // realised ones (the last span's end, which is what the plan predicts) over the steps that ran
    // the whole plan; both 0 otherwise.
    double predictedBatchMs = 0.0;
    double realisedBatchMs = 0.0;
    // Over those steps, the median of unfreezableWorkScale against the plan's profile: how much
    // slower (> 1) the actions that freezing cannot change ran than when they were profiled. The
    // part of realised / predicted that the machine, not the plan, accounts for; 0 without a plan.
    double unfreezableWorkScale = 0.0;
    // Mean tokens/s over those same steps (the steady state a plan buys); 0 without a plan.
    double planTokensPerSecond = 0.0;
};

// One process of a multi-process run (one process per pipeline rank), as torchrun describes it.
struct DistributedSetup {
    bool enabled = false; // false: every rank is a thread of this process
    std::string backend; // "gloo" or "nccl"; empty: nccl for device cuda, else gloo
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    // c10d's time-out for the rendezvous and every exchange: a dead or hung rank ends the run in
    // about this long on every other rank.
    int timeoutSeconds = 20;
};

// From RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT: enabled when WORLD_SIZE is set
// and above 1. Throws InputError naming a malformed variable.
DistributedSetup distributedSetupFromEnvironment();

// Whether this build can run one process per pipeline rank on the CPU (c10d with Gloo).
bool multiProcessRunsAvailable();

// One training run: the model of the config split into the schedule's stages, its data, the
// pipeline runtime, the freezer, evaluation and checkpoints. Commands (control(), setBounds,
// applyPlan) may come from any thread and take effect at the next step boundary.
class TrainingSession {
public:
    // Throws InputError for a config the engine cannot run (e.g. device cuda on a CPU build).
    // `distributed.enabled`: this process runs rank distributed.rank of the pipeline and joins the
    // others (blocks until all joined). Rank 0 owns the telemetry: only its sinks see the run's
    // evaluations, and only its RunControl, setBounds and applyPlan steer the run; the others follow.
    explicit TrainingSession(RunConfig config, const DistributedSetup& distributed = {});
    ~TrainingSession();
    TrainingSession(const TrainingSession&) = delete;
    TrainingSession& operator=(const TrainingSession&) = delete;

    const RunConfig& config() const;

    // Telemetry of every step (ActionSpan, StepStats), evaluation, plans, events and the end.
    void addSink(std::shared_ptr<TelemetrySink> sink);
    // Pause, resume, stop.
    RunControl& control();
    // A new accuracy bound: freezers that plan re-plan with it (METHOD.md §6, ours).
    void setBounds(const FreezeBounds& bounds);
    // A plan chosen by the user: from the next step on, every action runs at its ratio, whatever
    // the freezer would do. Throws InputError when the plan is for another schedule.
    void applyPlan(std::shared_ptr<const FreezePlan> plan);
    // Timing on (default) or off, from the next step on; also from run()'s onStep callback, which
    // runs between steps on run()'s thread: the overhead benchmark switches it step by step.
    void setTimingEnabled(bool enabled);

    // Trains from the current step to config().steps, or until stopped or failed.
    TrainingOutcome run(const std::function<void(const TrainingProgress&)>& onStep = {});

    // Model, optimizer, freezer and step into `dir` (created if needed); between steps only. In a
    // multi-process run every process calls it at the same step (`dir` on a file system they all
    // see): each writes its part under dir/rank-R/, rank 0 writes dir/checkpoint.json last, and
    // when one process cannot write, every process throws.
    void saveCheckpoint(const std::string& dir) const;
    // The state saveCheckpoint wrote, by as many processes as wrote it (every process calls it);
    // the config must be the one of the checkpointed run. Throws
    // InputError naming the file for a missing or mismatched checkpoint.
    void loadCheckpoint(const std::string& dir);
    std::int64_t nextStep() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// Where the checkpoint of `dir` is: `dir` itself when it holds checkpoint.json, else the
// checkpoint/ folder in it (`dir` being the --out folder of the run that wrote it).
std::string checkpointFolder(const std::string& dir);

// The LibTorch the engine was built against, e.g. "1.13.0", and its device support ("CPU" or "CUDA").
std::string libtorchVersion();

} // namespace tfreeze
