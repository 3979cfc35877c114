#include "core/engine/training_session.h"

#include "core/engine/action_timer.h"
#include "core/engine/batch_source.h"
#include "core/engine/evaluation.h"
#include "core/engine/freezer.h"
#include "core/engine/lr_schedule.h"
#include "core/engine/model_stage.h"
#include "core/engine/optimizer_setup.h"
#include "core/engine/pipeline_runtime.h"
#include "core/engine/process_group.h"
#include "core/engine/step_exchange.h"
#include "core/engine/transformer_model.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/plan/span_profile_estimate.h"
#include "core/plan/statistics.h"
#include "core/plan/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <utility>

namespace tfreeze {

namespace {

constexpr const char* kCheckpointFormat = "tfreeze-checkpoint/1";

// The last span's end: the batch time that a plan predicts (the optimizer step is not in the DAG).
double makespanMs(const std::vector<ActionSpan>& spans)
{
    std::int64_t end = 0;
    for (const ActionSpan& span : spans)
        end = std::max(end, span.endUs);
    return static_cast<double>(end) / 1000.0;
}

std::vector<double> planRatios(const FreezePlan& plan)
{
    std::vector<double> ratios;
    ratios.reserve(plan.actions.size());
    for (const PlannedAction& action : plan.actions)
        ratios.push_back(action.ratio);
    return ratios;
}

bool sameOrders(const PipelineSchedule& a, const PipelineSchedule& b) { return a.rankOrders() == b.rankOrders(); }

// `document` to `path` through a temporary file and a rename, so that a reader sees the old file
// or the new one, never half of one.
void writeJsonAtomically(const nlohmann::json& document, const std::string& path)
{
    const std::string temporary = path + ".tmp";
    writeTextFile(temporary, document.dump(2) + '\n');
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error)
        throw InputError(path, "", "cannot write file: " + error.message());
}

nlohmann::json readJsonObject(const std::string& path, const std::string& whenMissing)
{
    std::error_code ignored;
    if (!std::filesystem::is_regular_file(path, ignored))
        throw InputError(path, "", whenMissing);
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(readTextFile(path));
    } catch (const nlohmann::json::exception& error) {
        throw InputError(path, "", "not valid JSON: " + jsonErrorText(error));
    }
    if (!document.is_object())
        throw InputError(path, "", "expected a JSON object");
    return document;
}

// Joins the multi-process run `distributed` describes (null when it is not enabled), after checking
// that the config can run that way.
std::shared_ptr<ProcessGroup> joinGroup(
    const RunConfig& config, const PipelineSchedule& schedule, const DistributedSetup& distributed)
{
    if (!distributed.enabled)
        return nullptr;
    if (distributed.worldSize != schedule.rankCount())
        throw InputError("environment", "WORLD_SIZE",
            "a multi-process run needs one process per pipeline rank: schedule.ranks is "
                + std::to_string(schedule.rankCount()) + ", WORLD_SIZE " + std::to_string(distributed.worldSize));
    Rendezvous rendezvous;
    rendezvous.rank = distributed.rank;
    rendezvous.worldSize = distributed.worldSize;
    rendezvous.localRank = distributed.localRank;
    rendezvous.masterAddr = distributed.masterAddr;
    rendezvous.masterPort = distributed.masterPort;
    rendezvous.timeout = std::chrono::seconds(distributed.timeoutSeconds);
    const std::string backend
        = !distributed.backend.empty() ? distributed.backend : (config.device == DeviceKind::Cuda ? "nccl" : "gloo");
    return std::make_shared<ProcessGroup>(parseCommBackend(backend, "backend"), rendezvous);
}

