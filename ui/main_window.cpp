#include "ui/main_window.h"

#include "core/engine/run_config.h"
#include "core/export/chrome_trace_export.h"
#include "core/export/trace_import.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/plan/profile_io.h"
#include "core/plan/span_profile_estimate.h"
#include "core/store/metrics_csv.h"
#include "core/store/run_store.h"
#include "ui/about_dialog.h"
#include "ui/bounds_panel.h"
#include "ui/column_chooser.h"
#include "ui/error_banner.h"
#include "ui/metrics_charts.h"
#include "ui/new_run_dialog.h"
#include "ui/placeholder_table_view.h"
#include "ui/planning_service.h"
#include "ui/plans_model.h"
#include "ui/range_statistics.h"
#include "ui/range_statistics_model.h"
#include "ui/run_comparison_window.h"
#include "ui/run_history_browser.h"
#include "ui/run_history_loader.h"
#include "ui/telemetry_metatypes.h"
#include "ui/timeline_data.h"
#include "ui/timeline_legend.h"
#include "ui/timeline_view.h"
#include "ui/tradeoff_chart.h"
#ifdef TFREEZE_WITH_ENGINE
#include "ui/engine_controller.h"
#include "ui/telemetry_buffer.h"
#endif

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QToolBar>
#include <QToolButton>
#include <QUndoCommand>
#include <QUndoStack>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <array>
#include <cmath>
#include <fstream>
#include <variant>

