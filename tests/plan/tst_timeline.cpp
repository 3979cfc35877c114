#include "core/plan/pipeline_dag.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/span_profile_estimate.h"
#include "core/plan/timeline.h"

#include "plan_test_support.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

using namespace tfreeze;
using namespace tfreeze::test;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(tfreeze::ScheduleKind)

namespace {

std::vector<double> randomDurations(const PipelineDag& dag, unsigned seed)
{
    std::mt19937 engine(seed);
    std::uniform_real_distribution<double> cost(0.1, 5.0);
    std::uniform_int_distribution<int> coin(0, 9);
    std::vector<double> durations(dag.nodeCount());
    // Some zero-cost actions: they create ties between equally long paths.
    for (double& d : durations)
        d = coin(engine) == 0 ? 0.0 : cost(engine);
    return durations;
}

// The critical path's defining properties, checked against the DAG, the durations and the
// transfer time between ranks.
void checkCriticalPath(
    const PipelineDag& dag, const std::vector<double>& durations, const Timeline& t, double transferMs = 0.0)
{
    const auto& path = t.criticalPath;
    QVERIFY(!path.empty());
    QCOMPARE(t.startMs[path.front()], 0.0);
    VERIFY_NEAR(u"last end"_s, t.endMs[path.back()], t.batchMs);
    double sum = 0.0;
    for (std::size_t i = 0; i < path.size(); ++i) {
        sum += durations[path[i]];
        if (i == 0)
            continue;
        const auto& preds = dag.predecessors(path[i]);
        QVERIFY2(std::find(preds.begin(), preds.end(), path[i - 1]) != preds.end(),
            qPrintable(nameOf(dag.action(path[i - 1])) + u" -> "_s + nameOf(dag.action(path[i])) + u" is no edge"_s));
        const double delay = dag.action(path[i - 1]).rank != dag.action(path[i]).rank ? transferMs : 0.0;
        sum += delay;
        VERIFY_NEAR(u"start of "_s + nameOf(dag.action(path[i])), t.startMs[path[i]], t.endMs[path[i - 1]] + delay);
    }
    VERIFY_NEAR(u"path length"_s, sum, t.batchMs);
}

// The schedule of the current row of matchesLongestPath_data() and the tests sharing its data.
PipelineSchedule scheduleFromTestData()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    return PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, stagesPerRank });
}

} // namespace

class TestTimeline : public QObject {
    Q_OBJECT

private slots:
    void handComputed_data();
    void handComputed();
    void matchesLongestPath_data();
    void matchesLongestPath();
    void sharedProcessors_data() { matchesLongestPath_data(); }
    void sharedProcessors();
    void uniformPipeline_data();
    void uniformPipeline();
    void rejectsBadDurations();
    void transferBetweenRanks_data() { matchesLongestPath_data(); }
    void transferBetweenRanks();
    void transferUniformPipeline();
};

void TestTimeline::handComputed_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<QString>("durations");
    QTest::addColumn<QString>("spans"); // name=start:end
    QTest::addColumn<double>("batchMs");
    QTest::addColumn<QString>("busy"); // per rank
    QTest::addColumn<QString>("criticalPath");

    // rank 0 = 0F0 0F1 0B0 0B1, rank 1 = 1F0 1B0 1F1 1B1. 0B0 waits for 1B0 (ends 6) although
    // rank 0 is free from 2.5; 1F1 waits for 1B0 although its input arrived at 2.5.
    QTest::newRow("1F1B P=2 M=2") << ScheduleKind::OneFOneB << u"0F0=1 0F1=1.5 0B0=2 0B1=2.5 1F0=2 1B0=3 1F1=1 1B1=4"_s
                                  << u"0F0=0:1 0F1=1:2.5 0B0=6:8 0B1=11:13.5 1F0=1:3 1B0=3:6 1F1=6:7 1B1=7:11"_s << 13.5
                                  << u"7 10"_s << u"0F0 1F0 1B0 1F1 1B1 0B1"_s;
    // rank 0 = 0F0 0F1 0I0 0W0 0I1 0W1, rank 1 = 1F0 1I0 1F1 1I1 1W0 1W1 with t_F = t_I = 1,
    // t_W = 0.5: ZB-H1's bubble (P−1)(t_F + t_I − t_W) = 1.5 on each rank.
    QTest::newRow("ZBH1 P=2 M=2")
        << ScheduleKind::ZBH1 << u"0F0=1 0F1=1 0I0=1 0W0=0.5 0I1=1 0W1=0.5 1F0=1 1I0=1 1F1=1 1I1=1 1W0=0.5 1W1=0.5"_s
        << u"0F0=0:1 0F1=1:2 0I0=3:4 0W0=4:4.5 0I1=5:6 0W1=6:6.5 1F0=1:2 1I0=2:3 1F1=3:4 1I1=4:5 1W0=5:5.5 1W1=5.5:6"_s
        << 6.5 << u"5 5"_s << u"0F0 1F0 1I0 1F1 1I1 0I1 0W1"_s;
}

