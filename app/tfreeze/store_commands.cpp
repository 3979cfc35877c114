#include "app/tfreeze/store_commands.h"

#include "app/tfreeze/cli_validators.h"
#include "app/tfreeze/command_set.h"
#include "app/tfreeze/text_table.h"
#include "core/engine/run_config.h"
#include "core/export/chrome_trace_export.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/store/metrics_csv.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "core/store/run_text.h"
#include "core/store/store_error.h"
#include "core/store/synthetic_run.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <thread>

namespace tfreeze {

namespace {

namespace fs = std::filesystem;

void addDbOption(CLI::App* command, std::string& dbPath)
{
    dbPath = RunStore::kDefaultPath;
    command->add_option("--db", dbPath, "Run database (SQLite)")->capture_default_str();
}

// A run or plan id: a whole number from 1 to the largest SQLite integer. CLI11 would clamp a larger
// one to that largest value and look it up; positiveInteger() refuses it, but as "not a whole
// number", which it is.
CLI::Validator recordId()
{
    auto check = [](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        errno = 0;
        (void)std::strtoll(text.c_str(), nullptr, 10);
        if (digits && errno == ERANGE)
            return "\"" + text + "\" is out of range: ids are whole numbers from 1 to "
                + std::to_string(std::numeric_limits<std::int64_t>::max());
        return positiveInteger()(text);
    };
    return { std::move(check), ">=1" };
}

// Reading commands must not create a database, and must work on a file they may not write.
std::unique_ptr<RunStore> openForReading(const std::string& path)
{
    if (!fs::exists(path))
        throw InputError(path, "", "no such run database");
    const bool writable = access(path.c_str(), W_OK) == 0;
    // Writable: open read-write so that runs of crashed processes show as interrupted.
    return std::make_unique<RunStore>(path, writable ? RunStore::OpenMode::ReadWrite : RunStore::OpenMode::ReadOnly);
}

std::string orDash(const std::optional<std::string>& text) { return text.value_or("-"); }

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string formatCount(double value) { return formatFixed(value, 0); }

std::string runCount(std::size_t runs) { return std::to_string(runs) + (runs == 1 ? " run" : " runs"); }

// The 1-minute load average (/proc/loadavg), so a reader can tell a busy machine's figure; "?"
// where there is none.
std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string oneMinute;
    if (!(in >> oneMinute))
        return "?";
    return oneMinute;
}

std::string delta(double a, double b, int decimals)
{
    std::string text = (b - a >= 0 ? "+" : "") + formatFixed(b - a, decimals);
    if (a != 0.0)
        text += " (" + std::string(b - a >= 0 ? "+" : "") + formatFixed((b - a) / a * 100.0, 1) + "%)";
    return text;
}

// A run as `runs list --json` and `runs show --json` give it: the record, its step figures (null
// without steps) and its config as JSON (its text when it does not parse: a hand-made run).
nlohmann::ordered_json runJson(const RunRecord& run, const RunSummary& steps)
{
    const auto orNull = [](const std::optional<std::string>& text) {
        return text ? nlohmann::ordered_json(*text) : nlohmann::ordered_json(nullptr);
    };
    nlohmann::ordered_json config = nlohmann::ordered_json::parse(run.configJson, nullptr, false);
    if (config.is_discarded())
        config = run.configJson;
    return { { "id", run.id }, { "name", run.name }, { "status", runStatusName(run.status) },
        { "reason", orNull(run.failureReason) }, { "created", run.created }, { "finished", orNull(run.finished) },
        { "steps", run.stepCount },
        { "final_loss", steps.finalLoss ? nlohmann::ordered_json(*steps.finalLoss) : nullptr },
        { "mean_tokens_per_s", steps.finalLoss ? nlohmann::ordered_json(steps.meanTokensPerSecond) : nullptr },
        { "mean_bubble", steps.finalLoss ? nlohmann::ordered_json(steps.meanBubbleFraction) : nullptr },
        { "notes", run.notes }, { "host", run.host }, { "pid", run.pid }, { "tool_version", run.toolVersion },
        { "config", config } };
}

void printJson(const nlohmann::ordered_json& json) { std::cout << json.dump(2) << '\n'; }

void runRunsList(const RunsListOptions& options)
{
    RunFilter filter;
    if (!options.status.empty())
        filter.status = parseRunStatus(options.status, "--status");
    if (options.limit > 0)
        filter.limit = options.limit;
    if (!fs::exists(options.dbPath)) {
        if (options.json)
            printJson({ { "database", options.dbPath }, { "runs", nlohmann::ordered_json::array() } });
        else
            std::cout << "no runs (" << options.dbPath << " does not exist yet)\n";
        return;
    }
    const auto store = openForReading(options.dbPath);
    const std::vector<RunRecord> runs = store->listRuns(filter);
    if (options.json) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const RunRecord& run : runs)
            list.push_back(runJson(run, store->summarizeSteps(run.id)));
        printJson({ { "database", options.dbPath }, { "runs", std::move(list) } });
        return;
    }
    if (runs.empty()) {
        std::cout << "no runs" << (filter.status ? std::string(" with status ") + options.status : std::string())
                  << " in " << options.dbPath << '\n';
        return;
    }
    TextTable table;
    table.addColumn("id");
    table.addColumn("status", TextTable::Align::Left);
    table.addColumn("steps");
    table.addColumn("created (UTC)", TextTable::Align::Left);
    table.addColumn("name", TextTable::Align::Left);
    for (const RunRecord& run : runs)
        table.addRow({ std::to_string(run.id), runStatusName(run.status), std::to_string(run.stepCount), run.created,
            run.name });
    table.print(std::cout);
}