namespace tfreeze {

namespace {

constexpr int kMaxRecentFiles = 8;
constexpr std::size_t kPlanningSteps = 10; // measured steps a live plan is estimated from

// An opened file, parsed off the GUI thread.
struct OpenedFile {
    QString path;
    std::variant<std::monostate, Profile, FreezePlan, TraceImport> content;
    QString error;
};

OpenedFile readStudioFile(const QString& path)
{
    OpenedFile result { path, {}, {} };
    try {
        const std::string file = path.toStdString();
        // Told by content, not by name: our JSON files carry their format tag near the start.
        std::ifstream in(file, std::ios::binary);
        if (!in)
            throw InputError(file, "", "cannot be opened for reading");
        std::string head(4096, '\0');
        in.read(head.data(), static_cast<std::streamsize>(head.size()));
        head.resize(static_cast<std::size_t>(in.gcount()));
        if (head.find("tfreeze-profile/") != std::string::npos)
            result.content = readProfileFile(file);
        else if (head.find("tfreeze-plan/") != std::string::npos)
            result.content = readPlanFile(file);
        else
            result.content = importTraceProfile(file);
    } catch (const std::exception& error) {
        result.error = QString::fromStdString(error.what());
    }
    return result;
}

// The phase as the status bar says it (the names of METHOD.md §6).
QString phaseDisplayName(TrainingPhase phase)
{
    switch (phase) {
    case TrainingPhase::WarmUp:
        return QObject::tr("warm-up");
    case TrainingPhase::MonitorMax:
        return QObject::tr("monitoring max");
    case TrainingPhase::MonitorMin:
        return QObject::tr("monitoring min");
    case TrainingPhase::Plan:
        return QObject::tr("planning");
    case TrainingPhase::Ramp:
        return QObject::tr("ramp");
    case TrainingPhase::Stable:
        return QObject::tr("stable");
    }
    return QString::fromLatin1(trainingPhaseName(phase));
}

QString formatMs(double ms) { return QStringLiteral("%1 ms").arg(ms, 0, 'f', ms < 10 ? 2 : 1); }

// A relative difference as the CLI prints it: +3.7%, −4.6% (a true minus sign).
QString signedPercent(double fraction)
{
    const QString digits = QString::number(std::abs(fraction) * 100.0, 'f', 1);
    return (fraction < 0.0 && digits != QLatin1String("0.0") ? QStringLiteral("\u2212") : QStringLiteral("+")) + digits
        + QLatin1Char('%');
}

// A change of the bounds, undoable. Consecutive changes within a drag merge into one command.
class BoundsChange : public QUndoCommand {
public:
    BoundsChange(
        BoundsPanel* panel, FreezeBounds before, FreezeBounds after, std::function<void(const FreezeBounds&)> apply)
        : QUndoCommand(QObject::tr("Change bounds"))
        , m_panel(panel)
        , m_before(std::move(before))
        , m_after(std::move(after))
        , m_apply(std::move(apply))
        , m_time(QDateTime::currentMSecsSinceEpoch())
    {
    }
    int id() const override { return 1; }
    bool mergeWith(const QUndoCommand* other) override
    {
        const auto* next = static_cast<const BoundsChange*>(other);
        if (next->m_time - m_time > 800)
            return false;
        m_after = next->m_after;
        m_time = next->m_time;
        return true;
    }
    void undo() override { set(m_before); }
    void redo() override
    {
        if (m_first) { // the panel already shows it: the user made this change
            m_first = false;
            return;
        }
        set(m_after);
    }

private:
    void set(const FreezeBounds& bounds)
    {
        m_panel->setBounds(bounds);
        m_apply(bounds);
    }
    BoundsPanel* m_panel;
    FreezeBounds m_before;
    FreezeBounds m_after;
    std::function<void(const FreezeBounds&)> m_apply;
    qint64 m_time;
    bool m_first = true;
};

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
{
    registerTelemetryMetaTypes();
    setWindowTitle(tr("TimelyFreeze Studio"));
    setObjectName(QStringLiteral("MainWindow"));
    m_undo = new QUndoStack(this);
    m_planner = new PlanningService(this);
    m_loader = new RunHistoryLoader(this);
#ifdef TFREEZE_WITH_ENGINE
    m_engine = new EngineController(this);
#endif

    // Centre: banner, timeline with its step controls, charts below.
    auto* centre = new QWidget(this);
    auto* centreLayout = new QVBoxLayout(centre);
    centreLayout->setContentsMargins(0, 0, 0, 0);
    m_banner = new ErrorBanner(centre);
    centreLayout->addWidget(m_banner);
    auto* splitter = new QSplitter(Qt::Vertical, centre);
    m_centreSplitter = splitter;
    splitter->setObjectName(QStringLiteral("centreSplitter"));
    auto* timelinePane = new QWidget(splitter);
    auto* timelineLayout = new QVBoxLayout(timelinePane);
    timelineLayout->setContentsMargins(0, 0, 0, 0);
    auto* stepRow = new QHBoxLayout;
    m_follow = new QCheckBox(tr("&Follow"), timelinePane);
    m_follow->setObjectName(QStringLiteral("followLatestStep"));
    m_follow->setChecked(true);
    m_follow->setToolTip(tr("Show the latest step as it arrives"));
    m_stepSlider = new QSlider(Qt::Horizontal, timelinePane);
    m_stepSlider->setObjectName(QStringLiteral("stepSlider"));
    m_stepSlider->setEnabled(false);
    m_stepSlider->setToolTip(tr("Pick a recorded step"));
    m_stepLabel = new QLabel(tr("no step"), timelinePane);
    m_plannedMode = new QComboBox(timelinePane);
    m_plannedMode->addItems({ tr("Plan hidden"), tr("Plan stacked"), tr("Plan overlaid") });
    m_plannedMode->setCurrentIndex(1);
    m_plannedMode->setToolTip(tr("How the predicted timeline of the plan is shown beside the measured step"));
    stepRow->addWidget(m_follow);
    stepRow->addWidget(m_stepSlider, 1);
    stepRow->addWidget(m_stepLabel);
    stepRow->addWidget(m_plannedMode);
    timelineLayout->addLayout(stepRow);
    m_timeline = new TimelineView(timelinePane);
    timelineLayout->addWidget(m_timeline, 1);
    auto* legend = new TimelineLegend(timelinePane);
    legend->setObjectName(QStringLiteral("timelineLegend"));
    timelineLayout->addWidget(legend);
    m_charts = new MetricsCharts(splitter);
    m_charts->setHistory(&m_document.metrics());
    splitter->addWidget(timelinePane);
    splitter->addWidget(m_charts);
    // Half each: four ranks and their plan fill about 230 px of timeline, and the charts need about
    // 190 px each for three or four round ticks on their value axes.
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    centreLayout->addWidget(splitter, 1);
    setCentralWidget(centre);

    createActions();
    createDocks();
    createMenus();
    createStatusBar();

    connect(m_follow, &QCheckBox::toggled, this, [this](bool on) {
        if (on)
            showLatestStepIfFollowing();
    });
    connect(m_stepSlider, &QSlider::valueChanged, this, &MainWindow::onSliderMoved);
    connect(m_plannedMode, &QComboBox::currentIndexChanged, this,
        [this](int index) { m_timeline->setPlannedMode(static_cast<TimelineView::PlannedMode>(index)); });
    m_timeline->setPlannedMode(TimelineView::PlannedMode::Stacked);
    connect(m_timeline, &TimelineView::rangeSelected, this, &MainWindow::onRangeSelected);
    connect(m_charts, &MetricsCharts::stepActivated, this, [this](qint64 step) {
        // The nearest recorded step at or before the one clicked.
        std::optional<std::int64_t> best;
        for (const std::int64_t candidate : m_sliderSteps)
            if (candidate <= step)
                best = candidate;
        if (best) {
            m_follow->setChecked(false);
            showStep(*best);
        }
    });

    connect(m_planner, &PlanningService::planReady, this, &MainWindow::onPlanReady);
    connect(m_planner, &PlanningService::planFailed, this, [this](quint64 generation, const QString& message) {
        if (generation != m_latestPlanRequest)
            return;
        endPlanningProgress();
        m_banner->showMessage(ErrorBanner::Level::Warning, tr("Planning failed: %1").arg(message));
    });
    connect(m_planner, &PlanningService::planProgress, this, &MainWindow::showPlanningProgress);
    connect(m_planner, &PlanningService::planCancelled, this, [this](quint64 generation) {
        if (generation != m_latestPlanRequest)
            return;
        endPlanningProgress();
        statusBar()->showMessage(
            m_candidatePlan ? tr("Planning stopped; the plan shown is the last one solved") : tr("Planning stopped"),
            5000);
    });
    connect(m_planner, &PlanningService::tradeoffCurveReady, this,
        [this](const QList<QPointF>& curve) { m_bounds->tradeoffChart()->setCurve(curve); });

    connect(m_loader, &RunHistoryLoader::replayLoaded, this, &MainWindow::onReplayLoaded);
    connect(m_loader, &RunHistoryLoader::spansLoaded, this,
        [this](qint64 run, qint64 step, const std::vector<ActionSpan>& spans) {
            if (m_document.source() != RunDocument::Source::History || m_document.runId() != run)
                return;
            m_document.addSpans(step, spans);
            if (m_pendingSpanStep == step) {
                m_pendingSpanStep.reset();
                showStep(step);
            }
        });
    connect(
        m_loader, &RunHistoryLoader::planLoaded, this, [this](qint64, const std::shared_ptr<const FreezePlan>& plan) {
            if (!plan)
                return;
            if (!m_document.profile())
                m_document.setProfile(plan->profile);
            m_candidatePlan = plan;
            updatePlannedTimeline();
            updateStatusBar();
            updateActions();
        });
    connect(m_loader, &RunHistoryLoader::loadFailed, this, [this](const QString& what, const QString& message) {
        m_banner->showMessage(ErrorBanner::Level::Error, tr("%1: %2").arg(what, message));
    });
    connect(m_history, &RunHistoryBrowser::runOpened, this, &MainWindow::openHistoryRun);
    connect(m_history, &RunHistoryBrowser::compareRequested, this, [this](qint64 a, qint64 b) {
        auto* window = new RunComparisonWindow(m_databasePath, a, b, this);
        window->setAttribute(Qt::WA_DeleteOnClose);
        window->show();
    });

#ifdef TFREEZE_WITH_ENGINE
    connect(m_engine, &EngineController::telemetryArrived, this, &MainWindow::onTelemetry);
    connect(m_engine, &EngineController::planApplied, this, &MainWindow::onPlanApplied);
    connect(m_engine, &EngineController::runFailed, this, &MainWindow::onRunFailed);
    connect(m_engine, &EngineController::failed, this, [this](const QString& message) {
        m_banner->showMessage(ErrorBanner::Level::Error, tr("The run could not start: %1").arg(message));
        updateActions();
    });
    connect(m_engine, &EngineController::runFinished, this, &MainWindow::onRunFinished);
    connect(m_engine, &EngineController::applyFailed, this, [this](const QString& message) {
        m_banner->showMessage(ErrorBanner::Level::Warning, tr("The plan was not applied: %1").arg(message));
    });
    connect(m_engine, &EngineController::stateChanged, this, [this] {
        updateActions();
        updateStatusBar();
    });
    connect(m_engine, &EngineController::rankOutput, this,
        [this](int rank, const QString& line) { appendLog(EventLevel::Info, tr("rank %1: %2").arg(rank).arg(line)); });
#endif

    restoreSettings();
    updateActions();
    updateStatusBar();
}

MainWindow::~MainWindow() = default;

QAction* MainWindow::action(const QString& objectName) const { return findChild<QAction*>(objectName); }

void MainWindow::createActions()
{
    const auto make = [this](const QString& name, const QString& text, const QKeySequence& shortcut, const QString& tip,
                          auto slot) {
        auto* action = new QAction(text, this);
        action->setObjectName(name);
        if (!shortcut.isEmpty())
            action->setShortcut(shortcut);
        action->setStatusTip(tip);
        action->setToolTip(
            shortcut.isEmpty() ? tip : QStringLiteral("%1 (%2)").arg(tip, shortcut.toString(QKeySequence::NativeText)));
        connect(action, &QAction::triggered, this, slot);
        return action;
    };
    make(QStringLiteral("newRun"), tr("&New Run…"), QKeySequence::New, tr("Configure and start a training run"),
        [this] { newRun(); });
    make(QStringLiteral("open"), tr("&Open…"), QKeySequence::Open,
        tr("Open a profile, a plan or a Chrome trace measured elsewhere"), [this] { openFileDialog(); });
    make(QStringLiteral("start"), tr("&Start Default Run"), QKeySequence(Qt::CTRL | Qt::Key_R),
        tr("Start the default run (tiny model, shipped corpus, TimelyFreeze)"), [this] {
            try {
                RunConfig config = NewRunDialog::studioDefaultConfig();
                config.output.db = m_databasePath.toStdString();
                startRun(config, tr("default timelyfreeze"));
            } catch (const std::exception& error) {
                showFileError(tr("Default run"), QString::fromStdString(error.what()));
            }
        });
#ifdef TFREEZE_WITH_ENGINE
    make(QStringLiteral("pause"), tr("&Pause"), QKeySequence(Qt::CTRL | Qt::Key_P),
        tr("Pause at the next step boundary"), [this] { m_engine->pause(); });
    make(QStringLiteral("resume"), tr("Res&ume"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P),
        tr("Resume the paused run"), [this] { m_engine->resume(); });
    make(QStringLiteral("stop"), tr("S&top"), QKeySequence(Qt::CTRL | Qt::Key_Period),
        tr("Stop the run at the next step boundary"), [this] { m_engine->stop(); });
#else
    for (const QString& name : { QStringLiteral("pause"), QStringLiteral("resume"), QStringLiteral("stop") })
        make(name, name, QKeySequence(), tr("Needs the engine (built with TFREEZE_ENGINE=OFF)"), [] {});
#endif
    make(QStringLiteral("plan"), tr("P&lan"), QKeySequence(Qt::CTRL | Qt::Key_L),
        tr("Solve the freeze plan for the current bounds"), [this] { planNow(); });
    make(QStringLiteral("stopPlanning"), tr("Stop Planni&ng"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Period),
        tr("Stop the plan being solved (a large pipeline's first solve can take minutes)"),
        [this] { m_planner->cancelPlan(); });
    action(QStringLiteral("stopPlanning"))->setEnabled(false); // until a long solve reports progress
    make(QStringLiteral("apply"), tr("&Apply Plan"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L),
        tr("Send the plan to the running pipeline (from the next step)"), [this] { applyPlan(); });
    make(QStringLiteral("exportPlanJson"), tr("Plan as &JSON…"), QKeySequence(Qt::CTRL | Qt::Key_E),
        tr("Export the plan (tfreeze-plan/1)"), [this] { exportPlan(false); });
    make(QStringLiteral("exportPlanCsv"), tr("Plan as &CSV…"), QKeySequence(), tr("Export the plan as CSV"),
        [this] { exportPlan(true); });
    make(QStringLiteral("exportTraceStep"), tr("Timeline of This Step as Chrome &Trace…"), QKeySequence(),
        tr("The shown step, measured and planned, for Perfetto or chrome://tracing"), [this] { exportTrace(false); });
    make(QStringLiteral("exportTraceAll"), tr("Timeline of All Recorded Steps as Chrome Trace…"), QKeySequence(),
        tr("Every step held in memory, with the plan"), [this] { exportTrace(true); });
    make(QStringLiteral("exportTimelinePng"), tr("Timeline as &PNG…"), QKeySequence(),
        tr("The timeline view as an image"), [this] { exportTimelineImage(false); });
    make(QStringLiteral("exportTimelineSvg"), tr("Timeline as &SVG…"), QKeySequence(), tr("The timeline view as SVG"),
        [this] { exportTimelineImage(true); });
    make(QStringLiteral("exportMetrics"), tr("&Metrics as CSV…"), QKeySequence(), tr("Every step's metrics"),
        [this] { exportMetrics(); });
    make(QStringLiteral("about"), tr("&About"), QKeySequence(), tr("Versions of the studio and its libraries"),
        [this] { showAboutDialog(this); });
    make(
        QStringLiteral("shortcuts"), tr("&Keyboard Shortcuts"), QKeySequence(Qt::Key_F1), tr("Every shortcut"), [this] {
            QStringList rows;
            for (QAction* item : findChildren<QAction*>())
                if (!item->shortcut().isEmpty())
                    rows << QStringLiteral("<tr><td>%1</td><td>%2</td></tr>")
                                .arg(item->shortcut().toString(QKeySequence::NativeText).toHtmlEscaped(),
                                    item->text().remove(QLatin1Char('&')).toHtmlEscaped());
            rows << tr("<tr><td>Wheel, Ctrl+Wheel / W, S</td><td>Timeline: zoom</td></tr>")
                 << tr("<tr><td>Drag, Shift+Wheel / A, D</td><td>Timeline: pan</td></tr>")
                 << tr("<tr><td>Shift+Drag</td><td>Timeline: select a range for statistics</td></tr>")
                 << tr("<tr><td>Alt+Left, Alt+Right / Home</td><td>Timeline: zoom back, forward / fit</td></tr>");
            QMessageBox::information(
                this, tr("Keyboard shortcuts"), QStringLiteral("<table>%1</table>").arg(rows.join(QString())));
        });
    make(QStringLiteral("quit"), tr("&Quit"), QKeySequence::Quit, tr("Quit the studio"), [this] { close(); });
    auto* undo = m_undo->createUndoAction(this, tr("&Undo"));
    undo->setObjectName(QStringLiteral("undo"));
    undo->setShortcut(QKeySequence::Undo);
    auto* redo = m_undo->createRedoAction(this, tr("&Redo"));
    redo->setObjectName(QStringLiteral("redo"));
    redo->setShortcut(QKeySequence::Redo);
}

void MainWindow::createDocks()
{
    const auto dock = [this](const QString& name, const QString& title, QWidget* widget, Qt::DockWidgetArea area) {
        auto* dockWidget = new QDockWidget(title, this);
        dockWidget->setObjectName(name);
        dockWidget->setWidget(widget);
        addDockWidget(area, dockWidget);
        return dockWidget;
    };
    m_bounds = new BoundsPanel(this);
    auto* boundsDock = dock(QStringLiteral("boundsDock"), tr("Bounds"), m_bounds, Qt::RightDockWidgetArea);
    connect(m_bounds, &BoundsPanel::boundsChanged, this, &MainWindow::onBoundsChanged);

    m_plansModel = new PlansModel(this);
    m_plansView = new PlaceholderTableView(this);
    m_plansView->setObjectName(QStringLiteral("plansView"));
    m_plansView->setPlaceholderText(tr("No plan yet.\nPlan (Ctrl+L) solves one for the current bounds; a "
                                       "TimelyFreeze run plans by itself after its monitoring phases."));
    m_plansView->setModel(m_plansModel);
    m_plansView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_plansView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_plansView->horizontalHeader()->setStretchLastSection(true);
    m_plansView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // The dock is narrow: what a plan promised and delivered first, its provenance after (hover a
    // header for what a column means).
    const std::array<int, PlansModel::ColumnCount> plansOrder { PlansModel::IdColumn, PlansModel::MaxFreezeColumn,
        PlansModel::PredictedMsColumn, PlansModel::RealisedMsColumn, PlansModel::NoFreezeMsColumn,
        PlansModel::SourceColumn, PlansModel::CreatedAtStepColumn, PlansModel::AppliedAtStepColumn };
    QHeaderView* plansHeader = m_plansView->horizontalHeader();
    for (int visual = 0; visual < static_cast<int>(plansOrder.size()); ++visual)
        plansHeader->moveSection(plansHeader->visualIndex(plansOrder[static_cast<std::size_t>(visual)]), visual);
    enableColumnChooser(plansHeader);
    m_plansView->verticalHeader()->hide();
    connect(m_plansView, &QTableView::activated, this, [this](const QModelIndex& index) {
        if (m_document.source() == RunDocument::Source::History)
            m_loader->loadPlan(m_plansModel->planId(index.row()));
        else if (m_document.source() == RunDocument::Source::Live) {
            const auto row = static_cast<std::size_t>(index.row());
            if (row < m_document.plans().size()) {
                m_candidatePlan = m_document.plans()[row].plan;
                updatePlannedTimeline();
            }
        }
    });
    auto* plansDock = dock(QStringLiteral("plansDock"), tr("Plans"), m_plansView, Qt::RightDockWidgetArea);

    m_rangeModel = new RangeStatisticsModel(this);
    auto* rangeView = new PlaceholderTableView(this);
    rangeView->setObjectName(QStringLiteral("rangeView"));
    rangeView->setPlaceholderText(tr("No range selected.\nShift+drag (or right-drag) across the timeline to "
                                     "measure the actions in a range."));
    rangeView->setModel(m_rangeModel);
    rangeView->setSortingEnabled(false);
    rangeView->verticalHeader()->hide();
    rangeView->horizontalHeader()->setStretchLastSection(true);
    auto* rangeDock = dock(QStringLiteral("rangeDock"), tr("Range statistics"), rangeView, Qt::RightDockWidgetArea);

    m_history = new RunHistoryBrowser(this);
    auto* historyDock = dock(QStringLiteral("historyDock"), tr("Run history"), m_history, Qt::LeftDockWidgetArea);

    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    auto* logDock = dock(QStringLiteral("logDock"), tr("Log"), m_log, Qt::RightDockWidgetArea);
    tabifyDockWidget(rangeDock, logDock);
    rangeDock->raise();
    // The timeline and charts get the room; the docks start narrow (the user's layout is restored
    // from QSettings afterwards).
    resizeDocks({ historyDock, boundsDock }, { 280, 330 }, Qt::Horizontal);
    resizeDocks({ boundsDock, plansDock, rangeDock }, { 420, 160, 200 }, Qt::Vertical);
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(action(QStringLiteral("newRun")));
    file->addAction(action(QStringLiteral("open")));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    QMenu* exportMenu = file->addMenu(tr("&Export"));
    for (const char* name : { "exportPlanJson", "exportPlanCsv", "exportTraceStep", "exportTraceAll",
             "exportTimelinePng", "exportTimelineSvg", "exportMetrics" })
        exportMenu->addAction(action(QString::fromLatin1(name)));
    QMenu* chartMenu = exportMenu->addMenu(tr("C&hart"));
    for (int chart = 0; chart < m_charts->chartCount(); ++chart) {
        const QString title = m_charts->chartTitle(chart);
        chartMenu->addAction(tr("%1 as PNG…").arg(title), this, [this, chart] { exportChart(chart, false); });
        chartMenu->addAction(tr("%1 as SVG…").arg(title), this, [this, chart] { exportChart(chart, true); });
    }
    file->addSeparator();
    file->addAction(action(QStringLiteral("quit")));

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(action(QStringLiteral("undo")));
    edit->addAction(action(QStringLiteral("redo")));

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    for (const char* name : { "start", "pause", "resume", "stop" })
        run->addAction(action(QString::fromLatin1(name)));
    run->addSeparator();
    run->addAction(action(QStringLiteral("plan")));
    run->addAction(action(QStringLiteral("stopPlanning")));
    run->addAction(action(QStringLiteral("apply")));

    QMenu* view = menuBar()->addMenu(tr("&View"));
    auto* critical = view->addAction(tr("&Critical Path"));
    critical->setCheckable(true);
    critical->setChecked(true);
    connect(critical, &QAction::toggled, m_timeline, &TimelineView::setShowCriticalPath);
    auto* dependencies = view->addAction(tr("&Dependency Arrows"));
    dependencies->setCheckable(true);
    dependencies->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    connect(dependencies, &QAction::toggled, m_timeline, &TimelineView::setShowDependencies);
    view->addSeparator();
    view->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, m_timeline, &TimelineView::zoomIn);
    view->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, m_timeline, &TimelineView::zoomOut);
    view->addAction(tr("Zoom to &Fit"), QKeySequence(Qt::CTRL | Qt::Key_0), m_timeline, &TimelineView::zoomToFit);
    view->addSeparator();
    for (QDockWidget* dockWidget : findChildren<QDockWidget*>())
        view->addAction(dockWidget->toggleViewAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(action(QStringLiteral("shortcuts")));
    help->addAction(action(QStringLiteral("about")));

    QToolBar* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    for (const char* name : { "newRun", "open", "start", "pause", "resume", "stop", "plan", "apply", "exportPlanJson" })
        toolbar->addAction(action(QString::fromLatin1(name)));
}

void MainWindow::createStatusBar()
{
    const auto label = [this](const QString& tip) {
        auto* item = new QLabel(this);
        item->setToolTip(tip);
        statusBar()->addPermanentWidget(item);
        return item;
    };
    m_phaseLabel = label(tr("Training phase (warm-up, monitoring max, monitoring min, ramp, stable)"));
    m_stepStatus = label(tr("Latest step"));
    m_throughputLabel = label(tr("Tokens per second of the latest step"));
    m_bubbleLabel = label(tr("Idle share of all ranks in the latest step"));
    m_batchLabel = label(tr("Predicted batch time of the plan against the realised one (median of recent steps), "
                            "and how much slower than profiled the forwards ran meanwhile: no plan changes a "
                            "forward, so that much of the difference is the machine's"));
    m_batchLabel->setObjectName(QStringLiteral("batchStatus"));
    // A long solve: its time and pivots, a busy bar (an LP has no known end, so no percentage) and
    // a button for Run ▸ Stop Planning, all hidden together.
    m_planningIndicator = new QWidget(this);
    m_planningIndicator->setObjectName(QStringLiteral("planningProgress"));
    auto* planningLayout = new QHBoxLayout(m_planningIndicator);
    planningLayout->setContentsMargins(0, 0, 0, 0);
    m_planningLabel = new QLabel(m_planningIndicator);
    m_planningLabel->setObjectName(QStringLiteral("planningProgressText"));
    m_planningLabel->setToolTip(tr("A plan being solved: time so far and lp_solve's simplex pivots"));
    auto* busy = new QProgressBar(m_planningIndicator);
    busy->setRange(0, 0);
    busy->setTextVisible(false);
    busy->setMaximumWidth(80);
    auto* stop = new QToolButton(m_planningIndicator);
    stop->setObjectName(QStringLiteral("stopPlanningButton"));
    stop->setDefaultAction(action(QStringLiteral("stopPlanning")));
    stop->setToolButtonStyle(Qt::ToolButtonTextOnly);
    planningLayout->addWidget(m_planningLabel);
    planningLayout->addWidget(busy);
    planningLayout->addWidget(stop);
    statusBar()->addPermanentWidget(m_planningIndicator);
    m_planningIndicator->hide();
}

void MainWindow::showPlanningProgress(quint64 generation, double elapsedSeconds, qint64 pivots)
{
    if (generation != m_latestPlanRequest)
        return;
    m_planningLabel->setText(
        tr("Planning: %1 s, %2 pivots").arg(elapsedSeconds, 0, 'f', 1).arg(QLocale().toString(pivots)));
    m_planningIndicator->show();
    action(QStringLiteral("stopPlanning"))->setEnabled(true);
}

void MainWindow::endPlanningProgress()
{
    m_planningIndicator->hide();
    action(QStringLiteral("stopPlanning"))->setEnabled(false);
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_centreSplitter->restoreState(settings.value(QStringLiteral("window/centreSplitter")).toByteArray());
    // Column choices, order and widths; a state from another version of a model is ignored by Qt.
    m_history->view()->horizontalHeader()->restoreState(
        settings.value(QStringLiteral("window/historyColumns")).toByteArray());
    m_plansView->horizontalHeader()->restoreState(settings.value(QStringLiteral("window/plansColumns")).toByteArray());
    setDatabasePath(settings.value(QStringLiteral("database"), QString::fromLatin1(RunStore::kDefaultPath)).toString());
    updateRecentFilesMenu();
}

void MainWindow::saveSettings()
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/centreSplitter"), m_centreSplitter->saveState());
    settings.setValue(QStringLiteral("window/historyColumns"), m_history->view()->horizontalHeader()->saveState());
    settings.setValue(QStringLiteral("window/plansColumns"), m_plansView->horizontalHeader()->saveState());
    settings.setValue(QStringLiteral("database"), m_databasePath);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
#ifdef TFREEZE_WITH_ENGINE
    if (m_engine->state() == EngineController::State::Running || m_engine->state() == EngineController::State::Paused) {
        const auto answer = QMessageBox::question(this, tr("Quit"),
            tr("A run is in progress. Stop it and quit? Everything recorded so far stays in the history."));
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_engine->stop();
    }
#endif
    saveSettings();
    event->accept();
}