void TestTimeline::handComputed()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(QString, durations);
    QFETCH(QString, spans);
    QFETCH(double, batchMs);
    QFETCH(QString, busy);
    QFETCH(QString, criticalPath);
    const PipelineDag dag(PipelineSchedule::generate(ScheduleShape { kind, 2, 2 }));
    const auto named = parseNamed(durations);
    std::vector<double> d;
    for (const Action& action : dag.actions())
        d.push_back(named.at(nameOf(action)));
    const Timeline t = simulateTimeline(dag, d);

    QCOMPARE(t.startMs.size(), dag.nodeCount());
    QCOMPARE(t.endMs.size(), dag.nodeCount());
    for (const QString& item : spans.split(u' ')) {
        const QStringList parts = item.split(u'=');
        const QStringList span = parts[1].split(u':');
        const auto it = std::find_if(
            dag.actions().begin(), dag.actions().end(), [&](const Action& a) { return nameOf(a) == parts[0]; });
        QVERIFY(it != dag.actions().end());
        const auto v = static_cast<std::size_t>(it - dag.actions().begin());
        VERIFY_NEAR(u"start of "_s + parts[0], t.startMs[v], span[0].toDouble());
        VERIFY_NEAR(u"end of "_s + parts[0], t.endMs[v], span[1].toDouble());
    }
    VERIFY_NEAR(u"batch"_s, t.batchMs, batchMs);

    const QStringList busyText = busy.split(u' ');
    QCOMPARE(t.rankBusyMs.size(), std::size_t(2));
    double idleSum = 0.0;
    for (std::size_t r = 0; r < 2; ++r) {
        const double wantBusy = busyText[static_cast<int>(r)].toDouble();
        VERIFY_NEAR(u"busy"_s, t.rankBusyMs[r], wantBusy);
        VERIFY_NEAR(u"idle"_s, t.rankIdleMs[r], batchMs - wantBusy);
        VERIFY_NEAR(u"rank bubble"_s, t.rankBubbleFraction[r], (batchMs - wantBusy) / batchMs);
        idleSum += batchMs - wantBusy;
    }
    VERIFY_NEAR(u"bubble"_s, t.bubbleFraction, idleSum / (2 * batchMs));

    QStringList path;
    for (PipelineDag::Node v : t.criticalPath)
        path << nameOf(dag.action(v));
    QCOMPARE(path.join(u' '), criticalPath);
    checkCriticalPath(dag, d, t);
}

void TestTimeline::matchesLongestPath_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<unsigned>("seed");
    QTest::newRow("GPipe P=3 M=5") << ScheduleKind::GPipe << 3 << 5 << 1 << 1u;
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 1 << 2u;
    QTest::newRow("1F1B P=6 M=2") << ScheduleKind::OneFOneB << 6 << 2 << 1 << 3u;
    QTest::newRow("1F1B P=1 M=4") << ScheduleKind::OneFOneB << 1 << 4 << 1 << 4u;
    QTest::newRow("Interleaved P=2 M=4 V=2") << ScheduleKind::Interleaved1F1B << 2 << 4 << 2 << 5u;
    QTest::newRow("Interleaved P=3 M=6 V=3") << ScheduleKind::Interleaved1F1B << 3 << 6 << 3 << 6u;
    QTest::newRow("ZBH1 P=4 M=6") << ScheduleKind::ZBH1 << 4 << 6 << 1 << 7u;
    QTest::newRow("ZBV P=3 M=6") << ScheduleKind::ZBV << 3 << 6 << 2 << 8u;
    QTest::newRow("ZBV P=4 M=8") << ScheduleKind::ZBV << 4 << 8 << 2 << 9u;
}

