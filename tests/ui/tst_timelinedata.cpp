#include "ui/timeline_data.h"

#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/timeline.h"

#include <QtTest>

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace tfreeze;

namespace {

PipelineSchedule schedule(ScheduleKind kind, int ranks, int microbatches, int stagesPerRank = 1)
{
    ScheduleShape shape;
    shape.kind = kind;
    shape.ranks = ranks;
    shape.microbatches = microbatches;
    shape.stagesPerRank = stagesPerRank;
    return PipelineSchedule::generate(shape);
}

// F 1 ms, B 2 ms (1 ms frozen).
Profile oneFOneB22() { return makeSyntheticProfile(schedule(ScheduleKind::OneFOneB, 2, 2), SyntheticCosts {}); }

QString nameOf(const TimelineBar& bar)
{
    return QString::fromStdString(actionName(Action { bar.rank, bar.stage, bar.microbatch, bar.kind }));
}

// By hand for 1F1B P=2 M=2, F = 1, B = 2: rank 0 runs F0 F1 B0 B1, rank 1 F0 B0 F1 B1.
const std::map<QString, std::pair<double, double>> kHandTimes {
    { QStringLiteral("0F0"), { 0, 1 } },
    { QStringLiteral("0F1"), { 1, 2 } },
    { QStringLiteral("1F0"), { 1, 2 } },
    { QStringLiteral("1B0"), { 2, 4 } },
    { QStringLiteral("1F1"), { 4, 5 } }, // after 1B0 on its device
    { QStringLiteral("1B1"), { 5, 7 } },
    { QStringLiteral("0B0"), { 4, 6 } },
    { QStringLiteral("0B1"), { 7, 9 } },
};
const std::set<QString> kHandCriticalPath { QStringLiteral("0F0"), QStringLiteral("1F0"), QStringLiteral("1B0"),
    QStringLiteral("1F1"), QStringLiteral("1B1"), QStringLiteral("0B1") };

void checkHandTimeline(const TimelineData& data, bool withSchedule)
{
    QCOMPARE(data.rankCount, 2);
    QCOMPARE(data.stageCount, 2);
    QCOMPARE(data.batchMs, 9.0);
    QCOMPARE(data.bars.size(), std::size_t { 8 });
    for (const TimelineBar& bar : data.bars) {
        const auto it = kHandTimes.find(nameOf(bar));
        QVERIFY2(it != kHandTimes.end(), qPrintable(nameOf(bar)));
        QCOMPARE(bar.startMs, it->second.first);
        QCOMPARE(bar.endMs, it->second.second);
        QCOMPARE(bar.onCriticalPath, withSchedule && kHandCriticalPath.count(nameOf(bar)) == 1);
    }
    // Idle: rank 0 waits [2, 4) and [6, 7); rank 1 [0, 1) and its tail [7, 9).
    using Gaps = std::vector<std::pair<double, double>>;
    QCOMPARE(data.rankIdle.size(), std::size_t { 2 });
    QCOMPARE(data.rankIdle[0], (Gaps { { 2, 4 }, { 6, 7 } }));
    QCOMPARE(data.rankIdle[1], (Gaps { { 0, 1 }, { 7, 9 } }));
    // Cross-stage edges: F(0,m) → F(1,m) and B(1,m) → B(0,m).
    std::set<QString> edges;
    for (const auto& [from, to] : data.dependencies)
        edges.insert(nameOf(data.bars[from]) + QStringLiteral("->") + nameOf(data.bars[to]));
    const std::set<QString> want = withSchedule ? std::set<QString> { QStringLiteral("0F0->1F0"),
        QStringLiteral("0F1->1F1"), QStringLiteral("1B0->0B0"), QStringLiteral("1B1->0B1") }
                                                : std::set<QString> {};
    QCOMPARE(edges, want);
}

// Row index invariants: rows partition the bars, each sorted by start.
void checkRowIndex(const TimelineData& data)
{
    const int rows = timelineRowCount(data);
    QCOMPARE(data.rowOffsets.size(), static_cast<std::size_t>(rows) + 1);
    QCOMPARE(data.rowOffsets.back(), data.bars.size());
    for (int row = 0; row < rows; ++row) {
        const auto [first, last] = timelineRowBars(data, row);
        for (std::size_t i = first; i < last; ++i) {
            QCOMPARE(timelineRowOf(data, data.bars[i]), row);
            if (i > first)
                QVERIFY(data.bars[i - 1].startMs <= data.bars[i].startMs);
        }
    }
}

} // namespace

