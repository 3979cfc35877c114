#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/telemetry.h"
#include "core/store/run_records.h"
#include "ui/queued_call_receiver.h"
#include "ui/serial_executor.h"
#include "ui/telemetry_metatypes.h"

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

// One row of the run history: the stored run and the figures a user sorts and filters by. The
// config columns are empty when the run's config JSON does not parse (an older or a hand-made run).
struct RunHistoryRow {
    RunRecord record;
    bool configParsed = false;
    std::string scheduleKind; // scheduleKindName(), e.g. "1f1b"
    int ranks = 0;
    int microbatches = 0;
    std::string freezer; // freezerKindName(), e.g. "timelyfreeze"
    double maxFreeze = 0.0; // ρ of every stage, when perStageBounds is false
    bool perStageBounds = false; // ρ differs per stage (bounds.max_freeze_per_stage)
    std::optional<double> finalLoss; // none: no steps
    std::optional<double> meanTokensPerSecond; // none: no steps
};

// What the studio needs to replay a finished run; spans come step by step through loadSpans.
struct RunReplay {
    RunRecord record;
    std::vector<StepStats> steps;
    std::vector<EvalStats> evals;
    std::vector<PlanRecord> plans;
    std::vector<std::int64_t> spanSteps; // steps whose spans were retained
    std::optional<ScheduleShape> schedule; // none: the config does not parse
    // sharedProcessors() of the config: a config that left "processors" automatic is resolved for
    // this machine (a run recorded on another one may have had other cores).
    int processors = 0;
    std::vector<int> allOrNothingStages; // of the config (RunDocument::allOrNothingStages)
};

// Reads and writes the run database off the GUI thread. Jobs run one at a time, in the order they
// were asked for, on a private worker thread: a reload asked after a delete sees the delete, and
// SQLite never sees two of our connections fight for the write lock. Every job opens its own
// RunStore (read-only for reads), so nothing SQLite-owned crosses threads.
//
// A newer loadRuns/loadReplay/loadComparison makes an older one's result stale: it is dropped, not
// emitted. Spans and plans carry their own keys and are always delivered.
class RunHistoryLoader : public QObject {
    Q_OBJECT

public:
    explicit RunHistoryLoader(QObject* parent = nullptr);
    // Waits for the job in flight: it may still post to this object.
    ~RunHistoryLoader() override;

    void setDatabasePath(const QString& path);
    QString databasePath() const { return m_path; }

    void loadRuns();
    void loadReplay(qint64 runId);
    void loadSpans(qint64 runId, qint64 step);
    void loadPlan(qint64 planId);
    void loadComparison(qint64 a, qint64 b);

    // Reads the whole file (RunStore::integrityProblems), read-only: databaseChecked, or
    // loadFailed("check the database", ...) when the file cannot even be opened.
    void checkDatabase();

    void deleteRun(qint64 runId);
    void renameRun(qint64 runId, const QString& name);
    void setRunNotes(qint64 runId, const QString& notes);

    // Blocks until every job asked for so far has run (its signal is then queued). For tests and
    // shutdown, never for the GUI thread in normal use.
    void waitForIdle();

    // The row of `record`, its config parsed; what loadRuns does per run (public for tests).
    static RunHistoryRow makeRow(const RunRecord& record, const RunSummary& steps);

signals:
    void runsLoaded(const QVector<tfreeze::RunHistoryRow>& rows);
    void replayLoaded(const tfreeze::RunReplay& replay);
    void spansLoaded(qint64 run, qint64 step, const std::vector<tfreeze::ActionSpan>& spans);
    void planLoaded(qint64 planId, const std::shared_ptr<const tfreeze::FreezePlan>& plan);
    void comparisonLoaded(const tfreeze::RunComparison& comparison);
    // `problems` empty: the file is sound, and holds `runs` runs.
    void databaseChecked(const QString& path, int runs, const QStringList& problems);
    // A delete, rename or notes write that went through; `what` says which, e.g. "delete run 3".
    void writeFinished(qint64 runId, const QString& what);
    // `what`: the request, e.g. "runs" or "run 3"; `message` names the database file.
    void loadFailed(const QString& what, const QString& message);

private:
    // Runs `job` on the pool; an exception becomes loadFailed(what, its message).
    void submit(const QString& what, std::function<void(const std::string& path)> job);

    QString m_path;
    QueuedCallReceiver m_replies; // results, run on the GUI thread
    SerialExecutor m_jobs { "run history" }; // after m_replies: joined before it goes
    // Generations of the requests whose older results are dropped; touched on the GUI thread only.
    quint64 m_runsGeneration = 0;
    quint64 m_replayGeneration = 0;
    quint64 m_comparisonGeneration = 0;
};

// Registers the metatypes above and the telemetry ones for queued signals; idempotent.
void registerRunHistoryMetaTypes();

} // namespace tfreeze

Q_DECLARE_METATYPE(tfreeze::RunHistoryRow)
Q_DECLARE_METATYPE(tfreeze::RunReplay)
Q_DECLARE_METATYPE(tfreeze::RunComparison)