void MainWindow::setDatabasePath(const QString& path)
{
    m_databasePath = path;
    m_loader->setDatabasePath(path);
    m_history->setDatabasePath(path);
}

void MainWindow::addRecentFile(const QString& path)
{
    QSettings settings;
    QStringList files = settings.value(QStringLiteral("recentFiles")).toStringList();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    settings.setValue(QStringLiteral("recentFiles"), files);
    updateRecentFilesMenu();
}

void MainWindow::updateRecentFilesMenu()
{
    m_recentMenu->clear();
    const QStringList files = QSettings().value(QStringLiteral("recentFiles")).toStringList();
    for (const QString& path : files)
        m_recentMenu->addAction(QFileInfo(path).fileName(), this, [this, path] { openFile(path); })->setToolTip(path);
    m_recentMenu->setEnabled(!files.isEmpty());
}

QString MainWindow::askSavePath(const QString& title, const QString& filters, const QString& defaultName)
{
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("exportDir"), QDir::homePath()).toString();
    QString path = QFileDialog::getSaveFileName(this, title, QDir(dir).filePath(defaultName), filters);
    if (!path.isEmpty())
        settings.setValue(QStringLiteral("exportDir"), QFileInfo(path).absolutePath());
    return path;
}

void MainWindow::showFileError(const QString& title, const QString& message)
{
    QMessageBox::warning(this, title, message);
}