// Moves each stage to its device (config.device, config.stageDevices) and returns the devices. The
// model was initialised whole on the CPU first, so the same seed gives the same weights anywhere.
// In a multi-process run only this process's stages move, to cuda:LOCAL_RANK unless stage_devices
// says otherwise; the others stay on the CPU, where only evaluation uses them.
std::vector<torch::Device> placeStages(const RunConfig& config, const PipelineSchedule& schedule,
    const std::vector<std::shared_ptr<ModelStage>>& stages, const DistributedSetup& distributed)
{
    std::vector<torch::Device> devices(stages.size(), torch::Device(torch::kCPU));
    if (config.device == DeviceKind::Cpu)
        return devices;
    if (!torch::cuda::is_available())
        throw InputError("config", "device",
            cudaTimingAvailable() ? "\"cuda\": no CUDA device is visible to this process"
                                  : "\"cuda\": this build of tfreeze runs on the CPU only (device \"cpu\"); "
                                    "build it against a CUDA LibTorch");
    const auto visible = static_cast<int>(torch::cuda::device_count());
    for (std::size_t s = 0; s < stages.size(); ++s) {
        const int rank = schedule.stageRank(static_cast<int>(s));
        if (distributed.enabled && rank != distributed.rank)
            continue;
        const int byRank = distributed.enabled ? distributed.localRank % visible : rank % visible;
        const int index = config.stageDevices.empty() ? byRank : config.stageDevices[s];
        if (index >= visible)
            throw InputError("config", "stage_devices[" + std::to_string(s) + "]",
                "CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(visible) + " visible)");
        devices[s] = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
        stages[s]->to(devices[s]);
    }
    return devices;
}

} // namespace

struct TrainingSession::Private {
    Private(RunConfig runConfig, const DistributedSetup& distributed)
        : config(std::move(runConfig))
        , schedule(PipelineSchedule::generate(config.schedule))
        , group(joinGroup(config, schedule, distributed))
        , data(makeBatchSource(config))
        , model(config.model, config.seed)
        , stages(partitionModel(model, resolvePartition(config)))
        , stageDevices(placeStages(config, schedule, stages, distributed))
        , parameters(model->parameters())
        , optimizer(makeOptimizer(parameters, config.optimizer))
    {
        if (!config.initFrom.empty())
            loadInitialWeights(config.initFrom);
        freezer = makeFreezer(config, schedule, asPipelineStages(stages), freezerPlacement());
        RuntimeOptions options;
        options.seed = config.seed;
        options.stabilityCheckFreq = config.freezer.stabilityCheckFreq;
        options.firstStageDraw = config.freezer.firstStageDraw;
        options.threadsPerRank = config.threadsPerRank;
        options.group = group;
        runtime = std::make_unique<PipelineRuntime>(
            schedule, asPipelineStages(stages), [this] { optimizerStep(); }, options, nullptr, freezer->selector());
    }

    // In a multi-process run: this process's stages, and a sum over the processes in float64.
    FreezerPlacement freezerPlacement() const
    {
        FreezerPlacement placement;
        if (!group)
            return placement;
        for (int s = 0; s < schedule.stageCount(); ++s)
            placement.ownedStages.push_back(schedule.stageRank(s) == group->rank());
        placement.sumAcrossProcesses = [group = group](std::vector<double>& values) {
            if (values.empty())
                return;
            torch::Tensor sum = torch::tensor(values, torch::kFloat64).to(group->device());
            group->allReduceSum(sum);
            sum = sum.to(torch::kCPU).contiguous();
            std::copy(sum.data_ptr<double>(), sum.data_ptr<double>() + sum.numel(), values.begin());
        };
        return placement;
    }

    // On the training thread, after every worker finished the step's backward passes.
    void optimizerStep()
    {
        freezer->afterBackward(currentStep);
        // The global norm: in a multi-process run each process holds its stages' gradients only.
        double squared = squaredGradientNorm(parameters);
        if (group) {
            torch::Tensor sum
                = torch::full({ 1 }, squared, torch::TensorOptions(torch::kFloat64).device(group->device()));
            group->allReduceSum(sum);
            squared = sum.item<double>();
        }
        scaleGradients(parameters, gradientClipScale(std::sqrt(squared), config.optimizer.gradClip));
        setLearningRate(*optimizer, learningRate);
        optimizer->step();
    }

    void publish(const TelemetryEvent& event)
    {
        for (const auto& sink : sinks)
            sink->publish(event);
    }

    // On the CPU, where evaluation scores them, wherever the stages are.
    torch::Tensor logits(const torch::Tensor& tokens)
    {
        torch::Tensor x = tokens;
        for (std::size_t s = 0; s < stages.size(); ++s)
            x = stages[s]->forward(x.to(stageDevices[s]));
        return x.to(torch::kCPU);
    }

