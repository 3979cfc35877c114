#include "core/export/chrome_trace_export.h"
#include "core/export/gzip_stream.h"

#include "trace_test_support.h"

#include <QtTest>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

using namespace tfreeze;
using namespace tfreeze::test;
using Json = nlohmann::json;

namespace {

Json exportJson(const TraceExportInput& input)
{
    std::stringstream out;
    writeChromeTrace(input, out);
    return Json::parse(out.str());
}

std::vector<Json> eventsWith(const Json& trace, const std::string& phase)
{
    std::vector<Json> events;
    for (const Json& event : trace.at("traceEvents")) {
        if (event.at("ph") == phase)
            events.push_back(event);
    }
    return events;
}

// 1F1B, 3 ranks, 4 microbatches: step 5 unfrozen, step 6 at ratio 0.5, given in reverse order.
struct TwoSteps {
    Profile profile = jitteredProfile(ScheduleKind::OneFOneB, 3, 4, 1, 7);
    std::vector<ActionSpan> step5 = simulatedStep(profile, 5, 0.0);
    std::vector<ActionSpan> step6 = simulatedStep(profile, 6, 0.5);

    TraceExportInput input() const
    {
        TraceExportInput input;
        input.spans = step6;
        input.spans.insert(input.spans.end(), step5.begin(), step5.end());
        return input;
    }
};

std::int64_t lastEnd(const std::vector<ActionSpan>& spans)
{
    std::int64_t end = 0;
    for (const ActionSpan& span : spans)
        end = std::max(end, span.endUs);
    return end;
}

// A plan of `profile` whose actions are not looked at: planPipelineMismatch compares pipelines only.
FreezePlan planOf(const Profile& profile) { return { profile, {}, 0.0, 0.0, 0.0, {}, {}, 0.0 }; }

// The same pipeline as `profile`, with its kind said to be Custom (a profile file, an imported trace).
Profile asCustom(const Profile& profile)
{
    ScheduleShape shape = profile.schedule().shape();
    shape.kind = ScheduleKind::Custom;
    return { PipelineSchedule::fromRankOrders(shape, profile.schedule().rankOrders()), profile.costs() };
}

// The name/pid/tid/ts key of a slice, for finding the span a slice came from.
using SliceKey = std::tuple<std::string, int, int, double>;

} // namespace

class TestChromeTraceExport : public QObject {
    Q_OBJECT

private slots:
    void objectFormWithMetadata();
    void oneSlicePerSpan();
    void stepLengthFromStatistics();
    void slicesNestPerThread();
    void flowsLinkNeighbouringStages_data();
    void flowsLinkNeighbouringStages();
    void bubbleCounter();
    void plannedTimeline();
    void planWithoutSpans();
    void writesGzipByName();
    void badSpan_data();
    void badSpan();
    void unwritableFile();
    void planOfTheRunsPipelineFits();
    void planOfAnotherPipelineIsNamed_data();
    void planOfAnotherPipelineIsNamed();
    void scheduleKindComesFromTheRunsConfig();
};

void TestChromeTraceExport::objectFormWithMetadata()
{
    // Interleaved: rank r holds stages r and r + 2, so every process has two named threads.
    const Profile profile = jitteredProfile(ScheduleKind::Interleaved1F1B, 2, 4, 2, 3);
    TraceExportInput input;
    input.spans = simulatedStep(profile, 0, 0.0);
    const Json trace = exportJson(input);

    QVERIFY(trace.is_object());
    QCOMPARE(trace.at("displayTimeUnit").get<std::string>(), std::string("ms"));
    QVERIFY(trace.at("traceEvents").is_array());
    std::map<int, std::string> processNames;
    std::set<std::tuple<int, int, std::string>> threadNames;
    for (const Json& event : eventsWith(trace, "M")) {
        if (event.at("name") == "process_name")
            processNames[event.at("pid").get<int>()] = event.at("args").at("name").get<std::string>();
        if (event.at("name") == "thread_name")
            threadNames.insert({ event.at("pid").get<int>(), event.at("tid").get<int>(),
                event.at("args").at("name").get<std::string>() });
    }
    QCOMPARE(processNames, (std::map<int, std::string> { { 0, "rank 0" }, { 1, "rank 1" } }));
    const std::set<std::tuple<int, int, std::string>> expectedThreads { { 0, 0, "stage 0" }, { 0, 2, "stage 2" },
        { 1, 1, "stage 1" }, { 1, 3, "stage 3" } };
    QCOMPARE(threadNames, expectedThreads);
}

