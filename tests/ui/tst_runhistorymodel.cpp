#include "core/engine/run_config.h"
#include "core/plan/plan_error.h"
#include "core/store/run_store.h"
#include "ui/run_history_browser.h"
#include "ui/run_history_loader.h"
#include "ui/run_history_model.h"

#include "../store/store_test_support.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTimer>
#include <QtTest>

#include <memory>

using namespace tfreeze;

namespace {

constexpr int kLoadTimeoutMs = 60'000; // a generous bound for a shared machine; not a timing check

std::string configJson(ScheduleKind kind, int ranks, int microbatches, FreezerKind freezer, double maxFreeze,
    std::vector<double> perStage = {}, int processors = 0)
{
    RunConfig config;
    config.processors = processors;
    config.schedule = ScheduleShape { kind, ranks, microbatches, 1 };
    config.freezer.kind = freezer;
    config.bounds.maxFreeze = maxFreeze;
    config.bounds.maxFreezePerStage = std::move(perStage);
    return writeRunConfigJson(config);
}

StepStats step(std::int64_t number, double loss, double tokensPerSecond)
{
    StepStats stats = test::makeStep(number);
    stats.loss = loss;
    stats.tokensPerSecond = tokensPerSecond;
    return stats;
}

// Four runs, ids 1 to 4:
//   1 "baseline" 1F1B 4×8, none, ρ 0.9, finished, tokens/s 800 and 1000 (mean 900), final loss 2.5
//   2 "timely zb" ZBH1 2×16 on 1 processor, timelyfreeze, ρ 0.5, failed, tokens/s 1200, final loss 2.1,
//     a plan, spans
//   3 "hand-made" config that does not parse, running, tokens/s 10000, final loss 3.0
//   4 "stages" GPipe 2×4, apf, ρ per stage, finished, no steps
struct Fixture {
    QTemporaryDir dir;
    QString path;
    std::int64_t planId = 0;

    Fixture()
    {
        path = dir.filePath(QStringLiteral("history.sqlite"));
        RunStore store(path.toStdString());
        const std::int64_t baseline = store.beginRun(
            test::newRun("baseline", configJson(ScheduleKind::OneFOneB, 4, 8, FreezerKind::None, 0.9)));
        store.recordStep(baseline, step(0, 3.0, 800.0));
        store.recordStep(baseline, step(1, 2.5, 1000.0));
        store.setRunStatus(baseline, RunStatus::Finished);
        const std::int64_t timely = store.beginRun(
            test::newRun("timely zb", configJson(ScheduleKind::ZBH1, 2, 16, FreezerKind::TimelyFreeze, 0.5, {}, 1)));
        store.recordStep(timely, step(0, 2.1, 1200.0));
        for (const ActionSpan& span : test::makeSpans(0))
            store.recordSpan(timely, span);
        planId = store.recordPlan(timely, { 0, 1, PlanSource::Engine, test::makePlan(0.5) });
        store.setRunStatus(timely, RunStatus::Failed, std::string("out of memory"));
        const std::int64_t handMade = store.beginRun(test::newRun("hand-made", "{not json"));
        store.recordStep(handMade, step(0, 3.0, 10000.0));
        store.beginRun(
            test::newRun("stages", configJson(ScheduleKind::GPipe, 2, 4, FreezerKind::Apf, 0.9, { 0.2, 0.7 })));
        store.setRunStatus(4, RunStatus::Finished);
    }
};

QVector<RunHistoryRow> loadRows(const QString& path)
{
    RunHistoryLoader loader;
    loader.setDatabasePath(path);
    QSignalSpy loaded(&loader, &RunHistoryLoader::runsLoaded);
    QSignalSpy failed(&loader, &RunHistoryLoader::loadFailed);
    loader.loadRuns();
    if (!loaded.wait(kLoadTimeoutMs)) {
        qWarning() << "no runsLoaded;" << failed;
        return {};
    }
    return loaded.at(0).at(0).value<QVector<RunHistoryRow>>();
}

QString display(const QAbstractItemModel& model, int row, int column)
{
    return model.data(model.index(row, column)).toString();
}

QList<qint64> proxyOrder(const QSortFilterProxyModel& proxy)
{
    QList<qint64> ids;
    for (int row = 0; row < proxy.rowCount(); ++row)
        ids.append(proxy.index(row, 0).data(RunHistoryModel::RunIdRole).toLongLong());
    return ids;
}

// A browser on the fixture, its first load done.
std::unique_ptr<RunHistoryBrowser> loadedBrowser(const QString& path)
{
    auto browser = std::make_unique<RunHistoryBrowser>();
    QSignalSpy reloaded(browser.get(), &RunHistoryBrowser::reloaded);
    browser->setDatabasePath(path);
    if (!reloaded.wait(kLoadTimeoutMs))
        return nullptr;
    return browser;
}

// Answers the next QMessageBox with `button` once it is open; records the text it showed.
void answerNextMessageBox(QMessageBox::StandardButton button, QString* text)
{
    QTimer::singleShot(0, [button, text] {
        for (QWidget* widget : QApplication::topLevelWidgets()) {
            if (auto* box = qobject_cast<QMessageBox*>(widget); box != nullptr && box->isVisible()) {
                *text = box->text();
                box->button(button)->click();
                return;
            }
        }
        answerNextMessageBox(button, text); // not shown yet: look again on the next turn
    });
}

} // namespace