// runs show --json: the run as runs list --json gives it, with its plans and events.
void printRunJson(RunStore& store, const RunRecord& run)
{
    nlohmann::ordered_json json = runJson(run, store.summarizeSteps(run.id));
    json["steps_with_spans"] = store.spanSteps(run.id).size();
    nlohmann::ordered_json plans = nlohmann::ordered_json::array();
    for (const PlanRecord& plan : store.plans(run.id))
        plans.push_back(
            { { "id", plan.id }, { "source", planSourceName(plan.source) }, { "created_at_step", plan.createdAtStep },
                { "applied_at_step", plan.appliedAtStep ? nlohmann::ordered_json(*plan.appliedAtStep) : nullptr },
                { "batch_ms",
                    { { "no_freeze", plan.batchMsNoFreeze }, { "planned", plan.batchMsPlanned },
                        { "all_frozen", plan.batchMsAllFrozen } } } });
    json["plans"] = std::move(plans);
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (const EventRecord& event : store.events(run.id))
        events.push_back(
            { { "time", event.time }, { "level", eventLevelName(event.level) }, { "message", event.message } });
    json["events"] = std::move(events);
    printJson(json);
}

void runRunsShow(const RunIdOptions& options)
{
    const auto store = openForReading(options.dbPath);
    const RunRecord run = store->run(options.run);
    if (options.json) {
        printRunJson(*store, run);
        return;
    }
    std::cout << "run " << run.id << ": " << run.name << '\n' << "status: " << runStatusName(run.status) << '\n';
    if (run.failureReason)
        std::cout << "reason: " << *run.failureReason << '\n';
    std::cout << "created: " << run.created << "\nfinished: " << orDash(run.finished) << '\n'
              << "host: " << run.host << " (pid " << run.pid << ")\ntool version: " << run.toolVersion << '\n'
              << "steps: " << run.stepCount << '\n';
    if (!run.notes.empty())
        std::cout << "notes: " << run.notes << '\n';
    const RunSummary summary = store->summarize(run.id);
    if (summary.finalLoss)
        std::cout << "final loss: " << formatFixed(*summary.finalLoss, 4)
                  << "\nmean tokens/s: " << formatFixed(summary.meanTokensPerSecond, 1)
                  << "\nmean bubble: " << formatFixed(summary.meanBubbleFraction * 100.0, 1) << " %\n";
    std::cout << "steps with spans: " << store->spanSteps(run.id).size() << "\nconfig: " << run.configJson << '\n';

    const std::vector<PlanRecord> plans = store->plans(run.id);
    if (!plans.empty()) {
        std::cout << "\nplans:\n";
        TextTable table;
        table.addColumn("id");
        table.addColumn("source", TextTable::Align::Left);
        table.addColumn("created at step");
        table.addColumn("applied at step");
        table.addColumn("no freeze (ms)");
        table.addColumn("planned (ms)");
        table.addColumn("all frozen (ms)");
        for (const PlanRecord& plan : plans)
            table.addRow({ std::to_string(plan.id), planSourceName(plan.source), std::to_string(plan.createdAtStep),
                plan.appliedAtStep ? std::to_string(*plan.appliedAtStep) : "-", formatFixed(plan.batchMsNoFreeze, 3),
                formatFixed(plan.batchMsPlanned, 3), formatFixed(plan.batchMsAllFrozen, 3) });
        table.print(std::cout, "  ");
    }
    const std::vector<EventRecord> events = store->events(run.id);
    if (!events.empty()) {
        std::cout << "\nevents:\n";
        for (const EventRecord& event : events)
            std::cout << "  " << event.time << ' ' << eventLevelName(event.level) << ": " << event.message << '\n';
    }
}