    // Every process calls it (the parameters travel to all); only rank 0 evaluates.
    std::optional<EvalStats> evaluateNow(std::int64_t step)
    {
        if (group) {
            std::vector<int> stageProcess;
            for (int s = 0; s < schedule.stageCount(); ++s)
                stageProcess.push_back(schedule.stageRank(s));
            broadcastStageParameters(*group, asPipelineStages(stages), stageProcess);
            if (group->rank() != 0)
                return std::nullopt;
        }
        return evaluate(
            [this](const torch::Tensor& tokens) { return logits(tokens); }, *data, config.evalBatches, step);
    }

    // Where this process's part of a checkpoint in `dir` goes.
    std::filesystem::path checkpointPart(const std::string& dir) const
    {
        return group ? std::filesystem::path(dir) / ("rank-" + std::to_string(group->rank()))
                     : std::filesystem::path(dir);
    }

    // In a multi-process run every process learns whether any failed (an all-reduce, which also
    // waits for all of them), so that none goes on alone. Rethrows this process's own `failure`;
    // throws InputError(`dir`) naming the process that could not `what` when another one failed.
    void agreeOnFailure(const std::exception_ptr& failure, const std::string& dir, const std::string& what) const
    {
        if (group) {
            // One slot per process: 1 where it failed.
            torch::Tensor failed
                = torch::zeros({ group->size() }, torch::TensorOptions(torch::kFloat64).device(group->device()));
            if (failure)
                failed[group->rank()] = 1.0;
            group->allReduceSum(failed);
            failed = failed.to(torch::kCPU);
            for (int r = 0; r < group->size() && !failure; ++r)
                if (failed[r].item<double>() > 0.0)
                    throw InputError(dir, "",
                        "rank " + std::to_string(r) + " of " + std::to_string(group->size()) + " could not " + what
                            + " (its own output says why)");
        }
        if (failure)
            std::rethrow_exception(failure);
    }

    // checkpoint.json at `path`, its format checked.
    static nlohmann::json readCheckpointManifest(const std::string& path)
    {
        nlohmann::json state = readJsonObject(path, "cannot open file (not a checkpoint folder?)");
        if (state.value("format", std::string()) != kCheckpointFormat)
            throw InputError(path, "format", std::string("expected \"") + kCheckpointFormat + "\"");
        return state;
    }

    // The model's parameters from a model.pt that saveCheckpoint wrote. Throws InputError naming
    // the file when it holds another model's; lets c10::Error through for an unreadable one.
    void loadParameters(const std::string& modelPath)
    {
        std::vector<torch::Tensor> loaded;
        torch::load(loaded, modelPath);
        if (loaded.size() != parameters.size())
            throw InputError(modelPath, "", "holds another model's parameters");
        const torch::NoGradGuard noGrad;
        for (std::size_t i = 0; i < loaded.size(); ++i) {
            if (!loaded[i].sizes().equals(parameters[i].sizes()))
                throw InputError(modelPath, "", "holds another model's parameters");
            parameters[i].copy_(loaded[i]);
        }
    }

    // config.initFrom: the weights of another run's checkpoint, before anything reads them (the
    // freezers take their first snapshot at construction). Only the model has to match: the data,
    // schedule, partition, optimizer and freezer may all differ, as in fine-tuning.
    void loadInitialWeights(const std::string& dir)
    {
        namespace fs = std::filesystem;
        if (const std::optional<std::string> missing = missingInitCheckpoint(dir))
            throw InputError("init_from", "", *missing);
        const fs::path folder = checkpointFolder(dir);
        const std::string path = (folder / "checkpoint.json").string();
        const nlohmann::json state = readCheckpointManifest(path);
        // A multi-process checkpoint keeps each stage's weights in the part of the process that
        // trained it; every part's model.pt also holds stale copies of the other stages.
        if (state.contains("world_size") && state["world_size"] != 1)
            throw InputError(path, "world_size",
                "init_from needs the checkpoint of a one-process run (this one is of " + state["world_size"].dump()
                    + " processes)");
        if (!state.contains("config"))
            throw InputError(path, "config", "missing");
        const RunConfig saved = parseRunConfigJson(state["config"].dump(), path);
        const nlohmann::json savedModel = nlohmann::json::parse(writeRunConfigJson(saved))["model"];
        const nlohmann::json model = nlohmann::json::parse(writeRunConfigJson(config))["model"];
        if (savedModel != model)
            throw InputError(path, "config.model",
                "init_from: the checkpoint is of another model (" + savedModel.dump() + "; this run's: " + model.dump()
                    + ")");
        const std::string modelPath = (folder / "model.pt").string();
        try {
            loadParameters(modelPath);
        } catch (const c10::Error& error) {
            throw InputError(
                modelPath, "", std::string("cannot read the checkpoint: ") + error.what_without_backtrace());
        }
    }