void TestChromeTraceExport::oneSlicePerSpan()
{
    const TwoSteps run;
    const Json trace = exportJson(run.input());
    // Step 6 follows step 5, which lasts until its last span ends (no statistics given).
    const std::map<std::int64_t, std::int64_t> offset { { 5, 0 }, { 6, lastEnd(run.step5) } };
    std::map<SliceKey, Json> slices;
    for (const Json& event : eventsWith(trace, "X"))
        slices[{ event.at("name"), event.at("pid"), event.at("tid"), event.at("ts") }] = event;
    QCOMPARE(slices.size(), run.step5.size() + run.step6.size());

    for (const auto* spans : { &run.step5, &run.step6 }) {
        for (const ActionSpan& span : *spans) {
            const std::string name = actionName({ span.rank, span.stage, span.microbatch, span.kind });
            const auto it = slices.find(
                { name, span.rank, span.stage, static_cast<double>(offset.at(span.step) + span.startUs) });
            QVERIFY2(it != slices.end(), name.c_str());
            const Json& event = it->second;
            QCOMPARE(event.at("cat").get<std::string>(), std::string("compute"));
            QCOMPARE(event.at("dur").get<std::int64_t>(), span.endUs - span.startUs);
            const Json& args = event.at("args");
            QCOMPARE(args.at("step").get<std::int64_t>(), span.step);
            QCOMPARE(args.at("stage").get<int>(), span.stage);
            QCOMPARE(args.at("microbatch").get<int>(), span.microbatch);
            QCOMPARE(args.at("kind").get<std::string>(), std::string(1, actionKindLetter(span.kind)));
            QCOMPARE(args.at("frozen").get<int>(), span.frozenTensors);
            QCOMPARE(args.at("total").get<int>(), span.totalTensors);
            // Step 6 ran at 0.5: 2 of 4 tensors of every B frozen, none of an F.
            const double expectedRatio = span.step == 6 && isFreezable(span.kind) ? 0.5 : 0.0;
            QCOMPARE(args.at("freeze_ratio").get<double>(), expectedRatio);
        }
    }
}

void TestChromeTraceExport::stepLengthFromStatistics()
{
    const TwoSteps run;
    TraceExportInput input = run.input();
    StepStats stats;
    stats.step = 5;
    stats.batchMs = static_cast<double>(lastEnd(run.step5)) / 1000.0 + 2.5; // the optimizer step after the last B
    input.steps.push_back(stats);
    const Json trace = exportJson(input);
    std::int64_t firstOfStep6 = std::numeric_limits<std::int64_t>::max();
    for (const Json& event : eventsWith(trace, "X")) {
        if (event.at("args").at("step") == 6)
            firstOfStep6 = std::min(firstOfStep6, event.at("ts").get<std::int64_t>());
    }
    // The earliest action of a step starts at 0 in the step's own time.
    QCOMPARE(firstOfStep6, lastEnd(run.step5) + 2500);
}

void TestChromeTraceExport::slicesNestPerThread()
{
    const TwoSteps run;
    const Json trace = exportJson(run.input());
    std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> threads;
    for (const Json& event : eventsWith(trace, "X")) {
        const double ts = event.at("ts").get<double>();
        threads[{ event.at("pid"), event.at("tid") }].push_back({ ts, ts + event.at("dur").get<double>() });
    }
    QCOMPARE(threads.size(), std::size_t { 3 });
    for (const auto& [thread, slices] : threads) {
        for (std::size_t a = 0; a < slices.size(); ++a) {
            for (std::size_t b = a + 1; b < slices.size(); ++b) {
                const auto [s1, e1] = slices[a];
                const auto [s2, e2] = slices[b];
                const bool disjoint = e1 <= s2 || e2 <= s1;
                const bool nested = (s1 <= s2 && e2 <= e1) || (s2 <= s1 && e1 <= e2);
                QVERIFY2(disjoint || nested,
                    qPrintable(QStringLiteral("pid %1 tid %2: [%3, %4] and [%5, %6]")
                                   .arg(thread.first)
                                   .arg(thread.second)
                                   .arg(s1)
                                   .arg(e1)
                                   .arg(s2)
                                   .arg(e2)));
            }
        }
    }
}

