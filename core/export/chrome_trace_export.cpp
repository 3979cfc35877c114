#include "core/export/chrome_trace_export.h"

#include "core/export/gzip_stream.h"
#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

namespace tfreeze {

namespace {

using Json = nlohmann::ordered_json;

const char* const kExportSource = "trace export";
// pids are ints and planned processes take pids after the measured ones: far above any pipeline,
// far below overflow.
constexpr int kMaxIndex = 1 << 20;
// One batch longer than 11 days is corrupt data, and the limit keeps step offsets from overflowing.
constexpr std::int64_t kMaxSpanUs = std::int64_t { 1'000'000 } * 1'000'000;

struct StepLayout {
    std::int64_t offsetUs = 0;
    std::int64_t lengthUs = 0;
    const StepStats* stats = nullptr;
};

std::string spanField(std::size_t index) { return "spans[" + std::to_string(index) + "]"; }

void validateSpans(const std::vector<ActionSpan>& spans)
{
    for (std::size_t i = 0; i < spans.size(); ++i) {
        const ActionSpan& span = spans[i];
        const auto fail = [&](const std::string& message) { throw InputError(kExportSource, spanField(i), message); };
        if (span.rank < 0 || span.rank >= kMaxIndex || span.stage < 0 || span.stage >= kMaxIndex || span.microbatch < 0)
            fail("rank, stage and microbatch must be ≥ 0 and rank, stage < " + std::to_string(kMaxIndex) + " (got rank "
                + std::to_string(span.rank) + ", stage " + std::to_string(span.stage) + ", microbatch "
                + std::to_string(span.microbatch) + ")");
        if (span.startUs < 0 || span.endUs < span.startUs || span.endUs > kMaxSpanUs)
            fail("must satisfy 0 ≤ start_us ≤ end_us ≤ " + std::to_string(kMaxSpanUs) + " (got "
                + std::to_string(span.startUs) + ", " + std::to_string(span.endUs) + ")");
        if (span.frozenTensors < 0 || span.frozenTensors > span.totalTensors)
            fail("frozen tensors must be in [0, total] (got " + std::to_string(span.frozenTensors) + " of "
                + std::to_string(span.totalTensors) + ")");
    }
}

// Steps in increasing order, each starting where the previous one ended.
std::map<std::int64_t, StepLayout> layOutSteps(const TraceExportInput& input)
{
    std::map<std::int64_t, StepLayout> layout;
    for (const ActionSpan& span : input.spans) {
        StepLayout& step = layout[span.step];
        step.lengthUs = std::max(step.lengthUs, span.endUs);
    }
    for (const StepStats& stats : input.steps) {
        StepLayout& step = layout[stats.step];
        step.stats = &stats;
        if (std::isfinite(stats.batchMs) && stats.batchMs > 0.0 && stats.batchMs * 1000.0 < kMaxSpanUs)
            step.lengthUs = std::max(step.lengthUs, static_cast<std::int64_t>(std::llround(stats.batchMs * 1000.0)));
    }
    std::int64_t offset = 0;
    for (auto& [number, step] : layout) {
        step.offsetUs = offset;
        if (offset > std::numeric_limits<std::int64_t>::max() - step.lengthUs)
            throw InputError(kExportSource, "steps", "the steps are too long to lay out on one time axis");
        offset += step.lengthUs;
    }
    return layout;
}

double freezeRatio(int frozen, int total) { return total > 0 ? static_cast<double>(frozen) / total : 0.0; }

// One event per line: diffs stay readable and a truncated file is easy to inspect.
class EventWriter {
public:
    explicit EventWriter(std::ostream& out)
        : m_out(out)
    {
    }