    // Reads checkpoint.json and this process's part; returns the step to go on from.
    std::int64_t loadCheckpoint(const std::string& dir)
    {
        namespace fs = std::filesystem;
        const std::string path = (fs::path(dir) / "checkpoint.json").string();
        const nlohmann::json state = readCheckpointManifest(path);
        if (!state.contains("next_step") || !state["next_step"].is_number_integer()
            || state["next_step"].get<std::int64_t>() < 0)
            throw InputError(path, "next_step", "expected a step number");
        const std::int64_t nextStep = state["next_step"].get<std::int64_t>();
        // Checkpoints from before multi-process runs have no world_size: one process.
        const int worldSize = state.contains("world_size") && state["world_size"].is_number_integer()
            ? state["world_size"].get<int>()
            : 1;
        const int processes = group ? group->size() : 1;
        if (worldSize != processes)
            throw InputError(path, "world_size",
                "the checkpoint is of a run in " + std::to_string(worldSize) + " process(es); this run has "
                    + std::to_string(processes) + " (resume it with as many processes as it had)");
        if (!state.contains("config"))
            throw InputError(path, "config", "missing");
        RunConfig saved = parseRunConfigJson(state["config"].dump(), path);
        // What the user may change on resume: the length of the run and where its outputs go.
        saved.steps = config.steps;
        saved.output = config.output;
        // ... and the weights it started from, which the checkpoint's replace.
        saved.initFrom = config.initFrom;
        if (saved != config)
            throw InputError(path, "config",
                "the checkpoint is of a run with another config (model, data, schedule, "
                "optimizer, freezer, bounds or seed differ)");

        const fs::path part = checkpointPart(dir);
        if (group) {
            const std::string partPath = (part / "part.json").string();
            const nlohmann::json partState
                = readJsonObject(partPath, "cannot open file (a part of the checkpoint is missing)");
            if (partState.value("next_step", std::int64_t(-1)) != nextStep)
                throw InputError(partPath, "next_step",
                    "this part is of step " + partState.value("next_step", nlohmann::json()).dump() + ", " + path
                        + " of step " + std::to_string(nextStep)
                        + " (a checkpoint that was being written when its run ended)");
        }
        // Each file in turn, so that the message names the one that cannot be read.
        const std::string modelPath = (part / "model.pt").string();
        const std::string optimizerPath = (part / "optimizer.pt").string();
        const std::string* reading = &modelPath;
        try {
            loadParameters(modelPath);
            reading = &optimizerPath;
            torch::load(*optimizer, optimizerPath);
        } catch (const c10::Error& error) {
            throw InputError(
                *reading, "", std::string("cannot read the checkpoint: ") + error.what_without_backtrace());
        }
        freezer->loadState(part.string());
        if (state.contains("user_plan")) {
            std::istringstream plan(state["user_plan"].dump());
            userPlan = std::make_shared<FreezePlan>(readPlanJson(plan, path + ": user_plan"));
        }
        return nextStep;
    }

    // Commands that wait for the next step boundary.
    struct Pending {
        std::optional<FreezeBounds> bounds;
        std::shared_ptr<const FreezePlan> plan;
    };
    Pending takePending()
    {
        const std::lock_guard lock(pendingMutex);
        return std::exchange(pending, {});
    }

