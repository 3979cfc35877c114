// tfreeze train and tfreeze bench train: the LibTorch engine driven from the command line.
#include "app/tfreeze/train_commands.h"

#include "app/tfreeze/cli_validators.h"
#include "app/tfreeze/command_set.h"
#include "app/tfreeze/engine_commands.h"
#include "app/tfreeze/text_table.h"
#include "core/engine/collective_check.h"
#include "core/engine/run_config.h"
#include "core/engine/training_session.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/plan/profile_io.h"
#include "core/plan/statistics.h"
#include "core/plan/text_file.h"
#include "core/store/metrics_csv.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>

namespace tfreeze {

namespace {

namespace fs = std::filesystem;

std::string defaultConfigPath() { return std::string(TFREEZE_RESOURCES_DIR) + "/configs/default.json"; }

// --- the run's files in --out DIR ---

// metrics.csv (rewritten at every evaluation and at the end, so an interrupted run still has
// one), profile.json and plan.json as soon as a plan exists.
class RunArtifacts : public TelemetrySink {
public:
    // `resumedAt` > 0: a resumed run; the rows of earlier steps already in DIR/metrics.csv (written
    // by the run that made the checkpoint) are kept, so that the file still has one row per step.
    explicit RunArtifacts(std::string dir, std::int64_t resumedAt = 0)
        : m_dir(std::move(dir))
    {
        std::error_code error;
        fs::create_directories(m_dir, error);
        if (error)
            throw InputError(m_dir, "", "cannot create the output folder: " + error.message());
        std::ifstream previous(path("metrics.csv"));
        std::string line;
        if (resumedAt > 0 && std::getline(previous, line)) {
            while (std::getline(previous, line)) {
                try {
                    if (std::stoll(line) < resumedAt)
                        m_keptRows += line + '\n';
                } catch (const std::exception&) {
                    // Not a row of ours: dropped.
                }
            }
        }
    }

    void publish(const TelemetryEvent& event) override
    {
        const std::lock_guard lock(m_mutex);
        if (const auto* step = std::get_if<StepStats>(&event)) {
            m_steps.push_back(*step);
        } else if (const auto* eval = std::get_if<EvalStats>(&event)) {
            m_evals.push_back(*eval);
            writeMetrics();
        } else if (const auto* plan = std::get_if<PlanApplied>(&event)) {
            writePlanFile(*plan->plan, path("plan.json"));
            writeProfileFile(plan->plan->profile, path("profile.json"));
        } else if (std::holds_alternative<RunFinished>(event) || std::holds_alternative<RunFailed>(event)) {
            writeMetrics();
        }
    }

    std::string path(const char* name) const { return (fs::path(m_dir) / name).string(); }

private:
    void writeMetrics()
    {
        const std::string file = path("metrics.csv");
        std::ostringstream text;
        writeMetricsCsv(m_steps, m_evals, text);
        std::string csv = text.str();
        if (!m_keptRows.empty()) {
            const std::size_t newline = csv.find('\n');
            csv.insert(newline == std::string::npos ? csv.size() : newline + 1, m_keptRows);
        }
        writeTextFile(file, csv);
    }

    std::string m_dir;
    std::mutex m_mutex;
    std::vector<StepStats> m_steps;
    std::vector<EvalStats> m_evals;
    std::string m_keptRows; // of the steps before a resume
};

// --- Ctrl-C: finish the step in flight, record the run, exit ---

std::atomic<bool> g_interrupted { false };

extern "C" void onInterrupt(int /*signal*/)
{
    g_interrupted = true;
    std::signal(SIGINT, SIG_DFL); // a second Ctrl-C ends the process at once
}

std::string formatDuration(double seconds)
{
    const long long total = std::llround(std::max(0.0, seconds));
    std::array<char, 32> text {};
    if (total >= 3600)
        std::snprintf(text.data(), text.size(), "%lldh%02lldm", total / 3600, total / 60 % 60);
    else
        std::snprintf(text.data(), text.size(), "%lldm%02llds", total / 60, total % 60);
    return text.data();
}

void printProgress(const TrainingProgress& progress)
{
    const StepStats& s = progress.stats;
    std::printf("step %lld/%lld  loss %.4f  %.0f tokens/s  bubble %.1f%%  phase %s  ETA %s\n",
        static_cast<long long>(s.step) + 1, static_cast<long long>(progress.totalSteps), s.loss, s.tokensPerSecond,
        s.bubbleFraction * 100.0, trainingPhaseName(s.phase), formatDuration(progress.etaSeconds).c_str());
    std::fflush(stdout);
}

// Prints plans and evaluations as they happen (between the progress lines).
class ConsoleEvents : public TelemetrySink {
public:
    void publish(const TelemetryEvent& event) override
    {
        if (const auto* eval = std::get_if<EvalStats>(&event)) {
            std::printf("eval at step %lld: validation loss %.4f, perplexity %.2f, token accuracy %.3f",
                static_cast<long long>(eval->step) + 1, eval->validationLoss, eval->perplexity, eval->tokenAccuracy);
            if (eval->exactMatch >= 0.0)
                std::printf(", exact match %.3f", eval->exactMatch);
            std::printf("\n");
        } else if (const auto* plan = std::get_if<PlanApplied>(&event)) {
            std::printf("plan (%s) from step %lld: predicted batch %.2f ms (no freezing %.2f ms, all frozen %.2f ms)\n",
                planSourceName(plan->source), static_cast<long long>(plan->appliedAtStep) + 1,
                plan->plan->batchMsPlanned, plan->plan->batchMsNoFreeze, plan->plan->batchMsAllFrozen);
        }
        std::fflush(stdout);
    }
};

// --- tfreeze train ---

constexpr const char* kInitHelp
    = "Start from the model weights of a checkpoint (its folder, or the --out of its run), as fine-tuning does: "
      "the optimizer, the freezer and the step count start afresh (overrides the config's init_from)";

struct TrainOptions {
    std::string configPath;
    std::optional<std::int64_t> steps;
    std::string freezer;
    std::optional<double> maxFreeze;
    std::optional<std::string> dbPath;
    std::string outDir;
    std::string resumeDir;
    std::string initFrom; // overrides the config's init_from
    std::string name;
    int progressEvery = 0; // 0: about 100 lines per run
    std::string device; // empty: the config's
    std::string summaryJson; // the outcome as JSON (for bench train --nproc); empty: none
    int commTimeoutSeconds = DistributedSetup {}.timeoutSeconds; // multi-process runs only
};

RunConfig loadConfig(const TrainOptions& options)
{
    const std::string path = options.configPath.empty() ? defaultConfigPath() : options.configPath;
    RunConfig config = readRunConfigFile(path);
    if (options.steps)
        config.steps = *options.steps;
    if (!options.freezer.empty())
        config.freezer.kind = parseFreezerKind(options.freezer, "--freezer");
    if (options.maxFreeze) {
        config.bounds.maxFreeze = *options.maxFreeze;
        config.bounds.maxFreezePerStage.clear();
    }
    if (!options.device.empty()) {
        config.device = parseDeviceKind(options.device, "--device");
        if (config.device == DeviceKind::Cpu)
            config.stageDevices.clear();
    }
    if (options.dbPath)
        config.output.db = *options.dbPath;
    if (!options.outDir.empty())
        config.output.dir = options.outDir;
    if (!options.initFrom.empty())
        config.initFrom = options.initFrom;
    // A resumed run takes its weights from its own checkpoint: the ones it started from are not
    // read again (and may be gone by now).
    if (!options.resumeDir.empty())
        config.initFrom.clear();
    validateRunConfig(config, path);
    if (!options.initFrom.empty()) {
        if (const std::optional<std::string> missing = missingInitCheckpoint(options.initFrom))
            throw InputError("--init", "", *missing);
    }
    checkRunInputs(config, path);
    return config;
}

std::string checkpointDir(const std::string& outDir) { return (fs::path(outDir) / "checkpoint").string(); }

std::string runName(const TrainOptions& options, const RunConfig& config)
{
    if (!options.name.empty())
        return options.name;
    const std::string configPath = options.configPath.empty() ? defaultConfigPath() : options.configPath;
    return fs::path(configPath).stem().string() + " " + freezerKindName(config.freezer.kind);
}

// The run in the database: a RunRecorder that a failed write (disk full, read-only file) turns
// into a stop, since losing the run's history silently is worse than stopping it.
class RunRecording {
public:
    void start(TrainingSession& session, const RunConfig& config, const std::string& name)
    {
        NewRun run;
        run.name = name;
        run.configJson = writeRunConfigJson(config);
        run.toolVersion = TFREEZE_VERSION;
        const std::int64_t runId = RunStore(config.output.db).beginRun(run);
        RunRecorderOptions options;
        options.onError = [this, &session](const std::string& error) {
            {
                const std::lock_guard lock(m_mutex);
                m_error = error;
            }
            session.control().requestStop();
        };
        m_recorder = std::make_shared<RunRecorder>(config.output.db, runId, options);
        session.addSink(m_recorder);
        std::printf("run %lld recorded in %s\n", static_cast<long long>(runId), config.output.db.c_str());
    }

