#pragma once

// The configuration of one training run: the run config JSON of README "Run config", as plain
// structs. Torch-free on purpose: the CLI and the studio include this header.

#include "core/engine/freeze_selection.h"
#include "core/plan/pipeline_schedule.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

// A LLaMA-style decoder. The defaults are the "tiny" model that trains visibly on a 2-core CPU.
struct ModelConfig {
    int vocabulary = 256; // byte-level
    int width = 128;
    int blocks = 8;
    int heads = 4;
    int sequence = 64; // tokens per training window
    int mlpHidden = 0; // SwiGLU hidden width; 0: 8·width/3 rounded up to a multiple of 32
    double ropeBase = 10000.0;
    double normEpsilon = 1e-5;

    int headDim() const { return width / heads; }
    int resolvedMlpHidden() const { return mlpHidden > 0 ? mlpHidden : (8 * width / 3 + 31) / 32 * 32; }
};

// text: byte-level language modelling on a file; sort/add: synthetic tasks made in process.
enum class DataKind { Text, Sort, Add };

struct DataConfig {
    DataKind kind = DataKind::Text;
    // The text file. Empty: the corpus shipped in resources/corpus. A relative path in a config
    // file is relative to that file's folder (readRunConfigFile resolves it).
    std::string path;
    double validationFraction = 0.1; // text: the share of the file held out for validation
    int batchSize = 32; // windows (text) or examples (sort, add) per batch; a multiple of microbatches
    int sortLength = 8; // sort: at most this many digits (at least 2)
    int addDigits = 4; // add: each operand has at most this many digits
    int heldOutExamples = 512; // sort, add: examples in the held-out set, never trained on
};

enum class LearningRateDecay { Cosine, Constant };

// AdamW with linear warm-up, then cosine decay to lr · minLrRatio at the last step.
struct OptimizerConfig {
    double lr = 3e-3;
    double beta1 = 0.9;
    double beta2 = 0.95;
    double epsilon = 1e-8;
    double weightDecay = 0.1; // on matrices and embeddings, not on norm weights
    int warmupSteps = 20;
    LearningRateDecay decay = LearningRateDecay::Cosine;
    double minLrRatio = 0.1;
    double gradClip = 1.0; // maximum global gradient norm; 0: no clipping
};

enum class FreezerKind { None, TimelyFreeze, Apf, AutoFreeze, TimelyApf, TimelyAutoFreeze };

// Phase lengths of TimelyFreeze (METHOD.md §6), in steps.
struct TimelyFreezeConfig {
    int warmupSteps = 50;
    int monitorMaxSteps = 20;
    int monitorMinSteps = 20;
    int rampSteps = 60;
};

// METHOD.md §7, APF.
struct ApfConfig {
    double threshold = 0.05; // T_s: a tensor whose instability P = |E|/A is below it freezes
    int window = 10; // steps between stability checks (Δ is the update over one window)
    double alpha = 0.99; // EMA factor of E and A
};

// METHOD.md §7, AutoFreeze.
struct AutoFreezeConfig {
    int interval = 50; // steps between freezing decisions
    double percentile = 50.0; // of the active layers' gradient-norm change rates
};

struct FreezerConfig {
    FreezerKind kind = FreezerKind::None;
    int stabilityCheckFreq = 10; // steps between re-draws of which tensors an action freezes
    FirstStageDraw firstStageDraw = FirstStageDraw::Weighted; // how stage 0 picks its frozen tensors
    TimelyFreezeConfig timely;
    ApfConfig apf;
    AutoFreezeConfig autoFreeze;
    double replanDrift = 0.0; // re-plan when measured times drift by more than this fraction; 0: never
};

// Accuracy bound ρ: the largest mean freeze ratio per stage (METHOD.md §4).
struct BoundsConfig {
    double maxFreeze = 0.9; // every stage, unless maxFreezePerStage is given
    std::vector<double> maxFreezePerStage; // empty, or one value per stage

    double maxFreezeOf(int stage) const
    {
        return maxFreezePerStage.empty() ? maxFreeze : maxFreezePerStage.at(static_cast<std::size_t>(stage));
    }
};

enum class DeviceKind { Cpu, Cuda };

struct OutputConfig {
    std::string dir; // run artifacts (metrics.csv, profile.json, plan.json); empty: none written
    std::string db = "runs/history.sqlite"; // the run database; empty: not recorded
};