    RunConfig config;
    PipelineSchedule schedule;
    std::shared_ptr<ProcessGroup> group; // null: a single-process run
    std::unique_ptr<BatchSource> data;
    TransformerModel model;
    std::vector<std::shared_ptr<ModelStage>> stages;
    std::vector<torch::Device> stageDevices;
    std::vector<torch::Tensor> parameters;
    std::unique_ptr<torch::optim::AdamW> optimizer;
    std::unique_ptr<Freezer> freezer;
    std::unique_ptr<PipelineRuntime> runtime;
    std::vector<std::shared_ptr<TelemetrySink>> sinks;

    std::mutex pendingMutex;
    Pending pending;

    std::shared_ptr<const FreezePlan> userPlan; // set by applyPlan: overrides the freezer
    std::int64_t currentStep = 0;
    double learningRate = 0.0;
};

TrainingSession::TrainingSession(RunConfig config, const DistributedSetup& distributed)
    : d(std::make_unique<Private>(std::move(config), distributed))
{
}

std::string checkpointFolder(const std::string& dir)
{
    const std::filesystem::path folder(dir);
    return std::filesystem::exists(folder / "checkpoint.json") ? dir : (folder / "checkpoint").string();
}

DistributedSetup distributedSetupFromEnvironment()
{
    DistributedSetup setup;
    const Rendezvous r = rendezvousFromEnvironment();
    setup.enabled = r.worldSize > 1;
    setup.rank = r.rank;
    setup.worldSize = r.worldSize;
    setup.localRank = r.localRank;
    setup.masterAddr = r.masterAddr;
    setup.masterPort = r.masterPort;
    return setup;
}

bool multiProcessRunsAvailable() { return commBackendAvailable(CommBackend::Gloo); }

TrainingSession::~TrainingSession() = default;

const RunConfig& TrainingSession::config() const { return d->config; }

void TrainingSession::addSink(std::shared_ptr<TelemetrySink> sink)
{
    d->runtime->addSink(sink);
    d->sinks.push_back(std::move(sink));
}

RunControl& TrainingSession::control() { return *d->runtime->control(); }

void TrainingSession::setBounds(const FreezeBounds& bounds)
{
    // Checked here, on the caller's thread: the freezer takes the bound inside run(), where a bad
    // one would escape run() without ending the run.
    auto check = [](double value, const std::string& field) {
        if (!(value >= 0.0 && value <= 1.0))
            throw InputError("bounds", field, "max freeze ratio must be in [0, 1] (got " + std::to_string(value) + ")");
    };
    check(bounds.maxFreeze, "max_freeze");
    const auto stages = static_cast<std::size_t>(d->schedule.stageCount());
    if (!bounds.stageMaxFreeze.empty() && bounds.stageMaxFreeze.size() != stages)
        throw InputError("bounds", "stage_max_freeze",
            "expected one value per stage (" + std::to_string(stages) + "), got "
                + std::to_string(bounds.stageMaxFreeze.size()));
    for (std::size_t s = 0; s < bounds.stageMaxFreeze.size(); ++s)
        check(bounds.stageMaxFreeze[s], "stage_max_freeze[" + std::to_string(s) + "]");
    const std::lock_guard lock(d->pendingMutex);
    d->pending.bounds = bounds;
}

void TrainingSession::applyPlan(std::shared_ptr<const FreezePlan> plan)
{
    if (!plan || !sameOrders(plan->profile.schedule(), d->schedule))
        throw InputError("plan", "schedule", "the plan is for another schedule than this run's");
    const std::lock_guard lock(d->pendingMutex);
    d->pending.plan = std::move(plan);
}

void TrainingSession::setTimingEnabled(bool enabled) { d->runtime->setTimingEnabled(enabled); }

std::int64_t TrainingSession::nextStep() const { return d->runtime->nextStep(); }