class TestRunHistoryModel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { registerRunHistoryMetaTypes(); }
    void rowsAndColumnsMatchTheFixture();
    void statusIsColouredFromThePalette();
    void tokensPerSecondSortsAsNumbers();
    void shapeAndBoundSortAsNumbersAndNotesShowOneLine();
    void filterMatchesAnyColumnIgnoringCase_data();
    void filterMatchesAnyColumnIgnoringCase();
    void renameAndNotesPersistInTheFile();
    void renameAndNotesActionsEditTheirCell();
    void emptyNameIsRefused();
    void deleteAfterConfirmationRemovesTheRun();
    void cancelledDeleteKeepsTheRun();
    void openAndCompareEmitTheRuns();
    void replaySpansPlanAndComparisonLoad();
    void olderRunListIsDropped();
    void olderSchemaIsUpgradedAndListed();
    void badDatabaseReportsTheFile_data();
    void badDatabaseReportsTheFile();
    void checkDatabaseSaysWhatItFound();
};

void TestRunHistoryModel::rowsAndColumnsMatchTheFixture()
{
    Fixture fixture;
    RunHistoryModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setRows(loadRows(fixture.path));
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.columnCount(), 11);
    // Newest first, as RunStore lists them.
    QCOMPARE(model.runId(0), qint64 { 4 });
    QCOMPARE(model.runId(3), qint64 { 1 });
    QCOMPARE(model.rowOfRun(2), 2);
    const QLocale locale;
    struct Expected {
        int row;
        QStringList cells; // Name, Status, Schedule, Ranks × MB, Freezer, ρ, Steps, Final loss, Tokens/s
    };
    const QList<Expected> expected = {
        { 3,
            { QStringLiteral("baseline"), QStringLiteral("finished"), QStringLiteral("1F1B"), QStringLiteral("4 × 8"),
                QStringLiteral("none"), QStringLiteral("0.9"), QStringLiteral("2"), QStringLiteral("2.5000"),
                locale.toString(900.0, 'f', 0) } },
        { 2,
            { QStringLiteral("timely zb"), QStringLiteral("failed"), QStringLiteral("ZBH1"), QStringLiteral("2 × 16"),
                QStringLiteral("timelyfreeze"), QStringLiteral("0.5"), QStringLiteral("1"), QStringLiteral("2.1000"),
                locale.toString(1200.0, 'f', 0) } },
        { 1,
            { QStringLiteral("hand-made"), QStringLiteral("running"), QString(), QString(), QString(), QString(),
                QStringLiteral("1"), QStringLiteral("3.0000"), locale.toString(10000.0, 'f', 0) } },
        { 0,
            { QStringLiteral("stages"), QStringLiteral("finished"), QStringLiteral("GPipe"), QStringLiteral("2 × 4"),
                QStringLiteral("apf"), QStringLiteral("per stage"), QStringLiteral("0"), QString(), QString() } },
    };
    const QList<int> columns
        = { RunHistoryModel::NameColumn, RunHistoryModel::StatusColumn, RunHistoryModel::ScheduleColumn,
              RunHistoryModel::ShapeColumn, RunHistoryModel::FreezerColumn, RunHistoryModel::MaxFreezeColumn,
              RunHistoryModel::StepsColumn, RunHistoryModel::FinalLossColumn, RunHistoryModel::TokensPerSecondColumn };
    for (const Expected& row : expected) {
        for (int i = 0; i < columns.size(); ++i)
            QCOMPARE(display(model, row.row, columns[i]), row.cells[i]);
    }
    QVERIFY(display(model, 0, RunHistoryModel::CreatedColumn).contains(QLatin1Char(' ')));
    QCOMPARE(model.data(model.index(2, RunHistoryModel::StatusColumn), Qt::ToolTipRole).toString(),
        QStringLiteral("out of memory"));
    QCOMPARE(model.headerData(RunHistoryModel::TokensPerSecondColumn, Qt::Horizontal).toString(),
        QStringLiteral("Tokens/s"));
    QCOMPARE(model.headerData(RunHistoryModel::NotesColumn, Qt::Horizontal).toString(), QStringLiteral("Notes"));
}