void MainWindow::updateActions()
{
    bool running = false;
    bool paused = false;
#ifdef TFREEZE_WITH_ENGINE
    running = m_engine->state() == EngineController::State::Running;
    paused = m_engine->state() == EngineController::State::Paused;
    const bool busy = running || paused || m_engine->state() == EngineController::State::Starting
        || m_engine->state() == EngineController::State::Stopping;
    action(QStringLiteral("newRun"))->setEnabled(!busy);
    action(QStringLiteral("start"))->setEnabled(!busy);
#else
    action(QStringLiteral("newRun"))->setEnabled(false);
    action(QStringLiteral("start"))->setEnabled(false);
#endif
    action(QStringLiteral("pause"))->setEnabled(running);
    action(QStringLiteral("resume"))->setEnabled(paused);
    action(QStringLiteral("stop"))->setEnabled(running || paused);
    action(QStringLiteral("apply"))->setEnabled((running || paused) && m_candidatePlan != nullptr);
    const bool havePlan = m_candidatePlan != nullptr;
    action(QStringLiteral("exportPlanJson"))->setEnabled(havePlan);
    action(QStringLiteral("exportPlanCsv"))->setEnabled(havePlan);
    action(QStringLiteral("exportMetrics"))->setEnabled(!m_document.steps().empty());
    action(QStringLiteral("exportTraceAll"))->setEnabled(m_document.spanCache().spanCount() > 0);
}

