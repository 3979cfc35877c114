// The studio end to end, offscreen: files measured elsewhere (profiles, plans, traces, and bad
// ones), the bounds → plan → undo loop, a run from the history with its exports, the comparison of
// two runs, and (with the engine) a live run that is planned, applied and checked in the database,
// and one that fails.

#include "core/export/trace_import.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/profile_io.h"
#include "core/plan/synthetic_profile.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "core/store/synthetic_run.h"
#include "ui/bounds_panel.h"
#include "ui/error_banner.h"
#include "ui/main_window.h"
#include "ui/metrics_charts.h"
#include "ui/metrics_history.h"
#include "ui/placeholder_table_view.h"
#include "ui/plans_model.h"
#include "ui/run_comparison_model.h"
#include "ui/run_comparison_window.h"
#include "ui/run_history_browser.h"
#include "ui/run_history_model.h"
#include "ui/stage_bounds_model.h"
#include "ui/timeline_data.h"
#include "ui/timeline_view.h"
#include "ui/tradeoff_chart.h"
#ifdef TFREEZE_WITH_ENGINE
#include "core/engine/run_config.h"
#include "ui/engine_controller.h"
#include "ui/live_run_bench.h"
#endif

#include <nlohmann/json.hpp>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDockWidget>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QMap>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSplitter>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

using namespace tfreeze;