    void write(const Json& event)
    {
        m_out << (m_first ? "\n" : ",\n") << event.dump();
        m_first = false;
    }

private:
    std::ostream& m_out;
    bool m_first = true;
};

Json metadata(const char* name, int pid, int tid, const Json& args)
{
    Json event = Json::object();
    event["name"] = name;
    event["ph"] = "M";
    event["pid"] = pid;
    event["tid"] = tid;
    event["args"] = args;
    return event;
}

void writeProcess(EventWriter& writer, int pid, const std::string& name)
{
    writer.write(metadata("process_name", pid, 0, Json { { "name", name } }));
    writer.write(metadata("process_sort_index", pid, 0, Json { { "sort_index", pid } }));
}

void writeThread(EventWriter& writer, int pid, int stage)
{
    writer.write(metadata("thread_name", pid, stage, Json { { "name", "stage " + std::to_string(stage) } }));
    writer.write(metadata("thread_sort_index", pid, stage, Json { { "sort_index", stage } }));
}

Json actionArgs(int stage, int microbatch, ActionKind kind, double ratio)
{
    Json args = Json::object();
    args["stage"] = stage;
    args["microbatch"] = microbatch;
    args["kind"] = std::string(1, actionKindLetter(kind));
    args["freeze_ratio"] = ratio;
    return args;
}

Json spanEvent(const ActionSpan& span, std::int64_t offsetUs)
{
    const Action action { span.rank, span.stage, span.microbatch, span.kind };
    Json args = actionArgs(span.stage, span.microbatch, span.kind, freezeRatio(span.frozenTensors, span.totalTensors));
    args["frozen"] = span.frozenTensors;
    args["total"] = span.totalTensors;
    args["step"] = span.step;
    Json event = Json::object();
    event["name"] = actionName(action);
    event["cat"] = "compute";
    event["ph"] = "X";
    event["pid"] = span.rank;
    event["tid"] = span.stage;
    event["ts"] = offsetUs + span.startUs;
    event["dur"] = span.endUs - span.startUs;
    event["args"] = std::move(args);
    return event;
}

// A flow's end bound to the slice that encloses `ts` on (pid, tid): the slice's midpoint is inside
// it even when a neighbour starts exactly where it ends.
Json flowEvent(const char* phase, const char* name, std::int64_t id, const ActionSpan& span, std::int64_t offsetUs)
{
    Json event = Json::object();
    event["name"] = name;
    event["cat"] = "dependency";
    event["ph"] = phase;
    event["id"] = id;
    event["pid"] = span.rank;
    event["tid"] = span.stage;
    event["ts"] = static_cast<double>(offsetUs + span.startUs) + static_cast<double>(span.endUs - span.startUs) / 2.0;
    if (std::strcmp(phase, "f") == 0)
        event["bp"] = "e"; // bind to the enclosing slice, not to the next one that starts
    return event;
}

using SpanKey = std::tuple<std::int64_t, int, int, ActionKind>; // step, stage, microbatch, kind

void writeFlows(
    EventWriter& writer, const std::vector<ActionSpan>& spans, const std::map<std::int64_t, StepLayout>& layout)
{
    std::map<SpanKey, std::size_t> index;
    for (std::size_t i = 0; i < spans.size(); ++i) {
        const ActionSpan& s = spans[i];
        index.emplace(SpanKey { s.step, s.stage, s.microbatch, s.kind }, i);
    }
    const auto find = [&](std::int64_t step, int stage, int microbatch, ActionKind kind) -> const ActionSpan* {
        const auto it = index.find(SpanKey { step, stage, microbatch, kind });
        return it == index.end() ? nullptr : &spans[it->second];
    };
    std::int64_t id = 0;
    for (const ActionSpan& from : spans) {
        const ActionSpan* to = nullptr;
        const char* name = nullptr;
        if (from.kind == ActionKind::Forward) {
            to = find(from.step, from.stage + 1, from.microbatch, ActionKind::Forward);
            name = "activation";
        } else if (from.kind == ActionKind::Backward || from.kind == ActionKind::BackwardInput) {
            if (from.stage > 0) {
                to = find(from.step, from.stage - 1, from.microbatch, ActionKind::Backward);
                if (!to)
                    to = find(from.step, from.stage - 1, from.microbatch, ActionKind::BackwardInput);
            }
            name = "gradient";
        }
        if (!to)
            continue;
        const std::int64_t offset = layout.at(from.step).offsetUs;
        ++id;
        writer.write(flowEvent("s", name, id, from, offset));
        writer.write(flowEvent("f", name, id, *to, offset));
    }
}

// Per step and rank: the bubble fraction the step's statistics report, else idle time / step
// length computed from the rank's spans (which never overlap on one rank).
void writeBubbleCounters(
    EventWriter& writer, const std::vector<ActionSpan>& spans, const std::map<std::int64_t, StepLayout>& layout)
{
    std::map<std::pair<std::int64_t, int>, std::int64_t> busy;
    for (const ActionSpan& span : spans)
        busy[{ span.step, span.rank }] += span.endUs - span.startUs;
    std::set<std::pair<std::int64_t, int>> written;
    const auto counter = [&](std::int64_t step, int rank, double fraction) {
        if (!written.insert({ step, rank }).second)
            return;
        Json event = Json::object();
        event["name"] = "bubble %";
        event["ph"] = "C";
        event["pid"] = rank;
        event["ts"] = layout.at(step).offsetUs;
        event["args"] = Json { { "bubble", fraction * 100.0 } };
        writer.write(event);
    };
    for (const auto& [number, step] : layout) {
        if (!step.stats)
            continue;
        const std::vector<double>& fractions = step.stats->rankBubbleFraction;
        for (std::size_t rank = 0; rank < fractions.size() && rank < static_cast<std::size_t>(kMaxIndex); ++rank) {
            if (std::isfinite(fractions[rank]))
                counter(number, static_cast<int>(rank), fractions[rank]);
        }
    }
    for (const auto& [key, busyUs] : busy) {
        const std::int64_t length = layout.at(key.first).lengthUs;
        if (length > 0)
            counter(key.first, key.second, 1.0 - static_cast<double>(busyUs) / static_cast<double>(length));
    }
}

void writePlanned(
    EventWriter& writer, const FreezePlan& plan, int firstPid, const std::map<std::int64_t, StepLayout>& layout)
{
    const PipelineSchedule& schedule = plan.profile.schedule();
    const std::vector<Action> actions = plan.profile.actions();
    if (plan.actions.size() != actions.size())
        throw InputError(kExportSource, "plan",
            "has " + std::to_string(plan.actions.size()) + " planned actions for a profile of "
                + std::to_string(actions.size()));
    for (int rank = 0; rank < schedule.rankCount(); ++rank) {
        writeProcess(writer, firstPid + rank, "rank " + std::to_string(rank) + " (planned)");
        for (int stage = 0; stage < schedule.stageCount(); ++stage) {
            if (schedule.stageRank(stage) == rank)
                writeThread(writer, firstPid + rank, stage);
        }
    }
    std::vector<std::int64_t> offsets;
    offsets.reserve(layout.size() + 1);
    for (const auto& [number, step] : layout)
        offsets.push_back(step.offsetUs);
    if (offsets.empty())
        offsets.push_back(0);
    for (const std::int64_t offset : offsets) {
        for (std::size_t i = 0; i < actions.size(); ++i) {
            const Action& action = actions[i];
            const PlannedAction& planned = plan.actions[i];
            Json event = Json::object();
            event["name"] = actionName(action);
            event["cat"] = "planned";
            event["ph"] = "X";
            event["pid"] = firstPid + action.rank;
            event["tid"] = action.stage;
            event["ts"] = static_cast<double>(offset) + planned.startMs * 1000.0;
            event["dur"] = (planned.endMs - planned.startMs) * 1000.0;
            event["args"] = actionArgs(action.stage, action.microbatch, action.kind, planned.ratio);
            writer.write(event);
        }
    }
}

// The counts of a pipeline, from a schedule or from the spans a run recorded.
struct PipelineCounts {
    int ranks = 0;
    int microbatches = 0;
    int stages = 0;

