#include "core/store/run_store.h"
#include "ui/plans_model.h"

#include "../store/store_test_support.h"

#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QtTest>

using namespace tfreeze;

namespace {

PlanRecord planRecord(std::int64_t id, std::string boundsJson, double planned, std::optional<std::int64_t> applied)
{
    PlanRecord plan;
    plan.id = id;
    plan.run = 1;
    plan.createdAtStep = id * 10;
    plan.source = id == 1 ? PlanSource::Engine : PlanSource::User;
    plan.boundsJson = std::move(boundsJson);
    plan.batchMsNoFreeze = 120.0;
    plan.batchMsPlanned = planned;
    plan.batchMsAllFrozen = 80.0;
    plan.appliedAtStep = applied;
    return plan;
}

QString display(const QAbstractItemModel& model, int row, int column)
{
    return model.data(model.index(row, column)).toString();
}

} // namespace

class TestPlansModel : public QObject {
    Q_OBJECT

private slots:
    void maxFreezeFromBounds_data();
    void maxFreezeFromBounds();
    void rowsShowThePlans();
    void realisedMsFillsTheRightRow();
    void addPlanAppends();
    void predictedMsSortsAsNumbers();
    void plansFromTheStore();
    void everyHeaderExplainsItself();
};

void TestPlansModel::maxFreezeFromBounds_data()
{
    QTest::addColumn<QString>("bounds");
    QTest::addColumn<QString>("shown");
    QTest::addRow("one ρ") << QStringLiteral(R"({"max_freeze":0.7,"stage_max_freeze":[],"action_cap":1.0})")
                           << QStringLiteral("0.7");
    QTest::addRow("per stage") << QStringLiteral(R"({"max_freeze":0.9,"stage_max_freeze":[0.2,0.8]})")
                               << QStringLiteral("per stage");
    QTest::addRow("equal stages are one ρ")
        << QStringLiteral(R"({"max_freeze":0.9,"stage_max_freeze":[0.4,0.4]})") << QStringLiteral("0.4");
    QTest::addRow("not JSON") << QStringLiteral("{oops") << QString();
    QTest::addRow("no max_freeze") << QStringLiteral(R"({"action_cap":1.0})") << QString();
}

void TestPlansModel::maxFreezeFromBounds()
{
    QFETCH(QString, bounds);
    QFETCH(QString, shown);
    PlansModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPlans({ planRecord(1, bounds.toStdString(), 100.0, 5) });
    QCOMPARE(display(model, 0, PlansModel::MaxFreezeColumn), shown);
}

void TestPlansModel::rowsShowThePlans()
{
    PlansModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPlans({ planRecord(1, R"({"max_freeze":0.5})", 101.254, 20), planRecord(4, "{}", 99.0, std::nullopt) });
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.columnCount(), 8);
    QCOMPARE(model.planId(0), qint64 { 1 });
    QCOMPARE(model.planId(1), qint64 { 4 });
    QCOMPARE(model.planId(2), qint64 { -1 });
    QCOMPARE(display(model, 0, PlansModel::IdColumn), QStringLiteral("1"));
    QCOMPARE(display(model, 0, PlansModel::SourceColumn), QStringLiteral("engine"));
    QCOMPARE(display(model, 1, PlansModel::SourceColumn), QStringLiteral("user"));
    QCOMPARE(display(model, 1, PlansModel::CreatedAtStepColumn), QStringLiteral("40"));
    QCOMPARE(display(model, 0, PlansModel::AppliedAtStepColumn), QStringLiteral("20"));
    QCOMPARE(display(model, 1, PlansModel::AppliedAtStepColumn), QStringLiteral("not applied"));
    QCOMPARE(display(model, 0, PlansModel::PredictedMsColumn), QStringLiteral("101.25"));
    QCOMPARE(display(model, 0, PlansModel::NoFreezeMsColumn), QStringLiteral("120.00"));
    QCOMPARE(display(model, 0, PlansModel::RealisedMsColumn), QString());
    QCOMPARE(model.data(model.index(1, 0), PlansModel::PlanIdRole).toLongLong(), qint64 { 4 });
}