TrainingOutcome TrainingSession::run(const std::function<void(const TrainingProgress&)>& onStep)
{
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    TrainingOutcome outcome;
    double tokensPerSecondSum = 0.0;
    double freezeSum = 0.0;
    std::int64_t stepsRun = 0;
    std::optional<std::string> stopReason; // set when the user stops the run before its last step
    std::vector<double> realisedMs; // steps that ran the whole plan in force
    std::vector<double> workScales; // of those steps, unfreezableWorkScale
    std::vector<double> planTokensPerSecond; // of those steps
    std::shared_ptr<const FreezePlan> planInForce = d->userPlan ? d->userPlan : d->freezer->plan();

    while (d->runtime->nextStep() < d->config.steps) {
        const std::int64_t step = d->runtime->nextStep();
        d->currentStep = step;

        Private::Pending pending = d->takePending();
        if (pending.bounds) {
            d->freezer->setBounds(*pending.bounds);
            d->publish(RunEvent { EventLevel::Info, "accuracy bound changed at step " + std::to_string(step) });
        }
        if (pending.plan) {
            d->userPlan = pending.plan;
            planInForce = d->userPlan;
            realisedMs.clear();
            workScales.clear();
            planTokensPerSecond.clear();
            d->publish(PlanApplied { step, step, PlanSource::User, d->userPlan });
        }

        StepFreezing freezing = d->freezer->beginStep(step);
        if (d->userPlan) {
            freezing.ratios = planRatios(*d->userPlan);
            freezing.phase = TrainingPhase::Stable;
        }
        d->learningRate = learningRateAt(step, d->config.optimizer, d->config.steps);

        StepBatch batch;
        for (const Batch& part : d->data->trainingBatch(step).split(d->config.schedule.microbatches)) {
            batch.inputs.push_back(part.inputs);
            batch.targets.push_back(part.targets);
        }
        StepContext context;
        context.freezeRatios = freezing.ratios;
        context.phase = freezing.phase;
        context.learningRate = d->learningRate;

        StepResult result;
        try {
            result = d->runtime->runStep(batch, context);
        } catch (const InputError& error) {
            // Ours, not the user's: the freezer produced ratios the runtime refused.
            result.status = StepStatus::Failed;
            result.error = error.what();
            d->publish(RunFailed { step, result.error });
        }
        if (result.status == StepStatus::Stopped) {
            outcome.status = TrainingOutcome::Status::Stopped;
            // `step` counts from 0: it is also how many steps ran, the last of them step `step` as
            // the progress lines count ("step 80/100").
            stopReason
                = "stopped by the user after step " + std::to_string(step) + " of " + std::to_string(d->config.steps);
            d->publish(RunEvent { EventLevel::Info, *stopReason });
            break;
        }
        if (result.status == StepStatus::Failed) {
            outcome.status = TrainingOutcome::Status::Failed;
            outcome.error = result.error;
            break;
        }

        ++stepsRun;
        tokensPerSecondSum += result.stats.tokensPerSecond;
        double stageSum = 0.0;
        for (double ratio : result.stats.stageMeanFreezeRatio)
            stageSum += ratio;
        if (!result.stats.stageMeanFreezeRatio.empty())
            freezeSum += stageSum / static_cast<double>(result.stats.stageMeanFreezeRatio.size());

        const std::vector<ActionSpan>& spans = d->runtime->lastSpans();
        if (planInForce && freezing.phase == TrainingPhase::Stable && !spans.empty()) {
            realisedMs.push_back(makespanMs(spans));
            if (const double scale = unfreezableWorkScale(planInForce->profile, spans); scale > 0.0)
                workScales.push_back(scale);
            planTokensPerSecond.push_back(result.stats.tokensPerSecond);
        }

        std::optional<PlanApplied> applied;
        try {
            applied = d->freezer->endStep(step, spans, result.stats.batchMs);
        } catch (const std::exception& error) {
            outcome.status = TrainingOutcome::Status::Failed;
            outcome.error = std::string("planning failed at step ") + std::to_string(step) + ": " + error.what();
            d->publish(RunFailed { step, outcome.error });
            break;
        }
        if (applied && !d->userPlan) {
            planInForce = applied->plan;
            realisedMs.clear();
            workScales.clear();
            planTokensPerSecond.clear();
            d->publish(*applied);
            d->publish(RunEvent { EventLevel::Info,
                "plan made at step " + std::to_string(step) + ": predicted batch "
                    + std::to_string(applied->plan->batchMsPlanned) + " ms (no freezing "
                    + std::to_string(applied->plan->batchMsNoFreeze) + " ms)" });
        }

        const bool evalStep
            = d->config.evalInterval > 0 && (step + 1) % d->config.evalInterval == 0 && step + 1 < d->config.steps;
        if (evalStep)
            if (const std::optional<EvalStats> eval = d->evaluateNow(step))
                d->publish(*eval);

        if (onStep) {
            TrainingProgress progress;
            progress.stats = result.stats;
            progress.totalSteps = d->config.steps;
            progress.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start).count();
            progress.etaSeconds = progress.elapsedSeconds / static_cast<double>(stepsRun)
                * static_cast<double>(d->config.steps - step - 1);
            onStep(progress);
        }
    }

    outcome.stepsDone = d->runtime->nextStep();
    if (stepsRun > 0) {
        outcome.meanTokensPerSecond = tokensPerSecondSum / static_cast<double>(stepsRun);
        outcome.meanFreezeRatio = freezeSum / static_cast<double>(stepsRun);
    }
    if (planInForce && !realisedMs.empty()) {
        outcome.predictedBatchMs = planInForce->batchMsPlanned;
        outcome.realisedBatchMs = median(realisedMs);
        outcome.unfreezableWorkScale = workScales.empty() ? 0.0 : median(workScales);
        double sum = 0.0;
        for (double value : planTokensPerSecond)
            sum += value;
        outcome.planTokensPerSecond = sum / static_cast<double>(planTokensPerSecond.size());
    }
    if (outcome.status != TrainingOutcome::Status::Failed) {
        outcome.finalEval = d->evaluateNow(outcome.stepsDone - 1);
        if (outcome.finalEval)
            d->publish(*outcome.finalEval);
        d->runtime->finish(stopReason);
    }
    return outcome;
}