namespace {

constexpr int kTimeoutMs = 120'000;

PipelineSchedule syntheticRunSchedule()
{
    return PipelineSchedule::generate({ ScheduleKind::OneFOneB, kSyntheticRunRanks, kSyntheticRunMicrobatches, 1 });
}

Profile smallProfile()
{
    SyntheticCosts costs;
    costs.forwardMs = { 1.0, 1.2, 0.9, 1.1 };
    costs.backwardMs = { 2.0, 2.6, 1.8, 2.2 };
    costs.backwardFrozenMs = { 1.0, 1.3, 0.9, 1.1 };
    return makeSyntheticProfile(PipelineSchedule::generate({ ScheduleKind::OneFOneB, 4, 8, 1 }), costs);
}

std::size_t lineCount(const QString& path)
{
    std::ifstream in(path.toStdString());
    return static_cast<std::size_t>(std::count(std::istreambuf_iterator<char>(in), {}, '\n'));
}

// Writes a run of `steps` synthetic steps (spans retained as the recorder does), an eval every 50
// steps and the plans applied. Returns the run id.
// Each plan of `plans` is applied at its step.
using AppliedPlans = std::vector<std::pair<std::int64_t, std::shared_ptr<const FreezePlan>>>;

std::int64_t writeRun(const QString& db, const QString& name, std::int64_t steps, const AppliedPlans& plans = {})
{
    RunConfig config;
    config.schedule = { ScheduleKind::OneFOneB, kSyntheticRunRanks, kSyntheticRunMicrobatches, 1 };
    const std::int64_t run
        = RunStore(db.toStdString()).beginRun({ name.toStdString(), writeRunConfigJson(config), "test" });
    RunRecorder recorder(db.toStdString(), run);
    for (std::int64_t step = 0; step < steps; ++step) {
        for (const auto& [planStep, plan] : plans)
            if (step == planStep)
                recorder.publish(PlanApplied { step, step, PlanSource::User, plan });
        publishSyntheticStep(recorder, step);
        if (step % 50 == 49)
            recorder.publish(EvalStats { step, 2.0 - 0.001 * static_cast<double>(step), 7.0, 0.4, -1.0 });
    }
    recorder.publish(RunFinished { steps, std::nullopt });
    recorder.close();
    return run;
}

// Answers the next message box with OK and keeps its text.
class MessageBoxCatcher : public QObject {
public:
    explicit MessageBoxCatcher(QObject* parent)
        : QObject(parent)
    {
        auto* timer = new QTimer(this);
        connect(timer, &QTimer::timeout, this, [this] {
            for (QWidget* widget : QApplication::topLevelWidgets()) {
                auto* box = qobject_cast<QMessageBox*>(widget);
                if (box && box->isVisible()) {
                    texts << box->windowTitle() + QStringLiteral(": ") + box->text();
                    box->done(QMessageBox::Ok);
                }
            }
        });
        timer->start(20);
    }
    QStringList texts;
};

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // QSettings of the tests stay apart from a user's, and from another run of this suite at the
        // same time (ctest --repeat, a second build directory): each run keeps them in its own directory.
        QVERIFY(m_dir.isValid());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QCoreApplication::setOrganizationName(QStringLiteral("TimelyFreezeTests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
        QVERIFY(QSettings().fileName().startsWith(m_dir.path()));
        QSettings().clear();
    }

    // Two actions with one shortcut in the same context make Qt fire neither ("ambiguous"): every
    // window-wide shortcut must be unique, and the documented ones must be there.
    void shortcutsAreUniqueAndPresent()
    {
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        QMap<QString, QString> owner;
        for (QAction* action : window.findChildren<QAction*>()) {
            if (action->shortcut().isEmpty() || action->shortcutContext() != Qt::WindowShortcut)
                continue;
            const QString key = action->shortcut().toString();
            QVERIFY2(!owner.contains(key),
                qPrintable(
                    QStringLiteral("%1 is used by both '%2' and '%3'").arg(key, owner.value(key), action->text())));
            owner.insert(key, action->text());
        }
        const QList<QPair<const char*, QKeySequence>> expected {
            { "newRun", QKeySequence::New },
            { "open", QKeySequence::Open },
            { "start", QKeySequence(Qt::CTRL | Qt::Key_R) },
            { "pause", QKeySequence(Qt::CTRL | Qt::Key_P) },
            { "resume", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P) },
            { "stop", QKeySequence(Qt::CTRL | Qt::Key_Period) },
            { "plan", QKeySequence(Qt::CTRL | Qt::Key_L) },
            { "apply", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L) },
            { "stopPlanning", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Period) },
            { "undo", QKeySequence::Undo },
            { "redo", QKeySequence::Redo },
        };
        for (const auto& [name, key] : expected) {
            QAction* action = window.action(QString::fromLatin1(name));
            QVERIFY2(action, name);
#ifdef TFREEZE_WITH_ENGINE
            QCOMPARE(action->shortcut(), key);
#else
            if (QByteArray(name) != "pause" && QByteArray(name) != "resume" && QByteArray(name) != "stop")
                QCOMPARE(action->shortcut(), key);
#endif
        }
        // Nothing to plan, apply or export before anything is open or running.
        QVERIFY(!window.action(QStringLiteral("apply"))->isEnabled());
        QVERIFY(!window.action(QStringLiteral("stopPlanning"))->isEnabled());
        QVERIFY(!window.action(QStringLiteral("exportPlanJson"))->isEnabled());
        QVERIFY(!window.action(QStringLiteral("exportMetrics"))->isEnabled());
    }

    void remembersTheDatabaseAndRecentFiles()
    {
        const QString db = m_dir.filePath(QStringLiteral("remembered.sqlite"));
        const QString path = m_dir.filePath(QStringLiteral("recent-profile.json"));
        writeProfileFile(smallProfile(), path.toStdString());
        {
            MainWindow window;
            window.setDatabasePath(db);
            QSignalSpy loaded(&window, &MainWindow::documentLoaded);
            window.openFile(path);
            QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
            // The user hides a run history column and the splitter moves.
            window.historyBrowser()->view()->horizontalHeader()->setSectionHidden(RunHistoryModel::NotesColumn, true);
            window.findChild<QSplitter*>(QStringLiteral("centreSplitter"))->setSizes({ 600, 200 });
            window.close(); // saves the settings
        }
        MainWindow again;
        QCOMPARE(again.databasePath(), db);
        QVERIFY(QSettings().value(QStringLiteral("recentFiles")).toStringList().contains(path));
        QVERIFY(again.historyBrowser()->view()->horizontalHeader()->isSectionHidden(RunHistoryModel::NotesColumn));
        QVERIFY(!again.historyBrowser()->view()->horizontalHeader()->isSectionHidden(RunHistoryModel::NameColumn));
        // The splitter comes back as it was saved.
        const QByteArray splitterState = QSettings().value(QStringLiteral("window/centreSplitter")).toByteArray();
        QVERIFY(!splitterState.isEmpty());
        QCOMPARE(again.findChild<QSplitter*>(QStringLiteral("centreSplitter"))->saveState(), splitterState);
    }

    void opensAProfileAndPlansIt()
    {
        const QString path = m_dir.filePath(QStringLiteral("profile.json"));
        const Profile profile = smallProfile();
        writeProfileFile(profile, path.toStdString());
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        QSignalSpy planned(&window, &MainWindow::candidatePlanChanged);
        window.openFile(path);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QCOMPARE(window.document().source(), RunDocument::Source::Profile);
        // The measured pane shows the profile's unfrozen timeline: every action, and the simulated batch time.
        QCOMPARE(window.timelineView()->measured().bars.size(), profile.costs().size());
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr, kTimeoutMs);
        const FreezeBounds bounds = window.boundsPanel()->bounds();
        const FreezePlan direct = FreezePlanner(profile).plan(bounds);
        QCOMPARE(window.candidatePlan()->batchMsPlanned, direct.batchMsPlanned);
        QCOMPARE(window.timelineView()->planned().bars.size(), profile.costs().size());
        QCOMPARE(window.timelineView()->planned().batchMs, direct.batchMsPlanned);
        QVERIFY(window.candidatePlan()->batchMsPlanned < window.candidatePlan()->batchMsNoFreeze);
        // The trade-off curve arrives for the same profile.
        QTRY_VERIFY_WITH_TIMEOUT(!window.boundsPanel()->tradeoffChart()->curve().isEmpty(), kTimeoutMs);
        QCOMPARE(window.boundsPanel()->tradeoffChart()->curve().first().y(), direct.batchMsNoFreeze);
        QVERIFY(planned.count() >= 1);
        // A plan written where no folder is: the error names the file and the reason.
        const QString unwritable = m_dir.filePath(QStringLiteral("missing/plan.json"));
        QString error;
        QVERIFY(!window.writePlanTo(unwritable, false, &error));
        QVERIFY2(error.contains(unwritable) && error.contains(QStringLiteral("No such file or directory")),
            qPrintable(error));
    }

    // A large profile's first plan takes seconds: the status bar counts them, Stop Planning ends
    // it, and no plan appears.
    void stopsALongPlan()
    {
        const QString path = m_dir.filePath(QStringLiteral("profile-large.json"));
        SyntheticCosts costs;
        costs.jitter = 0.25;
        writeProfileFile(
            makeSyntheticProfile(PipelineSchedule::generate({ ScheduleKind::OneFOneB, 16, 128, 1 }), costs),
            path.toStdString());
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        auto* progress = window.findChild<QWidget*>(QStringLiteral("planningProgress"));
        auto* progressText = window.findChild<QLabel*>(QStringLiteral("planningProgressText"));
        auto* stopButton = window.findChild<QToolButton*>(QStringLiteral("stopPlanningButton"));
        QVERIFY(progress && progressText && stopButton);
        QVERIFY(progress->isHidden());
        QAction* stop = window.action(QStringLiteral("stopPlanning"));
        QCOMPARE(stopButton->defaultAction(), stop);
        window.openFile(path);
        QTRY_VERIFY_WITH_TIMEOUT(!progress->isHidden(), kTimeoutMs);
        QVERIFY2(progressText->text().startsWith(QStringLiteral("Planning: ")), qPrintable(progressText->text()));
        QVERIFY2(progressText->text().endsWith(QStringLiteral(" pivots")), qPrintable(progressText->text()));
        QVERIFY(stop->isEnabled());
        QVERIFY(stopButton->isEnabled());
        stopButton->click(); // the status bar's button, as a user would
        QTRY_VERIFY_WITH_TIMEOUT(progress->isHidden(), kTimeoutMs);
        QVERIFY(!stop->isEnabled());
        QCOMPARE(window.statusBar()->currentMessage(), QStringLiteral("Planning stopped"));
        QVERIFY(window.candidatePlan() == nullptr);
    }

    void draggingRhoReplansAndUndoRestores()
    {
        const QString path = m_dir.filePath(QStringLiteral("profile-rho.json"));
        const Profile profile = smallProfile();
        writeProfileFile(profile, path.toStdString());
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        window.openFile(path);
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr, kTimeoutMs);
        const double before = window.boundsPanel()->bounds().maxFreeze;
        QCOMPARE(window.candidatePlan()->bounds.maxFreeze, before);

        window.boundsPanel()->maxFreezeSlider()->setValue(250); // ρ = 0.25, as a drag would
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->bounds.maxFreeze, 0.25, kTimeoutMs);
        FreezeBounds quarter = window.boundsPanel()->bounds();
        QCOMPARE(quarter.maxFreeze, 0.25);
        QCOMPARE(window.candidatePlan()->batchMsPlanned, FreezePlanner(profile).plan(quarter).batchMsPlanned);
        // A smaller bound cannot be faster.
        QVERIFY(window.candidatePlan()->batchMsPlanned >= FreezePlanner(profile).plan(FreezeBounds {}).batchMsPlanned);

        QAction* undo = window.action(QStringLiteral("undo"));
        QVERIFY(undo->isEnabled());
        undo->trigger();
        QCOMPARE(window.boundsPanel()->bounds().maxFreeze, before);
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->bounds.maxFreeze, before, kTimeoutMs);
        window.action(QStringLiteral("redo"))->trigger();
        QCOMPARE(window.boundsPanel()->bounds().maxFreeze, 0.25);
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->bounds.maxFreeze, 0.25, kTimeoutMs);
    }

    // Bound changes less than 800 ms apart (the steps of one slider drag) merge into one undo step;
    // a change after a pause is a step of its own.
    void aDragIsOneUndoStep()
    {
        const QString path = m_dir.filePath(QStringLiteral("profile-drag.json"));
        writeProfileFile(smallProfile(), path.toStdString());
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        window.openFile(path);
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr, kTimeoutMs);
        const double before = window.boundsPanel()->bounds().maxFreeze;
        QVERIFY(before != 0.2 && before != 0.4 && before != 0.6);

        QSlider* slider = window.boundsPanel()->maxFreezeSlider();
        for (const int value : { 200, 300, 400 })
            slider->setValue(value);
        QTest::qWait(900);
        slider->setValue(600);
        QCOMPARE(window.boundsPanel()->bounds().maxFreeze, 0.6);
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->bounds.maxFreeze, 0.6, kTimeoutMs);

        QAction* undo = window.action(QStringLiteral("undo"));
        undo->trigger(); // the change after the pause alone
        QCOMPARE(window.boundsPanel()->bounds().maxFreeze, 0.4);
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->bounds.maxFreeze, 0.4, kTimeoutMs);
        QVERIFY(undo->isEnabled());
        undo->trigger(); // the whole drag
        QCOMPARE(window.boundsPanel()->bounds().maxFreeze, before);
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->bounds.maxFreeze, before, kTimeoutMs);
        QVERIFY(!undo->isEnabled());
    }

    // Exports with nothing to export say what is missing and write no file.
    void exportsWithNothingToExportSaySo()
    {
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        QString error;
        const QString plan = m_dir.filePath(QStringLiteral("nothing-plan.json"));
        QVERIFY(!window.writePlanTo(plan, false, &error));
        QVERIFY2(error.contains(QStringLiteral("no plan yet")), qPrintable(error));
        const QString trace = m_dir.filePath(QStringLiteral("nothing-trace.json"));
        QVERIFY(!window.writeTraceTo(trace, true, &error));
        QVERIFY2(error.contains(QStringLiteral("no measured step or plan")), qPrintable(error));
        const QString metrics = m_dir.filePath(QStringLiteral("nothing-metrics.csv"));
        QVERIFY(!window.writeMetricsTo(metrics, &error));
        QVERIFY2(error.contains(QStringLiteral("No step has been recorded")), qPrintable(error));
        for (const QString& file : { plan, trace, metrics })
            QVERIFY2(!QFileInfo::exists(file), qPrintable(file));
    }

    void opensAPlanAndATrace()
    {
        const Profile profile = smallProfile();
        FreezeBounds bounds;
        bounds.maxFreeze = 0.6;
        const FreezePlan plan = FreezePlanner(profile).plan(bounds);
        const QString planPath = m_dir.filePath(QStringLiteral("plan.json"));
        writePlanFile(plan, planPath.toStdString());
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        window.openFile(planPath);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QCOMPARE(window.boundsPanel()->bounds().maxFreeze, 0.6);
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr, kTimeoutMs);
        QCOMPARE(window.candidatePlan()->batchMsPlanned, plan.batchMsPlanned);

        // Exported again, the plan is the one opened.
        QString error;
        QVERIFY2(window.writePlanTo(m_dir.filePath(QStringLiteral("again.json")), false, &error), qPrintable(error));
        QCOMPARE(readPlanFile(m_dir.filePath(QStringLiteral("again.json")).toStdString()).batchMsPlanned,
            plan.batchMsPlanned);
        QVERIFY2(window.writePlanTo(m_dir.filePath(QStringLiteral("again.csv")), true, &error), qPrintable(error));
        QCOMPARE(lineCount(m_dir.filePath(QStringLiteral("again.csv"))), plan.actions.size() + 1);

        // A Chrome trace measured elsewhere (2 ranks × 2 microbatches, two batches, with metadata and
        // counter events beside the compute ones) becomes the profile planned, and the log says what
        // was read.
        const QString tracePath = QStringLiteral(TFREEZE_STORE_FIXTURES) + QStringLiteral("/export/object-1f1b.json");
        const TraceImport imported = importTraceProfile(tracePath.toStdString());
        window.openFile(tracePath);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, kTimeoutMs);
        QCOMPARE(window.document().source(), RunDocument::Source::Profile);
        QVERIFY(window.document().profile().has_value());
        QCOMPARE(window.document().profile()->actions(), imported.profile.actions());
        // (Opening a file drops the last plan at once; the new one follows from the planner.)
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr
                && window.candidatePlan()->profile.actions() == imported.profile.actions(),
            kTimeoutMs);
        const FreezePlan expected = FreezePlanner(imported.profile).plan(window.boundsPanel()->bounds());
        QCOMPARE(window.candidatePlan()->batchMsPlanned, expected.batchMsPlanned);
        QCOMPARE(window.candidatePlan()->batchMsNoFreeze, expected.batchMsNoFreeze);
        const auto* log = window.findChild<QDockWidget*>(QStringLiteral("logDock"));
        QVERIFY(log && qobject_cast<QPlainTextEdit*>(log->widget()));
        const QString logText = qobject_cast<QPlainTextEdit*>(log->widget())->toPlainText();
        const QString line = QStringLiteral("object-1f1b.json: %1 compute events of %2, 2 batches, ranks by process")
                                 .arg(imported.actionEventCount)
                                 .arg(imported.eventCount);
        QVERIFY2(logText.contains(line), qPrintable(logText));
    }

    void badFilesShowTheProblemAndKeepTheWindow_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("this is not JSON at all") << QStringLiteral("bad-");
        QTest::newRow("profile of the wrong shape")
            << QByteArray(R"({"format": "tfreeze-profile/1", "schedule": 5})") << QStringLiteral("schedule");
        QTest::newRow("plan without actions")
            << QByteArray(R"({"format": "tfreeze-plan/1"})") << QStringLiteral("bad-");
        QTest::newRow("empty trace") << QByteArray(R"({"traceEvents": []})") << QStringLiteral("bad-");
        QTest::newRow("missing file") << QByteArray() << QStringLiteral("missing");
    }

    void badFilesShowTheProblemAndKeepTheWindow()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        const QString good = m_dir.filePath(QStringLiteral("good.json"));
        writeProfileFile(smallProfile(), good.toStdString());
        const QString bad = content.isEmpty()
            ? m_dir.filePath(QStringLiteral("missing.json"))
            : m_dir.filePath(
                QStringLiteral("bad-%1.json")
                    .arg(QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'))));
        if (!content.isEmpty()) {
            QFile file(bad);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(content);
        }
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("empty.sqlite")));
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        window.openFile(good);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        const QString title = window.document().title();

        MessageBoxCatcher catcher(this);
        window.openFile(bad);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, kTimeoutMs);
        QCOMPARE(catcher.texts.size(), 1);
        QVERIFY2(catcher.texts.first().contains(expected), qPrintable(catcher.texts.first()));
        QVERIFY2(catcher.texts.first().contains(QFileInfo(bad).fileName()), qPrintable(catcher.texts.first()));
        // The window still shows what it showed, and still works.
        QCOMPARE(window.document().title(), title);
        QCOMPARE(window.timelineView()->measured().bars.size(), smallProfile().costs().size());
        window.openFile(good);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 3, kTimeoutMs);
        QCOMPARE(catcher.texts.size(), 1);
    }

    void replaysARunFromTheHistory()
    {
        const QString db = m_dir.filePath(QStringLiteral("history.sqlite"));
        const auto plan = std::make_shared<const FreezePlan>(
            FreezePlanner(makeSyntheticProfile(syntheticRunSchedule(), SyntheticCosts {})).plan(FreezeBounds {}));
        const std::int64_t run = writeRun(db, QStringLiteral("replayed"), 300, { { 250, plan } });
        const std::vector<std::int64_t> spanSteps
            = RunStore(db.toStdString(), RunStore::OpenMode::ReadOnly).spanSteps(run);

        MainWindow window;
        window.setDatabasePath(db);
        // Empty docks say how to fill them.
        auto* plansView = window.findChild<PlaceholderTableView*>(QStringLiteral("plansView"));
        auto* rangeView = window.findChild<PlaceholderTableView*>(QStringLiteral("rangeView"));
        QVERIFY(plansView && rangeView);
        QVERIFY(plansView->isPlaceholderShown() && plansView->placeholderText().contains(QStringLiteral("Ctrl+L")));
        QVERIFY(rangeView->isPlaceholderShown() && rangeView->placeholderText().contains(QStringLiteral("Shift+drag")));
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        QSignalSpy displayed(&window, &MainWindow::stepDisplayed);
        window.openHistoryRun(run);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QCOMPARE(window.document().steps().size(), std::size_t(300));
        QCOMPARE(window.document().evals().size(), std::size_t(6));
        QCOMPARE(window.document().metrics().stepCount(), 300);
        QCOMPARE(window.recordedSteps(), spanSteps);
        QCOMPARE(window.plansModel()->rowCount(), 1);
        // The last recorded step is shown, with its 64 actions.
        QTRY_VERIFY_WITH_TIMEOUT(!displayed.isEmpty(), kTimeoutMs);
        QCOMPARE(displayed.last().at(0).toLongLong(), spanSteps.back());
        QCOMPARE(window.timelineView()->measured().bars.size(), std::size_t(kSyntheticRunSpansPerStep));
        // The recorded plan comes back as the plan shown and exported.
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr, kTimeoutMs);
        QCOMPARE(window.candidatePlan()->batchMsPlanned, plan->batchMsPlanned);
        QVERIFY(!plansView->isPlaceholderShown());
        // Narrow dock: the plan, ρ, predicted and realised come first.
        QCOMPARE(plansView->horizontalHeader()->logicalIndex(1), int(PlansModel::MaxFreezeColumn));
        QCOMPARE(plansView->horizontalHeader()->logicalIndex(3), int(PlansModel::RealisedMsColumn));
        // A range selected on the shown step fills the range statistics in place of the hint.
        emit window.timelineView()->rangeSelected(0.0, window.timelineView()->measured().batchMs);
        QVERIFY(rangeView->model()->rowCount() > 0);
        QVERIFY(!rangeView->isPlaceholderShown());

        // Any recorded step, loaded from the database on demand.
        window.showStep(spanSteps[3]);
        QTRY_COMPARE_WITH_TIMEOUT(window.displayedStep(), std::optional<qint64>(spanSteps[3]), kTimeoutMs);
        QCOMPARE(window.timelineView()->measured().bars.size(), std::size_t(kSyntheticRunSpansPerStep));

        // Exports parse.
        QString error;
        const QString trace = m_dir.filePath(QStringLiteral("step.json"));
        QVERIFY2(window.writeTraceTo(trace, false, &error), qPrintable(error));
        // (The synthetic spans overlap on a rank, so the trace is read as JSON rather than imported.)
        std::ifstream traceIn(trace.toStdString());
        const nlohmann::json traceJson = nlohmann::json::parse(traceIn);
        int computeSlices = 0;
        int plannedSlices = 0;
        for (const auto& event : traceJson.at("traceEvents")) {
            if (event.value("ph", "") != "X")
                continue;
            computeSlices += event.value("cat", "") == "compute" ? 1 : 0;
            plannedSlices += event.value("cat", "") == "planned" ? 1 : 0;
        }
        QCOMPARE(computeSlices, kSyntheticRunSpansPerStep);
        QCOMPARE(plannedSlices, static_cast<int>(plan->actions.size()));
        const QString metrics = m_dir.filePath(QStringLiteral("metrics.csv"));
        QVERIFY2(window.writeMetricsTo(metrics, &error), qPrintable(error));
        QCOMPARE(lineCount(metrics), std::size_t(301)); // a header and one row a step (evals share rows)
        const QString unwritable = m_dir.filePath(QStringLiteral("missing/metrics.csv"));
        QVERIFY(!window.writeMetricsTo(unwritable, &error));
        QVERIFY2(error.contains(unwritable) && error.contains(QStringLiteral("No such file or directory")),
            qPrintable(error));
        const QString png = m_dir.filePath(QStringLiteral("timeline.png"));
        QVERIFY2(window.timelineView()->exportPng(png, &error), qPrintable(error));
        QVERIFY(!QImage(png).isNull());
        const QString chart = m_dir.filePath(QStringLiteral("loss.svg"));
        QVERIFY2(window.metricsCharts()->exportChart(MetricsCharts::LossChart, chart, &error), qPrintable(error));
        QVERIFY(QFileInfo(chart).size() > 0);
    }

    // A replayed run that did not run all its steps says how it ended, in the banner: an error for
    // a failure, a warning for an interrupted run, a note for a stopped one; a finished one hides it.
    void replayedRunsSayHowTheyEnded()
    {
        const QString db = m_dir.filePath(QStringLiteral("endings.sqlite"));
        const auto record = [&db](const char* name, const std::optional<TelemetryEvent>& end) {
            RunConfig config;
            config.schedule = { ScheduleKind::OneFOneB, kSyntheticRunRanks, kSyntheticRunMicrobatches, 1 };
            const std::int64_t run = RunStore(db.toStdString()).beginRun({ name, writeRunConfigJson(config), "test" });
            RunRecorder recorder(db.toStdString(), run);
            for (std::int64_t step = 0; step < 3; ++step)
                publishSyntheticStep(recorder, step);
            if (end)
                recorder.publish(*end);
            recorder.close(); // without an end: interrupted
            return run;
        };
        const std::int64_t stopped
            = record("stopped", RunFinished { 3, std::string("stopped by the user after step 3 of 10") });
        const std::int64_t failed = record("failed", RunFailed { 3, "loss is not finite" });
        const std::int64_t interrupted = record("interrupted", std::nullopt);
        const std::int64_t finished = record("finished", RunFinished { 3, std::nullopt });

        MainWindow window;
        window.setDatabasePath(db);
        window.show();
        const auto open = [&window](std::int64_t run) {
            QSignalSpy loaded(&window, &MainWindow::documentLoaded);
            window.openHistoryRun(run);
            QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        };
        open(stopped);
        QVERIFY(window.errorBanner()->isVisible());
        QCOMPARE(window.errorBanner()->level(), ErrorBanner::Level::Information);
        QCOMPARE(window.errorBanner()->text(),
            QStringLiteral("This run ended early: stopped by the user after step 3 of 10."));
        open(failed);
        QCOMPARE(window.errorBanner()->level(), ErrorBanner::Level::Error);
        QCOMPARE(window.errorBanner()->text(), QStringLiteral("This run failed: step 3: loss is not finite"));
        open(interrupted);
        QCOMPARE(window.errorBanner()->level(), ErrorBanner::Level::Warning);
        QCOMPARE(window.errorBanner()->text(),
            QStringLiteral("This run was interrupted (the recorder was closed before the run finished); shown is "
                           "what it recorded before."));
        open(finished);
        QVERIFY(!window.errorBanner()->isVisible());
        QCOMPARE(window.document().steps().size(), std::size_t(3));
    }

    // The plans dock picks which of a run's plans the timeline shows beside its steps.
    void plansDockPicksThePlanShown()
    {
        const QString db = m_dir.filePath(QStringLiteral("two-plans.sqlite"));
        FreezePlanner planner(makeSyntheticProfile(syntheticRunSchedule(), SyntheticCosts {}));
        FreezeBounds bounds;
        bounds.maxFreeze = 0.3;
        const auto light = std::make_shared<const FreezePlan>(planner.plan(bounds));
        bounds.maxFreeze = 0.9;
        const auto heavy = std::make_shared<const FreezePlan>(planner.plan(bounds));
        QVERIFY(heavy->batchMsPlanned < light->batchMsPlanned);
        const std::int64_t run = writeRun(db, QStringLiteral("two plans"), 120, { { 40, light }, { 80, heavy } });

        MainWindow window;
        window.setDatabasePath(db);
        window.show();
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        window.openHistoryRun(run);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QCOMPARE(window.plansModel()->rowCount(), 2);
        // The plan in force at the end is shown first.
        QTRY_VERIFY_WITH_TIMEOUT(window.candidatePlan() != nullptr, kTimeoutMs);
        QCOMPARE(window.candidatePlan()->batchMsPlanned, heavy->batchMsPlanned);

        auto* plansView = window.findChild<PlaceholderTableView*>(QStringLiteral("plansView"));
        QVERIFY(plansView);
        int lightRow = -1;
        for (int row = 0; row < window.plansModel()->rowCount(); ++row) {
            const QModelIndex index = window.plansModel()->index(row, PlansModel::MaxFreezeColumn);
            if (std::abs(window.plansModel()->data(index, PlansModel::SortRole).toDouble() - 0.3) < 1e-9)
                lightRow = row;
        }
        QVERIFY2(lightRow >= 0, "no row with ρ = 0.3");
        plansView->setFocus();
        plansView->setCurrentIndex(window.plansModel()->index(lightRow, PlansModel::IdColumn));
        QTest::keyClick(plansView, Qt::Key_Return);
        QTRY_COMPARE_WITH_TIMEOUT(window.candidatePlan()->batchMsPlanned, light->batchMsPlanned, kTimeoutMs);
        QCOMPARE(window.timelineView()->planned().batchMs, light->batchMsPlanned);
        QVERIFY2(window.timelineView()->planned().label.contains(QStringLiteral("0.30")),
            qPrintable(window.timelineView()->planned().label));
        // Exported, it is the plan picked.
        QString error;
        const QString path = m_dir.filePath(QStringLiteral("picked.json"));
        QVERIFY2(window.writePlanTo(path, false, &error), qPrintable(error));
        QCOMPARE(readPlanFile(path.toStdString()).bounds.maxFreeze, 0.3);
    }

    // A click on a chart shows the timeline of the nearest recorded step at or before it, and
    // stops following the latest step.
    void chartClickShowsTheNearestRecordedStep()
    {
        const QString db = m_dir.filePath(QStringLiteral("chart-click.sqlite"));
        const std::int64_t run = writeRun(db, QStringLiteral("clicked"), 300);
        const std::vector<std::int64_t> spanSteps
            = RunStore(db.toStdString(), RunStore::OpenMode::ReadOnly).spanSteps(run);
        QVERIFY(spanSteps.size() >= 3);
        // A step between two recorded ones.
        std::size_t before = 1;
        while (before + 1 < spanSteps.size() && spanSteps[before + 1] - spanSteps[before] < 2)
            ++before;
        QVERIFY2(before + 1 < spanSteps.size(), "no gap between recorded steps");
        const std::int64_t clicked = spanSteps[before] + 1;

        MainWindow window;
        window.setDatabasePath(db);
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        QSignalSpy displayed(&window, &MainWindow::stepDisplayed);
        window.openHistoryRun(run);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QTRY_COMPARE_WITH_TIMEOUT(window.displayedStep(), std::optional<qint64>(spanSteps.back()), kTimeoutMs);
        auto* follow = window.findChild<QCheckBox*>(QStringLiteral("followLatestStep"));
        auto* slider = window.findChild<QSlider*>(QStringLiteral("stepSlider"));
        QVERIFY(follow && slider);
        QVERIFY(follow->isChecked());

        emit window.metricsCharts()->stepActivated(clicked);
        QTRY_COMPARE_WITH_TIMEOUT(window.displayedStep(), std::optional<qint64>(spanSteps[before]), kTimeoutMs);
        QCOMPARE(window.timelineView()->measured().bars.size(), std::size_t(kSyntheticRunSpansPerStep));
        QVERIFY(!follow->isChecked());
        QCOMPARE(slider->value(), static_cast<int>(before));
        // Before the first recorded step there is nothing to show: the view stays.
        emit window.metricsCharts()->stepActivated(spanSteps.front() - 1);
        QCoreApplication::processEvents();
        QCOMPARE(window.displayedStep(), std::optional<qint64>(spanSteps[before]));
        // Following again goes back to the latest step.
        follow->setChecked(true);
        QTRY_COMPARE_WITH_TIMEOUT(window.displayedStep(), std::optional<qint64>(spanSteps.back()), kTimeoutMs);
    }

    // Plan with nothing open says why instead of planning.
    void planningWithNothingOpenSaysWhy()
    {
        MainWindow window;
        window.setDatabasePath(m_dir.filePath(QStringLiteral("nothing.sqlite")));
        QSignalSpy planned(&window, &MainWindow::candidatePlanChanged);
        window.planNow();
        QCOMPARE(window.statusBar()->currentMessage(),
            QStringLiteral("Nothing to plan for: start a run or open a profile or trace."));
        QCoreApplication::processEvents();
        QVERIFY(planned.isEmpty());
        QVERIFY(window.candidatePlan() == nullptr);
    }

    // A run that failed says why when it is opened; a history that cannot be read says so in the
    // banner, and the window goes on.
    void historyProblemsShowInTheBanner()
    {
        const QString db = m_dir.filePath(QStringLiteral("failed.sqlite"));
        const RunConfig defaults; // named: a temporary here trips GCC 12's -Wmaybe-uninitialized
        const std::int64_t run
            = RunStore(db.toStdString()).beginRun({ "diverged", writeRunConfigJson(defaults), "test" });
        {
            RunRecorder recorder(db.toStdString(), run);
            for (std::int64_t step = 0; step < 5; ++step)
                publishSyntheticStep(recorder, step);
            recorder.publish(RunFailed { 5, "rank 2: loss is NaN" });
            recorder.close();
        }
        MainWindow window;
        window.setDatabasePath(db);
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        window.openHistoryRun(run);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QVERIFY(window.errorBanner()->isVisibleTo(&window));
        QCOMPARE(window.errorBanner()->level(), ErrorBanner::Level::Error);
        QCOMPARE(window.errorBanner()->text(), QStringLiteral("This run failed: step 5: rank 2: loss is NaN"));
        QCOMPARE(window.document().steps().size(), std::size_t(5));

        const QString notADatabase
            = QStringLiteral(TFREEZE_STORE_FIXTURES) + QStringLiteral("/store/not-a-database.sqlite");
        window.setDatabasePath(notADatabase);
        window.openHistoryRun(1);
        QTRY_VERIFY_WITH_TIMEOUT(
            window.errorBanner()->text().contains(QStringLiteral("not an SQLite database")), kTimeoutMs);
        QVERIFY2(window.errorBanner()->text().contains(QStringLiteral("not-a-database.sqlite")),
            qPrintable(window.errorBanner()->text()));
        QCOMPARE(window.errorBanner()->level(), ErrorBanner::Level::Error);
        // The window still opens what it can.
        window.setDatabasePath(db);
        window.openHistoryRun(run);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 2, kTimeoutMs);
        QCOMPARE(window.document().steps().size(), std::size_t(5));
    }

    void comparesTwoRuns()
    {
        const QString db = m_dir.filePath(QStringLiteral("compare.sqlite"));
        const std::int64_t a = writeRun(db, QStringLiteral("a"), 220);
        const std::int64_t b = writeRun(db, QStringLiteral("b"), 260);
        RunStore store(db.toStdString(), RunStore::OpenMode::ReadOnly);
        std::vector<std::int64_t> common;
        const auto stepsA = store.spanSteps(a);
        const auto stepsB = store.spanSteps(b);
        std::set_intersection(stepsA.begin(), stepsA.end(), stepsB.begin(), stepsB.end(), std::back_inserter(common));

        RunComparisonWindow window(db, a, b);
        QSignalSpy shown(&window, &RunComparisonWindow::stepShown);
        window.show();
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty(), kTimeoutMs);
        QCOMPARE(window.commonSteps(), common);
        QCOMPARE(shown.last().at(0).toLongLong(), common.back());
        for (int side = 0; side < 2; ++side)
            QCOMPARE(window.timeline(side)->measured().bars.size(), std::size_t(kSyntheticRunSpansPerStep));
        QTRY_VERIFY_WITH_TIMEOUT(window.model()->rowCount() > 0, kTimeoutMs);
        // One time axis: zooming the upper view moves the lower one.
        window.timeline(0)->setVisibleRange(1.0, 5.0);
        QCOMPARE(window.timeline(1)->visibleRange(), window.timeline(0)->visibleRange());
        // The delta table gets a third of the height, as each timeline does, not what is left over.
        const auto* table = window.findChild<QTableView*>();
        QVERIFY(table);
        QVERIFY2(table->height() >= window.timeline(0)->height(),
            qPrintable(
                QStringLiteral("table %1 px, timeline %2 px").arg(table->height()).arg(window.timeline(0)->height())));

        // From the main window: two runs picked in the history and compared open that window.
        MainWindow main;
        main.setDatabasePath(db);
        QTRY_VERIFY_WITH_TIMEOUT(main.historyBrowser()->model()->rowCount() == 2, kTimeoutMs);
        main.historyBrowser()->selectRun(b);
        QVERIFY(!main.historyBrowser()->compareAction()->isEnabled());
        main.historyBrowser()->selectRun(a);
        QVERIFY(main.historyBrowser()->compareAction()->isEnabled());
        main.historyBrowser()->compareAction()->trigger();
        auto* opened = main.findChild<RunComparisonWindow*>();
        QVERIFY(opened);
        QVERIFY(opened->isVisible());
        QVERIFY(opened->testAttribute(Qt::WA_DeleteOnClose));
        QTRY_COMPARE_WITH_TIMEOUT(opened->commonSteps(), common, kTimeoutMs);
        opened->close();
        QTRY_VERIFY_WITH_TIMEOUT(main.findChild<RunComparisonWindow*>() == nullptr, kTimeoutMs);
    }