struct RunConfig {
    ModelConfig model;
    DataConfig data;
    ScheduleShape schedule { ScheduleKind::OneFOneB, 4, 8, 1 };
    std::vector<int> partition; // blocks per stage, input side first; empty: balanced by parameters
    OptimizerConfig optimizer;
    FreezerConfig freezer;
    BoundsConfig bounds;
    std::int64_t steps = 300;
    // A checkpoint folder (of `tfreeze train`, one process) whose model weights the run starts
    // from, as fine-tuning does: the optimizer, the freezer and the step count start afresh. Empty:
    // the seed's initialisation. A relative path in a config file is relative to that file's folder.
    std::string initFrom;
    int evalInterval = 50; // steps between evaluations; 0: only at the end
    int evalBatches = 8;
    int checkpointInterval = 0; // steps between checkpoints; 0: none
    std::uint64_t seed = 1234;
    int threadsPerRank = 1; // intra-op threads of each rank's worker
    // How many ranks can compute at once, for the planner's processor-sharing model (the ranks of
    // a small machine share its cores). 0: automatic (sharedProcessors()).
    int processors = 0;
    DeviceKind device = DeviceKind::Cpu;
    // device cuda only: the CUDA device index of each stage (several stages may share one GPU);
    // empty: stage s on device rank(s) mod the number of visible devices.
    std::vector<int> stageDevices;
    OutputConfig output;
};

// The processors the ranks share, as the planner's model takes it (Profile::processors()): 0 when
// every rank has one of its own. `processors` > 0 is taken as given; 0 on the CPU is the cores
// this process may run on divided by threads_per_rank; on CUDA, 0 (ranks on a shared GPU are not
// modelled unless `processors` says so). A count ≥ schedule.ranks is 0: nothing is shared.
int sharedProcessors(const RunConfig& config);

// The stages TimelyFreeze's planner freezes whole (Profile::allOrNothingStages): stage 0 under the
// weighted first-stage draw (timelyfreeze) or APF's order (timely+apf), whose partly frozen
// backward costs far more than the plan's line; none under the prefix draw or AutoFreeze's order
// (timely+autofreeze), which freeze stage 0 front to back and follow it.
std::vector<int> allOrNothingStages(const RunConfig& config);

// Names as written in configs, flags and the UI: "text", "sort", "add"; "cosine", "constant";
// "none", "timelyfreeze", "apf", "autofreeze", "timely+apf", "timely+autofreeze"; "cpu", "cuda".
const char* dataKindName(DataKind kind);
const char* learningRateDecayName(LearningRateDecay decay);
const char* freezerKindName(FreezerKind kind);
const char* deviceKindName(DeviceKind kind);
// Exact (lower-case) names; throw InputError(source, field) listing the accepted names.
DataKind parseDataKind(const std::string& text, const std::string& source = {}, const std::string& field = {});
FreezerKind parseFreezerKind(const std::string& text, const std::string& source = {}, const std::string& field = {});
DeviceKind parseDeviceKind(const std::string& text, const std::string& source = {}, const std::string& field = {});

// Parses a run config document. Every member is optional (a missing one keeps its default), but
// an unknown key, a value of the wrong type or out of range, and rules between members (batch size
// a multiple of microbatches, partition sums) throw InputError(source, "a.b.c", reason).
RunConfig parseRunConfigJson(const std::string& text, const std::string& source = "config");
// Reads and parses `path`; a relative data.path or init_from becomes relative to the file's folder (output
// paths stay relative to the working folder). Throws InputError(path, ...).
RunConfig readRunConfigFile(const std::string& path);
// data.path and init_from, when given, made absolute against the working folder: for a config
// that is written where another process, or readRunConfigFile, would take them relative to the file.
void makeInputPathsAbsolute(RunConfig& config);
// What is wrong with `dir` as a run's init_from before anything is read: the reason when it holds
// no checkpoint (neither DIR/checkpoint.json nor DIR/checkpoint/checkpoint.json), with what writes
// one; nullopt when it does (its contents are checked when the run starts). For the studio's New
// run dialog, which can refuse it before a run starts, and the engine, which says the same.
std::optional<std::string> missingInitCheckpoint(const std::string& dir);
// The inputs a run reads before its first step, checked before it starts so that the message names
// the config (`source`) and its key: data.path (a text corpus, when given) must be a readable file,
// init_from (when given) a folder with a checkpoint. Throws InputError(source, key, reason).
void checkRunInputs(const RunConfig& config, const std::string& source);
// Checks the rules that parseRunConfigJson checks, for a config changed after parsing (CLI
// overrides such as --steps or --max-freeze). Throws InputError(source, key, reason).
void validateRunConfig(const RunConfig& config, const std::string& source = "config");

// The whole config (every member, defaults included) as JSON that parseRunConfigJson reads back
// to an equal config.
std::string writeRunConfigJson(const RunConfig& config);
void writeRunConfigFile(const RunConfig& config, const std::string& path);

bool operator==(const RunConfig& a, const RunConfig& b);
inline bool operator!=(const RunConfig& a, const RunConfig& b) { return !(a == b); }

} // namespace tfreeze
