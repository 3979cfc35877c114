#include "core/store/run_store.h"
#include "ui/run_comparison_model.h"

#include "../store/store_test_support.h"

#include <QAbstractItemModelTester>
#include <QtTest>

#include <cmath>

using namespace tfreeze;

namespace {

// Two hand-made summaries. Stage 0 has F and B in both runs, stage 1 only F and only in A; no run
// has I or W, so those rows must not appear.
RunComparison handMadeComparison()
{
    RunComparison comparison;
    comparison.a.run = 3;
    comparison.a.steps = 10;
    comparison.a.meanBubbleFraction = 0.25;
    comparison.a.meanTokensPerSecond = 1000.0;
    comparison.a.finalLoss = 2.0;
    comparison.a.stageKindMeanMs = { { 1.0, 2.0, -1.0, -1.0 }, { 1.5, -1.0, -1.0, -1.0 } };
    comparison.b.run = 5;
    comparison.b.steps = 12;
    comparison.b.meanBubbleFraction = 0.2;
    comparison.b.meanTokensPerSecond = 1250.0;
    comparison.b.finalLoss = 1.8;
    comparison.b.stageKindMeanMs = { { 0.8, 2.5, -1.0, -1.0 } };
    return comparison;
}

QVariant cell(const QAbstractItemModel& model, int row, int column, int role = RunComparisonModel::ValueRole)
{
    return model.data(model.index(row, column), role);
}

} // namespace

class TestRunComparisonModel : public QObject {
    Q_OBJECT

private slots:
    void rowsAndDeltasMatchHandComputedValues_data();
    void rowsAndDeltasMatchHandComputedValues();
    void kindsAbsentInBothRunsAreOmitted();
    void zeroBaselineLeavesPercentEmpty();
    void runWithoutStepsLeavesSummaryCellsEmpty();
    void comparisonFromTheStoreMatchesSpanDurations();
};

void TestRunComparisonModel::rowsAndDeltasMatchHandComputedValues_data()
{
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("measure");
    QTest::addColumn<QVariant>("a");
    QTest::addColumn<QVariant>("b");
    QTest::addColumn<QVariant>("delta");
    QTest::addColumn<QVariant>("deltaPercent");
    QTest::addColumn<QString>("deltaText");
    const QVariant none;
    QTest::addRow("stage 0 F") << 0 << QStringLiteral("Stage 0 F mean (ms)") << QVariant(1.0) << QVariant(0.8)
                               << QVariant(-0.2) << QVariant(-20.0) << QStringLiteral("-0.200");
    QTest::addRow("stage 0 B") << 1 << QStringLiteral("Stage 0 B mean (ms)") << QVariant(2.0) << QVariant(2.5)
                               << QVariant(0.5) << QVariant(25.0) << QStringLiteral("+0.500");
    QTest::addRow("stage 1 F, A only") << 2 << QStringLiteral("Stage 1 F mean (ms)") << QVariant(1.5) << none << none
                                       << none << QString();
    QTest::addRow("bubble percent") << 3 << QStringLiteral("Bubble % (mean)") << QVariant(25.0) << QVariant(20.0)
                                    << QVariant(-5.0) << QVariant(-20.0) << QStringLiteral("-5.00");
    QTest::addRow("tokens/s") << 4 << QStringLiteral("Tokens/s (mean)") << QVariant(1000.0) << QVariant(1250.0)
                              << QVariant(250.0) << QVariant(25.0) << QStringLiteral("+250.0");
    QTest::addRow("final loss") << 5 << QStringLiteral("Final loss") << QVariant(2.0) << QVariant(1.8) << QVariant(-0.2)
                                << QVariant(-10.0) << QStringLiteral("-0.2000");
    QTest::addRow("steps") << 6 << QStringLiteral("Steps") << QVariant(10.0) << QVariant(12.0) << QVariant(2.0)
                           << QVariant(20.0) << QStringLiteral("+2");
}

void TestRunComparisonModel::rowsAndDeltasMatchHandComputedValues()
{
    QFETCH(int, row);
    QFETCH(QString, measure);
    QFETCH(QVariant, a);
    QFETCH(QVariant, b);
    QFETCH(QVariant, delta);
    QFETCH(QVariant, deltaPercent);
    QFETCH(QString, deltaText);
    RunComparisonModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setComparison(handMadeComparison());
    QCOMPARE(model.rowCount(), 7);
    QCOMPARE(model.columnCount(), 5);
    QCOMPARE(cell(model, row, RunComparisonModel::MeasureColumn, Qt::DisplayRole).toString(), measure);
    const auto compareNumber = [&](int column, const QVariant& expected) {
        const QVariant actual = cell(model, row, column);
        QCOMPARE(actual.isValid(), expected.isValid());
        if (expected.isValid())
            QVERIFY2(std::abs(actual.toDouble() - expected.toDouble()) < 1e-9,
                qPrintable(QStringLiteral("column %1: %2, expected %3")
                               .arg(column)
                               .arg(actual.toDouble())
                               .arg(expected.toDouble())));
    };
    compareNumber(RunComparisonModel::AColumn, a);
    compareNumber(RunComparisonModel::BColumn, b);
    compareNumber(RunComparisonModel::DeltaColumn, delta);
    compareNumber(RunComparisonModel::DeltaPercentColumn, deltaPercent);
    QCOMPARE(cell(model, row, RunComparisonModel::DeltaColumn, Qt::DisplayRole).toString(), deltaText);
    QCOMPARE(model.headerData(RunComparisonModel::AColumn, Qt::Horizontal).toString(), QStringLiteral("A (run 3)"));
    QCOMPARE(model.headerData(RunComparisonModel::BColumn, Qt::Horizontal).toString(), QStringLiteral("B (run 5)"));
}