void TestChromeTraceExport::flowsLinkNeighbouringStages_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::newRow("1F1B 3x4") << static_cast<int>(ScheduleKind::OneFOneB) << 3 << 4 << 1;
    QTest::newRow("ZBH1 2x3 (I)") << static_cast<int>(ScheduleKind::ZBH1) << 2 << 3 << 1;
    QTest::newRow("ZBV 2x4 (2 stages a rank)") << static_cast<int>(ScheduleKind::ZBV) << 2 << 4 << 2;
}

void TestChromeTraceExport::flowsLinkNeighbouringStages()
{
    QFETCH(int, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const Profile profile = jitteredProfile(static_cast<ScheduleKind>(kind), ranks, microbatches, stagesPerRank, 11);
    TraceExportInput input;
    input.spans = simulatedStep(profile, 0, 0.0);
    const std::vector<ActionSpan> second = simulatedStep(profile, 1, 1.0);
    input.spans.insert(input.spans.end(), second.begin(), second.end());
    const Json trace = exportJson(input);

    // The slice of (pid, tid) that strictly encloses ts: its name and step.
    const std::vector<Json> slices = eventsWith(trace, "X");
    const auto enclosing = [&](const Json& flow) -> std::string {
        const double ts = flow.at("ts").get<double>();
        for (const Json& slice : slices) {
            const double start = slice.at("ts").get<double>();
            if (slice.at("pid") == flow.at("pid") && slice.at("tid") == flow.at("tid") && start < ts
                && ts < start + slice.at("dur").get<double>())
                return slice.at("name").get<std::string>() + "@" + slice.at("args").at("step").dump();
        }
        return {};
    };
    std::map<std::int64_t, Json> starts;
    for (const Json& flow : eventsWith(trace, "s"))
        QVERIFY2(starts.emplace(flow.at("id").get<std::int64_t>(), flow).second, "flow ids must be unique");
    const std::vector<Json> finishes = eventsWith(trace, "f");
    QCOMPARE(finishes.size(), starts.size());

    std::multiset<std::string> links;
    for (const Json& finish : finishes) {
        const auto it = starts.find(finish.at("id").get<std::int64_t>());
        QVERIFY(it != starts.end());
        QCOMPARE(finish.at("name"), it->second.at("name"));
        QCOMPARE(finish.at("bp").get<std::string>(), std::string("e"));
        const std::string from = enclosing(it->second);
        const std::string to = enclosing(finish);
        QVERIFY2(!from.empty() && !to.empty(), "a flow end outside every slice");
        links.insert(from + "->" + to);
    }
    // Expected links, from the schedule alone: per step, F(s,m) → F(s+1,m) and the backward that
    // carries the input gradient (B, or I when split) of (s,m) → that of (s−1,m).
    std::multiset<std::string> expected;
    const int stages = ranks * stagesPerRank;
    const char gradient = profile.schedule().splitBackward() ? 'I' : 'B';
    for (int step = 0; step < 2; ++step) {
        const std::string at = "@" + std::to_string(step);
        for (int s = 0; s + 1 < stages; ++s) {
            for (int m = 0; m < microbatches; ++m) {
                const std::string sm = std::to_string(s);
                const std::string next = std::to_string(s + 1);
                const std::string mb = std::to_string(m);
                expected.insert(sm + "F" + mb + at + "->" + next + "F" + mb + at);
                expected.insert(next + gradient + mb + at + "->" + sm + gradient + mb + at);
            }
        }
    }
    QCOMPARE(links, expected);
}

void TestChromeTraceExport::bubbleCounter()
{
    const Profile profile = jitteredProfile(ScheduleKind::OneFOneB, 3, 4, 1, 5);
    const PipelineDag dag(profile.schedule());
    const Timeline timeline = simulateTimeline(dag, profile.maxDurations());
    TraceExportInput input;
    input.spans = simulatedStep(profile, 0, 0.0);
    const std::vector<ActionSpan> second = simulatedStep(profile, 1, 0.0);
    input.spans.insert(input.spans.end(), second.begin(), second.end());
    // Step 1 reports its own bubbles; step 0 has none, so they come from its spans.
    StepStats stats;
    stats.step = 1;
    stats.rankBubbleFraction = { 0.25, 0.5, 0.125 };
    input.steps.push_back(stats);
    const Json trace = exportJson(input);

    std::map<std::pair<int, double>, double> counters; // (rank, ts) → %
    for (const Json& event : eventsWith(trace, "C")) {
        QCOMPARE(event.at("name").get<std::string>(), std::string("bubble %"));
        counters[{ event.at("pid").get<int>(), event.at("ts").get<double>() }]
            = event.at("args").at("bubble").get<double>();
    }
    QCOMPARE(counters.size(), std::size_t { 6 });
    const double step1 = static_cast<double>(lastEnd(input.spans));
    for (int rank = 0; rank < 3; ++rank) {
        // Each of a rank's 8 spans is rounded to whole µs at both ends (≤ 1 µs off in its length)
        // in a batch of about 25 ms: at most 0.04 % from the exact timeline.
        const double fromTimeline = timeline.rankBubbleFraction[static_cast<std::size_t>(rank)] * 100.0;
        const double got = counters.at({ rank, 0.0 });
        QVERIFY2(std::abs(got - fromTimeline) < 0.05,
            qPrintable(QStringLiteral("rank %1: %2 vs %3").arg(rank).arg(got).arg(fromTimeline)));
        QCOMPARE(counters.at({ rank, step1 }), stats.rankBubbleFraction[static_cast<std::size_t>(rank)] * 100.0);
    }
}

void TestChromeTraceExport::plannedTimeline()
{
    const TwoSteps run;
    const PipelineDag dag(run.profile.schedule());
    std::vector<double> durations;
    for (const ActionCost& cost : run.profile.costs())
        durations.push_back((cost.maxMs + cost.minMs) / 2.0);
    const Timeline timeline = simulateTimeline(dag, durations);
    FreezePlan plan { run.profile, {}, 0.0, timeline.batchMs, 0.0, {}, {}, 0.0 };
    for (std::size_t v = 0; v < dag.nodeCount(); ++v)
        plan.actions.push_back({ isFreezable(dag.action(static_cast<PipelineDag::Node>(v)).kind) ? 0.5 : 0.0,
            timeline.startMs[v], timeline.endMs[v] });

    TraceExportInput input = run.input();
    input.plan = &plan;
    const Json trace = exportJson(input);

    std::map<int, std::string> processNames;
    for (const Json& event : eventsWith(trace, "M")) {
        if (event.at("name") == "process_name")
            processNames[event.at("pid").get<int>()] = event.at("args").at("name").get<std::string>();
    }
    QCOMPARE(processNames.at(3), std::string("rank 0 (planned)"));
    QCOMPARE(processNames.at(5), std::string("rank 2 (planned)"));

    // Once per step, at the step's start: offsets 0 and the end of step 5.
    std::map<SliceKey, Json> planned;
    for (const Json& event : eventsWith(trace, "X")) {
        if (event.at("cat") == "planned")
            planned[{ event.at("name"), event.at("pid"), event.at("tid"), event.at("ts") }] = event;
    }
    QCOMPARE(planned.size(), 2 * dag.nodeCount());
    for (const double offset : { 0.0, static_cast<double>(lastEnd(run.step5)) }) {
        for (std::size_t v = 0; v < dag.nodeCount(); ++v) {
            const Action& action = dag.action(static_cast<PipelineDag::Node>(v));
            const auto it = planned.find(
                { actionName(action), 3 + action.rank, action.stage, offset + timeline.startMs[v] * 1000.0 });
            QVERIFY2(it != planned.end(), actionName(action).c_str());
            QCOMPARE(it->second.at("dur").get<double>(), (timeline.endMs[v] - timeline.startMs[v]) * 1000.0);
            QCOMPARE(it->second.at("args").at("freeze_ratio").get<double>(), plan.actions[v].ratio);
        }
    }
}

void TestChromeTraceExport::planWithoutSpans()
{
    const Profile profile = jitteredProfile(ScheduleKind::GPipe, 2, 2, 1, 1);
    FreezePlan plan { profile, {}, 0.0, 0.0, 0.0, {}, {}, 0.0 };
    for (std::size_t i = 0; i < profile.costs().size(); ++i)
        plan.actions.push_back({ 0.0, static_cast<double>(i), static_cast<double>(i) + 0.5 });
    TraceExportInput input;
    input.plan = &plan;
    const Json trace = exportJson(input);
    // No measured ranks to follow: the planned ones still come after the rank processes.
    QCOMPARE(eventsWith(trace, "X").size(), profile.costs().size());
    for (const Json& event : eventsWith(trace, "X"))
        QVERIFY(event.at("pid") == 2 || event.at("pid") == 3);
}

void TestChromeTraceExport::writesGzipByName()
{
    const TwoSteps run;
    std::ostringstream plain;
    writeChromeTrace(run.input(), plain);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string gz = dir.filePath(QStringLiteral("trace.json.gz")).toStdString();
    const std::string json = dir.filePath(QStringLiteral("trace.json")).toStdString();
    writeChromeTraceFile(run.input(), gz);
    writeChromeTraceFile(run.input(), json);
    const auto readAll = [](const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string compressed = readAll(gz);
    QVERIFY(hasGzipMagic(compressed));
    QVERIFY(compressed.size() < plain.str().size() / 4);
    QCOMPARE(gunzip(compressed, gz, std::size_t { 1 } << 30U), plain.str());
    QCOMPARE(readAll(json), plain.str());
}

void TestChromeTraceExport::badSpan_data()
{
    QTest::addColumn<int>("rank");
    QTest::addColumn<qint64>("startUs");
    QTest::addColumn<qint64>("endUs");
    QTest::addColumn<int>("frozen");
    QTest::addColumn<QString>("message");
    QTest::newRow("end before start") << 0 << qint64 { 10 } << qint64 { 5 } << 0 << QStringLiteral("start_us ≤ end_us");
    QTest::newRow("negative start") << 0 << qint64 { -1 } << qint64 { 5 } << 0 << QStringLiteral("0 ≤ start_us");
    QTest::newRow("negative rank") << -1 << qint64 { 0 } << qint64 { 5 } << 0 << QStringLiteral("rank -1");
    QTest::newRow("frozen above total") << 0 << qint64 { 0 } << qint64 { 5 } << 5 << QStringLiteral("5 of 4");
}

void TestChromeTraceExport::badSpan()
{
    QFETCH(int, rank);
    QFETCH(qint64, startUs);
    QFETCH(qint64, endUs);
    QFETCH(int, frozen);
    QFETCH(QString, message);
    TraceExportInput input;
    input.spans.resize(2);
    input.spans[0].endUs = 3;
    ActionSpan& bad = input.spans[1];
    bad.rank = rank;
    bad.startUs = startUs;
    bad.endUs = endUs;
    bad.frozenTensors = frozen;
    bad.totalTensors = 4;
    std::ostringstream out;
    const auto error = inputErrorOf([&] { writeChromeTrace(input, out); });
    QVERIFY(error.has_value());
    QCOMPARE(error->field(), std::string("spans[1]"));
    QVERIFY2(QString::fromStdString(error->reason()).contains(message), error->what());
}

void TestChromeTraceExport::unwritableFile()
{
    const std::string path = "/nonexistent-dir/trace.json";
    const auto error = inputErrorOf([&] { writeChromeTraceFile({}, path); });
    QVERIFY(error.has_value());
    QCOMPARE(error->source(), path);
    QVERIFY2(error->reason().rfind("cannot write file: ", 0) == 0, error->what());
}

void TestChromeTraceExport::planOfTheRunsPipelineFits()
{
    const TwoSteps run;
    const std::vector<ActionSpan> spans = run.input().spans;
    QCOMPARE(planPipelineMismatch(planOf(run.profile), spans), std::optional<std::string>());
    QCOMPARE(
        planPipelineMismatch(planOf(run.profile), spans, run.profile.schedule().shape()), std::optional<std::string>());
    // A plan of an imported profile says Custom: its actions, not its kind, must fit.
    QCOMPARE(planPipelineMismatch(planOf(asCustom(run.profile)), spans, run.profile.schedule().shape()),
        std::optional<std::string>());
    // Without spans nothing is drawn beside the plan.
    const Profile other = jitteredProfile(ScheduleKind::GPipe, 2, 2, 1, 1);
    QCOMPARE(planPipelineMismatch(planOf(other), {}), std::optional<std::string>());
}

void TestChromeTraceExport::planOfAnotherPipelineIsNamed_data()
{
    QTest::addColumn<int>("runKind");
    QTest::addColumn<int>("runRanks");
    QTest::addColumn<int>("runMicrobatches");
    QTest::addColumn<int>("runStagesPerRank");
    QTest::addColumn<int>("planKind");
    QTest::addColumn<int>("planRanks");
    QTest::addColumn<int>("planMicrobatches");
    QTest::addColumn<int>("planStagesPerRank");
    QTest::addColumn<QString>("mismatch");
    const auto row = [](const char* name, ScheduleShape run, ScheduleShape plan, const char* mismatch) {
        QTest::newRow(name) << static_cast<int>(run.kind) << run.ranks << run.microbatches << run.stagesPerRank
                            << static_cast<int>(plan.kind) << plan.ranks << plan.microbatches << plan.stagesPerRank
                            << QString::fromUtf8(mismatch);
    };
    const ScheduleKind oneFOneB = ScheduleKind::OneFOneB;
    row("microbatches (QA's run 2 x 8, plan 2 x 2)", { oneFOneB, 2, 8, 1 }, { oneFOneB, 2, 2, 1 },
        "the run's steps have 2 ranks, 8 microbatches and 2 stages, the plan's 1F1B schedule 2 ranks, 2 microbatches "
        "and 2 stages");
    row("ranks", { oneFOneB, 4, 8, 1 }, { oneFOneB, 2, 8, 1 },
        "the run's steps have 4 ranks, 8 microbatches and 4 stages, the plan's 1F1B schedule 2 ranks, 8 microbatches "
        "and 2 stages");
    row("stages per rank", { ScheduleKind::Interleaved1F1B, 2, 4, 2 }, { oneFOneB, 2, 4, 1 },
        "the run's steps have 2 ranks, 4 microbatches and 4 stages, the plan's 1F1B schedule 2 ranks, 4 microbatches "
        "and 2 stages");
    // The same counts, but a split backward (I and W) where the run ran a full one (B).
    row("actions", { oneFOneB, 2, 4, 1 }, { ScheduleKind::ZBH1, 2, 4, 1 },
        "the run ran 0B0 on rank 0, which the plan does not have");
}

void TestChromeTraceExport::planOfAnotherPipelineIsNamed()
{
    QFETCH(int, runKind);
    QFETCH(int, runRanks);
    QFETCH(int, runMicrobatches);
    QFETCH(int, runStagesPerRank);
    QFETCH(int, planKind);
    QFETCH(int, planRanks);
    QFETCH(int, planMicrobatches);
    QFETCH(int, planStagesPerRank);
    QFETCH(QString, mismatch);
    const Profile run
        = jitteredProfile(static_cast<ScheduleKind>(runKind), runRanks, runMicrobatches, runStagesPerRank, 3);
    const Profile plan
        = jitteredProfile(static_cast<ScheduleKind>(planKind), planRanks, planMicrobatches, planStagesPerRank, 5);
    const std::optional<std::string> found = planPipelineMismatch(planOf(plan), simulatedStep(run, 0, 0.0));
    QVERIFY(found.has_value());
    QCOMPARE(QString::fromStdString(*found), mismatch);
}

// 1F1B and GPipe run the same actions in other orders: only the run's config tells them apart.
// And a step the run recorded only in part lacks actions the plan has.
void TestChromeTraceExport::scheduleKindComesFromTheRunsConfig()
{
    const Profile gpipe = jitteredProfile(ScheduleKind::GPipe, 2, 4, 1, 3);
    const Profile oneFOneB = jitteredProfile(ScheduleKind::OneFOneB, 2, 4, 1, 3);
    std::vector<ActionSpan> spans = simulatedStep(gpipe, 0, 0.0);
    QCOMPARE(planPipelineMismatch(planOf(oneFOneB), spans), std::optional<std::string>());
    QCOMPARE(planPipelineMismatch(planOf(oneFOneB), spans, gpipe.schedule().shape()),
        std::optional<std::string>("the run's schedule is GPipe, the plan's 1F1B"));
    QCOMPARE(planPipelineMismatch(planOf(oneFOneB), spans, ScheduleShape { ScheduleKind::OneFOneB, 2, 8, 1 }),
        std::optional<std::string>("the run's schedule has 2 ranks, 8 microbatches and 2 stages, the plan's 1F1B "
                                   "schedule 2 ranks, 4 microbatches and 2 stages"));

    spans.erase(std::remove_if(spans.begin(), spans.end(),
                    [](const ActionSpan& span) {
                        return span.rank == 1 && span.microbatch == 3 && span.kind == ActionKind::Backward;
                    }),
        spans.end());
    QCOMPARE(planPipelineMismatch(planOf(gpipe), spans),
        std::optional<std::string>("the plan has 1B3 on rank 1, which the run's exported steps never ran"));
}

QTEST_GUILESS_MAIN(TestChromeTraceExport)
#include "tst_chrometraceexport.moc"