// ---------------------------------------------------------------------------------------------
// Documents

void MainWindow::beginDocument(RunDocument::Source source, const QString& title)
{
    endPlanningProgress();
    m_document.reset(source, title);
    m_displayedStep.reset();
    m_sliderSteps.clear();
    m_pendingSpanStep.reset();
    m_candidatePlan.reset();
    m_profileInPlanner.reset();
    m_plansModel->setPlans({});
    m_bounds->setWholeStages({});
    m_timeline->setMeasured(TimelineData {});
    m_timeline->clearPlanned();
    m_charts->refresh();
    m_banner->hide();
    setWindowTitle(tr("%1 — TimelyFreeze Studio").arg(title));
    updateStepSlider();
    updateActions();
    updateStatusBar();
}

void MainWindow::openFileDialog()
{
    QSettings settings;
    const QString dir = settings.value(QStringLiteral("openDir"), QDir::currentPath()).toString();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open profile, plan or trace"), dir,
        tr("Profiles, plans and traces (*.json *.json.gz *.gz);;All files (*)"));
    if (path.isEmpty())
        return;
    settings.setValue(QStringLiteral("openDir"), QFileInfo(path).absolutePath());
    openFile(path);
}

void MainWindow::openFile(const QString& path)
{
    statusBar()->showMessage(tr("Reading %1…").arg(path));
    auto* watcher = new QFutureWatcher<OpenedFile>(this);
    connect(watcher, &QFutureWatcher<OpenedFile>::finished, this, [this, watcher] {
        const OpenedFile opened = watcher->result();
        watcher->deleteLater();
        statusBar()->clearMessage();
        if (!opened.error.isEmpty()) {
            showFileError(tr("Cannot open %1").arg(QFileInfo(opened.path).fileName()), opened.error);
            emit documentLoaded();
            return;
        }
        addRecentFile(opened.path);
        const QString name = QFileInfo(opened.path).fileName();
        if (const auto* profile = std::get_if<Profile>(&opened.content))
            showProfile(*profile, name);
        else if (const auto* plan = std::get_if<FreezePlan>(&opened.content))
            showPlanFile(*plan, name);
        else if (const auto* trace = std::get_if<TraceImport>(&opened.content)) {
            showProfile(trace->profile, name);
            appendLog(EventLevel::Info,
                tr("%1: %2 compute events of %3, %4 batches, ranks by %5")
                    .arg(name)
                    .arg(trace->actionEventCount)
                    .arg(trace->eventCount)
                    .arg(trace->batches)
                    .arg(QString::fromLatin1(traceRankKeyName(trace->rankKey))));
        }
        // NOLINTNEXTLINE(readability-misleading-indentation): `emit` expands to nothing, the call is aligned
        emit documentLoaded();
    });
    watcher->setFuture(QtConcurrent::run(readStudioFile, path));
}

void MainWindow::showProfile(const Profile& profile, const QString& title)
{
    beginDocument(RunDocument::Source::Profile, title);
    m_document.setSchedule(profile.schedule());
    m_document.setProfile(profile);
    m_bounds->setStageCount(profile.schedule().stageCount());
    m_bounds->setWholeStages(profile.allOrNothingStages());
    TimelineData measured = timelineFromProfile(profile);
    measured.label = tr("%1 (unfrozen, simulated)").arg(title);
    m_timeline->setMeasured(measured);
    m_timeline->zoomToFit();
    requestPlan(m_bounds->bounds());
    updateActions();
}

void MainWindow::showPlanFile(const FreezePlan& plan, const QString& title)
{
    showProfile(plan.profile, title);
    m_bounds->setBounds(plan.bounds);
    m_candidatePlan = std::make_shared<const FreezePlan>(plan);
    updatePlannedTimeline();
    requestPlan(plan.bounds);
    updateActions();
}

void MainWindow::openHistoryRun(qint64 runId)
{
    beginDocument(RunDocument::Source::History, tr("run %1").arg(runId));
    m_document.setRunId(runId);
    statusBar()->showMessage(tr("Loading run %1…").arg(runId));
    m_loader->loadReplay(runId);
}