    // Flushes and closes; the write error, if any.
    std::optional<std::string> finish()
    {
        if (!m_recorder)
            return std::nullopt;
        m_recorder->close();
        const std::lock_guard lock(m_mutex);
        if (!m_error && m_recorder->error())
            m_error = m_recorder->error();
        return m_error;
    }

private:
    std::shared_ptr<RunRecorder> m_recorder;
    std::mutex m_mutex;
    std::optional<std::string> m_error;
};

void printOutcome(const TrainingOutcome& outcome);

void writeJsonFile(const nlohmann::json& json, const std::string& path) { writeTextFile(path, json.dump(2) + '\n'); }

const char* statusName(TrainingOutcome::Status status)
{
    switch (status) {
    case TrainingOutcome::Status::Finished:
        return "finished";
    case TrainingOutcome::Status::Stopped:
        return "stopped";
    case TrainingOutcome::Status::Failed:
        return "failed";
    }
    return "failed";
}

// A figure of the run's plan, or null when it had none.
nlohmann::json whenPlanned(const TrainingOutcome& outcome, double value)
{
    return outcome.predictedBatchMs > 0.0 ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// The plan's prediction at the speed the forwards ran meanwhile: no plan changes a forward, so their
// drift is the machine's, and every duration, hence the batch, scales with the machine's speed.
// Empty without a plan or without the forwards' drift.
std::optional<double> predictionAtForwardSpeed(const TrainingOutcome& outcome)
{
    if (outcome.predictedBatchMs > 0.0 && outcome.unfreezableWorkScale > 0.0)
        return outcome.predictedBatchMs * outcome.unfreezableWorkScale;
    return std::nullopt;
}

void writeSummary(const TrainingOutcome& outcome, const std::string& path)
{
    nlohmann::json summary;
    summary["status"] = statusName(outcome.status);
    summary["steps_done"] = outcome.stepsDone;
    summary["tokens_per_s"] = outcome.meanTokensPerSecond;
    summary["mean_freeze_ratio"] = outcome.meanFreezeRatio;
    summary["val_loss"] = outcome.finalEval ? nlohmann::json(outcome.finalEval->validationLoss) : nlohmann::json();
    summary["predicted_batch_ms"] = whenPlanned(outcome, outcome.predictedBatchMs);
    summary["realised_batch_ms"] = whenPlanned(outcome, outcome.realisedBatchMs);
    writeJsonFile(summary, path);
}

void resumeFrom(TrainingSession& session, const std::string& dir, std::int64_t steps, bool quiet = false);

// Ranks 1 … N − 1 of a multi-process run: they train their stages quietly; rank 0 owns the run's
// database, files and progress lines. Each writes its part of every checkpoint, at the same steps
// as rank 0, into the same folder (which must be one they all see).
void runFollower(const TrainOptions& options, RunConfig config, const DistributedSetup& distributed)
{
    config.output.db.clear();
    // Ctrl-C reaches every process of the terminal: rank 0 stops the run for all at a step boundary.
    std::signal(SIGINT, SIG_IGN);
    TrainingSession session(config, distributed);
    if (!options.resumeDir.empty())
        resumeFrom(session, options.resumeDir, config.steps, true);
    if (session.nextStep() >= config.steps)
        return; // rank 0 says so: the run in the checkpoint is complete
    const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
        const std::int64_t done = progress.stats.step + 1;
        if (config.checkpointInterval > 0 && done % config.checkpointInterval == 0)
            session.saveCheckpoint(checkpointDir(config.output.dir));
    });
    if (outcome.status == TrainingOutcome::Status::Failed)
        throw std::runtime_error("rank " + std::to_string(distributed.rank) + ": training failed: " + outcome.error);
    if (config.checkpointInterval > 0)
        session.saveCheckpoint(checkpointDir(config.output.dir));
}

// The run of a single process, or rank 0 of a multi-process run: the database, files, progress.
void runLeader(const TrainOptions& options, const RunConfig& config, const DistributedSetup& distributed);

void runTrain(const TrainOptions& options)
{
    const RunConfig config = loadConfig(options);
    if (!options.summaryJson.empty())
        checkOutputFile(options.summaryJson, "--summary-json");
    if (config.checkpointInterval > 0 && config.output.dir.empty())
        throw InputError("--out", "", "checkpoint_interval is set: give an output folder for the checkpoints");

    // Under `tfreeze launch` or torchrun: one process per pipeline rank.
    DistributedSetup distributed = distributedSetupFromEnvironment();
    distributed.timeoutSeconds = options.commTimeoutSeconds;
    if (distributed.enabled && distributed.rank != 0) {
        runFollower(options, config, distributed);
        return;
    }
    if (distributed.enabled)
        std::printf("rank 0 of %d: waiting for the others at %s:%d\n", distributed.worldSize,
            distributed.masterAddr.c_str(), distributed.masterPort);
    runLeader(options, config, distributed);
}

// `dir`: either the checkpoint folder itself or the --out folder of the run that wrote it.
void resumeFrom(TrainingSession& session, const std::string& dir, std::int64_t steps, bool quiet)
{
    const std::string checkpoint = checkpointFolder(dir);
    session.loadCheckpoint(checkpoint);
    // Asked for fewer steps than the checkpoint has done: a run that cannot go back (and would
    // otherwise report itself finished without a step).
    const std::int64_t done = session.nextStep();
    if (done > steps)
        throw InputError("--steps", "",
            "the checkpoint in " + checkpoint + " is after step " + std::to_string(done) + ", so a run of "
                + std::to_string(steps) + " steps cannot continue from it: give --steps above " + std::to_string(done));
    if (!quiet)
        std::printf(
            "resuming from %s at step %lld\n", checkpoint.c_str(), static_cast<long long>(session.nextStep()) + 1);
}

void runLeader(const TrainOptions& options, const RunConfig& config, const DistributedSetup& distributed)
{
    TrainingSession session(config, distributed);
    if (!options.resumeDir.empty())
        resumeFrom(session, options.resumeDir, config.steps);
    if (session.nextStep() >= config.steps) {
        // Nothing to train and nothing to record: not a run of no steps in the database.
        std::printf("the run in the checkpoint has done its %lld steps: nothing to do (--steps above %lld "
                    "extends it)\n",
            static_cast<long long>(config.steps), static_cast<long long>(config.steps));
        return;
    }
    if (!config.initFrom.empty())
        std::printf("starting from the weights of %s\n", config.initFrom.c_str());

    std::shared_ptr<RunArtifacts> artifacts;
    if (!config.output.dir.empty()) {
        artifacts
            = std::make_shared<RunArtifacts>(config.output.dir, options.resumeDir.empty() ? 0 : session.nextStep());
        session.addSink(artifacts);
    }
    session.addSink(std::make_shared<ConsoleEvents>());

    RunRecording recording;
    if (!config.output.db.empty())
        recording.start(session, config, runName(options, config));

    const std::int64_t every
        = options.progressEvery > 0 ? options.progressEvery : std::max<std::int64_t>(1, config.steps / 100);
    g_interrupted = false;
    std::signal(SIGINT, onInterrupt);
    const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
        const std::int64_t done = progress.stats.step + 1;
        if (done % every == 0 || done == progress.totalSteps || done == 1)
            printProgress(progress);
        if (config.checkpointInterval > 0 && done % config.checkpointInterval == 0)
            session.saveCheckpoint(checkpointDir(config.output.dir));
        if (g_interrupted.exchange(false)) {
            std::printf("interrupted: stopping after this step (Ctrl-C again to quit at once)\n");
            session.control().requestStop();
        }
    });
    std::signal(SIGINT, SIG_DFL);
    if (config.checkpointInterval > 0 && outcome.status != TrainingOutcome::Status::Failed)
        session.saveCheckpoint(checkpointDir(config.output.dir));
    const std::optional<std::string> storeError = recording.finish();
    printOutcome(outcome);
    if (!options.summaryJson.empty())
        writeSummary(outcome, options.summaryJson);
    if (artifacts)
        std::printf("outputs in %s\n", config.output.dir.c_str());
    if (storeError)
        throw std::runtime_error("the run database failed, so the run stopped: " + *storeError);
    if (outcome.status == TrainingOutcome::Status::Failed)
        throw std::runtime_error("training failed: " + outcome.error);
    if (outcome.status == TrainingOutcome::Status::Stopped)
        std::printf("stopped at step %lld of %lld\n", static_cast<long long>(outcome.stepsDone),
            static_cast<long long>(config.steps));
}