// Every id is checked before anything is deleted: a typo in the third id deletes nothing.
void runRunsDelete(const RunIdsOptions& options)
{
    if (!fs::exists(options.dbPath))
        throw InputError(options.dbPath, "", "no such run database");
    RunStore store(options.dbPath);
    std::vector<std::int64_t> runs;
    for (const std::int64_t run : options.runs) {
        if (!store.findRun(run))
            throw InputError(options.dbPath, "", "no run with id " + std::to_string(run) + "; nothing was deleted");
        if (std::find(runs.begin(), runs.end(), run) == runs.end())
            runs.push_back(run);
    }
    for (const std::int64_t run : runs) {
        store.deleteRun(run);
        std::cout << "deleted run " << run << '\n';
    }
}

// Read-only: a check must not write (not even the interrupted runs' status) into a file that may
// be damaged. Exit 0 when SQLite finds nothing wrong, 2 with the problems listed when it does.
void runRunsCheck(const std::string& dbPath)
{
    if (!fs::exists(dbPath))
        throw InputError(dbPath, "", "no such run database");
    RunStore store(dbPath, RunStore::OpenMode::ReadOnly);
    constexpr int kMaxProblems = 100;
    const std::vector<std::string> problems = store.integrityProblems(kMaxProblems);
    if (problems.empty()) {
        std::cout << dbPath << ": no problems found (" << runCount(store.listRuns().size()) << ", schema version "
                  << store.schemaVersion() << ")\n";
        return;
    }
    for (const std::string& problem : problems)
        std::cout << "  " << problem << '\n';
    const std::size_t count = problems.size();
    const std::string counted = std::to_string(count) + (count == 1 ? " problem" : " problems");
    throwDamagedDatabase(dbPath, "integrity check",
        (count >= static_cast<std::size_t>(kMaxProblems) ? "at least " + counted : counted) + ", listed above");
}

// Writes need a database that exists: renaming in a new empty file would only hide a typo in --db.
RunStore openForWriting(const std::string& path)
{
    if (!fs::exists(path))
        throw InputError(path, "", "no such run database");
    return RunStore(path);
}

void runRunsRename(const RunTextOptions& options)
{
    checkRunName(options.text); // before the open, which may already write (interrupted runs)
    RunStore store = openForWriting(options.dbPath);
    if (!store.renameRun(options.run, options.text))
        throw InputError(options.dbPath, "", "no run with id " + std::to_string(options.run));
    std::cout << "renamed run " << options.run << " to " << options.text << '\n';
}

void runRunsNotes(const RunTextOptions& options)
{
    checkRunNotes(options.text);
    RunStore store = openForWriting(options.dbPath);
    if (!store.setRunNotes(options.run, options.text))
        throw InputError(options.dbPath, "", "no run with id " + std::to_string(options.run));
    std::cout << (options.text.empty() ? "cleared the notes of run " : "set the notes of run ") << options.run << '\n';
}

