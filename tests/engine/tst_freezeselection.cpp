#include "core/engine/freeze_selection.h"
#include "core/plan/plan_error.h"

#include <QtTest>

#include <algorithm>
#include <numeric>
#include <set>

using namespace tfreeze;

class TestFreezeSelection : public QObject {
    Q_OBJECT

private slots:
    void counts_data();
    void counts();
    void stableWithinPeriodAndRedrawnAfter();
    void largerRatioFreezesSuperset();
    void microbatchesDrawIndependently();
    void frontWeightedOnStageZero();
    void uniformOnLaterStages();
    void prefixOnStageZero();
    void actionInterfaceMatchesSelect();
    void rejectsZeroPeriod();
};

void TestFreezeSelection::counts_data()
{
    QTest::addColumn<int>("tensors");
    QTest::addColumn<double>("ratio");
    QTest::addColumn<int>("expected");
    QTest::newRow("nothing") << 10 << 0.0 << 0;
    QTest::newRow("everything") << 10 << 1.0 << 10;
    QTest::newRow("half rounds away from zero") << 10 << 0.25 << 3;
    QTest::newRow("seven at one half") << 7 << 0.5 << 4;
    QTest::newRow("below one half of one") << 1 << 0.4 << 0;
    QTest::newRow("one half of one") << 1 << 0.5 << 1;
    QTest::newRow("no tensors") << 0 << 0.5 << 0;
    QTest::newRow("ratio above one clamps") << 10 << 1.5 << 10;
    QTest::newRow("negative ratio clamps") << 10 << -0.1 << 0;
    QTest::newRow("planner-like ratio") << 26 << 0.6137 << 16;
}

void TestFreezeSelection::counts()
{
    QFETCH(int, tensors);
    QFETCH(double, ratio);
    QFETCH(int, expected);
    QCOMPARE(FreezeSelection::frozenCount(tensors, ratio), expected);
    const FreezeSelection selection(42, 10);
    for (int stage : { 0, 3 }) {
        const std::vector<int> frozen = selection.select(stage, 1, tensors, ratio, 7);
        QCOMPARE(static_cast<int>(frozen.size()), expected);
        QVERIFY(std::is_sorted(frozen.begin(), frozen.end()));
        QCOMPARE(std::set<int>(frozen.begin(), frozen.end()).size(), frozen.size());
        for (int index : frozen)
            QVERIFY(index >= 0 && index < tensors);
    }
}

void TestFreezeSelection::stableWithinPeriodAndRedrawnAfter()
{
    const FreezeSelection selection(7, 10);
    int redrawn = 0;
    for (int microbatch = 0; microbatch < 8; ++microbatch) {
        const std::vector<int> first = selection.select(2, microbatch, 20, 0.5, 10);
        for (int step = 11; step < 20; ++step)
            QCOMPARE(selection.select(2, microbatch, 20, 0.5, step), first);
        if (selection.select(2, microbatch, 20, 0.5, 20) != first)
            ++redrawn;
    }
    // C(20, 10) = 184756 possible sets: a redraw that repeats one is possible but not on every microbatch.
    QVERIFY(redrawn >= 7);
}

void TestFreezeSelection::largerRatioFreezesSuperset()
{
    const FreezeSelection selection(3, 5);
    for (int stage : { 0, 1 }) {
        for (int step = 0; step < 30; step += 3) {
            std::vector<int> previous;
            for (double ratio = 0.0; ratio <= 1.0; ratio += 0.1) {
                const std::vector<int> current = selection.select(stage, 4, 16, ratio, step);
                QVERIFY(std::includes(current.begin(), current.end(), previous.begin(), previous.end()));
                previous = current;
            }
        }
    }
}

void TestFreezeSelection::microbatchesDrawIndependently()
{
    const FreezeSelection selection(11, 10);
    std::set<std::vector<int>> distinct;
    for (int microbatch = 0; microbatch < 8; ++microbatch)
        distinct.insert(selection.select(1, microbatch, 20, 0.5, 0));
    QVERIFY(distinct.size() >= 7);
}