void TestTimeline::matchesLongestPath()
{
    QFETCH(unsigned, seed);
    const PipelineSchedule schedule = scheduleFromTestData();
    const int ranks = schedule.rankCount();
    const PipelineDag dag(schedule);
    for (unsigned draw = 0; draw < 5; ++draw) {
        const std::vector<double> d = randomDurations(dag, seed * 100 + draw);
        const Timeline t = simulateTimeline(dag, d);
        const std::vector<double> ends = longestPathEnds(ruleDependencies(schedule), d);
        double batch = 0.0;
        for (std::size_t v = 0; v < d.size(); ++v) {
            VERIFY_NEAR(u"end of "_s + nameOf(dag.action(static_cast<PipelineDag::Node>(v))), t.endMs[v], ends[v]);
            VERIFY_NEAR(u"start"_s, t.startMs[v], ends[v] - d[v]);
            batch = std::max(batch, ends[v]);
        }
        VERIFY_NEAR(u"batch"_s, t.batchMs, batch);
        double idleSum = 0.0;
        for (int r = 0; r < ranks; ++r) {
            double busy = 0.0;
            for (std::size_t v = 0; v < d.size(); ++v)
                busy += dag.action(static_cast<PipelineDag::Node>(v)).rank == r ? d[v] : 0.0;
            const auto i = static_cast<std::size_t>(r);
            VERIFY_NEAR(u"busy"_s, t.rankBusyMs[i], busy);
            VERIFY_NEAR(u"idle"_s, t.rankIdleMs[i], batch - busy);
            VERIFY_NEAR(u"rank bubble"_s, t.rankBubbleFraction[i], (batch - busy) / batch);
            idleSum += batch - busy;
        }
        VERIFY_NEAR(u"bubble"_s, t.bubbleFraction, idleSum / (ranks * batch));
        checkCriticalPath(dag, d, t);
        if (QTest::currentTestFailed())
            return;
    }
}

// Processor sharing, against what must hold whatever the schedule: with a processor per rank it
// is the earliest-start timeline; with one processor nothing overlaps in effect and the batch is
// the total work; in between the batch lies within Graham's bounds for a work-conserving
// schedule, max(W/C, longest path) ≤ T ≤ W/C + longest path; and spanWorkMs() of the simulated
// spans gives back every action's work.
void TestTimeline::sharedProcessors()
{
    QFETCH(unsigned, seed);
    const PipelineSchedule schedule = scheduleFromTestData();
    const int ranks = schedule.rankCount();
    const PipelineDag dag(schedule);
    for (unsigned draw = 0; draw < 3; ++draw) {
        const std::vector<double> d = randomDurations(dag, seed * 100 + draw);
        double work = 0.0;
        for (double duration : d)
            work += duration;
        const Timeline own = simulateTimeline(dag, d);
        const Timeline unshared = simulateTimeline(dag, d, ranks);
        QCOMPARE(unshared.endMs, own.endMs);
        QCOMPARE(simulateTimeline(dag, d, 0).endMs, own.endMs);

        const Timeline single = simulateTimeline(dag, d, 1);
        VERIFY_NEAR(u"batch on one processor"_s, single.batchMs, work);

        for (int processors = 1; processors < ranks; ++processors) {
            const Timeline t = simulateTimeline(dag, d, processors);
            const double lower = std::max(work / processors, own.batchMs);
            QVERIFY2(t.batchMs >= lower - 1e-9 * lower, gotWant(u"batch ≥ bound"_s, t.batchMs, lower));
            QVERIFY2(t.batchMs <= work / processors + own.batchMs + 1e-9 * work,
                gotWant(u"batch ≤ bound"_s, t.batchMs, work / processors + own.batchMs));
            std::vector<ActionSpan> spans;
            for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
                const Action& action = dag.action(v);
                QVERIFY(t.endMs[v] - t.startMs[v] >= d[v] - 1e-9 * work); // never faster than alone
                for (PipelineDag::Node pred : dag.predecessors(v))
                    QVERIFY2(t.startMs[v] >= t.endMs[pred] - 1e-9 * work,
                        qPrintable(nameOf(action) + u" starts before "_s + nameOf(dag.action(pred)) + u" ends"_s));
                ActionSpan span;
                span.rank = action.rank;
                span.stage = action.stage;
                span.microbatch = action.microbatch;
                span.kind = action.kind;
                span.startUs = std::llround(t.startMs[v] * 1e6); // ns as µs: rounding far below the check
                span.endUs = std::llround(t.endMs[v] * 1e6);
                spans.push_back(span);
            }
            const std::vector<double> back = spanWorkMs(spans, processors);
            for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v)
                VERIFY_NEAR_TOL(u"work of "_s + nameOf(dag.action(v)), back[v] / 1000.0, d[v], 1e-4);
            if (QTest::currentTestFailed())
                return;
        }
    }
}