void printOutcome(const TrainingOutcome& outcome)
{
    if (outcome.finalEval) {
        std::printf("final: validation loss %.4f, perplexity %.2f, token accuracy %.3f",
            outcome.finalEval->validationLoss, outcome.finalEval->perplexity, outcome.finalEval->tokenAccuracy);
        if (outcome.finalEval->exactMatch >= 0.0)
            std::printf(", exact match %.3f", outcome.finalEval->exactMatch);
        std::printf("; %.0f tokens/s, mean freeze ratio %.3f\n", outcome.meanTokensPerSecond, outcome.meanFreezeRatio);
    }
    if (outcome.predictedBatchMs > 0.0)
        std::printf("plan: predicted batch %.2f ms, realised %.2f ms (%+.1f%%)\n", outcome.predictedBatchMs,
            outcome.realisedBatchMs, (outcome.realisedBatchMs / outcome.predictedBatchMs - 1.0) * 100.0);
    if (const std::optional<double> atMeasuredSpeed = predictionAtForwardSpeed(outcome)) {
        std::printf("      forwards ran %+.1f%% against the profile; at that speed the plan predicts %.2f ms (realised "
                    "%+.1f%%)\n",
            (outcome.unfreezableWorkScale - 1.0) * 100.0, *atMeasuredSpeed,
            (outcome.realisedBatchMs / *atMeasuredSpeed - 1.0) * 100.0);
    }
}