void TestRunHistoryModel::statusIsColouredFromThePalette()
{
    Fixture fixture;
    RunHistoryModel model;
    model.setRows(loadRows(fixture.path));
    const QPalette palette = QGuiApplication::palette();
    const auto colour = [&model](int row) {
        return model.data(model.index(row, RunHistoryModel::StatusColumn), Qt::ForegroundRole).value<QColor>();
    };
    QCOMPARE(colour(3), palette.color(QPalette::Text)); // finished
    QCOMPARE(colour(1), palette.color(QPalette::Link)); // running
    QVERIFY(colour(2) != palette.color(QPalette::Text)); // failed stands out
    QVERIFY(colour(2).red() > colour(2).green());
    QVERIFY(!model.data(model.index(2, RunHistoryModel::NameColumn), Qt::ForegroundRole).isValid());
}

void TestRunHistoryModel::tokensPerSecondSortsAsNumbers()
{
    Fixture fixture;
    RunHistoryModel model;
    model.setRows(loadRows(fixture.path));
    QSortFilterProxyModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.setSortRole(RunHistoryModel::SortRole);
    proxy.sort(RunHistoryModel::TokensPerSecondColumn, Qt::AscendingOrder);
    QList<qint64> numeric = proxyOrder(proxy);
    numeric.removeAll(4); // no steps: no figure
    QCOMPARE(numeric, (QList<qint64> { 1, 2, 3 })); // 900 < 1,200 < 10,000
    // The check can fail: by the displayed text the order differs ("10,000" < "1,200" < "900" or
    // "10000" < "1200" < "900").
    proxy.setSortRole(Qt::DisplayRole);
    proxy.sort(RunHistoryModel::TokensPerSecondColumn, Qt::AscendingOrder);
    QList<qint64> textual = proxyOrder(proxy);
    textual.removeAll(4);
    QVERIFY(textual != numeric);
    proxy.setSortRole(RunHistoryModel::SortRole);
    proxy.sort(RunHistoryModel::TokensPerSecondColumn, Qt::DescendingOrder);
    QList<qint64> descending = proxyOrder(proxy);
    descending.removeAll(4);
    QCOMPARE(descending, (QList<qint64> { 3, 2, 1 }));
}