// With a transfer time c on every edge between ranks: the earliest-start timeline against the
// rule-built longest path with c on those edges; the critical path pays c at each change of rank;
// processor sharing never starts an action before its inputs are there, and with a processor per
// rank it is the same timeline.
void TestTimeline::transferBetweenRanks()
{
    QFETCH(unsigned, seed);
    const PipelineSchedule schedule = scheduleFromTestData();
    const int ranks = schedule.rankCount();
    const PipelineDag dag(schedule);
    std::vector<int> rankOf;
    for (const Action& action : dag.actions())
        rankOf.push_back(action.rank);
    for (const double transferMs : { 0.3, 2.5 }) {
        const std::vector<double> d = randomDurations(dag, seed * 100 + 7);
        const Timeline t = simulateTimeline(dag, d, 0, transferMs);
        const std::vector<double> ends = longestPathEnds(ruleDependencies(schedule), d, rankOf, transferMs);
        double batch = 0.0;
        for (std::size_t v = 0; v < d.size(); ++v) {
            VERIFY_NEAR(u"end of "_s + nameOf(dag.action(static_cast<PipelineDag::Node>(v))), t.endMs[v], ends[v]);
            batch = std::max(batch, ends[v]);
        }
        VERIFY_NEAR(u"batch"_s, t.batchMs, batch);
        QVERIFY(ranks == 1 || t.batchMs > simulateTimeline(dag, d).batchMs);
        checkCriticalPath(dag, d, t, transferMs);
        QCOMPARE(simulateTimeline(dag, d, ranks, transferMs).endMs, t.endMs);
        for (int processors = 1; processors < ranks; ++processors) {
            const Timeline shared = simulateTimeline(dag, d, processors, transferMs);
            QVERIFY2(shared.batchMs >= t.batchMs * (1 - 1e-9), gotWant(u"shared ≥ own"_s, shared.batchMs, t.batchMs));
            for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
                QVERIFY(shared.endMs[v] - shared.startMs[v] >= d[v] * (1 - 1e-9) - 1e-12);
                for (PipelineDag::Node pred : dag.predecessors(v)) {
                    const double ready = shared.endMs[pred] + (rankOf[pred] != rankOf[v] ? transferMs : 0.0);
                    QVERIFY2(shared.startMs[v] >= ready - 1e-9 * std::max(1.0, ready),
                        qPrintable(nameOf(dag.action(v)) + u" starts before its input from "_s
                            + nameOf(dag.action(pred)) + u" is there"_s));
                }
            }
        }
        if (QTest::currentTestFailed())
            return;
    }
}

// Closed forms with a transfer time c: GPipe (M+P−1)(t_F+t_B) + 2(P−1)c, since the forward wave
// and the backward wave each cross P−1 ranks; one microbatch of 1F1B P(t_F+t_B) + 2(P−1)c, on one
// shared processor too (nothing overlaps).
void TestTimeline::transferUniformPipeline()
{
    const double forwardMs = 1.0;
    const double backwardMs = 2.0;
    const double c = 0.25;
    auto uniform = [&](const PipelineDag& dag) {
        std::vector<double> d;
        for (const Action& action : dag.actions())
            d.push_back(action.kind == ActionKind::Forward ? forwardMs : backwardMs);
        return d;
    };
    for (const auto& [ranks, microbatches] : { std::pair { 4, 8 }, std::pair { 3, 5 }, std::pair { 2, 1 } }) {
        const PipelineDag dag(PipelineSchedule::generate(ScheduleShape { ScheduleKind::GPipe, ranks, microbatches }));
        VERIFY_NEAR(u"GPipe P=%1 M=%2"_s.arg(ranks).arg(microbatches),
            simulateTimeline(dag, uniform(dag), 0, c).batchMs,
            (microbatches + ranks - 1) * (forwardMs + backwardMs) + 2 * (ranks - 1) * c);
    }
    for (int ranks = 1; ranks <= 5; ++ranks) {
        const PipelineDag dag(PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, ranks, 1 }));
        const double expected = ranks * (forwardMs + backwardMs) + 2 * (ranks - 1) * c;
        VERIFY_NEAR(u"1F1B P=%1 M=1"_s.arg(ranks), simulateTimeline(dag, uniform(dag), 0, c).batchMs, expected);
        VERIFY_NEAR(
            u"1F1B P=%1 M=1, one processor"_s.arg(ranks), simulateTimeline(dag, uniform(dag), 1, c).batchMs, expected);
    }
    QVERIFY_THROWS_EXCEPTION(
        InputError, simulateTimeline(PipelineDag(PipelineSchedule::generate(ScheduleShape {})), { 1.0, 2.0 }, 0, -1.0));
}