void MainWindow::onReplayLoaded(const RunReplay& replay)
{
    if (m_document.source() != RunDocument::Source::History || m_document.runId() != replay.record.id)
        return;
    statusBar()->clearMessage();
    const QString title = tr("run %1 · %2").arg(replay.record.id).arg(QString::fromStdString(replay.record.name));
    setWindowTitle(tr("%1 — TimelyFreeze Studio").arg(title));
    if (replay.schedule) {
        try {
            m_document.setSchedule(PipelineSchedule::generate(*replay.schedule));
            m_document.setProcessors(replay.processors);
            m_document.setAllOrNothingStages(replay.allOrNothingStages);
            m_bounds->setStageCount(replay.schedule->stageCount());
            m_bounds->setWholeStages(replay.allOrNothingStages);
        } catch (const InputError& error) {
            appendLog(EventLevel::Warning, QString::fromStdString(error.what()));
        }
    }
    for (const StepStats& step : replay.steps)
        m_document.addStep(step);
    for (const EvalStats& eval : replay.evals)
        m_document.addEval(eval);
    m_plansModel->setPlans(replay.plans);
    if (!replay.plans.empty())
        m_loader->loadPlan(replay.plans.back().id);
    m_sliderSteps = replay.spanSteps;
    m_charts->refresh();
    updateStepSlider();
    if (!m_sliderSteps.empty())
        showStep(m_sliderSteps.back());
    showRunEnd(replay.record);
    updateActions();
    updateStatusBar();
    emit documentLoaded();
}

// How a replayed run ended, when that is news: a run that ran all its steps says nothing.
void MainWindow::showRunEnd(const RunRecord& record)
{
    const QString reason = QString::fromStdString(record.failureReason.value_or(std::string()));
    switch (record.status) {
    case RunStatus::Failed:
        m_banner->showMessage(ErrorBanner::Level::Error, tr("This run failed: %1").arg(reason));
        break;
    case RunStatus::Interrupted:
        m_banner->showMessage(ErrorBanner::Level::Warning,
            tr("This run was interrupted (%1); shown is what it recorded before.").arg(reason));
        break;
    case RunStatus::Stopped:
        m_banner->showMessage(ErrorBanner::Level::Information, tr("This run ended early: %1.").arg(reason));
        break;
    case RunStatus::Running:
        m_banner->showMessage(ErrorBanner::Level::Information,
            tr("This run is still running in process %1 on %2; shown is what it recorded so far.")
                .arg(record.pid)
                .arg(QString::fromStdString(record.host)));
        break;
    case RunStatus::Finished:
        break;
    }
}

// ---------------------------------------------------------------------------------------------
// Live runs

void MainWindow::newRun()
{
    NewRunDialog dialog(this);
    RunConfig defaults = dialog.config();
    defaults.output.db = m_databasePath.toStdString();
    // The ramp and drift settings of the bounds panel apply to the runs started from here.
    defaults.freezer.timely.rampSteps = m_bounds->rampSteps();
    defaults.freezer.replanDrift = m_bounds->replanDrift();
    dialog.setConfig(defaults);
    if (dialog.exec() != QDialog::Accepted)
        return;
    startRun(dialog.config(), dialog.runName(), dialog.processPerRank());
}

void MainWindow::startRun(const RunConfig& config, const QString& name, bool processPerRank)
{
#ifdef TFREEZE_WITH_ENGINE
    beginDocument(RunDocument::Source::Live, name);
    try {
        m_document.setSchedule(PipelineSchedule::generate(config.schedule));
        m_document.setProcessors(sharedProcessors(config));
        m_document.setAllOrNothingStages(allOrNothingStages(config));
    } catch (const InputError& error) {
        m_banner->showMessage(ErrorBanner::Level::Error, QString::fromStdString(error.what()));
        return;
    }
    m_bounds->setStageCount(config.schedule.stageCount());
    m_bounds->setWholeStages(m_document.allOrNothingStages());
    FreezeBounds bounds;
    bounds.maxFreeze = config.bounds.maxFreeze;
    bounds.stageMaxFreeze = config.bounds.maxFreezePerStage;
    m_bounds->setBounds(bounds);
    m_lastBounds = bounds;
    m_bounds->setRampSteps(config.freezer.timely.rampSteps);
    m_bounds->setReplanDrift(config.freezer.replanDrift);
    m_follow->setChecked(true);
    appendLog(EventLevel::Info,
        processPerRank ? tr("Starting %1 in %2 processes (this one is rank 0)").arg(name).arg(config.schedule.ranks)
                       : tr("Starting %1").arg(name));
    RunProcesses processes;
    processes.perRank = processPerRank;
    m_engine->start(config, name, processes);
    if (m_engine->runId() > 0)
        m_document.setRunId(m_engine->runId());
    m_history->reload();
    updateActions();
#else
    Q_UNUSED(config);
    Q_UNUSED(processPerRank);
    m_banner->showMessage(ErrorBanner::Level::Error,
        tr("%1: this studio was built without the training engine (TFREEZE_ENGINE=OFF); open a profile, "
           "a trace or a past run instead.")
            .arg(name));
#endif
}

// NOLINTNEXTLINE(readability-convert-member-functions-to-static): uses members when built with the engine
void MainWindow::onTelemetry(const TelemetryBatch& batch)
{
#ifdef TFREEZE_WITH_ENGINE
    if (m_document.source() != RunDocument::Source::Live)
        return;
    for (const StepStats& step : batch.steps)
        m_document.addStep(step);
    for (const EvalStats& eval : batch.evals)
        m_document.addEval(eval);
    for (const StepSpans& step : batch.stepSpans)
        m_document.addSpans(step.step, step.spans);
    if (batch.droppedSpanSteps > 0)
        appendLog(EventLevel::Warning,
            tr("%1 steps' timelines were skipped while the window was busy").arg(batch.droppedSpanSteps));
    for (const RunEvent& event : batch.events)
        appendLog(event.level, QString::fromStdString(event.message));
    if (!m_document.runId() && m_engine->runId() > 0) {
        m_document.setRunId(m_engine->runId());
        m_history->reload(); // the run is in the database now
    }
    m_charts->refresh();
    m_sliderSteps = m_document.spanCache().steps();
    updateStepSlider();
    showLatestStepIfFollowing();
    updateStatusBar();
    updateActions();
    if (const auto latest = m_document.latestStep())
        emit liveViewsUpdated(*latest);
#else
    Q_UNUSED(batch);
#endif
}

void MainWindow::onPlanApplied(const PlanApplied& applied)
{
    m_document.addPlan(applied);
    if (applied.plan) {
        if (applied.source == PlanSource::Engine) {
            // The engine measured its own profile: plan on it from now on (the trade-off curve too).
            m_document.setProfile(applied.plan->profile);
            m_profileInPlanner.reset();
            requestPlan(m_bounds->bounds());
        }
        PlanRecord record;
        record.id = static_cast<std::int64_t>(m_document.plans().size());
        record.run = m_document.runId();
        record.createdAtStep = applied.createdAtStep;
        record.appliedAtStep = applied.appliedAtStep;
        record.source = applied.source;
        record.boundsJson = applied.plan->bounds.stageMaxFreeze.empty()
            ? QStringLiteral("{\"max_freeze\":%1}").arg(applied.plan->bounds.maxFreeze).toStdString()
            : std::string("{\"max_freeze_per_stage\":[]}");
        record.batchMsNoFreeze = applied.plan->batchMsNoFreeze;
        record.batchMsPlanned = applied.plan->batchMsPlanned;
        record.batchMsAllFrozen = applied.plan->batchMsAllFrozen;
        record.actionCount = static_cast<std::int64_t>(applied.plan->actions.size());
        m_plansModel->addPlan(record);
        if (!m_candidatePlan || applied.source == PlanSource::Engine) {
            m_candidatePlan = applied.plan;
            updatePlannedTimeline();
        }
    }
    appendLog(EventLevel::Info,
        tr("Plan from %1 applied at step %2")
            .arg(QString::fromLatin1(planSourceName(applied.source)))
            .arg(applied.appliedAtStep));
    updateStatusBar();
    updateActions();
}

void MainWindow::onRunFailed(const QString& reason)
{
    m_banner->showMessage(ErrorBanner::Level::Error, tr("The run failed: %1").arg(reason));
    appendLog(EventLevel::Error, reason);
    m_history->reload();
    updateActions();
}