    friend bool operator==(const PipelineCounts& a, const PipelineCounts& b)
    {
        return a.ranks == b.ranks && a.microbatches == b.microbatches && a.stages == b.stages;
    }
};

PipelineCounts countsOf(const ScheduleShape& shape) { return { shape.ranks, shape.microbatches, shape.stageCount() }; }

// The spans give the counts of the run as the highest index + 1: a plan must cover every one.
PipelineCounts countsOf(const std::vector<ActionSpan>& spans)
{
    PipelineCounts counts;
    for (const ActionSpan& span : spans) {
        counts.ranks = std::max(counts.ranks, span.rank + 1);
        counts.microbatches = std::max(counts.microbatches, span.microbatch + 1);
        counts.stages = std::max(counts.stages, span.stage + 1);
    }
    return counts;
}

std::string countsText(const PipelineCounts& counts)
{
    const auto plural
        = [](int n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
    return plural(counts.ranks, "rank", "ranks") + ", " + plural(counts.microbatches, "microbatch", "microbatches")
        + " and " + plural(counts.stages, "stage", "stages");
}

using ActionKey = std::tuple<int, int, int, ActionKind>; // rank, stage, microbatch, kind

ActionKey keyOf(const Action& action) { return { action.rank, action.stage, action.microbatch, action.kind }; }

std::string keyText(const ActionKey& key)
{
    const Action action { std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key) };
    return actionName(action) + " on rank " + std::to_string(action.rank);
}

// The first action that one set holds and the other does not, as a sentence; nothing when equal.
std::optional<std::string> actionSetDifference(const std::set<ActionKey>& ran, const std::set<ActionKey>& planned)
{
    for (const ActionKey& key : ran) {
        if (planned.count(key) == 0)
            return "the run ran " + keyText(key) + ", which the plan does not have";
    }
    for (const ActionKey& key : planned) {
        if (ran.count(key) == 0)
            return "the plan has " + keyText(key) + ", which the run's exported steps never ran";
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> planPipelineMismatch(
    const FreezePlan& plan, const std::vector<ActionSpan>& spans, const std::optional<ScheduleShape>& runSchedule)
{
    if (spans.empty())
        return std::nullopt;
    const ScheduleShape& planShape = plan.profile.schedule().shape();
    const std::string planKind = scheduleKindName(planShape.kind);
    // A Custom plan came from a profile file or an imported trace: its order, not its kind, says
    // what it is, and the action set below checks that.
    if (runSchedule && runSchedule->kind != ScheduleKind::Custom && planShape.kind != ScheduleKind::Custom
        && runSchedule->kind != planShape.kind)
        return "the run's schedule is " + scheduleKindName(runSchedule->kind) + ", the plan's " + planKind;
    const PipelineCounts planCounts = countsOf(planShape);
    const PipelineCounts run = runSchedule ? countsOf(*runSchedule) : countsOf(spans);
    if (!(run == planCounts))
        return std::string(runSchedule ? "the run's schedule has " : "the run's steps have ") + countsText(run)
            + ", the plan's " + planKind + " schedule " + countsText(planCounts);
    std::set<ActionKey> ran;
    for (const ActionSpan& span : spans)
        ran.insert({ span.rank, span.stage, span.microbatch, span.kind });
    std::set<ActionKey> planned;
    for (const Action& action : plan.profile.actions())
        planned.insert(keyOf(action));
    return actionSetDifference(ran, planned);
}

void writeChromeTrace(const TraceExportInput& input, std::ostream& out)
{
    validateSpans(input.spans);
    const std::map<std::int64_t, StepLayout> layout = layOutSteps(input);

    int rankCount = 0;
    std::set<std::pair<int, int>> threads; // rank, stage
    for (const ActionSpan& span : input.spans) {
        rankCount = std::max(rankCount, span.rank + 1);
        threads.insert({ span.rank, span.stage });
    }
    for (const auto& [number, step] : layout) {
        if (step.stats)
            rankCount = std::max(rankCount,
                static_cast<int>(std::min(step.stats->rankBubbleFraction.size(), static_cast<std::size_t>(kMaxIndex))));
    }
    if (input.plan)
        rankCount = std::max(rankCount, input.plan->profile.schedule().rankCount());

    out << "{\"displayTimeUnit\": \"ms\",\n\"otherData\": {\"generator\": \"TimelyFreeze Studio\"},\n\"traceEvents\": "
           "[";
    EventWriter writer(out);
    for (int rank = 0; rank < rankCount; ++rank)
        writeProcess(writer, rank, "rank " + std::to_string(rank));
    for (const auto& [rank, stage] : threads)
        writeThread(writer, rank, stage);

    // Spans by step, then by start: a viewer needs no order, but a reader of the file does.
    std::vector<const ActionSpan*> ordered;
    ordered.reserve(input.spans.size());
    for (const ActionSpan& span : input.spans)
        ordered.push_back(&span);
    std::stable_sort(ordered.begin(), ordered.end(), [](const ActionSpan* a, const ActionSpan* b) {
        return std::tie(a->step, a->startUs, a->rank) < std::tie(b->step, b->startUs, b->rank);
    });
    for (const ActionSpan* span : ordered)
        writer.write(spanEvent(*span, layout.at(span->step).offsetUs));
    writeBubbleCounters(writer, input.spans, layout);
    writeFlows(writer, input.spans, layout);
    if (input.plan)
        writePlanned(writer, *input.plan, rankCount, layout);
    out << "\n]}\n";
}

void writeChromeTraceFile(const TraceExportInput& input, const std::string& path)
{
    std::ostringstream text;
    writeChromeTrace(input, text);
    const bool compressed = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    writeTextFile(path, compressed ? gzip(text.str()) : text.str());
}

} // namespace tfreeze