void TestRunComparisonModel::kindsAbsentInBothRunsAreOmitted()
{
    RunComparisonModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RunComparison comparison = handMadeComparison();
    // B gains a W on stage 2: one more row; stage 1 of B stays absent.
    comparison.b.stageKindMeanMs.resize(3, std::vector<double>(kActionKindCount, -1.0));
    comparison.b.stageKindMeanMs[2][3] = 0.4;
    model.setComparison(comparison);
    QCOMPARE(model.rowCount(), 8);
    for (int row = 0; row < model.rowCount(); ++row) {
        const QString measure = cell(model, row, 0, Qt::DisplayRole).toString();
        QVERIFY2(!measure.contains(QLatin1String(" I ")), qPrintable(measure));
    }
    QCOMPARE(cell(model, 3, 0, Qt::DisplayRole).toString(), QStringLiteral("Stage 2 W mean (ms)"));
    QVERIFY(!cell(model, 3, RunComparisonModel::AColumn).isValid());
    QCOMPARE(cell(model, 3, RunComparisonModel::BColumn).toDouble(), 0.4);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestRunComparisonModel::zeroBaselineLeavesPercentEmpty()
{
    RunComparisonModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RunComparison comparison = handMadeComparison();
    comparison.a.meanBubbleFraction = 0.0;
    model.setComparison(comparison);
    QCOMPARE(cell(model, 3, 0, Qt::DisplayRole).toString(), QStringLiteral("Bubble % (mean)"));
    QCOMPARE(cell(model, 3, RunComparisonModel::DeltaColumn).toDouble(), 20.0);
    QVERIFY(!cell(model, 3, RunComparisonModel::DeltaPercentColumn).isValid());
    QVERIFY(cell(model, 3, RunComparisonModel::DeltaPercentColumn, Qt::DisplayRole).toString().isEmpty());
}

void TestRunComparisonModel::runWithoutStepsLeavesSummaryCellsEmpty()
{
    RunComparisonModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RunComparison comparison = handMadeComparison();
    comparison.b = RunSummary {};
    comparison.b.run = 9;
    model.setComparison(comparison);
    // Stage rows of A only (3), then the 4 summary rows.
    QCOMPARE(model.rowCount(), 7);
    for (int row = 3; row < 6; ++row) {
        QVERIFY(cell(model, row, RunComparisonModel::AColumn).isValid());
        QVERIFY(!cell(model, row, RunComparisonModel::BColumn).isValid());
        QVERIFY(!cell(model, row, RunComparisonModel::DeltaColumn).isValid());
    }
    // Steps: 0 is a figure, not a gap.
    QCOMPARE(cell(model, 6, RunComparisonModel::BColumn).toDouble(), 0.0);
    QCOMPARE(cell(model, 6, RunComparisonModel::DeltaColumn).toDouble(), -10.0);
    QCOMPARE(cell(model, 6, RunComparisonModel::DeltaPercentColumn).toDouble(), -100.0);
}

// End to end: spans of known length in a real database, compared by RunStore::compare.
void TestRunComparisonModel::comparisonFromTheStoreMatchesSpanDurations()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t a = store.beginRun(test::newRun("a"));
    const std::int64_t b = store.beginRun(test::newRun("b"));
    const auto span = [](int microbatch, ActionKind kind, std::int64_t startUs, std::int64_t endUs) {
        ActionSpan result;
        result.microbatch = microbatch;
        result.kind = kind;
        result.startUs = startUs;
        result.endUs = endUs;
        return result;
    };
    // A: F of 100 and 300 µs (mean 0.2 ms), B of 400 µs. B: F of 150 µs, no backward.
    store.recordSpan(a, span(0, ActionKind::Forward, 0, 100));
    store.recordSpan(a, span(1, ActionKind::Forward, 100, 400));
    store.recordSpan(a, span(0, ActionKind::Backward, 400, 800));
    store.recordSpan(b, span(0, ActionKind::Forward, 0, 150));
    RunComparisonModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setComparison(store.compare(a, b));
    QCOMPARE(model.rowCount(), 2 + 4);
    QCOMPARE(cell(model, 0, RunComparisonModel::AColumn).toDouble(), 0.2);
    QCOMPARE(cell(model, 0, RunComparisonModel::BColumn).toDouble(), 0.15);
    QVERIFY(std::abs(cell(model, 0, RunComparisonModel::DeltaColumn).toDouble() - -0.05) < 1e-12);
    QVERIFY(std::abs(cell(model, 0, RunComparisonModel::DeltaPercentColumn).toDouble() - -25.0) < 1e-9);
    QCOMPARE(cell(model, 1, RunComparisonModel::AColumn).toDouble(), 0.4);
    QVERIFY(!cell(model, 1, RunComparisonModel::BColumn).isValid());
}

QTEST_GUILESS_MAIN(TestRunComparisonModel)
#include "tst_runcomparisonmodel.moc"