void TestPlansModel::realisedMsFillsTheRightRow()
{
    PlansModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPlans({ planRecord(1, "{}", 100.0, 5), planRecord(2, "{}", 90.0, 9) });
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setRealisedBatchMs(2, 93.456);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toModelIndex(), model.index(1, PlansModel::RealisedMsColumn));
    QCOMPARE(display(model, 1, PlansModel::RealisedMsColumn), QStringLiteral("93.46"));
    QCOMPARE(model.data(model.index(1, PlansModel::RealisedMsColumn), PlansModel::SortRole).toDouble(), 93.456);
    QCOMPARE(display(model, 0, PlansModel::RealisedMsColumn), QString());
    model.setRealisedBatchMs(7, 1.0); // not listed: ignored
    QCOMPARE(changed.count(), 1);
    // A reload that keeps plan 2 keeps its realised time; plan 1's gap stays a gap.
    model.setPlans({ planRecord(2, "{}", 90.0, 9), planRecord(3, "{}", 80.0, 12) });
    QCOMPARE(display(model, 0, PlansModel::RealisedMsColumn), QStringLiteral("93.46"));
    QCOMPARE(display(model, 1, PlansModel::RealisedMsColumn), QString());
}

void TestPlansModel::addPlanAppends()
{
    PlansModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.addPlan(planRecord(1, "{}", 100.0, 5));
    model.addPlan(planRecord(2, "{}", 90.0, std::nullopt));
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(inserted.at(1).at(1).toInt(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowOfPlan(2), 1);
    QCOMPARE(model.rowOfPlan(3), -1);
}

void TestPlansModel::predictedMsSortsAsNumbers()
{
    PlansModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    // As text "100.00" < "9.50" < "95.00"; as numbers 9.5 < 95 < 100.
    model.setPlans({ planRecord(1, "{}", 100.0, 1), planRecord(2, "{}", 9.5, 2), planRecord(3, "{}", 95.0, 3) });
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(PlansModel::SortRole);
    proxy.sort(PlansModel::PredictedMsColumn, Qt::AscendingOrder);
    QList<qint64> order;
    for (int row = 0; row < proxy.rowCount(); ++row)
        order.append(proxy.index(row, 0).data(PlansModel::PlanIdRole).toLongLong());
    QCOMPARE(order, (QList<qint64> { 2, 3, 1 }));
}

// Plans written by RunStore come back through plans(run) with their bounds' ρ.
void TestPlansModel::plansFromTheStore()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t run = store.beginRun(test::newRun("planned"));
    const auto first = test::makePlan(0.3);
    const auto second = test::makePlan(0.6);
    store.recordPlan(run, { 10, 11, PlanSource::Engine, first });
    store.recordPlan(run, { 50, 0, PlanSource::User, second });
    PlansModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPlans(store.plans(run));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(display(model, 0, PlansModel::MaxFreezeColumn), QStringLiteral("0.3"));
    QCOMPARE(display(model, 1, PlansModel::MaxFreezeColumn), QStringLiteral("0.6"));
    QCOMPARE(display(model, 0, PlansModel::AppliedAtStepColumn), QStringLiteral("11"));
    QCOMPARE(model.data(model.index(1, PlansModel::PredictedMsColumn), PlansModel::SortRole).toDouble(),
        second->batchMsPlanned);
    QCOMPARE(model.data(model.index(0, PlansModel::NoFreezeMsColumn), PlansModel::SortRole).toDouble(),
        first->batchMsNoFreeze);
}

void TestPlansModel::everyHeaderExplainsItself()
{
    PlansModel model;
    for (int column = 0; column < PlansModel::ColumnCount; ++column) {
        const QString title = model.headerData(column, Qt::Horizontal, Qt::DisplayRole).toString();
        const QString tip = model.headerData(column, Qt::Horizontal, Qt::ToolTipRole).toString();
        QVERIFY(!title.isEmpty());
        QVERIFY2(tip.size() > title.size() + 10, qPrintable(title + QStringLiteral(": ") + tip));
    }
}

QTEST_GUILESS_MAIN(TestPlansModel)
#include "tst_plansmodel.moc"
