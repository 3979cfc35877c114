#pragma once

// The studio's one adapter to the engine (ARCHITECTURE.md): commands go down as plain structs,
// telemetry comes up as queued Qt signals, coalesced to about 30 updates a second. Nothing here
// blocks the GUI thread on the engine or the run database, except the destructor, which stops the
// run and waits for its worker.

#include "core/engine/run_config.h"
#include "core/engine/training_session.h"
#include "core/plan/freeze_plan.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/telemetry.h"
#include "ui/queued_call_receiver.h"
#include "ui/rank_processes.h"
#include "ui/telemetry_buffer.h"
#include "ui/telemetry_metatypes.h" // before any signal uses these types

#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

namespace tfreeze {

// How the pipeline ranks of a studio run are run.
struct RunProcesses {
    // One process per pipeline rank over c10d Gloo on loopback: the studio runs rank 0 (so the run
    // is live here like any other) and starts ranks 1 … N−1 as `tfreeze train` children. False:
    // every rank is a thread of the studio.
    bool perRank = false;
    QString program; // the tfreeze CLI; empty: RankProcesses::findProgram()
    int commTimeoutSeconds = DistributedSetup {}.timeoutSeconds;
};

class EngineController : public QObject {
    Q_OBJECT

public:
    enum class State { Idle, Starting, Running, Paused, Stopping, Finished, Failed };
    Q_ENUM(State)

    // The drain timer's interval: 35 ms is at most ~28.6 telemetryArrived a second.
    static constexpr int kUpdateIntervalMs = 35;

    explicit EngineController(QObject* parent = nullptr);
    // Stops the run, if any, and waits for its worker thread (the step in flight finishes).
    ~EngineController() override;
    EngineController(const EngineController&) = delete;
    EngineController& operator=(const EngineController&) = delete;

    // Validates the config here (an InputError becomes failed(message) and state Failed), then on
    // a worker thread builds the TrainingSession, records the run in config.output.db when that is
    // not empty (as `tfreeze train` does: a failed write stops the run and fails it) and trains.
    // Ignored, with failed(), while a run is in progress. With `processes.perRank`, first starts the
    // other ranks' processes (failed() when they cannot be started); they are stopped when the run
    // ends, and the output of each comes as rankOutput().
    void start(const RunConfig& config, const QString& name, const RunProcesses& processes = {});
    // Take effect at the next step boundary; no-ops without a run in progress.
    void pause();
    void resume();
    void stop();
    // An invalid bound or a plan for another schedule: applyFailed(message), the run continues.
    void setBounds(const FreezeBounds& bounds);
    void applyPlan(std::shared_ptr<const FreezePlan> plan);

    State state() const { return m_state; }
    // The run's id in the database; 0 until the worker recorded it, or when not recorded.
    std::int64_t runId() const { return m_runId; }
    // The config of the last start() (default-constructed before any).
    const RunConfig& config() const { return m_config; }
    // The schedule of the last start() whose config was valid.
    const std::optional<PipelineSchedule>& schedule() const { return m_schedule; }
    // The other ranks' processes of a one-process-per-rank run (none otherwise).
    const RankProcesses& rankProcesses() const { return m_ranks; }

signals:
    void stateChanged(tfreeze::EngineController::State state);
    // At most one per timer tick, only when something came; one more with the rest at the end.
    void telemetryArrived(const tfreeze::TelemetryBatch& batch);
    void planApplied(const tfreeze::PlanApplied& applied);
    // The run ended Finished or Stopped.
    void runFinished(const tfreeze::TrainingOutcome& outcome);
    // The run failed while training: a worker error, a NaN loss, a run database write error.
    void runFailed(const QString& reason);
    // start() refused the config, or the engine or the database could not be set up.
    void failed(const QString& message);
    void applyFailed(const QString& message);
    // A line printed by the process of pipeline rank `rank` of a one-process-per-rank run.
    void rankOutput(int rank, const QString& line);

private:
    // What the GUI thread and the worker share, under its mutex.
    struct Run;

    void setState(State state);
    void drainTelemetry();
    // On the GUI thread, queued from the worker.
    void onStarted(std::int64_t runId);
    void onStartFailed(const QString& message);
    void onEnded(const TrainingOutcome& outcome, const std::optional<std::string>& storeError);
    void joinWorker();
    // Starts ranks 1 … N−1 for `config` and fills `distributed` for rank 0; false with `error`.
    bool startRankProcesses(
        const RunConfig& config, const RunProcesses& processes, DistributedSetup& distributed, QString& error);
    // `message`, with why another rank's process ended, if one did.
    QString withRankFailures(const QString& message) const;

    State m_state = State::Idle;
    std::int64_t m_runId = 0;
    bool m_sessionStarted = false; // the worker built the session and is training
    RunConfig m_config;
    std::optional<PipelineSchedule> m_schedule;
    QTimer m_drainTimer;
    QueuedCallReceiver m_calls; // the worker's reports, run on the GUI thread
    std::shared_ptr<Run> m_run;
    RankProcesses m_ranks; // before m_worker: destroyed after it was joined
    std::unique_ptr<QTemporaryDir> m_rankConfigDir; // the config file the other ranks read
    std::thread m_worker;
};

} // namespace tfreeze