void runRunsCompare(const RunsCompareOptions& options)
{
    const auto store = openForReading(options.dbPath);
    const RunRecord a = store->run(options.a);
    const RunRecord b = store->run(options.b);
    const RunComparison comparison = store->compare(a.id, b.id);
    std::cout << "A: run " << a.id << " " << a.name << " (" << runStatusName(a.status) << ")\n"
              << "B: run " << b.id << " " << b.name << " (" << runStatusName(b.status) << ")\n\n";
    TextTable table;
    table.addColumn("", TextTable::Align::Left);
    table.addColumn("A");
    table.addColumn("B");
    table.addColumn("B - A");
    const auto optionalLoss = [](const RunSummary& summary) {
        return summary.finalLoss ? formatFixed(*summary.finalLoss, 4) : std::string("-");
    };
    table.addRow({ "steps", std::to_string(comparison.a.steps), std::to_string(comparison.b.steps),
        std::to_string(comparison.b.steps - comparison.a.steps) });
    table.addRow({ "final loss", optionalLoss(comparison.a), optionalLoss(comparison.b),
        comparison.a.finalLoss && comparison.b.finalLoss ? delta(*comparison.a.finalLoss, *comparison.b.finalLoss, 4)
                                                         : "-" });
    table.addRow({ "tokens/s (mean)", formatFixed(comparison.a.meanTokensPerSecond, 1),
        formatFixed(comparison.b.meanTokensPerSecond, 1),
        delta(comparison.a.meanTokensPerSecond, comparison.b.meanTokensPerSecond, 1) });
    table.addRow({ "bubble % (mean)", formatFixed(comparison.a.meanBubbleFraction * 100.0, 2),
        formatFixed(comparison.b.meanBubbleFraction * 100.0, 2),
        delta(comparison.a.meanBubbleFraction * 100.0, comparison.b.meanBubbleFraction * 100.0, 2) });
    const std::size_t stages = std::max(comparison.a.stageKindMeanMs.size(), comparison.b.stageKindMeanMs.size());
    const auto mean = [](const RunSummary& summary, std::size_t stage, std::size_t kind) {
        return stage < summary.stageKindMeanMs.size() ? summary.stageKindMeanMs[stage][kind] : -1.0;
    };
    for (std::size_t stage = 0; stage < stages; ++stage) {
        for (std::size_t kind = 0; kind < static_cast<std::size_t>(kActionKindCount); ++kind) {
            const double meanA = mean(comparison.a, stage, kind);
            const double meanB = mean(comparison.b, stage, kind);
            if (meanA < 0.0 && meanB < 0.0)
                continue;
            table.addRow({ "stage " + std::to_string(stage) + " " + actionKindLetter(static_cast<ActionKind>(kind))
                    + " mean (ms)",
                meanA < 0.0 ? "-" : formatFixed(meanA, 3), meanB < 0.0 ? "-" : formatFixed(meanB, 3),
                meanA < 0.0 || meanB < 0.0 ? "-" : delta(meanA, meanB, 3) });
        }
    }
    table.print(std::cout);
}

void runExportPlan(const ExportPlanOptions& options)
{
    const auto store = openForReading(options.dbPath);
    const FreezePlan plan = store->plan(options.plan);
    if (options.format == "csv")
        writePlanCsvFile(plan, options.outPath);
    else
        writePlanFile(plan, options.outPath);
    std::cout << "plan " << options.plan << " written to " << options.outPath << " (" << options.format << ")\n";
}

void runExportMetrics(const ExportMetricsOptions& options)
{
    const auto store = openForReading(options.dbPath);
    store->run(options.run); // an unknown id is an error, not an empty file
    const std::vector<StepStats> steps = store->steps(options.run);
    const std::vector<EvalStats> evals = store->evals(options.run);
    writeMetricsCsvFile(steps, evals, options.outPath);
    std::cout << steps.size() << " steps of run " << options.run << " written to " << options.outPath << '\n';
}

struct ExportTraceOptions {
    std::string dbPath;
    std::int64_t run = 0;
    std::string steps; // "A-B" or "A"; empty: the last kDefaultTraceSteps retained steps
    std::optional<std::int64_t> plan;
    std::string outPath;
};

constexpr std::size_t kDefaultTraceSteps = 10;

// The schedule a run's config names, read as the studio's run history reads it; nothing when the
// config cannot be read (another version's, a synthetic run's), and the spans tell the pipeline alone.
std::optional<ScheduleShape> configuredSchedule(const std::string& configJson)
{
    try {
        return parseRunConfigJson(configJson, "config").schedule;
    } catch (const InputError&) {
        return std::nullopt;
    }
}

// A plan of another pipeline drawn beside a run would line its timeline up with the wrong actions.
void checkPlanFitsRun(
    const FreezePlan& plan, std::int64_t planId, const RunRecord& run, const std::vector<ActionSpan>& spans)
{
    const std::optional<std::string> mismatch = planPipelineMismatch(plan, spans, configuredSchedule(run.configJson));
    if (mismatch)
        throw InputError("--plan", "",
            "plan " + std::to_string(planId) + " is not a plan of run " + std::to_string(run.id) + "'s pipeline: "
                + *mismatch + " (runs show " + std::to_string(run.id) + " lists the run's own plans)");
}

