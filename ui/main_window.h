#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/telemetry.h"
#include "ui/run_document.h"
#include "ui/telemetry_metatypes.h" // before any signal uses these types

#include <QMainWindow>
#include <QPointer>

#include <memory>
#include <optional>

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QSlider;
class QSplitter;
class QTableView;
class QUndoStack;

namespace tfreeze {

class BoundsPanel;
class EngineController;
class ErrorBanner;
class MetricsCharts;
class PlaceholderTableView;
class PlanningService;
class PlansModel;
class RangeStatisticsModel;
class RunHistoryBrowser;
class RunHistoryLoader;
class TimelineView;
struct RunConfig;
struct RunReplay;
struct RunRecord;
struct TelemetryBatch;
struct TrainingOutcome;

// The studio's main window: one run at a time (live, from the history, or a profile measured
// elsewhere). The timeline in the centre, charts below, bounds, plans, history, range statistics
// and the log in docks. Everything slow (training, planning, SQLite, file parsing) runs off the GUI
// thread; this class only wires results to views.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // The run database the history, live runs and offline plans use.
    void setDatabasePath(const QString& path);
    QString databasePath() const { return m_databasePath; }

    // Opens a profile (tfreeze-profile/1), a plan (tfreeze-plan/1) or a Chrome trace, off the GUI
    // thread; a bad file shows a dialog naming the problem and leaves the window as it was.
    void openFile(const QString& path);
    // Starts a live run (needs the engine); a config the engine refuses shows the reason.
    // `processPerRank`: ranks 1 … N−1 run as tfreeze processes (their output goes to the log).
    void startRun(const RunConfig& config, const QString& name, bool processPerRank = false);
    // Opens a run from the history: its charts, plans and any retained step's timeline.
    void openHistoryRun(qint64 runId);
    // Shows a recorded step's timeline (loaded from the history when needed; stepDisplayed follows).
    void showStep(std::int64_t step);
    // The steps whose timelines can be shown (the step slider's positions).
    const std::vector<std::int64_t>& recordedSteps() const { return m_sliderSteps; }

    // For tests and the screenshot mode.
    const RunDocument& document() const { return m_document; }
    TimelineView* timelineView() const { return m_timeline; }
    MetricsCharts* metricsCharts() const { return m_charts; }
    BoundsPanel* boundsPanel() const { return m_bounds; }
    ErrorBanner* errorBanner() const { return m_banner; }
    RunHistoryBrowser* historyBrowser() const { return m_history; }
    PlansModel* plansModel() const { return m_plansModel; }
#ifdef TFREEZE_WITH_ENGINE
    EngineController* engine() const { return m_engine; }
#endif
    // The latest plan the planner made for the current bounds (what Apply sends).
    std::shared_ptr<const FreezePlan> candidatePlan() const { return m_candidatePlan; }
    std::optional<qint64> displayedStep() const { return m_displayedStep; }
    QAction* action(const QString& objectName) const;

    // The exports behind the Export menu, without their file dialogs; false with the reason in
    // `error` when there is nothing to export or the file cannot be written.
    bool writePlanTo(const QString& path, bool csv, QString* error) const;
    bool writeTraceTo(const QString& path, bool allSteps, QString* error) const;
    bool writeMetricsTo(const QString& path, QString* error) const;

public slots:
    void newRun();
    void openFileDialog();
    void planNow();
    void applyPlan();

signals:
    // A plan for the current bounds arrived (and is shown as the predicted timeline).
    void candidatePlanChanged();
    // A step's timeline is shown.
    void stepDisplayed(qint64 step);
    // A file or history run finished loading (or failed: the banner/dialog says why).
    void documentLoaded();
    // The views were refreshed with new live telemetry (at most ~30 times a second).
    void liveViewsUpdated(qint64 latestStep);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createActions();
    void createMenus();
    void createDocks();
    void createStatusBar();
    void restoreSettings();
    void saveSettings();
    void updateActions();
    void addRecentFile(const QString& path);
    void updateRecentFilesMenu();
    QString askSavePath(const QString& title, const QString& filters, const QString& defaultName);
    void showFileError(const QString& title, const QString& message);