// The run's end in a line, as `tfreeze train` prints it: how far it got, where its loss ended and,
// with a plan in force, what the plan predicted against what the steps took.
void MainWindow::onRunFinished(const TrainingOutcome& outcome)
{
    QString text = outcome.status == TrainingOutcome::Status::Stopped
        ? tr("The run was stopped after step %1").arg(outcome.stepsDone)
        : tr("The run finished its %1 steps").arg(outcome.stepsDone);
    if (outcome.finalEval)
        text += tr("; validation loss %1").arg(outcome.finalEval->validationLoss, 0, 'f', 4);
    if (outcome.meanTokensPerSecond > 0.0)
        text += tr(", %1 tokens/s").arg(outcome.meanTokensPerSecond, 0, 'f', 0);
    if (outcome.predictedBatchMs > 0.0 && outcome.realisedBatchMs > 0.0)
        text += tr("; plan: predicted batch %1 ms, realised %2 ms (%3%4%)")
                    .arg(outcome.predictedBatchMs, 0, 'f', 1)
                    .arg(outcome.realisedBatchMs, 0, 'f', 1)
                    .arg(outcome.realisedBatchMs >= outcome.predictedBatchMs ? QStringLiteral("+") : QString())
                    .arg((outcome.realisedBatchMs / outcome.predictedBatchMs - 1.0) * 100.0, 0, 'f', 1);
    appendLog(EventLevel::Info, text);
    statusBar()->showMessage(text);
    m_history->reload();
    updateActions();
}

void MainWindow::appendLog(EventLevel level, const QString& message)
{
    m_log->appendPlainText(QStringLiteral("%1  %2  %3")
                               .arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")),
                                   QString::fromLatin1(eventLevelName(level)), message));
}

// ---------------------------------------------------------------------------------------------
// Timeline

void MainWindow::updateStepSlider()
{
    const QSignalBlocker blocker(m_stepSlider);
    m_stepSlider->setEnabled(m_sliderSteps.size() > 1);
    m_stepSlider->setRange(0, std::max(0, static_cast<int>(m_sliderSteps.size()) - 1));
    if (m_displayedStep) {
        const auto found = std::lower_bound(m_sliderSteps.begin(), m_sliderSteps.end(), *m_displayedStep);
        m_stepSlider->setValue(static_cast<int>(found - m_sliderSteps.begin()));
    }
}

void MainWindow::onSliderMoved(int index)
{
    if (index < 0 || static_cast<std::size_t>(index) >= m_sliderSteps.size())
        return;
    const std::int64_t step = m_sliderSteps[static_cast<std::size_t>(index)];
    if (m_document.source() == RunDocument::Source::Live && step != m_sliderSteps.back())
        m_follow->setChecked(false);
    showStep(step);
}

void MainWindow::showLatestStepIfFollowing()
{
    if (!m_follow->isChecked() || m_sliderSteps.empty())
        return;
    if (m_displayedStep != m_sliderSteps.back())
        showStep(m_sliderSteps.back());
}

void MainWindow::showStep(std::int64_t step)
{
    if (!m_document.spanCache().contains(step)) {
        if (m_document.source() == RunDocument::Source::History && m_document.runId()) {
            m_pendingSpanStep = step;
            m_loader->loadSpans(*m_document.runId(), step);
        }
        return;
    }
    const bool firstStep = !m_displayedStep;
    m_displayedStep = step;
    const auto& schedule = m_document.schedule();
    TimelineData measured = timelineFromSpans(m_document.spanCache().spans(step), schedule ? &*schedule : nullptr);
    measured.label = tr("step %1 (measured)").arg(step);
    m_timeline->setMeasured(std::move(measured));
    if (firstStep)
        m_timeline->zoomToFit();
    m_stepLabel->setText(tr("step %1").arg(step));
    updateStepSlider();
    emit stepDisplayed(step);
}

void MainWindow::onRangeSelected(double startMs, double endMs)
{
    if (!m_displayedStep)
        return;
    // The view already holds the shown step's timeline: no need to build it again.
    m_rangeModel->setStatistics(computeRangeStatistics(m_timeline->measured(), startMs, endMs));
    if (auto* dockWidget = findChild<QDockWidget*>(QStringLiteral("rangeDock"))) {
        dockWidget->show();
        dockWidget->raise();
    }
}

void MainWindow::updatePlannedTimeline()
{
    if (!m_candidatePlan) {
        m_timeline->clearPlanned();
        return;
    }
    TimelineData planned = timelineFromPlan(*m_candidatePlan);
    planned.label = tr("plan ρ=%1 (predicted)").arg(m_candidatePlan->bounds.maxFreeze, 0, 'f', 2);
    m_timeline->setPlanned(std::move(planned));
}

// ---------------------------------------------------------------------------------------------
// Planning

std::optional<Profile> MainWindow::planningProfile(QString* why) const
{
    if (m_document.profile())
        return m_document.profile();
    const auto& schedule = m_document.schedule();
    if (!schedule) {
        *why = tr("Nothing to plan for: start a run or open a profile or trace.");
        return std::nullopt;
    }
    const auto steps = m_document.spanCache().latestSteps(kPlanningSteps);
    if (steps.empty()) {
        *why = tr("No step has been measured yet.");
        return std::nullopt;
    }
    try {
        Profile estimate = estimateProfileFromSpans(*schedule, steps, nullptr, m_document.processors());
        estimate.setAllOrNothingStages(m_document.allOrNothingStages());
        return estimate;
    } catch (const std::exception& error) {
        *why = QString::fromStdString(error.what());
        return std::nullopt;
    }
}

void MainWindow::planNow() { requestPlan(m_bounds->bounds(), ProfileUse::Refresh); }

void MainWindow::onBoundsChanged(const FreezeBounds& bounds)
{
    m_undo->push(new BoundsChange(m_bounds, m_lastBounds, bounds, [this](const FreezeBounds& applied) {
        m_lastBounds = applied;
        requestPlan(applied);
    }));
    m_lastBounds = bounds;
    requestPlan(bounds);
}

void MainWindow::requestPlan(const FreezeBounds& bounds, ProfileUse use)
{
    // The planner keeps its profile between requests, so that dragging ρ re-solves warm on one LP;
    // a live run's measurements change every step and are taken in only when asked to (Plan).
    if (use == ProfileUse::Refresh || !m_profileInPlanner) {
        QString why;
        std::optional<Profile> profile = planningProfile(&why);
        if (!profile) {
            statusBar()->showMessage(why, 5000);
            return;
        }
        m_planner->setProfile(*profile);
        m_profileInPlanner = std::move(profile);
        m_planner->requestTradeoffCurve(bounds, 21);
    }
    m_latestPlanRequest = m_planner->requestPlan(bounds);
}

void MainWindow::onPlanReady(quint64 generation, const std::shared_ptr<const FreezePlan>& plan)
{
    if (generation != m_latestPlanRequest || !plan)
        return;
    endPlanningProgress();
    m_candidatePlan = plan;
    m_bounds->tradeoffChart()->setCurrentPoint(plan->bounds.maxFreeze, plan->batchMsPlanned);
    updatePlannedTimeline();
    updateStatusBar();
    updateActions();
    emit candidatePlanChanged();
}

void MainWindow::applyPlan()
{
#ifdef TFREEZE_WITH_ENGINE
    if (!m_candidatePlan)
        return;
    m_engine->applyPlan(m_candidatePlan);
    appendLog(EventLevel::Info,
        tr("Plan sent (ρ=%1, predicted %2): applied at the next step boundary")
            .arg(m_candidatePlan->bounds.maxFreeze, 0, 'f', 2)
            .arg(formatMs(m_candidatePlan->batchMsPlanned)));
#endif
}