// Ranks × microbatches sorts by ranks, then microbatches (2 × 4 before 2 × 16, which text would
// put first); "per stage" bounds sort after every single ρ; a run without a readable config last
// (no value). Notes show their first line in the table and all of them in the tooltip.
void TestRunHistoryModel::shapeAndBoundSortAsNumbersAndNotesShowOneLine()
{
    Fixture fixture;
    RunStore(fixture.path.toStdString()).setRunNotes(1, "lr too high?\nrerun with 1e-3");
    RunHistoryModel model;
    model.setRows(loadRows(fixture.path));
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(RunHistoryModel::SortRole);
    proxy.sort(RunHistoryModel::ShapeColumn, Qt::AscendingOrder);
    QList<qint64> shapes = proxyOrder(proxy);
    shapes.removeAll(3); // its config is not JSON: no shape
    QCOMPARE(shapes, (QList<qint64> { 4, 2, 1 })); // 2 × 4, 2 × 16, 4 × 8
    proxy.setSortRole(Qt::DisplayRole);
    QList<qint64> textual = proxyOrder(proxy);
    textual.removeAll(3);
    QVERIFY(textual != shapes); // "2 × 16" < "2 × 4" as text: the check can fail
    proxy.setSortRole(RunHistoryModel::SortRole);
    proxy.sort(RunHistoryModel::MaxFreezeColumn, Qt::AscendingOrder);
    QList<qint64> bounds = proxyOrder(proxy);
    bounds.removeAll(3);
    QCOMPARE(bounds, (QList<qint64> { 2, 1, 4 })); // 0.5, 0.9, per stage

    const int row = model.rowOfRun(1);
    QCOMPARE(display(model, row, RunHistoryModel::NotesColumn), QStringLiteral("lr too high?"));
    const QModelIndex notes = model.index(row, RunHistoryModel::NotesColumn);
    QCOMPARE(model.data(notes, Qt::ToolTipRole).toString(), QStringLiteral("lr too high?\nrerun with 1e-3"));
    QCOMPARE(model.data(notes, Qt::EditRole).toString(), QStringLiteral("lr too high?\nrerun with 1e-3"));
    QVERIFY(!model.data(model.index(model.rowOfRun(2), RunHistoryModel::NotesColumn), Qt::ToolTipRole).isValid());
    // The run whose config this version cannot read says so where its config's columns are empty.
    QVERIFY(model.data(model.index(model.rowOfRun(3), RunHistoryModel::ScheduleColumn), Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("could not be read")));
}

void TestRunHistoryModel::filterMatchesAnyColumnIgnoringCase_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QList<qint64>>("runs");
    QTest::addRow("name, upper case") << QStringLiteral("BASELINE") << QList<qint64> { 1 };
    QTest::addRow("freezer") << QStringLiteral("Timely") << QList<qint64> { 2 };
    QTest::addRow("status") << QStringLiteral("FINISHED") << QList<qint64> { 4, 1 };
    QTest::addRow("schedule") << QStringLiteral("zbh1") << QList<qint64> { 2 };
    QTest::addRow("ρ per stage") << QStringLiteral("Per Stage") << QList<qint64> { 4 };
    QTest::addRow("shape") << QStringLiteral("2 × 16") << QList<qint64> { 2 };
    QTest::addRow("nothing") << QStringLiteral("no such run") << QList<qint64> {};
    QTest::addRow("empty: all") << QString() << QList<qint64> { 4, 3, 2, 1 };
}