// "--steps 10-20" or "--steps 15": an inclusive range of step numbers.
std::pair<std::int64_t, std::int64_t> parseStepRange(const std::string& text)
{
    const std::size_t dash = text.find('-');
    auto number = [&text](const std::string& part) {
        std::size_t used = 0;
        long long value = -1;
        try {
            value = std::stoll(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (part.empty() || used != part.size() || value < 0)
            throw InputError("--steps", "", "\"" + text + "\" is not a step range such as 10-20 or 15");
        return static_cast<std::int64_t>(value);
    };
    const std::int64_t first = number(text.substr(0, dash));
    const std::int64_t last = dash == std::string::npos ? first : number(text.substr(dash + 1));
    if (last < first)
        throw InputError("--steps", "", "\"" + text + "\" ends before it starts");
    return { first, last };
}

void runExportTrace(const ExportTraceOptions& options)
{
    const auto store = openForReading(options.dbPath);
    store->run(options.run); // an unknown id is an error, not an empty trace
    const std::vector<std::int64_t> retained = store->spanSteps(options.run);
    if (retained.empty())
        throw InputError("run " + std::to_string(options.run), "", "no action spans were recorded for this run");

    std::vector<std::int64_t> chosen;
    if (options.steps.empty()) {
        const std::size_t first = retained.size() > kDefaultTraceSteps ? retained.size() - kDefaultTraceSteps : 0;
        chosen.assign(retained.begin() + static_cast<std::ptrdiff_t>(first), retained.end());
    } else {
        const auto [first, last] = parseStepRange(options.steps);
        for (std::int64_t step : retained) {
            if (step >= first && step <= last)
                chosen.push_back(step);
        }
        if (chosen.empty())
            throw InputError("--steps", "",
                "run " + std::to_string(options.run) + " has no spans in steps " + options.steps
                    + " (spans were kept for " + std::to_string(retained.size()) + " steps between "
                    + std::to_string(retained.front()) + " and " + std::to_string(retained.back()) + ")");
    }

    TraceExportInput input;
    for (std::int64_t step : chosen) {
        std::vector<ActionSpan> spans = store->spans(options.run, step);
        input.spans.insert(input.spans.end(), spans.begin(), spans.end());
        std::vector<StepStats> stats = store->steps(options.run, step, step);
        input.steps.insert(input.steps.end(), stats.begin(), stats.end());
    }
    std::optional<FreezePlan> plan;
    if (options.plan) {
        plan = store->plan(*options.plan);
        checkPlanFitsRun(*plan, *options.plan, store->run(options.run), input.spans);
        input.plan = &*plan;
    }
    writeChromeTraceFile(input, options.outPath);
    std::cout << "steps " << chosen.front() << "-" << chosen.back() << " of run " << options.run << " ("
              << chosen.size() << " steps, " << input.spans.size() << " actions"
              << (options.plan ? ", plan " + std::to_string(*options.plan) : std::string()) << ") written to "
              << options.outPath << "; open it in https://ui.perfetto.dev or chrome://tracing\n";
}

// --- bench store ---

struct BenchRun {
    double seconds = 0.0;
    std::uint64_t spansWritten = 0;
    std::int64_t fileBytes = 0;
    std::int64_t run = 0;
};

BenchRun recordBenchRun(const std::string& path, std::int64_t steps, const SpanRetention& retention)
{
    BenchRun result;
    result.run = RunStore(path).beginRun({ "bench store", "{}", "bench" });
    RunRecorderOptions options;
    options.retention = retention;
    const auto start = std::chrono::steady_clock::now();
    {
        RunRecorder recorder(path, result.run, options);
        for (std::int64_t step = 0; step < steps; ++step)
            publishSyntheticStep(recorder, step);
        recorder.publish(RunFinished { steps, std::nullopt });
        recorder.close();
        if (recorder.error())
            throw std::runtime_error("bench store: " + *recorder.error());
        result.spansWritten = recorder.committedSpanCount();
    }
    result.seconds = secondsSince(start);
    // The last connection closed: the WAL was checkpointed into the file and removed.
    result.fileBytes = static_cast<std::int64_t>(fs::file_size(path));
    return result;
}

// --dir: a folder that exists or can be made, and that tfreeze may write in.
void prepareBenchFolder(const fs::path& dir)
{
    std::error_code error;
    if (fs::exists(dir, error) && !fs::is_directory(dir, error))
        throw InputError("--dir", "", dir.string() + " exists and is not a folder");
    fs::create_directories(dir, error);
    if (error)
        throw InputError("--dir", "", "cannot create the folder " + dir.string() + ": " + error.message());
    if (access(dir.c_str(), W_OK | X_OK) != 0)
        throw InputError("--dir", "", "cannot write in the folder " + dir.string() + ": " + std::strerror(errno));
}

void runBenchStore(const BenchStoreOptions& options)
{
    fs::path dir = options.dir;
    if (dir.empty()) {
        std::string pattern = (fs::temp_directory_path() / "tfreeze-bench-store-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("bench store: cannot create a folder under " + fs::temp_directory_path().string());
        dir = pattern;
    } else {
        prepareBenchFolder(dir);
    }
    const auto stepsOf
        = [](std::int64_t spans) { return std::max<std::int64_t>(1, spans / kSyntheticRunSpansPerStep); };

    // The figure depends on the CPU time the machine leaves the writer thread: each run prints the
    // load average beside its figure, and the median of the runs is the figure.
    const int repeat = std::max(1, options.repeat);
    const std::string throughputPath = (dir / "throughput.sqlite").string();
    std::vector<double> spansPerSecond;
    std::vector<std::string> runLoads;
    std::uint64_t throughputSpans = 0;
    for (int i = 0; i < repeat; ++i) {
        const std::string loadBefore = loadAverage();
        std::cerr << "bench store: writing " << options.spans << " spans, every step kept (run " << i + 1 << " of "
                  << repeat << ", load average " << loadBefore << ")..." << std::flush;
        fs::remove(throughputPath);
        const BenchRun throughput = recordBenchRun(throughputPath, stepsOf(options.spans), SpanRetention::keepAll());
        spansPerSecond.push_back(static_cast<double>(throughput.spansWritten) / throughput.seconds);
        throughputSpans = throughput.spansWritten;
        runLoads.push_back(loadBefore + " to " + loadAverage());
        std::cerr << ' ' << formatCount(spansPerSecond.back()) << " spans/s" << std::endl;
    }
    std::vector<double> sortedSpansPerSecond = spansPerSecond;
    std::sort(sortedSpansPerSecond.begin(), sortedSpansPerSecond.end());
    const std::size_t middle = sortedSpansPerSecond.size() / 2;
    const double medianSpansPerSecond = sortedSpansPerSecond.size() % 2 == 1
        ? sortedSpansPerSecond[middle]
        : (sortedSpansPerSecond[middle - 1] + sortedSpansPerSecond[middle]) / 2.0;

    std::cerr << "bench store: 1,000 steps with the default retention..." << std::endl;
    const std::string smallPath = (dir / "1k-steps.sqlite").string();
    fs::remove(smallPath);
    const BenchRun small = recordBenchRun(smallPath, 1000, SpanRetention {});

    std::cerr << "bench store: " << options.steps << " steps with the default retention..." << std::endl;
    const std::string bigPath = (dir / "retained.sqlite").string();
    fs::remove(bigPath);
    const BenchRun big = recordBenchRun(bigPath, options.steps, SpanRetention {});

    // One step's spans, as the timeline view asks for them: a fresh read-only connection.
    RunStore reader(bigPath, RunStore::OpenMode::ReadOnly);
    const std::vector<std::int64_t> retained = reader.spanSteps(big.run);
    std::vector<double> queryMs;
    std::size_t rows = 0;
    const int queries = std::max(1, options.queries);
    for (int i = 0; i < queries && !retained.empty(); ++i) {
        // Spread over the run: early steps (all kept) and late ones (every 10th).
        const std::int64_t step
            = retained[static_cast<std::size_t>(i) * retained.size() / static_cast<std::size_t>(queries)];
        const auto start = std::chrono::steady_clock::now();
        rows += reader.spans(big.run, step).size();
        queryMs.push_back(secondsSince(start) * 1000.0);
    }
    std::sort(queryMs.begin(), queryMs.end());
    double meanMs = 0.0;
    for (double ms : queryMs)
        meanMs += ms;
    meanMs /= static_cast<double>(std::max<std::size_t>(1, queryMs.size()));

    std::cout << "bench store: 4 ranks, 8 microbatches, 1F1B (" << kSyntheticRunSpansPerStep
              << " spans a step) through RunRecorder, commits every 250 ms or 50,000 events\n"
              << "default retention: every step below 200, then every 10th, and the steps around a plan change\n\n";
    TextTable table;
    table.addColumn("measure", TextTable::Align::Left);
    table.addColumn("value");
    table.addColumn("target", TextTable::Align::Left);
    table.addRow({ "spans written per second (every step kept, " + std::to_string(throughputSpans)
            + " spans), median of " + std::to_string(repeat) + " runs",
        formatCount(medianSpansPerSecond), ">= 300000" });
    for (std::size_t i = 0; i < spansPerSecond.size(); ++i)
        table.addRow({ "  run " + std::to_string(i + 1) + ", load average " + runLoads[i] + " on "
                + std::to_string(std::thread::hardware_concurrency()) + " CPUs",
            formatCount(spansPerSecond[i]), "" });
    table.addRow({ "database bytes, first 1,000 steps (" + std::to_string(small.spansWritten) + " spans kept)",
        std::to_string(small.fileBytes), "" });
    table.addRow({ "database bytes per 1,000 steps, " + std::to_string(options.steps) + "-step run",
        formatCount(static_cast<double>(big.fileBytes) * 1000.0 / static_cast<double>(options.steps)), "" });
    table.addRow({ "database bytes, " + std::to_string(options.steps) + "-step run (" + std::to_string(big.spansWritten)
            + " spans kept)",
        std::to_string(big.fileBytes), "" });
    table.addRow({ "one step's spans, mean of " + std::to_string(queryMs.size()) + " queries (ms)",
        formatFixed(meanMs, 3), "<= 10" });
    table.addRow(
        { "one step's spans, slowest query (ms)", queryMs.empty() ? "-" : formatFixed(queryMs.back(), 3), "" });
    table.addRow({ "spans per query (check)",
        queryMs.empty() ? "-" : formatFixed(static_cast<double>(rows) / static_cast<double>(queryMs.size()), 1),
        "64" });
    table.print(std::cout);
    if (options.keep) {
        std::cout << "\ndatabases kept in " << dir.string() << '\n';
    } else if (options.dir.empty()) {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    } else {
        for (const std::string& path : { throughputPath, smallPath, bigPath })
            fs::remove(path);
    }
}

} // namespace

std::int64_t recordOfflinePlan(const std::string& dbPath, const FreezePlan& plan)
{
    RunStore store(dbPath);
    return store.recordPlan(std::nullopt, { 0, 0, PlanSource::Offline, std::make_shared<const FreezePlan>(plan) });
}

void addStoreCommands(CommandSet& commands)
{
    CLI::App& runs = commands.group("runs", "Browse the run history");

    auto list = CommandSet::makeOptions<RunsListOptions>();
    CLI::App* listCommand = runs.add_subcommand("list", "List runs, newest first: id, status, steps, created, name");
    addDbOption(listCommand, list->dbPath);
    listCommand->add_option(
        "--status", list->status, "Only runs in this status: running, finished, stopped, failed, interrupted");
    listCommand->add_option("--limit", list->limit, "At most this many runs")->check(positiveInteger());
    listCommand->add_flag("--json", list->json,
        "Print the runs as JSON (id, name, status, reason, created, finished, steps, final_loss, mean_tokens_per_s, "
        "mean_bubble, notes, host, pid, tool_version, config)");
    commands.add(listCommand, [list] { runRunsList(*list); });

    auto show = CommandSet::makeOptions<RunIdOptions>();
    CLI::App* showCommand = runs.add_subcommand("show", "Show one run: status, figures, plans, events");
    addDbOption(showCommand, show->dbPath);
    showCommand->add_option("ID", show->run, "Run id")->required()->check(recordId());
    showCommand->add_flag(
        "--json", show->json, "Print the run as JSON: as runs list --json, with its plans and events");
    commands.add(showCommand, [show] { runRunsShow(*show); });

    auto remove = CommandSet::makeOptions<RunIdsOptions>();
    CLI::App* deleteCommand
        = runs.add_subcommand("delete", "Delete runs and everything recorded of them (every id is checked first)");
    addDbOption(deleteCommand, remove->dbPath);
    deleteCommand->add_option("ID", remove->runs, "Run ids")->required()->check(recordId());
    commands.add(deleteCommand, [remove] { runRunsDelete(*remove); });

    auto rename = CommandSet::makeOptions<RunTextOptions>();
    CLI::App* renameCommand = runs.add_subcommand("rename", "Give a run a new name");
    addDbOption(renameCommand, rename->dbPath);
    renameCommand->add_option("ID", rename->run, "Run id")->required()->check(recordId());
    renameCommand->add_option("NAME", rename->text, "The new name")->required();
    commands.add(renameCommand, [rename] { runRunsRename(*rename); });

    auto notes = CommandSet::makeOptions<RunTextOptions>();
    CLI::App* notesCommand = runs.add_subcommand("notes", "Set a run's notes (free text; \"\" clears them)");
    addDbOption(notesCommand, notes->dbPath);
    notesCommand->add_option("ID", notes->run, "Run id")->required()->check(recordId());
    notesCommand->add_option("TEXT", notes->text, "The notes")->required();
    commands.add(notesCommand, [notes] { runRunsNotes(*notes); });

    auto compare = CommandSet::makeOptions<RunsCompareOptions>();
    CLI::App* compareCommand = runs.add_subcommand(
        "compare", "Compare two runs side by side: final loss, tokens/s, bubble %, per-stage mean action times");
    addDbOption(compareCommand, compare->dbPath);
    compareCommand->add_option("A", compare->a, "First run id")->required()->check(recordId());
    compareCommand->add_option("B", compare->b, "Second run id")->required()->check(recordId());
    commands.add(compareCommand, [compare] { runRunsCompare(*compare); });

    auto check = CommandSet::makeOptions<RunsListOptions>();
    CLI::App* checkCommand = runs.add_subcommand("check",
        "Check the run database for damage (SQLite's integrity check) and for rows whose run is missing; "
        "reads the whole file and changes nothing");
    addDbOption(checkCommand, check->dbPath);
    commands.add(checkCommand, [check] { runRunsCheck(check->dbPath); });

    CLI::App& exportGroup = commands.group("export", "Write plans, metrics and traces for other tools");
    auto plan = CommandSet::makeOptions<ExportPlanOptions>();
    CLI::App* planCommand = exportGroup.add_subcommand("plan", "Write a recorded plan as tfreeze-plan/1 JSON or CSV");
    addDbOption(planCommand, plan->dbPath);
    planCommand->add_option("ID", plan->plan, "Plan id")->required()->check(recordId());
    planCommand->add_option("--format", plan->format, "json or csv")
        ->check(CLI::IsMember({ "json", "csv" }))
        ->capture_default_str();
    planCommand->add_option("--out", plan->outPath, "File to write")->required();
    commands.add(planCommand, [plan] { runExportPlan(*plan); });

    auto metrics = CommandSet::makeOptions<ExportMetricsOptions>();
    CLI::App* metricsCommand = exportGroup.add_subcommand(
        "metrics", "Write a run's per-step metrics as CSV: step,loss,val_loss,tokens_per_s,batch_ms,bubble,phase,lr");
    addDbOption(metricsCommand, metrics->dbPath);
    metricsCommand->add_option("RUN", metrics->run, "Run id")->required()->check(recordId());
    metricsCommand->add_option("--out", metrics->outPath, "CSV file to write")->required();
    commands.add(metricsCommand, [metrics] { runExportMetrics(*metrics); });

    auto trace = CommandSet::makeOptions<ExportTraceOptions>();
    CLI::App* traceCommand = exportGroup.add_subcommand("trace",
        "Write a run's action timeline as Chrome Trace Event JSON (Perfetto, chrome://tracing); .gz compresses");
    addDbOption(traceCommand, trace->dbPath);
    traceCommand->add_option("RUN", trace->run, "Run id")->required()->check(recordId());
    traceCommand->add_option("--steps", trace->steps,
        "Steps to export, e.g. 10-20 or 15 (default: the last 10 steps whose spans were kept)");
    traceCommand
        ->add_option(
            "--plan", trace->plan, "Also draw this plan's predicted timeline (a plan id of the run's pipeline)")
        ->check(recordId());
    traceCommand->add_option("--out", trace->outPath, "Trace file to write (.json or .json.gz)")->required();
    commands.add(traceCommand, [trace] { runExportTrace(*trace); });

    auto bench = CommandSet::makeOptions<BenchStoreOptions>();
    CLI::App& benchGroup = commands.group("bench", kBenchGroupDescription);
    CLI::App* benchCommand = benchGroup.add_subcommand(
        "store", "Time the run database: spans written per second, bytes per 1,000 steps, one step's spans query");
    benchCommand->add_option("--spans", bench->spans, "Spans to write for the throughput figure")
        ->check(CLI::Range(std::int64_t { 64 }, std::int64_t { 1'000'000'000 }))
        ->capture_default_str();
    benchCommand->add_option("--repeat", bench->repeat, "Throughput runs; the figure is their median")
        ->check(CLI::Range(1, 100))
        ->capture_default_str();
    benchCommand->add_option("--steps", bench->steps, "Steps of the retained run for the size and query figures")
        ->check(CLI::Range(std::int64_t { 1 }, std::int64_t { 100'000'000 }))
        ->capture_default_str();
    benchCommand->add_option("--queries", bench->queries, "Queries of one step's spans")
        ->check(CLI::Range(1, 1'000'000))
        ->capture_default_str();
    benchCommand->add_option("--dir", bench->dir, "Folder for the bench databases (default: a new one in /tmp)");
    benchCommand->add_flag("--keep", bench->keep, "Keep the bench databases");
    commands.add(benchCommand, [bench] { runBenchStore(*bench); });
}

} // namespace tfreeze
