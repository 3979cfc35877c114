#include "app/tfreeze/cli_commands.h"

#include "app/tfreeze/cli_validators.h"
#include "app/tfreeze/command_set.h"
#include "app/tfreeze/plan_progress.h"
#include "app/tfreeze/replan_bench.h"
#include "app/tfreeze/store_commands.h"
#include "app/tfreeze/text_table.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_dag.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/planner_basis_io.h"
#include "core/plan/profile_io.h"
#include "core/plan/statistics.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/text_file.h"
#include "core/plan/timeline.h"
#include "core/store/run_store.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include <unistd.h>

namespace tfreeze {

namespace {

// Far beyond any real pipeline; stops a typo from allocating gigabytes before anything is printed.
constexpr long long kMaxSimulatedActions = 4'000'000;

// --fwd-ms and the other durations: at most the profile's longest duration, which the help shows.
static_assert(kMaxDurationMs == 1e9, "durationMs()'s text says 1e9");
CLI::Validator durationMs()
{
    return finiteNumberIn(0.0, kMaxDurationMs, "[0,1e9]", "a finite number of ms in [0, 1e9]");
}

// --jitter: a factor of 1 - jitter must stay above 0, so 1 itself is out (makeSyntheticProfile).
CLI::Validator jitterFraction() { return finiteNumberIn(0.0, std::nextafter(1.0, 0.0), "[0,1)", "a number in [0, 1)"); }

// The entries of one token of a list flag, empty ones kept: "1,,2" is 1, "" and 2.
std::vector<std::string> listEntries(const std::string& token)
{
    std::vector<std::string> entries;
    std::size_t start = 0;
    for (std::size_t comma = token.find(','); comma != std::string::npos; comma = token.find(',', start)) {
        entries.push_back(token.substr(start, comma - start));
        start = comma + 1;
    }
    entries.push_back(token.substr(start));
    return entries;
}

// A list flag's value: one number, or one per stage (a,b,...). CLI11's own delimiter drops empty
// entries, so "--fwd-ms 1,,2" read as two values; here each token is checked whole by `entry`
// (which --help shows), an empty entry refused, and the numbers stored into `target`.
CLI::Option* addNumberList(CLI::App& command, const std::string& name, std::vector<double>& target,
    const std::string& description, const CLI::Validator& entry)
{
    auto check = [entry](std::string& token) -> std::string {
        for (std::string value : listEntries(token)) {
            if (value.empty())
                return "\"" + token + "\" has an empty entry: give one number, or one per stage separated by commas";
            if (std::string error = entry(value); !error.empty())
                return error;
        }
        return {};
    };
    const auto store = [&target](const std::vector<std::string>& tokens) {
        target.clear();
        for (const std::string& token : tokens) {
            for (const std::string& value : listEntries(token))
                target.push_back(std::strtod(value.c_str(), nullptr));
        }
    };
    std::ostringstream defaults;
    defaults.imbue(std::locale::classic());
    for (std::size_t i = 0; i < target.size(); ++i)
        defaults << (i > 0 ? "," : "") << target[i];
    return command.add_option_function<std::vector<std::string>>(name, store, description)
        ->check(CLI::Validator(check, entry.get_description()))
        ->type_name("FLOAT")
        ->default_str(defaults.str());
}

int defaultStagesPerRank(ScheduleKind kind)
{
    return kind == ScheduleKind::Interleaved1F1B || kind == ScheduleKind::ZBV ? 2 : 1;
}

bool splitsBackward(ScheduleKind kind) { return kind == ScheduleKind::ZBH1 || kind == ScheduleKind::ZBV; }

} // namespace

long long expectedActionCount(const ScheduleShape& shape)
{
    return static_cast<long long>(shape.ranks) * shape.stagesPerRank * shape.microbatches
        * (splitsBackward(shape.kind) ? 3 : 2);
}

namespace {

std::string describeSchedule(const PipelineSchedule& schedule)
{
    const ScheduleShape& shape = schedule.shape();
    return scheduleKindName(shape.kind) + ", " + std::to_string(shape.ranks) + " ranks, "
        + std::to_string(shape.microbatches) + " microbatches, " + std::to_string(schedule.stageCount()) + " stages ("
        + std::to_string(shape.stagesPerRank) + " per rank), " + std::to_string(schedule.actionCount()) + " actions";
}

// The schedule, the processors its ranks share when they do, the hand-over time between ranks and
// the stages the planner freezes all or nothing.
std::string describeProfile(const Profile& profile)
{
    std::string text = describeSchedule(profile.schedule());
    if (const int processors = profile.sharedProcessors(); processors > 0)
        text += ", sharing " + std::to_string(processors) + " processor" + (processors == 1 ? "" : "s");
    if (profile.transferMs() > 0.0)
        text += ", " + formatFixed(profile.transferMs(), 3) + " ms per transfer between ranks";
    const std::vector<int>& allOrNothing = profile.allOrNothingStages();
    if (!allOrNothing.empty()) {
        text += allOrNothing.size() == 1 ? ", stage " : ", stages ";
        for (std::size_t i = 0; i < allOrNothing.size(); ++i)
            text += (i == 0 ? "" : ",") + std::to_string(allOrNothing[i]);
        text += " frozen all or nothing";
    }
    return text;
}

// Throughput gain of running a batch in `batchMs` instead of `baselineMs`.
double speedUpPercent(double baselineMs, double batchMs)
{
    return batchMs > 0.0 ? (baselineMs / batchMs - 1.0) * 100.0 : 0.0;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Our own shapes: if the core rejects one, that is our bug, not the user's input.
Profile benchProfile(const ScheduleShape& shape, const SyntheticCosts& costs, const std::string& name)
{
    try {
        return makeSyntheticProfile(PipelineSchedule::generate(shape), costs);
    } catch (const InputError& error) {
        throw PlannerError(std::string("bench plan: cannot build ") + name + ": " + error.what());
    }
}

// `tfreeze bench plan`'s "slack start" and "speed-up" columns: the same cold solve from lp_solve's
// own all-slack basis, its median time, and how many times the critical-path start's it is.
std::pair<std::string, std::string> slackStartColumns(const Profile& profile, PlannerOptions options, double maxFreeze,
    int repeats, const FreezePlan& plan, const std::vector<double>& coldSeconds, PlanProgressReporter& progress)
{
    options.criticalPathStart = false;
    FreezeBounds bounds;
    bounds.maxFreeze = maxFreeze;
    std::vector<double> seconds;
    bool differs = false;
    try {
        for (int repeat = 0; repeat < repeats; ++repeat) {
            const auto start = std::chrono::steady_clock::now();
            FreezePlanner planner(profile, options);
            progress.attachTo(planner);
            const double batchMs = planner.plan(bounds).batchMsPlanned;
            seconds.push_back(secondsSince(start));
            // Both starts must reach the same optimum; a difference is a bug worth seeing here.
            differs = differs || std::abs(batchMs - plan.batchMsPlanned) > 1e-6 * plan.batchMsPlanned;
        }
    } catch (const PlanCancelled&) {
        throw;
    } catch (const PlannerError&) {
        return { "> " + formatFixed(options.timeLimitSeconds * 1000.0, 0), "-" };
    }
    const double medianSeconds = median(seconds);
    return { formatFixed(medianSeconds * 1000.0, 1),
        differs ? "differs" : formatFixed(medianSeconds / median(coldSeconds), 2) + "x" };
}

// `tfreeze plan --basis FILE`: hands the basis saved in FILE to `planner`, if there is one, and
// says where the solve starts. A malformed file is bad input (exit code 2); a basis of another
// pipeline is only a note, the plan is the same from any start.
std::string startFromSavedBasis(FreezePlanner& planner, const std::string& path)
{
    std::string criticalPath = "from the critical-path start";
    if (path.empty())
        return criticalPath;
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        return criticalPath;
    switch (planner.startFrom(readPlannerBasisFile(path))) {
    case FreezePlanner::BasisStart::Taken:
        return "from the basis in " + path;
    case FreezePlanner::BasisStart::OtherShape:
        std::cerr << "tfreeze plan: " << path
                  << " holds the basis of another LP (another schedule, or other actions that freezing can "
                     "shorten); starting from the critical path\n";
        break;
    case FreezePlanner::BasisStart::TooLarge:
        std::cerr << "tfreeze plan: not starting from " << path
                  << ": on pipelines of more than 4,096 actions that freezing can shorten, such a start was slower "
                     "than the critical path's\n";
        break;
    case FreezePlanner::BasisStart::AlreadySolved:
    case FreezePlanner::BasisStart::Invalid:
        std::cerr << "tfreeze plan: " << path
                  << ": entries: not a basis of this LP (an entry missing, repeated or out of range); starting "
                     "from the critical path\n";
        break;
    }
    return criticalPath;
}

// simulate's schedule. The core names a broken rule after the field of a profile's "schedule"
// object ("schedule: ranks: ..."); here the user typed flags, so the message names the flag.
PipelineSchedule generateFromFlags(const ScheduleShape& shape)
{
    static const std::map<std::string, std::string> kFlags { { "kind", "--schedule" }, { "ranks", "--ranks" },
        { "microbatches", "--microbatches" }, { "stages_per_rank", "--stages-per-rank" } };
    try {
        return PipelineSchedule::generate(shape);
    } catch (const InputError& error) {
        const auto flag = kFlags.find(error.field());
        if (error.source() != "schedule" || flag == kFlags.end())
            throw;
        throw InputError(flag->second, "", error.reason());
    }
}

// The value of a list flag for `stage`: its one value, or the stage's (counts checked already).
double stageValue(const std::vector<double>& values, int stage)
{
    return values.size() == 1 ? values.front() : values.at(static_cast<std::size_t>(stage));
}

std::string msText(double value)
{
    std::ostringstream text;
    text.imbue(std::locale::classic());
    text << value;
    return text.str();
}

// With a split backward, the frozen backward is I plus what freezing leaves of W: I's input
// gradient is computed even with every weight frozen. makeSyntheticProfile clamps a frozen W
// below 0 to 0, which would plan for a frozen backward longer than the one asked for.
void checkFrozenCoversInput(const SyntheticCosts& costs, int stageCount)
{
    for (int stage = 0; stage < stageCount; ++stage) {
        const double frozen = stageValue(costs.backwardFrozenMs, stage);
        const bool defaultInput = costs.backwardInputMs.empty();
        const double input
            = defaultInput ? stageValue(costs.backwardMs, stage) / 2.0 : stageValue(costs.backwardInputMs, stage);
        if (frozen < input)
            throw InputError("--bwd-frozen-ms", "",
                "a frozen backward of " + msText(frozen) + " ms is shorter than its input gradient I, " + msText(input)
                    + " ms (--bwd-input-ms" + (defaultInput ? ", by default half of --bwd-ms" : "") + ") on stage "
                    + std::to_string(stage) + ", which freezing cannot skip");
    }
}

// An existing run database is opened now, which refuses a file that is not one; a new one is
// not created before there is a plan to record (Ctrl-C during the solve writes nothing), but
// RunStore will create it and its missing folders, so the nearest folder that exists must take them.
void checkRunDatabase(const std::string& path)
{
    namespace fs = std::filesystem;
    std::error_code error;
    if (fs::exists(path, error)) {
        const RunStore store(path);
        return;
    }
    fs::path folder = fs::path(path).parent_path();
    while (!folder.empty() && !fs::exists(folder, error))
        folder = folder.parent_path();
    if (folder.empty())
        folder = ".";
    const int failure = !fs::is_directory(folder, error) ? ENOTDIR
        : ::access(folder.c_str(), W_OK | X_OK) != 0     ? errno
                                                         : 0;
    if (failure != 0)
        throw InputError(
            path, "", "cannot create the run database in " + folder.string() + ": " + std::strerror(failure));
}

// Every output of `tfreeze plan`, checked before the solve (which can take minutes): a command
// that fails must leave nothing behind, such as a plan.json beside a CSV it could not write.
void checkPlanOutputs(const PlanOptions& options)
{
    for (const std::string* path : { &options.outPath, &options.csvPath, &options.basisPath }) {
        if (!path->empty())
            checkWritableFile(*path);
    }
    if (!options.dbPath.empty())
        checkRunDatabase(options.dbPath);
}

} // namespace

void requireOnePipelineWithin(const std::vector<ScheduleShape>& shapes, long long maxActions)
{
    long long smallest = std::numeric_limits<long long>::max();
    for (const ScheduleShape& shape : shapes)
        smallest = std::min(smallest, expectedActionCount(shape));
    if (maxActions < smallest)
        throw InputError("--max-actions", "", "the smallest pipeline has " + std::to_string(smallest) + " actions");
}

CLI::App* addSimulateCommand(CLI::App& parent, SimulateOptions& options)
{
    CLI::App* command = parent.add_subcommand(
        "simulate", "Simulate one batch of a generated schedule with synthetic costs and write it as a profile");
    command->add_option("--schedule", options.schedule, "GPipe, 1F1B, Interleaved1F1B, ZBH1 or ZBV (any case)")
        ->required();
    command->add_option("--ranks", options.ranks, "Pipeline ranks P")->required();
    command->add_option("--microbatches", options.microbatches, "Microbatches per batch M")->required();
    command->add_option("--stages-per-rank", options.stagesPerRank,
        "Stages per rank V (default: 2 for Interleaved1F1B and ZBV, else 1)");
    addNumberList(*command, "--fwd-ms", options.costs.forwardMs,
        "Forward time per action: one value, or one per stage (a,b,...)", durationMs());
    addNumberList(*command, "--bwd-ms", options.costs.backwardMs,
        "Backward time with nothing frozen: one value, or one per stage", durationMs());
    addNumberList(*command, "--bwd-frozen-ms", options.costs.backwardFrozenMs,
        "Backward time with everything freezable frozen: one value, or one per stage; with a split backward "
        "at least the time of I",
        durationMs());
    addNumberList(*command, "--bwd-input-ms", options.costs.backwardInputMs,
        "Split backward (ZBH1, ZBV only): time of I, the rest of --bwd-ms is W (default: half of --bwd-ms)",
        durationMs());
    command
        ->add_option("--jitter", options.costs.jitter,
            "Scale each action's times by a factor drawn from [1 - jitter, 1 + jitter]")
        ->check(jitterFraction())
        ->capture_default_str();
    command->add_option("--seed", options.costs.seed, "Seed of the jitter")->capture_default_str();
    command
        ->add_option("--processors", options.processors,
            "The ranks share this many processors (cores, GPUs): actions that overlap run at their share; "
            "written into the profile for the planner (default: one per rank)")
        ->check(CLI::Range(1, 1 << 20));
    command
        ->add_option("--transfer-ms", options.transferMs,
            "Time an activation or gradient takes from one rank to the next, added to every edge between ranks; "
            "written into the profile for the planner")
        ->check(durationMs())
        ->capture_default_str();
    command->add_option("--out", options.outPath, "Write the profile (tfreeze-profile/1 JSON) to this file");
    return command;
}

CLI::App* addPlanCommand(CLI::App& parent, PlanOptions& options)
{
    CLI::App* command = parent.add_subcommand(
        "plan", "Plan freeze ratios for a profile: the shortest batch under the accuracy bound");
    command->add_option("--profile", options.profilePath, "Profile to plan for (tfreeze-profile/1 JSON)")->required();
    CLI::Option* maxFreeze
        = command->add_option("--max-freeze", options.maxFreeze, "Max mean freeze ratio of every stage, in [0, 1]")
              ->check(unitInterval())
              ->capture_default_str();
    CLI::Option* stageMaxFreeze = addNumberList(*command, "--stage-max-freeze", options.stageMaxFreeze,
        "Max mean freeze ratio per stage, one value per stage (a,b,...), each in [0, 1]", unitInterval());
    maxFreeze->excludes(stageMaxFreeze);
    stageMaxFreeze->excludes(maxFreeze);
    command->add_option("--out", options.outPath, "Write the plan (tfreeze-plan/1 JSON) to this file");
    command->add_option("--csv", options.csvPath, "Write the plan as CSV (one row per action) to this file");
    command->add_option("--db", options.dbPath, "Record the plan as an offline plan in this run database");
    command->add_option("--basis", options.basisPath,
        "Start from the optimal basis an earlier plan of this pipeline saved in this file (tfreeze-basis/1 JSON; "
        "re-planning a profile measured again is 1.3-2x faster up to 8,192 actions), then save this plan's there; "
        "a missing file is created");
    command->add_option("--time-limit", options.timeLimitSeconds, "Give up on a solve after this many seconds")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
    command
        ->add_option("--progress-every", options.progressEverySeconds,
            "While solving, a progress line on stderr every this many seconds (default 1 on a terminal, 10 "
            "otherwise; 0: none). Ctrl-C stops the solve (exit code 130)")
        ->check(CLI::Range(0.0, 86400.0));
    return command;
}

CLI::App* addBenchPlanCommand(CLI::App& bench, BenchPlanOptions& options)
{
    CLI::App* command = bench.add_subcommand(
        "plan", "Time the planner on 1F1B and ZBV pipelines of 60 to 16,384 actions with synthetic costs");
    command->add_option("--max-actions", options.maxActions, "Skip pipelines with more actions than this")
        ->check(positiveInteger())
        ->capture_default_str();
    command->add_option("--repeats", options.repeats, "Cold solves per size (the median is printed)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command->add_option("--time-limit", options.timeLimitSeconds, "Per solve; a size that takes longer is reported")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
    command
        ->add_option("--direct-max-actions", options.directMaxActions,
            "Also solve sizes up to this many actions directly (no freezing price) and print the relative "
            "difference of the planned batch times")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    command
        ->add_option("--slack-start-max-actions", options.slackStartMaxActions,
            "Also solve sizes up to this many actions cold from lp_solve's own all-slack start, beside the "
            "planner's critical-path start, and print the speed-up")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    return command;
}

void runSimulate(const SimulateOptions& options)
{
    ScheduleShape shape;
    shape.kind = parseScheduleKind(options.schedule, "--schedule");
    if (shape.kind == ScheduleKind::Custom)
        throw InputError("--schedule", "",
            "a Custom order comes from a profile file; simulate generates GPipe, 1F1B, "
            "Interleaved1F1B, ZBH1 or ZBV");
    shape.ranks = options.ranks;
    shape.microbatches = options.microbatches;
    shape.stagesPerRank = options.stagesPerRank > 0 ? options.stagesPerRank : defaultStagesPerRank(shape.kind);
    if (shape.ranks > 0 && shape.microbatches > 0 && shape.stagesPerRank > 0
        && expectedActionCount(shape) > kMaxSimulatedActions)
        throw InputError("--ranks, --microbatches, --stages-per-rank", "",
            "the pipeline would have " + std::to_string(expectedActionCount(shape)) + " actions; at most "
                + std::to_string(kMaxSimulatedActions) + " are supported");

    const PipelineSchedule schedule = generateFromFlags(shape);
    Profile profile = makeSyntheticProfile(schedule, options.costs);
    if (schedule.splitBackward())
        checkFrozenCoversInput(options.costs, schedule.stageCount());
    profile.setProcessors(options.processors, "--processors");
    profile.setTransferMs(options.transferMs, "--transfer-ms");
    if (!options.outPath.empty())
        writeProfileFile(profile, options.outPath);

    const PipelineDag dag(profile.schedule());
    const Timeline unfrozen
        = simulateTimeline(dag, profile.maxDurations(), profile.sharedProcessors(), profile.transferMs());
    const Timeline frozen
        = simulateTimeline(dag, profile.minDurations(), profile.sharedProcessors(), profile.transferMs());

    std::cout << describeProfile(profile) << "\n\n";
    TextTable summary;
    summary.addColumn("timeline", TextTable::Align::Left);
    summary.addColumn("batch (ms)");
    summary.addColumn("bubble (%)");
    summary.addColumn("critical path (actions)");
    summary.addRow({ "no freezing", formatFixed(unfrozen.batchMs, 3), formatFixed(unfrozen.bubbleFraction * 100.0, 1),
        std::to_string(unfrozen.criticalPath.size()) });
    summary.addRow({ "all frozen", formatFixed(frozen.batchMs, 3), formatFixed(frozen.bubbleFraction * 100.0, 1),
        std::to_string(frozen.criticalPath.size()) });
    summary.print(std::cout);

    std::cout << "\nper rank, no freezing:\n";
    TextTable ranks;
    ranks.addColumn("rank");
    ranks.addColumn("stages");
    ranks.addColumn("actions");
    ranks.addColumn("busy (ms)");
    ranks.addColumn("idle (ms)");
    ranks.addColumn("bubble (%)");
    for (int rank = 0; rank < schedule.rankCount(); ++rank) {
        const auto r = static_cast<std::size_t>(rank);
        ranks.addRow({ std::to_string(rank), rankStagesText(schedule, rank),
            std::to_string(schedule.rankOrder(rank).size()), formatFixed(unfrozen.rankBusyMs[r], 3),
            formatFixed(unfrozen.rankIdleMs[r], 3), formatFixed(unfrozen.rankBubbleFraction[r] * 100.0, 1) });
    }
    ranks.print(std::cout);
    if (!options.outPath.empty())
        std::cout << "\nprofile written to " << options.outPath << '\n';
}

void runPlan(const PlanOptions& options)
{
    const Profile profile = readProfileFile(options.profilePath);
    const PipelineSchedule& schedule = profile.schedule();
    if (!options.stageMaxFreeze.empty()
        && options.stageMaxFreeze.size() != static_cast<std::size_t>(schedule.stageCount()))
        throw InputError("--stage-max-freeze", "",
            "expected " + std::to_string(schedule.stageCount()) + " values (one per stage of " + options.profilePath
                + "), got " + std::to_string(options.stageMaxFreeze.size()));

    FreezeBounds bounds;
    bounds.maxFreeze = options.maxFreeze;
    bounds.stageMaxFreeze = options.stageMaxFreeze;
    // The plan file records max_freeze too; with per-stage bounds the loosest one is the honest summary.
    if (!bounds.stageMaxFreeze.empty())
        bounds.maxFreeze = *std::max_element(bounds.stageMaxFreeze.begin(), bounds.stageMaxFreeze.end());

    checkPlanOutputs(options);

    PlannerOptions plannerOptions;
    plannerOptions.timeLimitSeconds = options.timeLimitSeconds;
    plannerOptions.profileSource = options.profilePath; // a deadlocking order is reported against the file
    FreezePlanner planner(profile, plannerOptions);
    const std::string start = startFromSavedBasis(planner, options.basisPath);
    const FreezePlan plan = [&] {
        PlanProgressReporter progress(options.progressEverySeconds);
        progress.attachTo(planner);
        return planner.plan(bounds);
    }();
    // The run database first: checked above, it can still fail now (a damaged page, a lock), and
    // then no file has been written yet.
    std::int64_t recordedId = 0;
    if (!options.dbPath.empty())
        recordedId = recordOfflinePlan(options.dbPath, plan);
    if (!options.outPath.empty())
        writePlanFile(plan, options.outPath);
    if (!options.csvPath.empty())
        writePlanCsvFile(plan, options.csvPath);
    // Last: the plan is what was asked for; a basis that cannot be saved must not cost it.
    if (!options.basisPath.empty())
        writePlannerBasisFile(planner.optimalBasis(), options.basisPath);

    std::cout << options.profilePath << ": " << describeProfile(plan.profile) << '\n';
    if (options.stageMaxFreeze.empty())
        std::cout << "bound: max freeze " << formatFixed(options.maxFreeze, 3) << " on every stage\n";
    else
        std::cout << "bound: max freeze per stage (below)\n";
    std::cout << '\n';

    TextTable batch;
    batch.addColumn("batch time", TextTable::Align::Left);
    batch.addColumn("batch (ms)");
    batch.addColumn("speed-up (%)");
    batch.addRow({ "no freeze", formatFixed(plan.batchMsNoFreeze, 3), formatFixed(0.0, 1) });
    batch.addRow({ "planned", formatFixed(plan.batchMsPlanned, 3),
        formatFixed(speedUpPercent(plan.batchMsNoFreeze, plan.batchMsPlanned), 1) });
    batch.addRow({ "all frozen", formatFixed(plan.batchMsAllFrozen, 3),
        formatFixed(speedUpPercent(plan.batchMsNoFreeze, plan.batchMsAllFrozen), 1) });
    batch.print(std::cout);
    std::cout << '\n';

    TextTable stages;
    stages.addColumn("stage");
    stages.addColumn("rank");
    stages.addColumn("max freeze");
    stages.addColumn("mean ratio");
    for (int stage = 0; stage < schedule.stageCount(); ++stage) {
        const auto s = static_cast<std::size_t>(stage);
        stages.addRow({ std::to_string(stage), std::to_string(schedule.stageRank(stage)),
            formatFixed(bounds.stageBound(stage), 3),
            s < plan.stageMeanRatio.size() ? formatFixed(plan.stageMeanRatio[s], 3) : "-" });
    }
    stages.print(std::cout);

    std::cout << "\nsolve time: " << formatFixed(plan.solveSeconds * 1000.0, 1) << " ms (" << start << ", "
              << planner.lpStatistics().pivots << " simplex pivots)\n";
    if (!options.basisPath.empty())
        std::cout << "optimal basis saved to " << options.basisPath << '\n';
    if (!options.outPath.empty())
        std::cout << "plan written to " << options.outPath << '\n';
    if (!options.csvPath.empty())
        std::cout << "CSV written to " << options.csvPath << '\n';
    if (!options.dbPath.empty())
        std::cout << "offline plan " << recordedId << " recorded in " << options.dbPath << '\n';
}

namespace {

// `tfreeze bench plan`'s bounds: the cold solve's, a dragged slider's next step, and a larger move.
constexpr double kMaxFreeze = 0.5;
constexpr double kSliderMaxFreeze = 0.52;
constexpr double kWarmMaxFreeze = 0.6;

// The seconds of one more plan() of `planner` at `maxFreeze` (warm), or none when it failed.
std::optional<double> timedWarmPlan(FreezePlanner& planner, double maxFreeze)
{
    FreezeBounds bounds;
    bounds.maxFreeze = maxFreeze;
    const auto start = std::chrono::steady_clock::now();
    try {
        planner.plan(bounds);
    } catch (const PlanCancelled&) {
        throw;
    } catch (const PlannerError& error) {
        std::cerr << "bench plan: re-solving at " << formatFixed(maxFreeze, 2) << ": " << error.what() << std::endl;
        return std::nullopt;
    }
    return secondsSince(start);
}

// The targets for a cold solve: up to 1,024 actions in 100 ms, 4,096 in 2 s, 16,384 in
// 30 s (README, "Known limit"); the bench's largest pipelines have 16,384 actions.
double coldTargetMs(long long actions)
{
    if (actions <= 1024)
        return 100.0;
    return actions <= 4096 ? 2000.0 : 30000.0;
}

// One row of `tfreeze bench plan`: cold, slack-start, warm and direct solves of one pipeline.
void benchPlanShape(
    const ScheduleShape& shape, const BenchPlanOptions& options, PlanProgressReporter& progress, TextTable& table)
{
    SyntheticCosts costs;
    costs.jitter = 0.1;
    costs.seed = 1;
    PlannerOptions plannerOptions;
    plannerOptions.timeLimitSeconds = options.timeLimitSeconds;

    const long long actions = expectedActionCount(shape);
    if (actions > options.maxActions)
        return;
    const std::string name = scheduleKindName(shape.kind);
    std::cerr << "bench plan: " << name << " P=" << shape.ranks << " M=" << shape.microbatches << " (" << actions
              << " actions)..." << std::endl;

    const Profile profile = benchProfile(shape, costs, name);

    std::vector<double> coldSeconds;
    std::vector<double> sliderSeconds;
    std::vector<double> warmSeconds;
    std::optional<FreezePlan> plan; // FreezePlan holds a Profile, which has no empty state
    LpStatistics statistics;
    std::string failure;
    // A warm re-solve that fails (a time-out) leaves the cold figures standing: its column says so.
    bool sliderFailed = false;
    bool warmFailed = false;
    try {
        for (int repeat = 0; repeat < options.repeats; ++repeat) {
            FreezeBounds bounds;
            bounds.maxFreeze = kMaxFreeze;
            const auto start = std::chrono::steady_clock::now();
            FreezePlanner planner(profile, plannerOptions);
            progress.attachTo(planner);
            plan.emplace(planner.plan(bounds));
            coldSeconds.push_back(secondsSince(start));
            statistics = planner.lpStatistics();

            if (const auto seconds = timedWarmPlan(planner, kSliderMaxFreeze))
                sliderSeconds.push_back(*seconds);
            else
                sliderFailed = true;
            if (const auto seconds = timedWarmPlan(planner, kWarmMaxFreeze))
                warmSeconds.push_back(*seconds);
            else
                warmFailed = true;
        }
    } catch (const PlanCancelled&) {
        throw;
    } catch (const PlannerError& error) {
        failure = error.what();
    }
    const std::string timedOut = "> " + formatFixed(options.timeLimitSeconds * 1000.0, 0);
    if (!failure.empty() || !plan) {
        std::cerr << "bench plan: " << name << " " << actions << " actions: " << failure << std::endl;
        // The planner that timed out is gone, and with it the LP's size: print none.
        table.addRow({ name, std::to_string(shape.ranks), std::to_string(shape.microbatches), std::to_string(actions),
            statistics.rows != 0 ? std::to_string(statistics.rows) : "-",
            statistics.columns != 0 ? std::to_string(statistics.columns) : "-", timedOut, "-",
            formatFixed(coldTargetMs(actions), 0), "-", "-", "-", "-", "-", "-", "-", "-" });
        return;
    }

    std::pair<std::string, std::string> slackStart { "-", "-" };
    if (actions <= options.slackStartMaxActions)
        slackStart
            = slackStartColumns(profile, plannerOptions, kMaxFreeze, options.repeats, *plan, coldSeconds, progress);

    std::string versusDirect = "-";
    if (actions <= options.directMaxActions) {
        PlannerOptions directOptions = plannerOptions;
        directOptions.priceFreezing = false;
        FreezeBounds bounds;
        bounds.maxFreeze = kMaxFreeze;
        try {
            FreezePlanner directPlanner(profile, directOptions);
            progress.attachTo(directPlanner);
            const double direct = directPlanner.plan(bounds).batchMsPlanned;
            versusDirect = formatScientific((plan->batchMsPlanned - direct) / direct);
        } catch (const PlanCancelled&) {
            throw;
        } catch (const PlannerError&) {
            versusDirect = "timed out";
        }
    }
    table.addRow({ name, std::to_string(shape.ranks), std::to_string(shape.microbatches),
        std::to_string(profile.costs().size()), std::to_string(statistics.rows), std::to_string(statistics.columns),
        formatFixed(median(coldSeconds) * 1000.0, 1), std::to_string(statistics.pivots),
        formatFixed(coldTargetMs(actions), 0), formatFixed(median(coldSeconds) * 1000.0 / coldTargetMs(actions), 2),
        slackStart.first, slackStart.second, sliderFailed ? timedOut : formatFixed(median(sliderSeconds) * 1000.0, 1),
        warmFailed ? timedOut : formatFixed(median(warmSeconds) * 1000.0, 1), formatFixed(plan->batchMsNoFreeze, 3),
        formatFixed(plan->batchMsPlanned, 3), versusDirect });
}

} // namespace

void runBenchPlan(const BenchPlanOptions& options)
{
    // Pairs of similar size: 1F1B has 2·P·M actions, ZBV 3 per (stage, microbatch) on 2P stages.
    const std::vector<ScheduleShape> shapes {
        { ScheduleKind::OneFOneB, 4, 8, 1 },
        { ScheduleKind::ZBV, 2, 5, 2 },
        { ScheduleKind::OneFOneB, 8, 16, 1 },
        { ScheduleKind::ZBV, 4, 10, 2 },
        { ScheduleKind::OneFOneB, 8, 64, 1 },
        { ScheduleKind::ZBV, 8, 21, 2 },
        { ScheduleKind::OneFOneB, 16, 128, 1 },
        { ScheduleKind::ZBV, 16, 42, 2 },
        { ScheduleKind::OneFOneB, 32, 256, 1 },
        { ScheduleKind::ZBV, 32, 85, 2 },
    };

    requireOnePipelineWithin(shapes, options.maxActions);

    std::cout << "planner on synthetic costs (forward 1 ms, backward 2 ms, frozen backward 1 ms, jitter 0.1, seed 1)\n"
              << "cold: build the planner and solve at max freeze " << formatFixed(kMaxFreeze, 2) << ", median of "
              << options.repeats << "; warm: re-solve the same planner at " << formatFixed(kSliderMaxFreeze, 2)
              << " (a slider step) and at " << formatFixed(kWarmMaxFreeze, 2) << "\n"
              << "cold pivots: the cold solve's simplex pivots, which unlike its time do not depend on the "
                 "machine's load\n"
              << "target: the most a cold solve may take (up to 1,024 actions 100 ms, 4,096 2 s, 16,384 30 s); "
                 "cold / target above 1 misses it\n"
              << "slack start: the cold solve from lp_solve's own all-slack basis instead of the critical-path "
                 "one, and how many times slower it is\n"
              << "direct: the same LP without the freezing price (the degenerate form), relative difference of the "
                 "planned batch time\n\n";

    TextTable table;
    table.addColumn("schedule", TextTable::Align::Left);
    table.addColumn("P");
    table.addColumn("M");
    table.addColumn("actions");
    table.addColumn("LP rows");
    table.addColumn("LP columns");
    table.addColumn("cold (ms)");
    table.addColumn("cold pivots");
    table.addColumn("target (ms)");
    table.addColumn("cold / target");
    table.addColumn("slack start (ms)");
    table.addColumn("speed-up");
    table.addColumn("warm 0.52 (ms)");
    table.addColumn("warm 0.6 (ms)");
    table.addColumn("no freeze (ms)");
    table.addColumn("planned (ms)");
    table.addColumn("vs direct");
    // Ctrl-C stops the solve in progress; the sizes measured so far are still printed.
    PlanProgressReporter progress(0.0); // no lines: the bench prints each size as it starts
    try {
        for (const ScheduleShape& shape : shapes)
            benchPlanShape(shape, options, progress, table);
    } catch (const PlanCancelled&) {
        table.print(std::cout);
        std::cout << "\ninterrupted: the sizes from the one being measured on are missing\n";
        throw;
    }
    table.print(std::cout);
}

void addPlanningCommands(CommandSet& commands)
{
    auto simulate = CommandSet::makeOptions<SimulateOptions>();
    commands.add(addSimulateCommand(commands.app(), *simulate), [simulate] { runSimulate(*simulate); });
    auto plan = CommandSet::makeOptions<PlanOptions>();
    commands.add(addPlanCommand(commands.app(), *plan), [plan] { runPlan(*plan); });
    auto benchPlan = CommandSet::makeOptions<BenchPlanOptions>();
    CLI::App& bench = commands.group("bench", kBenchGroupDescription);
    commands.add(addBenchPlanCommand(bench, *benchPlan), [benchPlan] { runBenchPlan(*benchPlan); });
    auto benchReplan = CommandSet::makeOptions<BenchReplanOptions>();
    commands.add(addBenchReplanCommand(bench, *benchReplan), [benchReplan] { runBenchReplan(*benchReplan); });
}

} // namespace tfreeze