void TestRunHistoryModel::filterMatchesAnyColumnIgnoringCase()
{
    QFETCH(QString, filter);
    QFETCH(QList<qint64>, runs);
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    QAbstractItemModelTester tester(browser->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    browser->proxy()->sort(-1); // the model's order: newest first
    browser->filterEdit()->setText(filter);
    QCOMPARE(proxyOrder(*browser->proxy()), runs);
}

void TestRunHistoryModel::renameAndNotesPersistInTheFile()
{
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    RunHistoryModel* model = browser->model();
    QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy written(browser->loader(), &RunHistoryLoader::writeFinished);
    const int row = model->rowOfRun(2);
    const QString name = QStringLiteral("timely \"zb\" — it's ρ=0.5");
    const QString notes = QStringLiteral("Läuft schneller; 冻结 B\nsecond line");
    QVERIFY(model->setData(model->index(row, RunHistoryModel::NameColumn), name));
    QCOMPARE(display(*model, row, RunHistoryModel::NameColumn), name); // the row updates at once
    QVERIFY(model->setData(model->index(row, RunHistoryModel::NotesColumn), notes));
    QCOMPARE(display(*model, row, RunHistoryModel::NotesColumn), QStringLiteral("Läuft schneller; 冻结 B"));
    QCOMPARE(model->data(model->index(row, RunHistoryModel::NotesColumn), Qt::EditRole).toString(), notes);
    while (written.count() < 2)
        QVERIFY(written.wait(kLoadTimeoutMs));
    QCOMPARE(browser->errorText(), QString());
    RunStore store(fixture.path.toStdString(), RunStore::OpenMode::ReadOnly);
    QCOMPARE(QString::fromStdString(store.run(2).name), name);
    QCOMPARE(QString::fromStdString(store.run(2).notes), notes);
    QCOMPARE(store.run(1).name, std::string("baseline"));
    QCOMPARE(store.run(1).notes, std::string());
    // A reload reads them back from the file.
    QSignalSpy reloaded(browser.get(), &RunHistoryBrowser::reloaded);
    browser->refreshAction()->trigger();
    QVERIFY(reloaded.wait(kLoadTimeoutMs));
    QCOMPARE(display(*model, model->rowOfRun(2), RunHistoryModel::NameColumn), name);
    // The filter finds a run by its notes.
    browser->filterEdit()->setText(QStringLiteral("LÄUFT"));
    QCOMPARE(proxyOrder(*browser->proxy()), QList<qint64> { 2 });
}

// Rename (F2) and Notes open the editor on the selected run's cell; what is typed there is saved,
// and Escape leaves the run as it was.
void TestRunHistoryModel::renameAndNotesActionsEditTheirCell()
{
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    // Not shown: on screen Qt's raster painting starts pooled threads that TSan (this suite carries
    // the label threaded) cannot see synchronise. The view edits all the same.
    RunHistoryModel* model = browser->model();
    QSignalSpy written(browser->loader(), &RunHistoryLoader::writeFinished);
    browser->selectRun(2);
    QVERIFY(browser->renameAction()->isEnabled());
    browser->renameAction()->trigger();
    const QModelIndex current = browser->proxy()->mapToSource(browser->view()->currentIndex());
    QCOMPARE(current.column(), int(RunHistoryModel::NameColumn));
    QCOMPARE(current.row(), model->rowOfRun(2));
    QPointer<QLineEdit> editor = browser->view()->viewport()->findChild<QLineEdit*>(); // the cell's editor
    QVERIFY(editor);
    editor->selectAll();
    QTest::keyClicks(editor, QStringLiteral("renamed here"));
    QTest::keyClick(editor, Qt::Key_Return); // the delegate commits from the event loop
    QTRY_COMPARE(display(*model, model->rowOfRun(2), RunHistoryModel::NameColumn), QStringLiteral("renamed here"));
    QVERIFY(written.count() >= 1 || written.wait(kLoadTimeoutMs));
    QCOMPARE(browser->errorText(), QString());
    QCOMPARE(
        RunStore(fixture.path.toStdString(), RunStore::OpenMode::ReadOnly).run(2).name, std::string("renamed here"));

    const QString notesBefore
        = model->data(model->index(model->rowOfRun(2), RunHistoryModel::NotesColumn), Qt::EditRole).toString();
    browser->selectRun(2);
    browser->notesAction()->trigger();
    QCOMPARE(
        browser->proxy()->mapToSource(browser->view()->currentIndex()).column(), int(RunHistoryModel::NotesColumn));
    QTRY_VERIFY(editor.isNull()); // the name's editor is closed and gone
    QPointer<QLineEdit> notesEditor = browser->view()->viewport()->findChild<QLineEdit*>();
    QVERIFY(notesEditor);
    QTest::keyClicks(notesEditor, QStringLiteral("never saved"));
    QTest::keyClick(notesEditor, Qt::Key_Escape);
    QTRY_VERIFY(notesEditor.isNull()); // closed without a write
    QCOMPARE(model->data(model->index(model->rowOfRun(2), RunHistoryModel::NotesColumn), Qt::EditRole).toString(),
        notesBefore);
    QCOMPARE(written.count(), 1);
}

void TestRunHistoryModel::emptyNameIsRefused()
{
    Fixture fixture;
    RunHistoryModel model;
    model.setRows(loadRows(fixture.path));
    QSignalSpy requested(&model, &RunHistoryModel::renameRequested);
    QVERIFY(!model.setData(model.index(0, RunHistoryModel::NameColumn), QStringLiteral("  ")));
    QVERIFY(!model.setData(model.index(0, RunHistoryModel::StatusColumn), QStringLiteral("finished")));
    QCOMPARE(requested.count(), 0);
    QCOMPARE(display(model, 0, RunHistoryModel::NameColumn), QStringLiteral("stages"));
    QVERIFY(model.flags(model.index(0, RunHistoryModel::NameColumn)) & Qt::ItemIsEditable);
    QVERIFY(model.flags(model.index(0, RunHistoryModel::NotesColumn)) & Qt::ItemIsEditable);
    QVERIFY(!(model.flags(model.index(0, RunHistoryModel::StepsColumn)) & Qt::ItemIsEditable));
}

void TestRunHistoryModel::deleteAfterConfirmationRemovesTheRun()
{
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    QAbstractItemModelTester tester(browser->proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    browser->selectRun(2);
    QCOMPARE(browser->selectedRuns(), QList<qint64> { 2 });
    QVERIFY(browser->deleteAction()->isEnabled());
    QSignalSpy reloaded(browser.get(), &RunHistoryBrowser::reloaded);
    QString question;
    answerNextMessageBox(QMessageBox::Yes, &question);
    browser->deleteAction()->trigger();
    QVERIFY2(question.contains(QLatin1String("timely zb")), qPrintable(question)); // names the run
    QVERIFY(reloaded.wait(kLoadTimeoutMs));
    QCOMPARE(browser->model()->rowCount(), 3);
    QCOMPARE(browser->model()->rowOfRun(2), -1);
    RunStore store(fixture.path.toStdString(), RunStore::OpenMode::ReadOnly);
    QVERIFY(!store.findRun(2));
    QCOMPARE(store.listRuns().size(), std::size_t { 3 });
    QVERIFY(store.plans(2).empty());
}

void TestRunHistoryModel::cancelledDeleteKeepsTheRun()
{
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    browser->selectRun(1);
    QString question;
    answerNextMessageBox(QMessageBox::Cancel, &question);
    browser->deleteAction()->trigger();
    QVERIFY2(question.contains(QLatin1String("baseline")), qPrintable(question));
    browser->loader()->waitForIdle(); // nothing was asked of it
    QCoreApplication::processEvents();
    QCOMPARE(browser->model()->rowCount(), 4);
    RunStore store(fixture.path.toStdString(), RunStore::OpenMode::ReadOnly);
    QVERIFY(store.findRun(1));
}

void TestRunHistoryModel::openAndCompareEmitTheRuns()
{
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    QSignalSpy opened(browser.get(), &RunHistoryBrowser::runOpened);
    QSignalSpy compared(browser.get(), &RunHistoryBrowser::compareRequested);
    browser->selectRun(3);
    QVERIFY(!browser->compareAction()->isEnabled());
    QTest::keyClick(browser->view(), Qt::Key_Return);
    QCOMPARE(opened.count(), 1);
    QCOMPARE(opened.at(0).at(0).toLongLong(), qint64 { 3 });
    browser->openAction()->trigger();
    QCOMPARE(opened.count(), 2);
    QCOMPARE(opened.at(1).at(0).toLongLong(), qint64 { 3 });
    browser->selectRun(1);
    QVERIFY(browser->compareAction()->isEnabled());
    QVERIFY(!browser->openAction()->isEnabled());
    browser->compareAction()->trigger();
    QCOMPARE(compared.count(), 1);
    QCOMPARE(compared.at(0).at(0).toLongLong(), qint64 { 1 }); // A: the older run
    QCOMPARE(compared.at(0).at(1).toLongLong(), qint64 { 3 });
}

void TestRunHistoryModel::replaySpansPlanAndComparisonLoad()
{
    Fixture fixture;
    RunHistoryLoader loader;
    loader.setDatabasePath(fixture.path);
    QSignalSpy failed(&loader, &RunHistoryLoader::loadFailed);

    QSignalSpy replayed(&loader, &RunHistoryLoader::replayLoaded);
    loader.loadReplay(2);
    QVERIFY(replayed.wait(kLoadTimeoutMs));
    const RunReplay replay = replayed.at(0).at(0).value<RunReplay>();
    QCOMPARE(replay.record.name, std::string("timely zb"));
    QCOMPARE(replay.steps.size(), std::size_t { 1 });
    QCOMPARE(replay.steps[0].tokensPerSecond, 1200.0);
    QCOMPARE(replay.plans.size(), std::size_t { 1 });
    QCOMPARE(replay.plans[0].id, fixture.planId);
    QCOMPARE(replay.spanSteps, std::vector<std::int64_t> { 0 });
    QVERIFY(replay.schedule);
    QCOMPARE(replay.schedule->kind, ScheduleKind::ZBH1);
    QCOMPARE(replay.schedule->ranks, 2);
    QCOMPARE(replay.schedule->microbatches, 16);
    QCOMPARE(replay.processors, 1); // its two ranks shared one processor

    QSignalSpy spans(&loader, &RunHistoryLoader::spansLoaded);
    loader.loadSpans(2, 0);
    QVERIFY(spans.wait(kLoadTimeoutMs));
    QCOMPARE(spans.at(0).at(0).toLongLong(), qint64 { 2 });
    QCOMPARE(spans.at(0).at(1).toLongLong(), qint64 { 0 });
    const auto loadedSpans = spans.at(0).at(2).value<std::vector<ActionSpan>>();
    QCOMPARE(loadedSpans.size(), std::size_t { test::kSpansPerStep });
    std::int64_t totalUs = 0;
    std::int64_t expectedUs = 0;
    for (const ActionSpan& span : loadedSpans)
        totalUs += span.endUs - span.startUs;
    for (const ActionSpan& span : test::makeSpans(0))
        expectedUs += span.endUs - span.startUs;
    QCOMPARE(totalUs, expectedUs);

    QSignalSpy plans(&loader, &RunHistoryLoader::planLoaded);
    loader.loadPlan(fixture.planId);
    QVERIFY(plans.wait(kLoadTimeoutMs));
    const auto plan = plans.at(0).at(1).value<std::shared_ptr<const FreezePlan>>();
    QVERIFY(plan);
    QCOMPARE(plan->batchMsPlanned, test::makePlan(0.5)->batchMsPlanned);

    QSignalSpy comparisons(&loader, &RunHistoryLoader::comparisonLoaded);
    loader.loadComparison(1, 2);
    QVERIFY(comparisons.wait(kLoadTimeoutMs));
    const RunComparison comparison = comparisons.at(0).at(0).value<RunComparison>();
    QCOMPARE(comparison.a.run, std::int64_t { 1 });
    QCOMPARE(comparison.a.meanTokensPerSecond, 900.0);
    QCOMPARE(comparison.b.finalLoss.value_or(0.0), 2.1);
    QCOMPARE(failed.count(), 0);

    // An unknown run is a loadFailed naming it, not a crash or silence.
    loader.loadReplay(42);
    QVERIFY(failed.wait(kLoadTimeoutMs));
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("run 42"));
    QVERIFY(failed.at(0).at(1).toString().contains(QLatin1String("no run with id 42")));
}

void TestRunHistoryModel::olderRunListIsDropped()
{
    Fixture fixture;
    RunHistoryLoader loader;
    loader.setDatabasePath(fixture.path);
    QSignalSpy loaded(&loader, &RunHistoryLoader::runsLoaded);
    loader.loadRuns();
    loader.loadRuns();
    loader.waitForIdle();
    QCoreApplication::processEvents();
    QCoreApplication::processEvents();
    QCOMPARE(loaded.count(), 1);
}

// A schema-1 file (the fixture with runs.notes dropped) lists after its upgrade to the current schema.
void TestRunHistoryModel::olderSchemaIsUpgradedAndListed()
{
    Fixture fixture;
    {
        RunStore store(fixture.path.toStdString());
        store.connection().execute("ALTER TABLE runs DROP COLUMN notes; PRAGMA user_version = 1");
    }
    QVERIFY_THROWS_EXCEPTION(InputError, RunStore(fixture.path.toStdString(), RunStore::OpenMode::ReadOnly));
    const QVector<RunHistoryRow> rows = loadRows(fixture.path);
    QCOMPARE(rows.size(), 4);
    QCOMPARE(rows[3].record.name, std::string("baseline"));
    QCOMPARE(
        RunStore(fixture.path.toStdString(), RunStore::OpenMode::ReadOnly).schemaVersion(), RunStore::kSchemaVersion);
}

void TestRunHistoryModel::badDatabaseReportsTheFile_data()
{
    QTest::addColumn<QByteArray>("content"); // empty: no file
    QTest::addRow("missing file") << QByteArray();
    QTest::addRow("text file") << QByteArray("this is not a database\n");
    // An SQLite header over garbage: SQLite itself finds the file broken.
    QByteArray broken("SQLite format 3\0", 16);
    broken.append(QByteArray(4096 - 16, '\x5a'));
    QTest::addRow("corrupt pages") << broken;
}

void TestRunHistoryModel::badDatabaseReportsTheFile()
{
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("broken-history.sqlite"));
    if (!content.isEmpty()) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
    }
    RunHistoryLoader loader;
    loader.setDatabasePath(path);
    QSignalSpy failed(&loader, &RunHistoryLoader::loadFailed);
    QSignalSpy loaded(&loader, &RunHistoryLoader::runsLoaded);
    loader.loadRuns();
    QVERIFY(failed.wait(kLoadTimeoutMs));
    QCOMPARE(loaded.count(), 0);
    QCOMPARE(failed.at(0).at(0).toString(), QStringLiteral("runs"));
    QVERIFY2(failed.at(0).at(1).toString().contains(path), qPrintable(failed.at(0).at(1).toString()));

    // The browser shows it in the widget.
    RunHistoryBrowser browser;
    QSignalSpy reloaded(&browser, &RunHistoryBrowser::reloaded);
    browser.setDatabasePath(path);
    // (A missing file is answered at once, without a load.)
    QVERIFY(!reloaded.isEmpty() || reloaded.wait(kLoadTimeoutMs));
    QVERIFY2(browser.errorText().contains(path), qPrintable(browser.errorText()));
    // A missing file is the first start, not an error; a bad one is named as unreadable.
    QCOMPARE(browser.errorText().startsWith(QStringLiteral("No runs yet")), content.isEmpty());
    QCOMPARE(browser.model()->rowCount(), 0);
    // A missing file stays missing: reading never creates a database.
    if (content.isEmpty())
        QVERIFY(!QFile::exists(path));
}

