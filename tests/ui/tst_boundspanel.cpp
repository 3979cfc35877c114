#include "ui/bounds_panel.h"
#include "ui/stage_bounds_model.h"
#include "ui/telemetry_metatypes.h"
#include "ui/tradeoff_chart.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLineSeries>
#include <QScrollBar>
#include <QSlider>
#include <QSpinBox>
#include <QTableView>
#include <QValueAxis>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace tfreeze;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

FreezeBounds boundsAt(const QSignalSpy& spy, qsizetype row) { return spy.at(row).at(0).value<FreezeBounds>(); }

void compareBounds(const FreezeBounds& actual, double maxFreeze, const std::vector<double>& stages)
{
    QCOMPARE(actual.maxFreeze, maxFreeze);
    QCOMPARE(actual.stageMaxFreeze, stages);
    QVERIFY(actual.actionCap.empty());
}

} // namespace

class TestBoundsPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { registerTelemetryMetaTypes(); }

    void sliderEmitsBounds_data()
    {
        QTest::addColumn<int>("position");
        QTest::addColumn<double>("maxFreeze");
        QTest::newRow("quarter") << 250 << 0.25;
        QTest::newRow("zero") << 0 << 0.0;
        QTest::newRow("top") << 1000 << 1.0;
        QTest::newRow("fine") << 333 << 0.333;
    }

    void sliderEmitsBounds()
    {
        QFETCH(int, position);
        QFETCH(double, maxFreeze);
        BoundsPanel panel;
        panel.setStageCount(4);
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);
        panel.maxFreezeSlider()->setValue(position);
        QCOMPARE(spy.size(), 1);
        compareBounds(boundsAt(spy, 0), maxFreeze, {});
        QCOMPARE(panel.maxFreezeSpinBox()->value(), maxFreeze);
        for (int s = 0; s < 4; ++s)
            QCOMPARE(panel.stageModel()->index(s, StageBoundsModel::MaxFreezeColumn).data(Qt::EditRole).toDouble(),
                maxFreeze);
    }

    void sliderKeyboardStep()
    {
        BoundsPanel panel;
        panel.setStageCount(2);
        panel.setBounds(FreezeBounds { 0.5, {}, {} });
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);
        QTest::keyClick(panel.maxFreezeSlider(), Qt::Key_PageUp);
        QCOMPARE(spy.size(), 1);
        compareBounds(boundsAt(spy, 0), 0.55, {});
    }

    void typingInSpinBox_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<double>("maxFreeze");
        QTest::addColumn<int>("sliderPosition");
        QTest::newRow("0.42") << u"0.42"_qs << 0.42 << 420;
        QTest::newRow("1") << u"1"_qs << 1.0 << 1000;
        QTest::newRow("0.1234 rounds to 3 decimals") << u"0.1234"_qs << 0.123 << 123;
    }

    void typingInSpinBox()
    {
        QFETCH(QString, typed);
        QFETCH(double, maxFreeze);
        QFETCH(int, sliderPosition);
        BoundsPanel panel;
        panel.setStageCount(3);
        QDoubleSpinBox* spin = panel.maxFreezeSpinBox();
        spin->setLocale(QLocale::c());
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);
        spin->selectAll();
        QTest::keyClicks(spin, typed);
        QCOMPARE(spy.size(), 0); // no plan per keystroke
        QTest::keyClick(spin, Qt::Key_Return);
        QCOMPARE(spy.size(), 1);
        compareBounds(boundsAt(spy, 0), maxFreeze, {});
        QCOMPARE(panel.maxFreezeSlider()->value(), sliderPosition);
    }

    void lockingAndEditingStages()
    {
        BoundsPanel panel;
        panel.setStageCount(4);
        panel.maxFreezeSlider()->setValue(600);
        StageBoundsModel* model = panel.stageModel();
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);

        // Locking keeps the global value on show.
        QVERIFY(model->setData(model->index(1, StageBoundsModel::LockedColumn), Qt::Checked, Qt::CheckStateRole));
        QCOMPARE(spy.size(), 1);
        compareBounds(boundsAt(spy, 0), 0.6, { 0.6, 0.6, 0.6, 0.6 });

        QVERIFY(model->setData(model->index(1, StageBoundsModel::MaxFreezeColumn), 0.3));
        QCOMPARE(spy.size(), 2);
        compareBounds(boundsAt(spy, 1), 0.6, { 0.6, 0.3, 0.6, 0.6 });

        // The locked stage keeps its value when the global ρ moves.
        panel.maxFreezeSlider()->setValue(800);
        QCOMPARE(spy.size(), 3);
        compareBounds(boundsAt(spy, 2), 0.8, { 0.8, 0.3, 0.8, 0.8 });

        // Editing an unlocked stage locks it at the new value.
        QVERIFY(model->setData(model->index(3, StageBoundsModel::MaxFreezeColumn), 0.0));
        QCOMPARE(spy.size(), 4);
        compareBounds(boundsAt(spy, 3), 0.8, { 0.8, 0.3, 0.8, 0.0 });
        QCOMPARE(model->index(3, StageBoundsModel::LockedColumn).data(Qt::CheckStateRole).toInt(), int(Qt::Checked));

        // Unlocking both returns to the global ρ everywhere: no per-stage list.
        QVERIFY(model->setData(model->index(1, StageBoundsModel::LockedColumn), Qt::Unchecked, Qt::CheckStateRole));
        QVERIFY(model->setData(model->index(3, StageBoundsModel::LockedColumn), Qt::Unchecked, Qt::CheckStateRole));
        QCOMPARE(spy.size(), 6);
        compareBounds(boundsAt(spy, 4), 0.8, { 0.8, 0.8, 0.8, 0.0 });
        compareBounds(boundsAt(spy, 5), 0.8, {});

        // Setting what is already there changes nothing and says nothing.
        QVERIFY(model->setData(model->index(0, StageBoundsModel::LockedColumn), Qt::Unchecked, Qt::CheckStateRole));
        panel.maxFreezeSlider()->setValue(800);
        QCOMPARE(spy.size(), 6);
    }

    // Through the table's editor, as a user edits: the editor takes only a ρ in [0, 1].
    void editingAStageInTheTable()
    {
        BoundsPanel panel;
        panel.setStageCount(3);
        panel.setBounds(FreezeBounds { 0.5, {}, {} });
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);
        QTableView* table = panel.stageTable();
        const QModelIndex cell = panel.stageModel()->index(2, StageBoundsModel::MaxFreezeColumn);
        table->setCurrentIndex(cell);
        table->edit(cell);
        auto* editor = table->viewport()->findChild<QDoubleSpinBox*>();
        QVERIFY(editor);
        QCOMPARE(editor->maximum(), 1.0);
        QCOMPARE(editor->minimum(), 0.0);
        QCOMPARE(editor->value(), 0.5);
        editor->setValue(7.0); // clamped by the editor
        QCOMPARE(editor->value(), 1.0);
        editor->setValue(0.35);
        QTest::keyClick(editor, Qt::Key_Return);
        QTRY_COMPARE(spy.size(), 1); // the delegate commits in a queued call
        compareBounds(boundsAt(spy, 0), 0.5, { 0.5, 0.5, 0.35 });
        QVERIFY(panel.stageModel()->isLocked(2));
    }

    void outOfRangeEditsRejected_data()
    {
        QTest::addColumn<QVariant>("value");
        QTest::newRow("above 1") << QVariant(1.5);
        QTest::newRow("negative") << QVariant(-0.1);
        QTest::newRow("NaN") << QVariant(std::numeric_limits<double>::quiet_NaN());
        QTest::newRow("infinite") << QVariant(std::numeric_limits<double>::infinity());
        QTest::newRow("not a number") << QVariant(u"lots"_qs);
    }

    void outOfRangeEditsRejected()
    {
        QFETCH(QVariant, value);
        BoundsPanel panel;
        panel.setStageCount(3);
        StageBoundsModel* model = panel.stageModel();
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);
        const FreezeBounds before = panel.bounds();
        QVERIFY(!model->setData(model->index(2, StageBoundsModel::MaxFreezeColumn), value));
        bool isNumber = false;
        const double number = value.toDouble(&isNumber);
        if (isNumber)
            QVERIFY(!model->setGlobalMaxFreeze(number));
        QCOMPARE(spy.size(), 0);
        compareBounds(panel.bounds(), before.maxFreeze, before.stageMaxFreeze);
        QVERIFY(!model->isLocked(2));
        // Neither the stage column nor the locked column takes a ρ.
        QVERIFY(!model->setData(model->index(0, StageBoundsModel::StageColumn), 0.5));
        QVERIFY(!model->setData(model->index(0, StageBoundsModel::LockedColumn), 0.5, Qt::EditRole));
    }

    void setBoundsIsSilentAndRoundTrips_data()
    {
        QTest::addColumn<double>("maxFreeze");
        QTest::addColumn<std::vector<double>>("stages");
        QTest::addColumn<std::vector<double>>("expectedStages");
        QTest::addColumn<int>("lockedCount");
        QTest::newRow("global only") << 0.4 << std::vector<double> {} << std::vector<double> {} << 0;
        QTest::newRow("two locked") << 0.7 << std::vector<double> { 0.7, 0.2, 0.7, 1.0 }
                                    << std::vector<double> { 0.7, 0.2, 0.7, 1.0 } << 2;
        QTest::newRow("all equal the global: none locked")
            << 0.5 << std::vector<double> { 0.5, 0.5, 0.5, 0.5 } << std::vector<double> {} << 0;
        QTest::newRow("six stages resize the table") << 0.3 << std::vector<double> { 0.3, 0.3, 0.3, 0.3, 0.3, 0.9 }
                                                     << std::vector<double> { 0.3, 0.3, 0.3, 0.3, 0.3, 0.9 } << 1;
    }

    void setBoundsIsSilentAndRoundTrips()
    {
        QFETCH(double, maxFreeze);
        QFETCH(std::vector<double>, stages);
        QFETCH(std::vector<double>, expectedStages);
        QFETCH(int, lockedCount);
        BoundsPanel panel;
        QAbstractItemModelTester tester(panel.stageModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        panel.setStageCount(4);
        QSignalSpy spy(&panel, &BoundsPanel::boundsChanged);
        panel.setBounds(FreezeBounds { maxFreeze, stages, {} });
        QCOMPARE(spy.size(), 0);
        compareBounds(panel.bounds(), maxFreeze, expectedStages);
        QCOMPARE(panel.maxFreezeSlider()->value(), qRound(maxFreeze * 1000));
        QCOMPARE(panel.maxFreezeSpinBox()->value(), maxFreeze);
        const int rows = stages.empty() ? 4 : static_cast<int>(stages.size());
        QCOMPARE(panel.stageModel()->rowCount(), rows);
        int locked = 0;
        for (int s = 0; s < rows; ++s)
            locked += panel.stageModel()->isLocked(s) ? 1 : 0;
        QCOMPARE(locked, lockedCount);
        // Then a user move still reports.
        panel.maxFreezeSlider()->setValue(100);
        QCOMPARE(spy.size(), 1);
    }

    void modelUnderTester()
    {
        StageBoundsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy changed(&model, &StageBoundsModel::boundsChanged);
        model.setStageCount(5);
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.columnCount(), 4);
        QVERIFY(model.setGlobalMaxFreeze(0.25));
        QVERIFY(model.setData(model.index(4, StageBoundsModel::MaxFreezeColumn), 0.75));
        model.setStageCount(2);
        QCOMPARE(model.rowCount(), 2);
        compareBounds(model.bounds(), 0.25, {}); // the locked stage 4 is gone
        model.setStageCount(3);
        QCOMPARE(model.index(2, StageBoundsModel::MaxFreezeColumn).data().toString(), u"0.250"_qs);
        QCOMPARE(model.index(2, StageBoundsModel::StageColumn).data().toInt(), 2);
        QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), u"Max freeze ρ"_qs);
        QVERIFY(model.flags(model.index(0, StageBoundsModel::MaxFreezeColumn)) & Qt::ItemIsEditable);
        QVERIFY(model.flags(model.index(0, StageBoundsModel::LockedColumn)) & Qt::ItemIsUserCheckable);
        QVERIFY(!(model.flags(model.index(0, StageBoundsModel::StageColumn)) & Qt::ItemIsEditable));
        model.setBounds(FreezeBounds { 0.9, { 0.1, 0.9, 0.9, 0.5 }, {} });
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(changed.size(), 6); // one per call above
    }

    // The Whole column marks the stages the planner freezes all or nothing: read-only, a change
    // repaints that column alone, and the bounds (what the planner gets) never change with it.
    void wholeStages()
    {
        BoundsPanel panel;
        StageBoundsModel* model = panel.stageModel();
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        panel.setStageCount(4);
        QSignalSpy bounds(&panel, &BoundsPanel::boundsChanged);
        QSignalSpy repainted(model, &QAbstractItemModel::dataChanged);
        const auto wholeCell = [&](int stage) {
            return model->index(stage, StageBoundsModel::WholeColumn).data(Qt::CheckStateRole).toInt();
        };
        for (int s = 0; s < 4; ++s)
            QCOMPARE(wholeCell(s), int(Qt::Unchecked));

        panel.setWholeStages({ 2, 0, 2, 7 }); // unsorted, a repeat, a stage beyond the rows
        QCOMPARE(repainted.size(), 1);
        QCOMPARE(repainted.at(0).at(0).toModelIndex().column(), int(StageBoundsModel::WholeColumn));
        QCOMPARE(repainted.at(0).at(1).toModelIndex().column(), int(StageBoundsModel::WholeColumn));
        const int expected[] = { Qt::Checked, Qt::Unchecked, Qt::Checked, Qt::Unchecked };
        for (int s = 0; s < 4; ++s) {
            QCOMPARE(wholeCell(s), expected[s]);
            QCOMPARE(model->isWhole(s), expected[s] == Qt::Checked);
        }
        QVERIFY(model->index(0, StageBoundsModel::WholeColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .startsWith(u"Frozen whole"_qs));
        QVERIFY(model->index(1, StageBoundsModel::WholeColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .startsWith(u"Frozen in parts"_qs));
        QCOMPARE(model->headerData(StageBoundsModel::WholeColumn, Qt::Horizontal).toString(), u"Whole"_qs);
        panel.setWholeStages({ 0, 2, 7 }); // the same set: nothing to repaint
        QCOMPARE(repainted.size(), 1);

        // Read-only: the user cannot tick it.
        const QModelIndex cell = model->index(1, StageBoundsModel::WholeColumn);
        QVERIFY(!(model->flags(cell) & Qt::ItemIsUserCheckable));
        QVERIFY(!(model->flags(cell) & Qt::ItemIsEditable));
        QVERIFY(!model->setData(cell, Qt::Checked, Qt::CheckStateRole));
        QCOMPARE(wholeCell(1), int(Qt::Unchecked));

        // Stage 7 shows once the rows reach it; none is whole after a reset.
        panel.setStageCount(8);
        QVERIFY(model->isWhole(7));
        QCOMPARE(wholeCell(7), int(Qt::Checked));
        panel.setWholeStages({});
        for (int s = 0; s < 8; ++s)
            QCOMPARE(wholeCell(s), int(Qt::Unchecked));
        QCOMPARE(bounds.size(), 0);
        compareBounds(panel.bounds(), 0.9, {});
    }

    void rampAndDrift()
    {
        BoundsPanel panel;
        QSignalSpy ramp(&panel, &BoundsPanel::rampStepsChanged);
        QSignalSpy drift(&panel, &BoundsPanel::replanDriftChanged);
        panel.setRampSteps(50);
        panel.setReplanDrift(0.2);
        QCOMPARE(ramp.size(), 0);
        QCOMPARE(drift.size(), 0);
        QCOMPARE(panel.rampSteps(), 50);
        QCOMPARE(panel.replanDrift(), 0.2);

        panel.rampStepsSpinBox()->setValue(120);
        QCOMPARE(ramp.size(), 1);
        QCOMPARE(ramp.at(0).at(0).toInt(), 120);

        panel.replanDriftPercentSpinBox()->setValue(15.0);
        panel.replanDriftCheckBox()->setChecked(false);
        panel.replanDriftCheckBox()->setChecked(true);
        QCOMPARE(drift.size(), 3);
        QCOMPARE(drift.at(0).at(0).toDouble(), 0.15);
        QCOMPARE(drift.at(1).at(0).toDouble(), 0.0);
        QCOMPARE(drift.at(2).at(0).toDouble(), 0.15);
        QVERIFY(panel.replanDriftPercentSpinBox()->isEnabled());
    }

    void tradeoffChartShowsCurve()
    {
        BoundsPanel panel;
        TradeoffChart* chart = panel.tradeoffChart();
        QVERIFY(chart);
        const QList<QPointF> curve { { 0.0, 120.0 }, { 0.5, 100.0 }, { 1.0, 90.0 } };
        chart->setCurve(curve);
        chart->setCurrentPoint(0.5, 100.0);
        QCOMPARE(chart->curve(), curve);
        QCOMPARE(chart->currentPoint(), (QList<QPointF> { { 0.5, 100.0 } }));
        QVERIFY(chart->batchMsAxis()->min() <= 90.0);
        QVERIFY(chart->batchMsAxis()->max() >= 120.0);
        // Round ticks (1, 2 or 5 · 10^k ms) at least 28 px apart, and the next smaller such step
        // would put them closer; the first one on a multiple of the interval.
        const QValueAxis* axis = chart->batchMsAxis();
        QCOMPARE(axis->tickType(), QValueAxis::TicksDynamic);
        const double interval = axis->tickInterval();
        const double mantissa = interval / std::pow(10.0, std::floor(std::log10(interval) + 1e-9));
        const double smaller = interval / (std::abs(mantissa - 5.0) < 1e-9 ? 2.5 : 2.0);
        const double plotPx = chart->chart()->plotArea().height() > 0.0 ? chart->chart()->plotArea().height() : 100.0;
        const double pxPerMs = plotPx / (axis->max() - axis->min());
        QVERIFY2(interval * pxPerMs >= 28.0 && smaller * pxPerMs < 28.0, qPrintable(QString::number(interval)));
        QCOMPARE(std::fmod(axis->tickAnchor(), interval), 0.0);
        QVERIFY(axis->tickAnchor() >= axis->min() && axis->tickAnchor() - interval < axis->min());
        // The reference lines sit at the ends of the curve.
        QList<QLineSeries*> lines;
        for (QAbstractSeries* series : chart->chart()->series()) {
            if (auto* line = qobject_cast<QLineSeries*>(series); line && line->points() != curve)
                lines.append(line);
        }
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines[0]->points().front().y(), 120.0);
        QCOMPARE(lines[1]->points().front().y(), 90.0);
        QVERIFY(lines[0]->isVisible() && lines[1]->isVisible());
        chart->setReferenceLinesVisible(false);
        QVERIFY(!lines[0]->isVisible() && !lines[1]->isVisible());
        // A point outside the curve widens the axis.
        chart->setCurrentPoint(1.0, 150.0);
        QVERIFY(chart->batchMsAxis()->max() >= 150.0);
    }

    // At the size the main window gives the dock (330 × 420), a 4-stage pipeline's stages are all
    // in sight (the chart once left room for three); 32 stages show visibleStageRows and scroll.
    void stageTableShowsTheStages_data()
    {
        QTest::addColumn<int>("stages");
        QTest::addColumn<int>("visibleRows");
        QTest::newRow("1") << 1 << 1;
        QTest::newRow("4") << 4 << 4;
        QTest::newRow("6") << 6 << 6;
        QTest::newRow("32") << 32 << BoundsPanel::visibleStageRows;
    }
    void stageTableShowsTheStages()
    {
        QFETCH(int, stages);
        QFETCH(int, visibleRows);
        BoundsPanel panel;
        panel.setStageCount(stages);
        panel.resize(330, 420);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QTableView* table = panel.stageTable();
        const QRect viewport = table->viewport()->rect();
        int fullyVisible = 0;
        for (int row = 0; row < stages; ++row) {
            if (viewport.contains(table->visualRect(table->model()->index(row, 0))))
                ++fullyVisible;
        }
        QVERIFY2(fullyVisible >= visibleRows, qPrintable(QString::number(fullyVisible)));
        QCOMPARE(table->verticalScrollBar()->isVisible(), fullyVisible < stages);
        // The chart keeps room to be read.
        QVERIFY2(panel.tradeoffChart()->height() >= 120, qPrintable(QString::number(panel.tradeoffChart()->height())));
    }
};

QTEST_MAIN(TestBoundsPanel)
#include "tst_boundspanel.moc"