class TestTimelineData : public QObject {
    Q_OBJECT

private slots:
    void fromProfile();
    void fromSpans();
    void fromSpansWithoutSchedule();
    void criticalPathFollowsLatestPredecessor();
    void fromPlan();
    void zbvRows();
    void visibleBarsMatchLinearScan();
};

void TestTimelineData::fromProfile()
{
    const TimelineData data = timelineFromProfile(oneFOneB22());
    checkHandTimeline(data, true);
    checkRowIndex(data);
    QVERIFY(!data.empty());
}

void TestTimelineData::fromSpans()
{
    std::vector<ActionSpan> spans;
    for (const auto& [name, times] : kHandTimes) {
        ActionSpan span;
        span.step = 120;
        span.stage = name.at(0).digitValue();
        span.rank = span.stage;
        span.kind = parseActionKind(std::string(1, name.at(1).toLatin1()));
        span.microbatch = name.at(2).digitValue();
        span.startUs = static_cast<std::int64_t>(times.first * 1000);
        span.endUs = static_cast<std::int64_t>(times.second * 1000);
        if (isFreezable(span.kind)) {
            span.frozenTensors = 3;
            span.totalTensors = 4;
        }
        spans.push_back(span);
    }
    ActionSpan otherStep = spans.front();
    otherStep.step = 121;
    otherStep.endUs = 50000; // would stretch the batch if it were taken
    spans.push_back(otherStep);
    const PipelineSchedule order = schedule(ScheduleKind::OneFOneB, 2, 2);
    const TimelineData data = timelineFromSpans(spans, &order);
    QVERIFY2(data.label.contains(QStringLiteral("120")), qPrintable(data.label));
    checkHandTimeline(data, true);
    checkRowIndex(data);
    for (const TimelineBar& bar : data.bars) {
        QCOMPARE(bar.freezeRatio, isFreezable(bar.kind) ? 0.75 : 0.0);
        QCOMPARE(bar.frozenTensors, isFreezable(bar.kind) ? 3 : 0);
    }
}

void TestTimelineData::fromSpansWithoutSchedule()
{
    std::vector<ActionSpan> spans;
    for (const auto& [name, times] : kHandTimes) {
        ActionSpan span;
        span.step = 7;
        span.stage = name.at(0).digitValue();
        span.rank = span.stage;
        span.kind = parseActionKind(std::string(1, name.at(1).toLatin1()));
        span.microbatch = name.at(2).digitValue();
        span.startUs = static_cast<std::int64_t>(times.first * 1000);
        span.endUs = static_cast<std::int64_t>(times.second * 1000);
        spans.push_back(span);
    }
    checkHandTimeline(timelineFromSpans(spans), false);
    QVERIFY(timelineFromSpans({}).empty());
}

void TestTimelineData::criticalPathFollowsLatestPredecessor()
{
    // Measured times with communication delays: 1F1 waits for 0F1 (a late send), not for 1B0.
    std::map<QString, std::pair<double, double>> times = kHandTimes;
    times[QStringLiteral("0F1")] = { 1.0, 4.5 };
    times[QStringLiteral("1F1")] = { 4.8, 5.5 };
    times[QStringLiteral("1B1")] = { 5.5, 7.5 };
    times[QStringLiteral("0B0")] = { 4.5, 6.5 };
    times[QStringLiteral("0B1")] = { 7.6, 9.6 };
    std::vector<ActionSpan> spans;
    for (const auto& [name, t] : times) {
        ActionSpan span;
        span.stage = name.at(0).digitValue();
        span.rank = span.stage;
        span.kind = parseActionKind(std::string(1, name.at(1).toLatin1()));
        span.microbatch = name.at(2).digitValue();
        span.startUs = static_cast<std::int64_t>(t.first * 1000);
        span.endUs = static_cast<std::int64_t>(t.second * 1000);
        spans.push_back(span);
    }
    const PipelineSchedule order = schedule(ScheduleKind::OneFOneB, 2, 2);
    const TimelineData data = timelineFromSpans(spans, &order);
    // Back from 0B1 (last end): 1B1 (7.5) beats 0B0 (6.5); then 1F1; then 0F1 (4.5) beats 1B0 (4);
    // then 0F0.
    std::set<QString> critical;
    for (const TimelineBar& bar : data.bars) {
        if (bar.onCriticalPath)
            critical.insert(nameOf(bar));
    }
    QCOMPARE(critical,
        (std::set<QString> { QStringLiteral("0B1"), QStringLiteral("1B1"), QStringLiteral("1F1"), QStringLiteral("0F1"),
            QStringLiteral("0F0") }));
}