// --- tfreeze bench train ---

struct BenchTrainOptions {
    std::string configPath;
    std::optional<std::int64_t> steps;
    std::vector<std::string> freezers { "none", "apf", "autofreeze", "timelyfreeze", "timely+apf" };
    std::vector<double> maxFreezes; // the planning freezers run once per bound; empty: the config's
    int repeats = 1; // rounds over every run, interleaved; a row reports the run of median tokens/s
    std::string jsonPath;
    bool overhead = false;
    std::string device;
    int nproc = 0; // > 0: in-process against one process per rank (tfreeze launch)
    std::string initFrom; // every run starts from this checkpoint's weights
    std::int64_t pretrainSteps = 0; // > 0: every run starts from the weights of this many steps of none
};

struct BenchRow {
    std::string freezer;
    std::optional<double> maxFreeze; // the bound ρ of a planning freezer (one value on every stage)
    TrainingOutcome outcome; // with --repeats, the run of median tokens/s
    double seconds = 0.0;
    std::vector<double> repeatTokensPerSecond; // every round's tokens/s, in order
};

// The freezers that plan with the LP, and so take the accuracy bound.
bool plansWithBound(FreezerKind kind)
{
    return kind == FreezerKind::TimelyFreeze || kind == FreezerKind::TimelyApf || kind == FreezerKind::TimelyAutoFreeze;
}

TrainingOutcome benchRun(TrainingSession& session, double& seconds)
{
    const auto start = std::chrono::steady_clock::now();
    TrainingOutcome outcome = session.run([](const TrainingProgress& progress) {
        if ((progress.stats.step + 1) % 10 == 0) {
            std::fprintf(stderr, "  step %lld/%lld, %.0f tokens/s\r", static_cast<long long>(progress.stats.step) + 1,
                static_cast<long long>(progress.totalSteps), progress.stats.tokensPerSecond);
            std::fflush(stderr);
        }
    });
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.status == TrainingOutcome::Status::Failed)
        throw std::runtime_error("bench train: the run failed: " + outcome.error);
    return outcome;
}

TrainingOutcome benchRun(const RunConfig& config, double& seconds)
{
    TrainingSession session(config);
    return benchRun(session, seconds);
}

// A folder of its own under the system's temporary folder, removed with everything in it.
class TemporaryFolder {
public:
    explicit TemporaryFolder(const std::string& prefix)
    {
        std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error(
                "cannot create a folder under " + fs::temp_directory_path().string() + ": " + std::strerror(errno));
        m_path = pattern;
    }
    ~TemporaryFolder()
    {
        std::error_code ignored; // nothing to do about a leftover temporary file
        fs::remove_all(m_path, ignored);
    }
    TemporaryFolder(const TemporaryFolder&) = delete;
    TemporaryFolder& operator=(const TemporaryFolder&) = delete;

    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

// Trains `base` without freezing for `steps` steps and checkpoints it into `dir`: the weights that
// bench train --pretrain-steps starts every run from, as the method's fine-tuning runs do.
void pretrain(RunConfig base, std::int64_t steps, const std::string& dir)
{
    base.freezer.kind = FreezerKind::None;
    base.steps = steps;
    std::fprintf(stderr, "pretraining: %lld steps without freezing\n", static_cast<long long>(steps));
    double seconds = 0.0;
    TrainingSession session(base);
    const TrainingOutcome outcome = benchRun(session, seconds);
    session.saveCheckpoint(dir);
    std::printf("pretrained %lld steps without freezing in %.0f s", static_cast<long long>(steps), seconds);
    if (outcome.finalEval)
        std::printf(": validation loss %.4f", outcome.finalEval->validationLoss);
    std::printf("; every run below starts from these weights\n");
}

void runBenchOverhead(RunConfig base, int rounds);
std::string signedPercent(double fraction, int decimals = 1);
void runBenchFreezers(const BenchTrainOptions& options, const RunConfig& base);
void runBenchProcesses(const BenchTrainOptions& options, const RunConfig& base);

void runBenchTrain(const BenchTrainOptions& options)
{
    // Every name before the first run: a typo must not cost the runs in front of it.
    for (const std::string& name : options.freezers)
        parseFreezerKind(name, "--freezers");
    if (!options.jsonPath.empty())
        checkOutputFile(options.jsonPath, "--json");
    TrainOptions trainOptions;
    trainOptions.configPath = options.configPath;
    trainOptions.steps = options.steps;
    trainOptions.device = options.device;
    trainOptions.initFrom = options.initFrom;
    trainOptions.dbPath = std::string(); // benchmarks are not recorded
    RunConfig base = loadConfig(trainOptions);
    base.output.dir.clear();
    base.checkpointInterval = 0;
    std::optional<TemporaryFolder> pretrained;
    if (options.pretrainSteps > 0) {
        pretrained.emplace("tfreeze-pretrain");
        pretrain(base, options.pretrainSteps, pretrained->path());
        base.initFrom = pretrained->path();
    }

    if (options.overhead) {
        runBenchOverhead(base, options.repeats);
        return;
    }
    if (options.nproc > 0) {
        runBenchProcesses(options, base);
        return;
    }
    runBenchFreezers(options, base);
}

// One round of the timing-overhead bench: a run of freezer none whose steps take turns with the
// action timing off and on, in the order off, on, on, off (so a machine that speeds up or slows
// down within a block favours neither), and each step's wall time, from one progress callback to
// the next (it holds all the timing costs: the marks, the spans' conversion, the bubble and the
// publishing). Steps in the same run a few hundred milliseconds apart see the same machine; two
// whole runs on this shared machine differ by ±5–10%, far more than what is measured here.
struct TimingRound {
    std::vector<double> offStepMs;
    std::vector<double> onStepMs;
    double seconds = 0.0;
};

// Steps left out of the figures: the first block also pays for the allocator's and the thread
// pools' first use.
constexpr std::int64_t kTimingWarmupSteps = 4;

TimingRound timingRound(const RunConfig& config)
{
    const auto timingAt = [](std::int64_t step) { return step % 4 == 1 || step % 4 == 2; };
    TrainingSession session(config);
    session.setTimingEnabled(timingAt(0));
    TimingRound round;
    double lastElapsed = 0.0;
    const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
        const std::int64_t step = progress.stats.step;
        if (step >= kTimingWarmupSteps)
            (timingAt(step) ? round.onStepMs : round.offStepMs)
                .push_back((progress.elapsedSeconds - lastElapsed) * 1e3);
        lastElapsed = progress.elapsedSeconds;
        session.setTimingEnabled(timingAt(step + 1)); // between steps, on the thread that runs them
        if ((step + 1) % 10 == 0) {
            std::fprintf(stderr, "  step %lld/%lld\r", static_cast<long long>(step) + 1,
                static_cast<long long>(progress.totalSteps));
            std::fflush(stderr);
        }
    });
    round.seconds = lastElapsed;
    if (outcome.status == TrainingOutcome::Status::Failed)
        throw std::runtime_error("bench train: the run failed: " + outcome.error);
    return round;
}

