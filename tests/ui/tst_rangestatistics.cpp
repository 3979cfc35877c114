#include "ui/range_statistics.h"
#include "ui/range_statistics_model.h"

#include <QAbstractItemModelTester>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

using namespace tfreeze;

namespace {

TimelineBar makeBar(int rank, ActionKind kind, int microbatch, double start, double end)
{
    TimelineBar bar;
    bar.rank = rank;
    bar.stage = rank;
    bar.microbatch = microbatch;
    bar.kind = kind;
    bar.startMs = start;
    bar.endMs = end;
    return bar;
}

// rank 0: F[0,2) F[2,5) B[5,9) B[12,13); rank 1: F[2,4) B[6,12); batch 13 ms.
TimelineData handData()
{
    TimelineData data;
    data.rankCount = 2;
    data.stageCount = 2;
    data.batchMs = 13.0;
    data.bars = {
        makeBar(0, ActionKind::Forward, 0, 0.0, 2.0),
        makeBar(0, ActionKind::Forward, 1, 2.0, 5.0),
        makeBar(0, ActionKind::Backward, 0, 5.0, 9.0),
        makeBar(0, ActionKind::Backward, 1, 12.0, 13.0),
        makeBar(1, ActionKind::Forward, 0, 2.0, 4.0),
        makeBar(1, ActionKind::Backward, 0, 6.0, 12.0),
    };
    data.rankIdle = computeRankIdle(data.bars, data.rankCount, data.batchMs);
    indexTimelineRows(data);
    return data;
}

// Busy time of a rank inside [a, b] as the measure of the union of its clipped bars: the complement
// of what computeRangeStatistics derives from the idle gaps.
double bruteForceIdle(const TimelineData& data, int rank, double a, double b)
{
    std::vector<std::pair<double, double>> clipped;
    for (const TimelineBar& bar : data.bars) {
        if (bar.rank == rank && bar.endMs > a && bar.startMs < b)
            clipped.emplace_back(std::max(a, bar.startMs), std::min(b, bar.endMs));
    }
    std::sort(clipped.begin(), clipped.end());
    double busy = 0.0;
    double cursor = a;
    for (const auto& [start, end] : clipped) {
        if (end > cursor) {
            busy += end - std::max(start, cursor);
            cursor = end;
        }
    }
    return (b - a) - busy;
}

} // namespace

class TestRangeStatistics : public QObject {
    Q_OBJECT

private slots:
    void percentile_data();
    void percentile();
    void handComputed();
    void wholeDurationsOfCutBars();
    void matchesBruteForce_data();
    void matchesBruteForce();
    void model();
};

void TestRangeStatistics::percentile_data()
{
    QTest::addColumn<QList<double>>("values");
    QTest::addColumn<double>("p");
    QTest::addColumn<double>("want");

    QTest::newRow("single") << QList<double> { 5.0 } << 0.95 << 5.0;
    QTest::newRow("median of four") << QList<double> { 1, 2, 3, 4 } << 0.5 << 2.5;
    QTest::newRow("p95 of four") << QList<double> { 1, 2, 3, 4 } << 0.95 << 3.85; // rank 2.85
    QTest::newRow("p95 of 1..20") << QList<double> { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
        20 } << 0.95 << 19.05; // rank 18.05
    QTest::newRow("median of three") << QList<double> { 1, 7, 9 } << 0.5 << 7.0;
}

void TestRangeStatistics::percentile()
{
    QFETCH(QList<double>, values);
    QFETCH(double, p);
    QFETCH(double, want);
    const std::vector<double> sorted(values.begin(), values.end());
    QVERIFY(std::abs(interpolatedPercentile(sorted, p) - want) < 1e-12);
}