void TestTimelineData::fromPlan()
{
    FreezePlan plan { oneFOneB22(), {}, 0, 0, 0, {}, {}, 0 };
    // Half-frozen backwards (1.5 ms instead of 2): a plan's own prediction, simulated independently.
    const PipelineDag dag(plan.profile.schedule());
    std::vector<double> durations;
    for (const Action& action : dag.actions())
        durations.push_back(isFreezable(action.kind) ? 1.5 : 1.0);
    const Timeline predicted = simulateTimeline(dag, durations);
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node)
        plan.actions.push_back(
            { isFreezable(dag.action(node).kind) ? 0.5 : 0.0, predicted.startMs[node], predicted.endMs[node] });
    plan.batchMsPlanned = predicted.batchMs;
    const TimelineData data = timelineFromPlan(plan);
    QCOMPARE(data.batchMs, predicted.batchMs);
    QCOMPARE(data.bars.size(), dag.nodeCount());
    std::set<QString> critical;
    for (PipelineDag::Node node : predicted.criticalPath)
        critical.insert(QString::fromStdString(actionName(dag.action(node))));
    for (const TimelineBar& bar : data.bars) {
        QCOMPARE(bar.freezeRatio, isFreezable(bar.kind) ? 0.5 : 0.0);
        QCOMPARE(bar.onCriticalPath, critical.count(nameOf(bar)) == 1);
    }
    checkRowIndex(data);
    FreezePlan broken = plan;
    broken.actions.pop_back();
    QVERIFY_THROWS_EXCEPTION(InputError, timelineFromPlan(broken));
}

void TestTimelineData::zbvRows()
{
    // ZBV P = 2: rank 0 holds stages 0 and 3, rank 1 stages 1 and 2.
    const TimelineData data
        = timelineFromProfile(makeSyntheticProfile(schedule(ScheduleKind::ZBV, 2, 4, 2), SyntheticCosts {}));
    QCOMPARE(data.stagesPerRank, 2);
    QCOMPARE(timelineRowCount(data), 4);
    QCOMPARE(timelineRowOf(data, 0, 0), 0);
    QCOMPARE(timelineRowOf(data, 0, 3), 1);
    QCOMPARE(timelineRowOf(data, 1, 1), 2);
    QCOMPARE(timelineRowOf(data, 1, 2), 3);
    QCOMPARE(timelineRankOfRow(data, 3), 1);
    checkRowIndex(data);
    const int wantStage[] = { 0, 3, 1, 2 };
    for (int row = 0; row < 4; ++row) {
        const auto [first, last] = timelineRowBars(data, row);
        QCOMPARE(last - first, std::size_t { 4 * 3 }); // F, I, W per microbatch
        for (std::size_t i = first; i < last; ++i)
            QCOMPARE(data.bars[i].stage, wantStage[row]);
    }
}

void TestTimelineData::visibleBarsMatchLinearScan()
{
    SyntheticCosts costs;
    costs.jitter = 0.5;
    costs.seed = 3;
    const TimelineData data
        = timelineFromProfile(makeSyntheticProfile(schedule(ScheduleKind::Interleaved1F1B, 4, 8, 2), costs));
    std::mt19937 engine(11);
    std::uniform_real_distribution<double> at(-1.0, data.batchMs + 1.0);
    for (int trial = 0; trial < 200; ++trial) {
        double a = at(engine);
        double b = at(engine);
        if (b < a)
            std::swap(a, b);
        for (int row = 0; row < timelineRowCount(data); ++row) {
            const auto [first, last] = timelineVisibleBars(data, row, a, b);
            const auto [rowFirst, rowLast] = timelineRowBars(data, row);
            // Everything the window must contain is inside [first, last); nothing outside overlaps.
            for (std::size_t i = rowFirst; i < rowLast; ++i) {
                const bool overlaps = data.bars[i].endMs >= a && data.bars[i].startMs <= b;
                if (overlaps)
                    QVERIFY2(i >= first && i < last, qPrintable(QStringLiteral("row %1 bar %2").arg(row).arg(i)));
            }
            QVERIFY(last - first <= rowLast - rowFirst);
        }
    }
}

QTEST_GUILESS_MAIN(TestTimelineData)
#include "tst_timelinedata.moc"