// Stage 0 draws with weights n − i: over many draws the front tensors are frozen more often, and
// the inclusion frequency falls from front to back.
void TestFreezeSelection::frontWeightedOnStageZero()
{
    const int n = 10;
    const FreezeSelection selection(2024, 1);
    std::vector<int> counts(n, 0);
    const int draws = 4000;
    for (int step = 0; step < draws; ++step)
        for (int index : selection.select(0, step % 8, n, 0.3, step))
            ++counts[static_cast<std::size_t>(index)];
    const int front = std::accumulate(counts.begin(), counts.begin() + n / 2, 0);
    const int back = std::accumulate(counts.begin() + n / 2, counts.end(), 0);
    qInfo("stage 0 inclusion counts over %d draws of 3 of 10: %d %d %d %d %d %d %d %d %d %d", draws, counts[0],
        counts[1], counts[2], counts[3], counts[4], counts[5], counts[6], counts[7], counts[8], counts[9]);
    QVERIFY(front > 2 * back);
    QVERIFY(counts[0] > 5 * counts[9]);
    // Monotone up to sampling noise: compare tensors two apart.
    for (int i = 0; i + 2 < n; ++i)
        QVERIFY2(counts[static_cast<std::size_t>(i)] > counts[static_cast<std::size_t>(i + 2)],
            qPrintable(QStringLiteral("index %1").arg(i)));
    // The first pick alone is exactly proportional to the weights (Efraimidis–Spirakis): P(0) = 10/55.
    int firstPicks = 0;
    for (int step = 0; step < draws; ++step)
        if (selection.priorityOrder(0, 0, n, step).front() == 0)
            ++firstPicks;
    const double expected = 10.0 / 55.0;
    QVERIFY(std::abs(static_cast<double>(firstPicks) / draws - expected) < 0.03);
}

void TestFreezeSelection::uniformOnLaterStages()
{
    const int n = 10;
    const FreezeSelection selection(2024, 1);
    std::vector<int> counts(n, 0);
    const int draws = 4000;
    for (int step = 0; step < draws; ++step)
        for (int index : selection.select(1, step % 8, n, 0.3, step))
            ++counts[static_cast<std::size_t>(index)];
    const double mean = draws * 3.0 / n;
    for (int count : counts)
        QVERIFY2(std::abs(count - mean) < 0.1 * mean, qPrintable(QString::number(count)));
}

// FirstStageDraw::Prefix: stage 0 freezes exactly its first round(r·n) tensors, whatever the
// microbatch and period; later stages draw as with Weighted, to the bit.
void TestFreezeSelection::prefixOnStageZero()
{
    const FreezeSelection prefix(2024, 1, FirstStageDraw::Prefix);
    const FreezeSelection weighted(2024, 1, FirstStageDraw::Weighted);
    QCOMPARE(prefix.firstStageDraw(), FirstStageDraw::Prefix);
    const int n = 19;
    for (std::int64_t step : { 0, 7, 130 }) {
        for (int microbatch = 0; microbatch < 8; ++microbatch) {
            for (double ratio : { 0.0, 0.05, 0.3, 0.5, 0.9, 1.0 }) {
                std::vector<int> expected(static_cast<std::size_t>(FreezeSelection::frozenCount(n, ratio)));
                std::iota(expected.begin(), expected.end(), 0);
                QCOMPARE(prefix.select(0, microbatch, n, ratio, step), expected);
                QCOMPARE(prefix.select(1, microbatch, n, ratio, step), weighted.select(1, microbatch, n, ratio, step));
                QCOMPARE(prefix.select(3, microbatch, n, ratio, step), weighted.select(3, microbatch, n, ratio, step));
            }
        }
    }
    // The weighted draw of the same stage is not a prefix (it would not need an option otherwise).
    bool weightedLeftAGap = false;
    for (int microbatch = 0; microbatch < 8; ++microbatch) {
        const std::vector<int> drawn = weighted.select(0, microbatch, n, 0.4, 0);
        weightedLeftAGap = weightedLeftAGap || drawn.back() >= static_cast<int>(drawn.size());
    }
    QVERIFY(weightedLeftAGap);
}

void TestFreezeSelection::actionInterfaceMatchesSelect()
{
    const FreezeSelection selection(5, 10);
    const FreezeSelector& selector = selection;
    Action action;
    action.rank = 1;
    action.stage = 2;
    action.microbatch = 3;
    action.kind = ActionKind::BackwardWeight;
    QCOMPARE(selector.frozenTensors(action, 12, 0.4, 17), selection.select(2, 3, 12, 0.4, 17));
}

void TestFreezeSelection::rejectsZeroPeriod() { QVERIFY_THROWS_EXCEPTION(InputError, FreezeSelection(1, 0)); }

QTEST_APPLESS_MAIN(TestFreezeSelection)
#include "tst_freezeselection.moc"