void TestRangeStatistics::handComputed()
{
    const RangeStatistics stats = computeRangeStatistics(handData(), 3.0, 10.0);
    // Overlapping [3, 10]: 0F1 (3 ms), 0B0 (4 ms), 1F0 (2 ms), 1B0 (6 ms).
    QCOMPARE(stats.groups.size(), std::size_t { 4 });
    const struct {
        int stage;
        ActionKind kind;
        double ms;
    } want[] = { { 0, ActionKind::Forward, 3.0 }, { 0, ActionKind::Backward, 4.0 }, { 1, ActionKind::Forward, 2.0 },
        { 1, ActionKind::Backward, 6.0 } };
    for (std::size_t i = 0; i < 4; ++i) {
        const auto& group = stats.groups[i];
        QCOMPARE(group.stage, want[i].stage);
        QCOMPARE(group.kind, want[i].kind);
        QCOMPARE(group.count, 1);
        QCOMPARE(group.totalMs, want[i].ms);
        QCOMPARE(group.p50Ms, want[i].ms);
        QCOMPARE(group.p95Ms, want[i].ms);
    }
    // rank 0 idle [9, 12) → 1 ms inside; rank 1 idle [4, 6) → 2 ms inside.
    QCOMPARE(stats.rankIdleMs, (std::vector<double> { 1.0, 2.0 }));

    const RangeStatistics whole = computeRangeStatistics(handData(), 0.0, 13.0);
    QCOMPARE(whole.groups[0].count, 2); // stage 0 F: 2 and 3 ms
    QCOMPARE(whole.groups[0].totalMs, 5.0);
    QCOMPARE(whole.groups[0].meanMs, 2.5);
    QCOMPARE(whole.groups[0].p95Ms, 2.95);
    QCOMPARE(whole.rankIdleMs, (std::vector<double> { 3.0, 5.0 }));
}

void TestRangeStatistics::wholeDurationsOfCutBars()
{
    // [7, 8] cuts 0B0 [5, 9) and 1B0 [6, 12): their whole 4 and 6 ms count, not the 1 ms inside.
    const RangeStatistics stats = computeRangeStatistics(handData(), 8.0, 7.0); // reversed on purpose
    QCOMPARE(stats.startMs, 7.0);
    QCOMPARE(stats.groups.size(), std::size_t { 2 });
    QCOMPARE(stats.groups[0].totalMs, 4.0);
    QCOMPARE(stats.groups[1].totalMs, 6.0);
    QCOMPARE(stats.rankIdleMs, (std::vector<double> { 0.0, 0.0 }));
    // A range touching a bar's end only does not take it in.
    const RangeStatistics touching = computeRangeStatistics(handData(), 9.0, 9.5);
    QCOMPARE(touching.groups.size(), std::size_t { 1 }); // 1B0 only
    QCOMPARE(touching.groups[0].stage, 1);
}

void TestRangeStatistics::matchesBruteForce_data()
{
    QTest::addColumn<unsigned>("seed");
    QTest::addColumn<double>("a");
    QTest::addColumn<double>("b");
    QTest::newRow("seed 1, middle") << 1u << 30.0 << 70.0;
    QTest::newRow("seed 2, start") << 2u << 0.0 << 10.0;
    QTest::newRow("seed 3, everything") << 3u << 0.0 << 1000.0;
    QTest::newRow("seed 4, a sliver") << 4u << 41.3 << 41.31;
}