void TestTimeline::uniformPipeline_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<double>("forwardMs");
    QTest::addColumn<double>("backwardMs");
    QTest::newRow("GPipe P=4 M=8") << ScheduleKind::GPipe << 4 << 8 << 1.0 << 2.0;
    QTest::newRow("GPipe P=2 M=1") << ScheduleKind::GPipe << 2 << 1 << 0.5 << 1.25;
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 1.0 << 2.0;
    QTest::newRow("1F1B P=5 M=3 fewer microbatches than ranks") << ScheduleKind::OneFOneB << 5 << 3 << 1.0 << 3.0;
    QTest::newRow("1F1B P=3 M=10 t_B = t_F") << ScheduleKind::OneFOneB << 3 << 10 << 2.0 << 2.0;
    QTest::newRow("1F1B P=1 M=4 no bubble") << ScheduleKind::OneFOneB << 1 << 4 << 1.0 << 2.0;
}

// With every F costing t_F and every B t_B: batch (M+P−1)(t_F+t_B), each rank idle (P−1)(t_F+t_B),
// idle fraction (P−1)/(M+P−1) (METHOD.md §8).
void TestTimeline::uniformPipeline()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(double, forwardMs);
    QFETCH(double, backwardMs);
    const PipelineDag dag(PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches }));
    std::vector<double> d;
    for (const Action& action : dag.actions())
        d.push_back(action.kind == ActionKind::Forward ? forwardMs : backwardMs);
    const Timeline t = simulateTimeline(dag, d);
    const double sum = forwardMs + backwardMs;
    VERIFY_NEAR(u"batch"_s, t.batchMs, (microbatches + ranks - 1) * sum);
    const double fraction = double(ranks - 1) / (microbatches + ranks - 1);
    VERIFY_NEAR(u"bubble"_s, t.bubbleFraction, fraction);
    for (std::size_t r = 0; r < static_cast<std::size_t>(ranks); ++r) {
        VERIFY_NEAR(u"busy"_s, t.rankBusyMs[r], microbatches * sum);
        VERIFY_NEAR(u"idle"_s, t.rankIdleMs[r], (ranks - 1) * sum);
        VERIFY_NEAR(u"rank bubble"_s, t.rankBubbleFraction[r], fraction);
    }
    checkCriticalPath(dag, d, t);
}

void TestTimeline::rejectsBadDurations()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 2, 2 });
    const PipelineDag dag(schedule);
    std::vector<double> d(dag.nodeCount(), 1.0);
    QVERIFY_THROWS_EXCEPTION(PlannerError, simulateTimeline(dag, std::vector<double>(3, 1.0)));
    for (double bad : { -1.0, std::nan(""), std::numeric_limits<double>::infinity() }) {
        d[5] = bad;
        try {
            simulateTimeline(dag, d);
            QFAIL("no InputError for a bad duration");
        } catch (const InputError& error) {
            QCOMPARE(error.field(), std::string("actions[5]"));
        }
    }
    d[5] = 0.0; // zero is a valid duration
    const std::vector<double> ends = longestPathEnds(ruleDependencies(schedule), d);
    VERIFY_NEAR(u"batch"_s, simulateTimeline(dag, d).batchMs, *std::max_element(ends.begin(), ends.end()));
}

QTEST_APPLESS_MAIN(TestTimeline)

#include "tst_timeline.moc"