#ifdef TFREEZE_WITH_ENGINE
    // The issue's end-to-end path: a live run, planned from its own measurements, the plan applied,
    // the engine switched to it (the spans freeze what the plan says) and the database holds it.
    void liveRunPlanApplyEndToEnd()
    {
        RunConfig config = liveRunBenchConfig(100'000); // stopped by the test
        config.seed = 11;
        config.processors = 1; // its two ranks share one: the estimate from spans must know
        config.output.db = m_dir.filePath(QStringLiteral("live.sqlite")).toStdString();

        MainWindow window;
        window.setDatabasePath(QString::fromStdString(config.output.db));
        window.show();
        window.startRun(config, QStringLiteral("live end to end"));
        QTRY_VERIFY_WITH_TIMEOUT(window.document().steps().size() >= 6, kTimeoutMs);
        QVERIFY(window.displayedStep().has_value()); // following the latest step
        QVERIFY(window.action(QStringLiteral("stop"))->isEnabled());

        QSignalSpy planned(&window, &MainWindow::candidatePlanChanged);
        window.planNow();
        QTRY_VERIFY_WITH_TIMEOUT(!planned.isEmpty(), kTimeoutMs);
        const auto plan = window.candidatePlan();
        QVERIFY(plan);
        // Planned on the work of each action under processor sharing, as the engine's profiler does.
        QCOMPARE(window.document().processors(), 1);
        QCOMPARE(plan->profile.processors(), 1);
        // Under the default weighted draw stage 0 freezes whole, as in the engine's own plans.
        QCOMPARE(config.freezer.firstStageDraw, FirstStageDraw::Weighted);
        QCOMPARE(plan->profile.allOrNothingStages(), std::vector<int> { 0 });
        QVERIFY(window.boundsPanel()->stageModel()->isWhole(0)); // and the bounds table says so
        QVERIFY(!window.boundsPanel()->stageModel()->isWhole(1));
        for (std::size_t i = 0; i < plan->actions.size(); ++i) {
            if (plan->profile.actions()[i].stage == 0)
                QVERIFY(plan->actions[i].ratio == 0.0 || plan->actions[i].ratio == 1.0);
        }
        // The plan is the LP optimum of its own profile (an independent solve).
        QCOMPARE(plan->batchMsPlanned, FreezePlanner(plan->profile).plan(plan->bounds).batchMsPlanned);
        QVERIFY(std::any_of(
            plan->actions.begin(), plan->actions.end(), [](const PlannedAction& a) { return a.ratio >= 0.5; }));

        window.applyPlan();
        QTRY_VERIFY_WITH_TIMEOUT(!window.document().plans().empty(), kTimeoutMs);
        const PlanApplied applied = window.document().plans().back();
        QCOMPARE(applied.source, PlanSource::User);
        QCOMPARE(applied.plan, plan);
        QCOMPARE(window.plansModel()->rowCount(), 1);
        const std::int64_t after = applied.appliedAtStep + 2;
        QTRY_VERIFY_WITH_TIMEOUT(window.document().spanCache().contains(after), kTimeoutMs);

        // Every backward of that step freezes the plan's share of its tensors.
        const auto actions = plan->profile.actions();
        int checked = 0;
        for (const ActionSpan& span : window.document().spanCache().spans(after)) {
            if (!isFreezable(span.kind))
                continue;
            const auto found = std::find(
                actions.begin(), actions.end(), Action { span.rank, span.stage, span.microbatch, span.kind });
            QVERIFY(found != actions.end());
            const double ratio = plan->actions[static_cast<std::size_t>(found - actions.begin())].ratio;
            QCOMPARE(span.frozenTensors, static_cast<int>(std::lround(ratio * span.totalTensors)));
            ++checked;
        }
        QCOMPARE(checked, 2 * 4); // 2 stages × 4 microbatches
        QTRY_VERIFY_WITH_TIMEOUT(window.statusBar()->findChildren<QLabel*>().size() >= 5, kTimeoutMs);
        // The status bar sets the plan against its steps, and the forwards' drift beside it.
        auto* batch = window.findChild<QLabel*>(QStringLiteral("batchStatus"));
        QVERIFY(batch);
        QTRY_VERIFY_WITH_TIMEOUT(batch->text().contains(QStringLiteral(", forwards ")), kTimeoutMs);
        const QRegularExpression batchText(
            QStringLiteral("^predicted ([0-9.]+) ms / realised [0-9.]+ ms \\([+\u2212][0-9]+\\.[0-9]%\\), forwards "
                           "[+\u2212][0-9]+\\.[0-9]%$"));
        const QRegularExpressionMatch match = batchText.match(batch->text());
        QVERIFY2(match.hasMatch(), qPrintable(batch->text()));
        QVERIFY(std::abs(match.captured(1).toDouble() - plan->batchMsPlanned) <= 0.051);
        QVERIFY(window.document().forwardDrift(applied.appliedAtStep).has_value());
        // The tooltip scales the prediction by the forwards' drift, as `tfreeze train` prints it: the
        // figures in it agree with the plan's to the rounding of what the tooltip shows (two decimals
        // below 10 ms, one above; the drift to 0.1%). Not the label's prediction: rounded to 0.1 ms,
        // scaled by a drift of −50% it is off by up to 0.025 ms, more than a 7 ms figure's rounding.
        const QRegularExpression tipText(QStringLiteral(
            "ran ([+\u2212][0-9]+\\.[0-9])% against the profile.*At that speed the plan predicts ([0-9.]+) ms"));
        const QRegularExpressionMatch tip = tipText.match(batch->toolTip());
        QVERIFY2(tip.hasMatch(), qPrintable(batch->toolTip()));
        const double drift = QString(tip.captured(1)).replace(QChar(0x2212), QLatin1Char('-')).toDouble() / 100.0;
        const double atTheirSpeed = tip.captured(2).toDouble();
        const double driftRounding = 0.0005 * plan->batchMsPlanned;
        const double shownRounding = atTheirSpeed < 10.0 ? 0.005 : 0.05;
        QVERIFY2(std::abs(atTheirSpeed - plan->batchMsPlanned * (1.0 + drift)) <= driftRounding + shownRounding + 1e-6,
            qPrintable(batch->toolTip()));

        // Picking an earlier step on the slider stops following the run; following again shows
        // the latest step as it arrives.
        auto* follow = window.findChild<QCheckBox*>(QStringLiteral("followLatestStep"));
        auto* slider = window.findChild<QSlider*>(QStringLiteral("stepSlider"));
        QVERIFY(follow && slider && follow->isChecked());
        QTRY_VERIFY_WITH_TIMEOUT(window.recordedSteps().size() >= 2, kTimeoutMs);
        const std::int64_t first = window.recordedSteps().front();
        slider->setValue(0);
        QVERIFY(!follow->isChecked());
        QTRY_COMPARE_WITH_TIMEOUT(window.displayedStep(), std::optional<qint64>(first), kTimeoutMs);
        const std::int64_t latest = window.recordedSteps().back();
        QTRY_VERIFY_WITH_TIMEOUT(window.recordedSteps().back() > latest, kTimeoutMs);
        QCOMPARE(window.displayedStep(), std::optional<qint64>(first)); // still where it was put
        follow->setChecked(true);
        QTRY_VERIFY_WITH_TIMEOUT(window.displayedStep() > std::optional<qint64>(first), kTimeoutMs);

        window.action(QStringLiteral("stop"))->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(window.engine()->state() == EngineController::State::Finished, kTimeoutMs);
        // The log and the status bar say how far it got, and what the plan predicted against the steps.
        const auto* logDock = window.findChild<QDockWidget*>(QStringLiteral("logDock"));
        QVERIFY(logDock && qobject_cast<QPlainTextEdit*>(logDock->widget()));
        const QString logText = qobject_cast<QPlainTextEdit*>(logDock->widget())->toPlainText();
        const QRegularExpression ending(QStringLiteral(
            R"(The run was stopped after step \d+; validation loss \d+\.\d{4}, \d+ tokens/s; plan: predicted batch )"));
        QVERIFY2(logText.contains(ending), qPrintable(logText));
        QVERIFY2(window.statusBar()->currentMessage().startsWith(QStringLiteral("The run was stopped after step ")),
            qPrintable(window.statusBar()->currentMessage()));
        RunStore store(config.output.db, RunStore::OpenMode::ReadOnly);
        const auto plans = store.plans(window.engine()->runId());
        QCOMPARE(plans.size(), std::size_t(1));
        QCOMPARE(plans[0].source, PlanSource::User);
        QCOMPARE(plans[0].appliedAtStep, std::optional<std::int64_t>(applied.appliedAtStep));
        QCOMPARE(plans[0].batchMsPlanned, plan->batchMsPlanned);
        QCOMPARE(store.run(window.engine()->runId()).status, RunStatus::Stopped);
    }

    void engineFailureShowsABannerAndTheWindowGoesOn()
    {
        RunConfig config = liveRunBenchConfig(200);
        config.optimizer.lr = 10.0;
        config.optimizer.weightDecay = 10.0;
        config.optimizer.warmupSteps = 0;
        config.optimizer.decay = LearningRateDecay::Constant;
        config.optimizer.gradClip = 0.0;
        config.output.db = m_dir.filePath(QStringLiteral("failing.sqlite")).toStdString();
        MainWindow window;
        window.setDatabasePath(QString::fromStdString(config.output.db));
        window.show();
        window.startRun(config, QStringLiteral("diverges"));
        QTRY_VERIFY_WITH_TIMEOUT(window.engine()->state() == EngineController::State::Failed, kTimeoutMs);
        QTRY_VERIFY_WITH_TIMEOUT(window.errorBanner()->isVisible(), kTimeoutMs);
        QVERIFY2(window.errorBanner()->text().contains(QStringLiteral("non-finite")),
            qPrintable(window.errorBanner()->text()));
        QCOMPARE(window.errorBanner()->level(), ErrorBanner::Level::Error);
        RunStore store(config.output.db, RunStore::OpenMode::ReadOnly);
        QCOMPARE(store.run(window.engine()->runId()).status, RunStatus::Failed);
        // Still usable: a new run can be started and a file opened.
        QVERIFY(window.action(QStringLiteral("newRun"))->isEnabled());
        const QString path = m_dir.filePath(QStringLiteral("after-failure.json"));
        writeProfileFile(smallProfile(), path.toStdString());
        QSignalSpy loaded(&window, &MainWindow::documentLoaded);
        window.openFile(path);
        QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
        QCOMPARE(window.document().source(), RunDocument::Source::Profile);
    }
#endif

private:
    QTemporaryDir m_dir;
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