    // Live runs.
    void onTelemetry(const TelemetryBatch& batch);
    void onPlanApplied(const PlanApplied& applied);
    void onRunFailed(const QString& reason);
    void onRunFinished(const TrainingOutcome& outcome);
    void appendLog(EventLevel level, const QString& message);

    // Documents.
    void beginDocument(RunDocument::Source source, const QString& title);
    void onReplayLoaded(const RunReplay& replay);
    void showRunEnd(const RunRecord& record);
    void showProfile(const Profile& profile, const QString& title);
    void showPlanFile(const FreezePlan& plan, const QString& title);

    // Timeline.
    void updateStepSlider();
    void showLatestStepIfFollowing();
    void onSliderMoved(int index);
    void onRangeSelected(double startMs, double endMs);
    void updatePlannedTimeline();

    // Planning.
    // The profile to plan with: the opened one, the engine's own, or one estimated from the latest
    // measured steps; empty (with the reason) when there is none yet.
    std::optional<Profile> planningProfile(QString* why) const;
    void onBoundsChanged(const FreezeBounds& bounds);
    enum class ProfileUse { Keep, Refresh };
    // Plans for `bounds` off the GUI thread; Refresh first gives the planner the current profile
    // (and recomputes the trade-off curve), Keep re-solves warm on the one it has.
    void requestPlan(const FreezeBounds& bounds, ProfileUse use = ProfileUse::Keep);
    void onPlanReady(quint64 generation, const std::shared_ptr<const FreezePlan>& plan);
    void showPlanningProgress(quint64 generation, double elapsedSeconds, qint64 pivots);
    void endPlanningProgress();
    void updateStatusBar();

    // Export.
    void exportPlan(bool csv);
    void exportTrace(bool allSteps);
    void exportTimelineImage(bool svg);
    void exportChart(int index, bool svg);
    void exportMetrics();

    QString m_databasePath;
    RunDocument m_document;
    std::optional<qint64> m_displayedStep;
    std::vector<std::int64_t> m_sliderSteps;
    std::optional<Profile> m_profileInPlanner;
    std::shared_ptr<const FreezePlan> m_candidatePlan;
    FreezeBounds m_lastBounds; // what the bounds panel showed before its latest change (undo)
    quint64 m_latestPlanRequest = 0;
    std::optional<qint64> m_pendingSpanStep;

    ErrorBanner* m_banner = nullptr;
    TimelineView* m_timeline = nullptr;
    QCheckBox* m_follow = nullptr;
    QSlider* m_stepSlider = nullptr;
    QLabel* m_stepLabel = nullptr;
    QComboBox* m_plannedMode = nullptr;
    MetricsCharts* m_charts = nullptr;
    QSplitter* m_centreSplitter = nullptr; // timeline above, charts below; its sizes are saved
    BoundsPanel* m_bounds = nullptr;
    PlansModel* m_plansModel = nullptr;
    PlaceholderTableView* m_plansView = nullptr;
    RangeStatisticsModel* m_rangeModel = nullptr;
    RunHistoryBrowser* m_history = nullptr;
    RunHistoryLoader* m_loader = nullptr;
    QPlainTextEdit* m_log = nullptr;
    PlanningService* m_planner = nullptr;
    QUndoStack* m_undo = nullptr;
#ifdef TFREEZE_WITH_ENGINE
    EngineController* m_engine = nullptr;
#endif

    QLabel* m_phaseLabel = nullptr;
    QLabel* m_stepStatus = nullptr;
    QLabel* m_throughputLabel = nullptr;
    QLabel* m_bubbleLabel = nullptr;
    QLabel* m_batchLabel = nullptr;
    QWidget* m_planningIndicator = nullptr; // shown while a long plan solves
    QLabel* m_planningLabel = nullptr; // its time and pivots

    QMenu* m_recentMenu = nullptr;
};

} // namespace tfreeze