// In a multi-process run every process writes its own part (its stages' weights, its optimizer and
// freezer state) under rank-R/, and rank 0 writes checkpoint.json once every part is complete.
void TrainingSession::saveCheckpoint(const std::string& dir) const
{
    namespace fs = std::filesystem;
    const fs::path part = d->checkpointPart(dir);
    std::exception_ptr failure;
    try {
        std::error_code error;
        fs::create_directories(part, error);
        if (error)
            throw InputError(part.string(), "", "cannot create the checkpoint folder: " + error.message());
        // Gone while the part is rewritten: a run that ends half-way leaves a part that says so.
        fs::remove(part / "part.json", error);
        torch::save(d->parameters, (part / "model.pt").string());
        torch::save(*d->optimizer, (part / "optimizer.pt").string());
        d->freezer->saveState(part.string());
        if (d->group)
            writeJsonAtomically({ { "rank", d->group->rank() }, { "next_step", d->runtime->nextStep() } },
                (part / "part.json").string());
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    d->agreeOnFailure(failure, dir, "write its part of the checkpoint");

    if (d->group && d->group->rank() != 0)
        return;
    nlohmann::json state;
    state["format"] = kCheckpointFormat;
    state["next_step"] = d->runtime->nextStep();
    state["world_size"] = d->group ? d->group->size() : 1;
    state["config"] = nlohmann::json::parse(writeRunConfigJson(d->config));
    if (d->userPlan) {
        std::ostringstream plan;
        writePlanJson(*d->userPlan, plan);
        state["user_plan"] = nlohmann::json::parse(plan.str());
    }
    // Written last, and atomically: a checkpoint.json means the files beside it are complete.
    writeJsonAtomically(state, (fs::path(dir) / "checkpoint.json").string());
}

void TrainingSession::loadCheckpoint(const std::string& dir)
{
    std::exception_ptr failure;
    std::int64_t nextStep = 0;
    try {
        nextStep = d->loadCheckpoint(dir);
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    d->agreeOnFailure(failure, dir, "load its part of the checkpoint");
    d->runtime->setNextStep(nextStep);
}

std::string libtorchVersion()
{
    return std::string(TORCH_VERSION) + (torch::cuda::is_available() ? " (CUDA)" : " (CPU)");
}

} // namespace tfreeze