// The cost of timing every action: `rounds` runs of timingRound(), each round's overhead the
// median step time with timing on against off, and the median over the rounds.
void runBenchOverhead(RunConfig base, int rounds)
{
    base.freezer.kind = FreezerKind::None;
    if (base.steps < kTimingWarmupSteps + 2)
        throw InputError("--steps", "",
            "the timing overhead needs at least " + std::to_string(kTimingWarmupSteps + 2) + " steps (got "
                + std::to_string(base.steps) + "): " + std::to_string(kTimingWarmupSteps)
                + " to warm up, then one with the timing off and one on");
    std::printf("timing overhead: %d round%s of %lld steps of freezer none, the action timing off and on in turn "
                "(off, on, on, off, ...)\n",
        rounds, rounds == 1 ? "" : "s", static_cast<long long>(base.steps));
    TextTable table;
    table.addColumn("round", TextTable::Align::Left);
    table.addColumn("steps off / on");
    table.addColumn("median step ms off");
    table.addColumn("on");
    table.addColumn("overhead");
    std::vector<double> overheads;
    for (int index = 0; index < rounds; ++index) {
        std::fprintf(stderr, "round %d/%d: %lld steps\n", index + 1, rounds, static_cast<long long>(base.steps));
        const TimingRound round = timingRound(base);
        std::fprintf(stderr, "round %d/%d: %.1f s%40s\n", index + 1, rounds, round.seconds, "");
        const double offMs = median(round.offStepMs);
        const double onMs = median(round.onStepMs);
        overheads.push_back(onMs / offMs - 1.0);
        table.addRow({ std::to_string(index + 1),
            std::to_string(round.offStepMs.size()) + " / " + std::to_string(round.onStepMs.size()),
            formatFixed(offMs, 2), formatFixed(onMs, 2), signedPercent(overheads.back(), 2) });
    }
    table.print(std::cout);
    const auto [lowest, highest] = std::minmax_element(overheads.begin(), overheads.end());
    std::printf("overhead of timing: %+.2f%% of step time (median over %d round%s; range %+.2f%% to %+.2f%%)\n",
        median(overheads) * 100.0, rounds, rounds == 1 ? "" : "s", *lowest * 100.0, *highest * 100.0);
}

// 0.052 → "+5.2%" (with 2 decimals "+5.20%").
std::string signedPercent(double fraction, int decimals)
{
    return (fraction >= 0.0 ? "+" : "") + formatFixed(fraction * 100.0, decimals) + "%";
}