// Check Database reads the file off the GUI thread and answers in a message box: sound, the
// problems (in the details), or why it could not check at all.
void TestRunHistoryModel::checkDatabaseSaysWhatItFound()
{
    Fixture fixture;
    auto browser = loadedBrowser(fixture.path);
    QVERIFY(browser);
    QString text;
    const auto check = [&browser, &text] {
        text.clear();
        answerNextMessageBox(QMessageBox::Ok, &text);
        browser->checkAction()->trigger();
        QVERIFY(!browser->checkAction()->isEnabled()); // one check at a time
        QTRY_VERIFY_WITH_TIMEOUT(!text.isEmpty(), kLoadTimeoutMs);
        QVERIFY(browser->checkAction()->isEnabled());
    };
    check();
    QCOMPARE(text, QStringLiteral("No problems found in %1 (4 runs).").arg(fixture.path));

    {
        // Run 2 deleted behind the store's back (foreign keys off): its step, spans and plan are left.
        RunStore store(fixture.path.toStdString());
        store.connection().execute("PRAGMA foreign_keys = OFF");
        store.connection().execute("DELETE FROM runs WHERE id = 2");
    }
    check();
    QCOMPARE(text, QStringLiteral("%1: 3 problems found.").arg(fixture.path));

    QFile file(fixture.path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("this is not a database\n");
    file.close();
    check();
    QVERIFY2(text.startsWith(QStringLiteral("The run database could not be checked: %1").arg(fixture.path)),
        qPrintable(text));
}

QTEST_MAIN(TestRunHistoryModel)
#include "tst_runhistorymodel.moc"