void MainWindow::updateStatusBar()
{
    const StepStats* latest = m_document.steps().empty() ? nullptr : &m_document.steps().back();
    m_phaseLabel->setText(latest ? tr("phase: %1").arg(phaseDisplayName(latest->phase)) : tr("phase: —"));
    m_stepStatus->setText(latest ? tr("step %1").arg(latest->step) : tr("step —"));
    m_throughputLabel->setText(latest ? tr("%1 tok/s").arg(latest->tokensPerSecond, 0, 'f', 0) : tr("— tok/s"));
    m_bubbleLabel->setText(latest ? tr("bubble %1%").arg(latest->bubbleFraction * 100.0, 0, 'f', 1) : tr("bubble —"));
    QString batch = tr("batch —");
    QString batchTip;
    if (const auto inForce = m_document.planInForce()) {
        const std::int64_t from = m_document.plans().back().appliedAtStep;
        const auto realised = m_document.realisedBatchMs(from);
        batch = tr("predicted %1 / realised %2")
                    .arg(formatMs(inForce->batchMsPlanned), realised ? formatMs(*realised) : tr("—"));
        batchTip = tr("The plan in force predicts %1 per batch.").arg(formatMs(inForce->batchMsPlanned));
        if (realised) {
            m_plansModel->setRealisedBatchMs(static_cast<qint64>(m_document.plans().size()), *realised);
            batchTip += tr(" Since it was applied at step %1, a batch took %2 (the median of the last 20 steps).")
                            .arg(from)
                            .arg(formatMs(*realised));
            if (inForce->batchMsPlanned > 0.0)
                batch += QStringLiteral(" (%1)").arg(signedPercent(*realised / inForce->batchMsPlanned - 1.0));
            if (const auto drift = m_document.forwardDrift(from)) {
                batch += tr(", forwards %1").arg(signedPercent(*drift));
                // As `tfreeze train` prints it: no plan changes the forwards, so their drift is the
                // machine's, and every duration (hence the batch) scales with the machine's speed.
                const double atTheirSpeed = inForce->batchMsPlanned * (1.0 + *drift);
                batchTip += tr("\nThe forwards, which no plan changes, ran %1 against the profile: the machine's "
                               "share. At that speed the plan predicts %2, and the steps took %3 against it.")
                                .arg(signedPercent(*drift), formatMs(atTheirSpeed),
                                    signedPercent(*realised / atTheirSpeed - 1.0));
            }
        }
    } else if (m_candidatePlan) {
        batch = tr("predicted %1 (no-freeze %2)")
                    .arg(formatMs(m_candidatePlan->batchMsPlanned), formatMs(m_candidatePlan->batchMsNoFreeze));
    }
    m_batchLabel->setText(batch);
    m_batchLabel->setToolTip(batchTip);
}

// ---------------------------------------------------------------------------------------------
// Export

bool MainWindow::writePlanTo(const QString& path, bool csv, QString* error) const
{
    if (!m_candidatePlan) {
        *error = tr("There is no plan yet: plan first (Ctrl+L).");
        return false;
    }
    try {
        if (csv)
            writePlanCsvFile(*m_candidatePlan, path.toStdString());
        else
            writePlanFile(*m_candidatePlan, path.toStdString());
        return true;
    } catch (const std::exception& failure) {
        *error = QString::fromStdString(failure.what());
        return false;
    }
}

bool MainWindow::writeTraceTo(const QString& path, bool allSteps, QString* error) const
{
    TraceExportInput input;
    if (allSteps) {
        for (const std::int64_t step : m_document.spanCache().steps()) {
            const auto& spans = m_document.spanCache().spans(step);
            input.spans.insert(input.spans.end(), spans.begin(), spans.end());
        }
    } else if (m_displayedStep) {
        input.spans = m_document.spanCache().spans(*m_displayedStep);
    }
    for (const StepStats& step : m_document.steps())
        if (allSteps || (m_displayedStep && step.step == *m_displayedStep))
            input.steps.push_back(step);
    input.plan = m_candidatePlan.get();
    if (input.spans.empty() && !input.plan) {
        *error = tr("There is no measured step or plan to export.");
        return false;
    }
    try {
        writeChromeTraceFile(input, path.toStdString());
        return true;
    } catch (const std::exception& failure) {
        *error = QString::fromStdString(failure.what());
        return false;
    }
}

bool MainWindow::writeMetricsTo(const QString& path, QString* error) const
{
    if (m_document.steps().empty()) {
        *error = tr("No step has been recorded yet.");
        return false;
    }
    try {
        writeMetricsCsvFile(m_document.steps(), m_document.evals(), path.toStdString());
        return true;
    } catch (const std::exception& failure) {
        *error = QString::fromStdString(failure.what());
        return false;
    }
}

void MainWindow::exportPlan(bool csv)
{
    const QString path = askSavePath(tr("Export plan"), csv ? tr("CSV (*.csv)") : tr("Plan JSON (*.json)"),
        csv ? QStringLiteral("plan.csv") : QStringLiteral("plan.json"));
    QString error;
    if (path.isEmpty())
        return;
    if (writePlanTo(path, csv, &error))
        statusBar()->showMessage(tr("Plan written to %1").arg(path), 5000);
    else
        showFileError(tr("Export plan"), error);
}

void MainWindow::exportTrace(bool allSteps)
{
    const QString path = askSavePath(
        tr("Export Chrome trace"), tr("Chrome trace (*.json *.json.gz)"), QStringLiteral("timeline.json"));
    QString error;
    if (path.isEmpty())
        return;
    if (writeTraceTo(path, allSteps, &error))
        statusBar()->showMessage(tr("Trace written to %1").arg(path), 5000);
    else
        showFileError(tr("Export trace"), error);
}

void MainWindow::exportTimelineImage(bool svg)
{
    const QString path = askSavePath(tr("Export timeline"), svg ? tr("SVG (*.svg)") : tr("PNG (*.png)"),
        svg ? QStringLiteral("timeline.svg") : QStringLiteral("timeline.png"));
    if (path.isEmpty())
        return;
    QString error;
    const bool written = svg ? m_timeline->exportSvg(path, &error) : m_timeline->exportPng(path, &error);
    if (written)
        statusBar()->showMessage(tr("Timeline written to %1").arg(path), 5000);
    else
        showFileError(tr("Export timeline"), error);
}

void MainWindow::exportChart(int index, bool svg)
{
    const QString base = m_charts->chartTitle(index).toLower().replace(QLatin1Char(' '), QLatin1Char('-'));
    const QString path = askSavePath(tr("Export chart"), svg ? tr("SVG (*.svg)") : tr("PNG (*.png)"),
        base + (svg ? QStringLiteral(".svg") : QStringLiteral(".png")));
    if (path.isEmpty())
        return;
    QString error;
    if (m_charts->exportChart(index, path, &error))
        statusBar()->showMessage(tr("Chart written to %1").arg(path), 5000);
    else
        showFileError(tr("Export chart"), error);
}

void MainWindow::exportMetrics()
{
    const QString path = askSavePath(tr("Export metrics"), tr("CSV (*.csv)"), QStringLiteral("metrics.csv"));
    if (path.isEmpty())
        return;
    QString error;
    if (writeMetricsTo(path, &error))
        statusBar()->showMessage(tr("Metrics written to %1").arg(path), 5000);
    else
        showFileError(tr("Export metrics"), error);
}

} // namespace tfreeze