// A cell and a JSON value that exist only for some rows (the forwards' drift): "-" and null otherwise.
std::string percentCell(bool present, double fraction) { return present ? signedPercent(fraction) : "-"; }
nlohmann::json numberOrNull(bool present, double value)
{
    return present ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// One row of the bench table, as text cells and as JSON.
void addBenchRow(const BenchRow& row, double noneTokens, TextTable& table, nlohmann::json& rows)
{
    const TrainingOutcome& o = row.outcome;
    const double ratio = noneTokens > 0.0 ? o.meanTokensPerSecond / noneTokens : 0.0;
    const double valLoss = o.finalEval ? o.finalEval->validationLoss : 0.0;
    double valAccuracy = 0.0;
    if (o.finalEval)
        valAccuracy = o.finalEval->exactMatch >= 0.0 ? o.finalEval->exactMatch : o.finalEval->tokenAccuracy;
    const bool planned = o.predictedBatchMs > 0.0;
    const double planRatio = noneTokens > 0.0 ? o.planTokensPerSecond / noneTokens : 0.0;
    // Realised against predicted (the 10%), and against the prediction at the forwards'
    // speed, as `tfreeze train` prints them.
    const std::optional<double> predictedAtSpeed = predictionAtForwardSpeed(o);
    const bool drifted = predictedAtSpeed.has_value();
    const double vsPredicted = planned ? o.realisedBatchMs / o.predictedBatchMs - 1.0 : 0.0;
    const double atForwardSpeed = drifted ? o.realisedBatchMs / *predictedAtSpeed - 1.0 : 0.0;
    const auto [lowest, highest]
        = std::minmax_element(row.repeatTokensPerSecond.begin(), row.repeatTokensPerSecond.end());
    const bool repeated = row.repeatTokensPerSecond.size() > 1 && o.meanTokensPerSecond > 0.0;
    const double spread = repeated ? (*highest - *lowest) / (2.0 * o.meanTokensPerSecond) : 0.0;
    table.addRow({ row.freezer, row.maxFreeze ? formatFixed(*row.maxFreeze, 2) : "-",
        formatFixed(o.meanTokensPerSecond, 0), repeated ? "±" + formatFixed(spread * 100.0, 1) + "%" : "-",
        noneTokens > 0.0 ? formatFixed(ratio, 3) + "x" : "-", planned ? formatFixed(o.planTokensPerSecond, 0) : "-",
        planned && noneTokens > 0.0 ? formatFixed(planRatio, 3) + "x" : "-", formatFixed(o.meanFreezeRatio, 3),
        formatFixed(valLoss, 4), formatFixed(valAccuracy, 4), planned ? formatFixed(o.predictedBatchMs, 1) : "-",
        planned ? formatFixed(o.realisedBatchMs, 1) : "-", percentCell(planned, vsPredicted),
        percentCell(drifted, o.unfreezableWorkScale - 1.0), percentCell(drifted, atForwardSpeed) });
    nlohmann::json entry { { "freezer", row.freezer },
        { "max_freeze", row.maxFreeze ? nlohmann::json(*row.maxFreeze) : nlohmann::json(nullptr) },
        { "tokens_per_s", o.meanTokensPerSecond }, { "ratio_vs_none", ratio },
        { "mean_freeze_ratio", o.meanFreezeRatio }, { "val_loss", valLoss }, { "val_accuracy", valAccuracy },
        { "wall_seconds", row.seconds }, { "tokens_per_s_repeats", row.repeatTokensPerSecond } };
    entry["predicted_batch_ms"] = whenPlanned(o, o.predictedBatchMs);
    entry["realised_batch_ms"] = whenPlanned(o, o.realisedBatchMs);
    entry["plan_tokens_per_s"] = whenPlanned(o, o.planTokensPerSecond);
    entry["realised_vs_predicted"] = whenPlanned(o, vsPredicted);
    entry["forward_drift"] = numberOrNull(drifted, o.unfreezableWorkScale - 1.0);
    entry["realised_vs_predicted_at_forward_speed"] = numberOrNull(drifted, atForwardSpeed);
    rows.push_back(std::move(entry));
}

// `tfreeze launch --nproc N -- train ...` as a child process; its rank 0's summary.
nlohmann::json runLaunched(const BenchTrainOptions& options, const RunConfig& config, const std::string& freezer)
{
    const std::string configPath
        = (fs::temp_directory_path() / ("tfreeze-bench-" + std::to_string(::getpid()) + ".json")).string();
    const std::string summaryPath = configPath + ".summary";
    // Read back from the temporary folder, where relative input paths would no longer lead anywhere.
    RunConfig written = config;
    makeInputPathsAbsolute(written);
    writeRunConfigFile(written, configPath);
    std::string self(4096, '\0');
    const ssize_t length = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    self.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
    // The written config records nothing (bench runs have no database).
    std::vector<std::string> arguments { "tfreeze", "launch", "--nproc", std::to_string(options.nproc), "--", "train",
        "--config", configPath, "--freezer", freezer, "--summary-json", summaryPath, "--progress-every",
        std::to_string(config.steps) };
    std::vector<char*> argv;
    argv.reserve(arguments.size() + 1);
    for (std::string& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        throw std::runtime_error("bench train: cannot start tfreeze launch");
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream in(summaryPath);
    nlohmann::json summary = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    std::error_code ignored;
    fs::remove(configPath, ignored);
    fs::remove(summaryPath, ignored);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !summary.is_object())
        throw std::runtime_error("bench train: the " + std::to_string(options.nproc) + "-process run of " + freezer
            + " failed (its errors are above)");
    return summary;
}

void runBenchProcesses(const BenchTrainOptions& options, const RunConfig& base)
{
    if (options.nproc != base.schedule.ranks)
        throw InputError("--nproc", "",
            "one process per pipeline rank: the config has " + std::to_string(base.schedule.ranks) + " ranks");
    TextTable table;
    table.addColumn("freezer", TextTable::Align::Left);
    for (const char* header : { "in-process tokens/s", "processes tokens/s", "processes vs in-process",
             "in-process val loss", "processes val loss", "in-process vs plan", "processes vs plan" })
        table.addColumn(header);
    // Realised against predicted batch time ("+5.0%"), or "-" for a run without a plan (null).
    auto againstPlan = [](const nlohmann::json& predicted, const nlohmann::json& realised) -> std::string {
        if (!predicted.is_number() || !realised.is_number() || predicted.get<double>() <= 0.0)
            return "-";
        return signedPercent(realised.get<double>() / predicted.get<double>() - 1.0);
    };
    nlohmann::json json;
    json["config"] = options.configPath.empty() ? defaultConfigPath() : options.configPath;
    json["steps"] = base.steps;
    json["nproc"] = options.nproc;
    json["rows"] = nlohmann::json::array();
    for (const std::string& name : options.freezers) {
        RunConfig config = base;
        config.freezer.kind = parseFreezerKind(name, "--freezers");
        std::fprintf(stderr, "%s in one process: %lld steps\n", name.c_str(), static_cast<long long>(config.steps));
        double seconds = 0.0;
        const TrainingOutcome local = benchRun(config, seconds);
        std::fprintf(stderr, "%s in %d processes\n", name.c_str(), options.nproc);
        const nlohmann::json launched = runLaunched(options, config, name);
        const double processTokens = launched.value("tokens_per_s", 0.0);
        const double localLoss = local.finalEval ? local.finalEval->validationLoss : 0.0;
        const double processLoss = launched["val_loss"].is_number() ? launched["val_loss"].get<double>() : 0.0;
        const double ratio = local.meanTokensPerSecond > 0 ? processTokens / local.meanTokensPerSecond : 0.0;
        const nlohmann::json localPredicted = whenPlanned(local, local.predictedBatchMs);
        const nlohmann::json localRealised = whenPlanned(local, local.realisedBatchMs);
        const nlohmann::json processPredicted = launched.value("predicted_batch_ms", nlohmann::json());
        const nlohmann::json processRealised = launched.value("realised_batch_ms", nlohmann::json());
        table.addRow({ name, formatFixed(local.meanTokensPerSecond, 0), formatFixed(processTokens, 0),
            formatFixed(ratio, 3) + "x", formatFixed(localLoss, 4), formatFixed(processLoss, 4),
            againstPlan(localPredicted, localRealised), againstPlan(processPredicted, processRealised) });
        json["rows"].push_back({ { "freezer", name }, { "in_process_tokens_per_s", local.meanTokensPerSecond },
            { "processes_tokens_per_s", processTokens }, { "in_process_val_loss", localLoss },
            { "processes_val_loss", processLoss }, { "in_process_predicted_batch_ms", localPredicted },
            { "in_process_realised_batch_ms", localRealised }, { "processes_predicted_batch_ms", processPredicted },
            { "processes_realised_batch_ms", processRealised } });
    }
    std::printf("%lld steps each, same config and seed: ranks as threads of one process against %d processes "
                "(tfreeze launch, c10d Gloo on loopback)\n",
        static_cast<long long>(base.steps), options.nproc);
    table.print(std::cout);
    if (!options.jsonPath.empty())
        writeJsonFile(json, options.jsonPath);
}

// One run of bench train: a freezer, with a bound for the planning freezers, and its rounds.
struct BenchVariant {
    BenchRow row;
    RunConfig config;
    std::vector<std::pair<TrainingOutcome, double>> runs; // outcome, wall seconds
};

// One variant per freezer, and per --max-freeze value for the planning freezers (or with the
// config's bound); the others take no bound.
std::vector<BenchVariant> benchVariants(const BenchTrainOptions& options, const RunConfig& base)
{
    std::vector<BenchVariant> variants;
    for (const std::string& name : options.freezers) {
        RunConfig config = base;
        config.freezer.kind = parseFreezerKind(name, "--freezers");
        std::vector<std::optional<double>> bounds { std::nullopt };
        if (plansWithBound(config.freezer.kind)) {
            if (!options.maxFreezes.empty())
                bounds.assign(options.maxFreezes.begin(), options.maxFreezes.end());
            else if (config.bounds.maxFreezePerStage.empty())
                bounds = { config.bounds.maxFreeze };
        }
        for (const std::optional<double>& bound : bounds) {
            if (bound && !options.maxFreezes.empty()) {
                config.bounds.maxFreeze = *bound;
                config.bounds.maxFreezePerStage.clear();
            }
            BenchVariant variant;
            variant.row.freezer = name;
            variant.row.maxFreeze = bound;
            variant.config = config;
            variants.push_back(std::move(variant));
        }
    }
    return variants;
}

// The variant's row: every round's tokens/s, and the run of median tokens/s (the lower median for
// an even count: a run that happened, not an average of two).
BenchRow medianRow(BenchVariant variant)
{
    for (const auto& run : variant.runs)
        variant.row.repeatTokensPerSecond.push_back(run.first.meanTokensPerSecond);
    std::vector<std::size_t> order(variant.runs.size());
    std::iota(order.begin(), order.end(), std::size_t { 0 });
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return variant.runs[a].first.meanTokensPerSecond < variant.runs[b].first.meanTokensPerSecond;
    });
    const auto& median = variant.runs[order[(order.size() - 1) / 2]];
    variant.row.outcome = median.first;
    variant.row.seconds = median.second;
    return std::move(variant.row);
}