void TestRangeStatistics::matchesBruteForce()
{
    QFETCH(unsigned, seed);
    QFETCH(double, a);
    QFETCH(double, b);
    std::mt19937 engine(seed);
    std::uniform_real_distribution<double> length(0.05, 3.0);
    std::uniform_real_distribution<double> pause(0.0, 1.5);
    std::uniform_int_distribution<int> kindOf(0, 3);
    TimelineData data;
    data.rankCount = 4;
    data.stageCount = 8;
    data.stagesPerRank = 2;
    for (int rank = 0; rank < 4; ++rank) {
        double t = pause(engine);
        for (int i = 0; i < 60; ++i) {
            TimelineBar bar = makeBar(rank, static_cast<ActionKind>(kindOf(engine)), i, t, t + length(engine));
            bar.stage = rank + 4 * (i % 2);
            t = bar.endMs + (i % 3 == 0 ? pause(engine) : 0.0);
            data.bars.push_back(bar);
            data.batchMs = std::max(data.batchMs, bar.endMs);
        }
    }
    data.rankIdle = computeRankIdle(data.bars, data.rankCount, data.batchMs);
    indexTimelineRows(data);
    const RangeStatistics stats = computeRangeStatistics(data, a, b);

    std::map<std::pair<int, ActionKind>, std::vector<double>> want;
    for (const TimelineBar& bar : data.bars) {
        if (bar.endMs > a && bar.startMs < b)
            want[{ bar.stage, bar.kind }].push_back(bar.endMs - bar.startMs);
    }
    QCOMPARE(stats.groups.size(), want.size());
    std::size_t i = 0;
    for (auto& [key, values] : want) {
        const auto& group = stats.groups[i++];
        QCOMPARE(group.stage, key.first);
        QCOMPARE(group.kind, key.second);
        QCOMPARE(group.count, static_cast<int>(values.size()));
        double total = 0.0;
        for (double v : values)
            total += v;
        QVERIFY(std::abs(group.totalMs - total) < 1e-9);
        std::sort(values.begin(), values.end());
        // The median as the middle value or the mean of the two middle ones: the textbook definition.
        const std::size_t n = values.size();
        const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
        QVERIFY(std::abs(group.p50Ms - median) < 1e-9);
        QVERIFY(group.p95Ms >= group.p50Ms && group.p95Ms <= values.back());
    }
    for (int rank = 0; rank < 4; ++rank) {
        const double lo = std::max(0.0, a);
        const double hi = std::min(data.batchMs, b);
        QVERIFY2(std::abs(stats.rankIdleMs[static_cast<std::size_t>(rank)] - bruteForceIdle(data, rank, lo, hi)) < 1e-9,
            qPrintable(QStringLiteral("rank %1").arg(rank)));
    }
}

void TestRangeStatistics::model()
{
    RangeStatisticsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), 7);
    model.setStatistics(computeRangeStatistics(handData(), 0.0, 13.0));
    QCOMPARE(model.rowCount(), 4 + 2);
    QCOMPARE(model.headerData(0, Qt::Horizontal).toString(), QStringLiteral("Stage"));
    QCOMPARE(model.headerData(6, Qt::Horizontal).toString(), QStringLiteral("p95 ms"));
    // Row 0: stage 0, F, 2 bars of 2 and 3 ms.
    QCOMPARE(model.index(0, RangeStatisticsModel::StageColumn).data().toString(), QStringLiteral("stage 0"));
    QCOMPARE(model.index(0, RangeStatisticsModel::KindColumn).data().toString(), QStringLiteral("F"));
    QCOMPARE(model.index(0, RangeStatisticsModel::CountColumn).data().toString(), QStringLiteral("2"));
    QCOMPARE(model.index(0, RangeStatisticsModel::TotalColumn).data().toString(), QStringLiteral("5.000"));
    QCOMPARE(model.index(0, RangeStatisticsModel::MeanColumn).data(RangeStatisticsModel::RawValueRole).toDouble(), 2.5);
    QCOMPARE(model.index(1, RangeStatisticsModel::KindColumn).data().toString(), QStringLiteral("B"));
    // Idle rows: rank 0 3 ms, rank 1 5 ms, no count.
    QVERIFY(model.isIdleRow(4));
    QVERIFY(!model.isIdleRow(3));
    QCOMPARE(model.index(5, RangeStatisticsModel::StageColumn).data().toString(), QStringLiteral("rank 1"));
    QCOMPARE(model.index(5, RangeStatisticsModel::KindColumn).data().toString(), QStringLiteral("idle"));
    QCOMPARE(
        model.index(5, RangeStatisticsModel::TotalColumn).data(RangeStatisticsModel::RawValueRole).toDouble(), 5.0);
    QVERIFY(!model.index(5, RangeStatisticsModel::CountColumn).data().isValid());
    model.setStatistics(computeRangeStatistics(handData(), 3.0, 10.0));
    QCOMPARE(model.rowCount(), 4 + 2);
    QCOMPARE(
        model.index(4, RangeStatisticsModel::TotalColumn).data(RangeStatisticsModel::RawValueRole).toDouble(), 1.0);
}

QTEST_GUILESS_MAIN(TestRangeStatistics)
#include "tst_rangestatistics.moc"