void runBenchFreezers(const BenchTrainOptions& options, const RunConfig& base)
{
    std::vector<BenchVariant> variants = benchVariants(options, base);
    // Rounds over all runs, so that a slow spell of a shared machine falls on every freezer alike
    // rather than on whichever ran then.
    for (int round = 0; round < options.repeats; ++round) {
        for (BenchVariant& variant : variants) {
            const BenchRow& row = variant.row;
            std::string label
                = row.maxFreeze ? row.freezer + " at max freeze " + formatFixed(*row.maxFreeze, 2) : row.freezer;
            if (options.repeats > 1)
                label += ", round " + std::to_string(round + 1) + "/" + std::to_string(options.repeats);
            std::fprintf(stderr, "%s: %lld steps\n", label.c_str(), static_cast<long long>(variant.config.steps));
            double seconds = 0.0;
            TrainingOutcome outcome = benchRun(variant.config, seconds);
            std::fprintf(stderr, "%s: %.1f s%40s\n", label.c_str(), seconds, "");
            variant.runs.emplace_back(std::move(outcome), seconds);
        }
    }
    std::vector<BenchRow> rows;
    rows.reserve(variants.size());
    for (BenchVariant& variant : variants)
        rows.push_back(medianRow(std::move(variant)));

    const double noneTokens = [&rows] {
        for (const BenchRow& row : rows)
            if (row.freezer == "none")
                return row.outcome.meanTokensPerSecond;
        return 0.0;
    }();
    TextTable table;
    table.addColumn("freezer", TextTable::Align::Left);
    for (const char* header :
        { "max freeze", "tokens/s", "spread", "vs none", "with plan", "vs none", "mean freeze", "val loss",
            "val accuracy", "predicted ms", "realised ms", "vs predicted", "forward drift", "at their speed" })
        table.addColumn(header);
    nlohmann::json json;
    json["config"] = options.configPath.empty() ? defaultConfigPath() : options.configPath;
    json["steps"] = base.steps;
    json["rows"] = nlohmann::json::array();
    for (const BenchRow& row : rows)
        addBenchRow(row, noneTokens, table, json["rows"]);
    std::printf("%lld steps each, same config and seed; tokens/s over the whole run (with --repeats: the run of "
                "median tokens/s, spread: half the range over the rounds), and with the plan: over the steps "
                "that ran the whole plan; val accuracy is exact match for sort/add, token accuracy for text; "
                "forward drift: how much slower the forwards ran with the plan than when they were profiled (the "
                "machine's share of realised / predicted); at their speed: realised against the prediction scaled "
                "by that drift\n",
        static_cast<long long>(base.steps));
    table.print(std::cout);
    if (!options.jsonPath.empty())
        writeJsonFile(json, options.jsonPath);
}

} // namespace

// --- tfreeze doctor: what this build can do, and a c10d collective self-check ---

struct DoctorOptions {
    std::string backend = "gloo";
    int rounds = 20;
};

// The engine calls its config "config" in what it refuses as a run starts (device cuda where no GPU
// is visible); the message names where the value came from instead: the flag that set it
// (`deviceFlag`: --device was given) or the config file.
template <typename Work> void namingTheConfig(const std::string& configPath, bool deviceFlag, Work&& work)
{
    try {
        work();
    } catch (const InputError& error) {
        if (error.source() != "config")
            throw;
        if (deviceFlag && error.field() == "device")
            throw InputError("--device", "", error.reason());
        throw InputError(configPath.empty() ? defaultConfigPath() : configPath, error.field(), error.reason());
    }
}

void runDoctor(const DoctorOptions& options)
{
    std::cout << "tfreeze " << TFREEZE_VERSION << ": " << engineCapabilities() << '\n';
    const CollectiveCheckResult result = checkCollectives(options.backend, options.rounds);
    for (const std::string& line : result.lines)
        std::cout << "  " << line << '\n';
    if (!result.ok)
        throw std::runtime_error("doctor: a " + options.backend + " collective returned wrong values (above)");
}

void addTrainCommands(CommandSet& commands)
{
    auto train = CommandSet::makeOptions<TrainOptions>();
    CLI::App* trainCommand = commands.app().add_subcommand("train", kTrainCommand.description);
    trainCommand->add_option(
        "--config", train->configPath, "Run config JSON (default: resources/configs/default.json)");
    trainCommand->add_option("--steps", train->steps, "Optimizer steps (overrides the config)")
        ->check(CLI::Range(std::int64_t { 1 }, std::int64_t { 100'000'000 }));
    trainCommand->add_option("--freezer", train->freezer,
        "none, timelyfreeze, apf, autofreeze, timely+apf or timely+autofreeze (overrides the config)");
    trainCommand->add_option("--max-freeze", train->maxFreeze, "Accuracy bound: max mean freeze ratio of every stage")
        ->check(unitInterval());
    trainCommand->add_option("--device", train->device, "cpu or cuda (overrides the config)")
        ->check(CLI::IsMember({ "cpu", "cuda" }));
    trainCommand->add_option("--db", train->dbPath,
        "Run database to record into (default: the config's, "
        "runs/history.sqlite; \"\" records nothing)");
    trainCommand->add_option("--out", train->outDir,
        "Folder for metrics.csv, profile.json, plan.json and checkpoints (overrides the config)");
    CLI::Option* resume = trainCommand->add_option(
        "--resume", train->resumeDir, "Continue from a checkpoint folder (or the --out of its run)");
    trainCommand->add_option("--init", train->initFrom, kInitHelp)->excludes(resume);
    trainCommand->add_option("--name", train->name, "Name of the run in the database (default: config and freezer)");
    trainCommand->add_option("--summary-json", train->summaryJson, "Also write the outcome (tokens/s, loss) as JSON");
    trainCommand
        ->add_option("--comm-timeout", train->commTimeoutSeconds,
            "Multi-process runs: seconds a rank waits for the others (rendezvous and every exchange) "
            "before the run fails; a dead or hung rank ends the run this long after")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    trainCommand
        ->add_option("--progress-every", train->progressEvery, "A progress line every N steps (default: ~100 lines)")
        ->check(positiveInteger());
    commands.add(trainCommand,
        [train] { namingTheConfig(train->configPath, !train->device.empty(), [&] { runTrain(*train); }); });

    auto bench = CommandSet::makeOptions<BenchTrainOptions>();
    CLI::App& benchGroup = commands.group("bench", kBenchGroupDescription);
    CLI::App* benchCommand = benchGroup.add_subcommand("train", kBenchTrainCommand.description);
    benchCommand->add_option(
        "--config", bench->configPath, "Run config JSON (default: resources/configs/default.json)");
    benchCommand->add_option("--steps", bench->steps, "Steps per run (overrides the config)")
        ->check(CLI::Range(std::int64_t { 1 }, std::int64_t { 100'000'000 }));
    CLI::Option* freezers = benchCommand->add_option("--freezers", bench->freezers, "Freezers to compare, in order")
                                ->delimiter(',')
                                ->capture_default_str();
    CLI::Option* benchMaxFreeze
        = benchCommand
              ->add_option("--max-freeze", bench->maxFreezes,
                  "Accuracy bounds (comma separated): each planning freezer (timelyfreeze, timely+apf, "
                  "timely+autofreeze) runs once per bound, on every stage (default: the config's bound)")
              ->delimiter(',')
              ->check(unitInterval());
    benchCommand->add_option("--device", bench->device, "cpu or cuda (overrides the config)")
        ->check(CLI::IsMember({ "cpu", "cuda" }));
    CLI::Option* json = benchCommand->add_option("--json", bench->jsonPath, "Also write the table as JSON");
    CLI::Option* repeats
        = benchCommand
              ->add_option("--repeats", bench->repeats,
                  "Rounds over all runs, interleaved; each row reports its run of median tokens/s (with --overhead: "
                  "runs, each with the timing off and on in turn)")
              ->check(CLI::Range(1, 100))
              ->capture_default_str();
    CLI::Option* overhead = benchCommand->add_flag("--overhead", bench->overhead,
        "Instead: the cost of timing every action (median step time with the timing on against off, "
        "taking turns step by step in one run of freezer none)");
    CLI::Option* nproc = benchCommand
                             ->add_option("--nproc", bench->nproc,
                                 "Instead: each freezer in one process against one process per rank (tfreeze launch): "
                                 "tokens/s, validation loss, realised against predicted batch time")
                             ->check(CLI::Range(1, 1024));
    benchMaxFreeze->excludes(overhead);
    benchMaxFreeze->excludes(nproc);
    // The overhead bench runs freezer none only and prints its own table, which has no JSON form.
    overhead->excludes(nproc);
    overhead->excludes(freezers);
    overhead->excludes(json);
    repeats->excludes(nproc);
    CLI::Option* benchInit = benchCommand->add_option("--init", bench->initFrom, kInitHelp);
    benchCommand
        ->add_option("--pretrain-steps", bench->pretrainSteps,
            "First train this many steps without freezing, then start every run from those weights "
            "(fine-tuning, the setting of the TimelyFreeze paper); the pretraining is not in the table")
        ->check(CLI::Range(std::int64_t { 1 }, std::int64_t { 100'000'000 }))
        ->excludes(benchInit)
        ->excludes(nproc);
    commands.add(benchCommand,
        [bench] { namingTheConfig(bench->configPath, !bench->device.empty(), [&] { runBenchTrain(*bench); }); });

    auto doctor = CommandSet::makeOptions<DoctorOptions>();
    CLI::App* doctorCommand = commands.app().add_subcommand("doctor", kDoctorCommand.description);
    doctorCommand->add_option("--backend", doctor->backend, "gloo (CPU) or nccl (CUDA)")
        ->check(CLI::IsMember({ "gloo", "nccl" }))
        ->capture_default_str();
    doctorCommand->add_option("--rounds", doctor->rounds, "Timed all-reduces of 4 MiB")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    commands.add(doctorCommand, [doctor] { runDoctor(*doctor); });
}

} // namespace tfreeze
