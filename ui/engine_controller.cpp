#include "ui/engine_controller.h"

#include "core/engine/loopback_port.h"
#include "core/plan/plan_error.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "ui/telemetry_metatypes.h"

#include <mutex>
#include <utility>

namespace tfreeze {

struct EngineController::Run {
    std::mutex mutex;
    // Null until the worker built it, and again once run() returned.
    std::shared_ptr<TrainingSession> session;
    // Commands that came before the session existed; the worker applies them after building it.
    bool pauseRequested = false;
    bool stopRequested = false;
    std::optional<FreezeBounds> bounds;
    std::shared_ptr<const FreezePlan> plan;
    // The run database's first write error: it stopped the run.
    std::optional<std::string> storeError;

    std::shared_ptr<TelemetryBuffer> buffer = std::make_shared<TelemetryBuffer>();
};

namespace {

QString toQString(const std::string& text) { return QString::fromStdString(text); }

} // namespace

EngineController::EngineController(QObject* parent)
    : QObject(parent)
{
    registerTelemetryMetaTypes();
    m_drainTimer.setInterval(kUpdateIntervalMs);
    connect(&m_drainTimer, &QTimer::timeout, this, &EngineController::drainTelemetry);
    connect(&m_ranks, &RankProcesses::outputLine, this, &EngineController::rankOutput);
}

EngineController::~EngineController()
{
    if (m_run) {
        const std::lock_guard lock(m_run->mutex);
        m_run->stopRequested = true;
        if (m_run->session)
            m_run->session->control().requestStop(); // also ends a pause
    }
    joinWorker();
}

void EngineController::joinWorker()
{
    if (m_worker.joinable())
        m_worker.join();
}

void EngineController::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): the start-up steps in order, each short
void EngineController::start(const RunConfig& config, const QString& name, const RunProcesses& processes)
{
    if (m_state == State::Starting || m_state == State::Running || m_state == State::Paused
        || m_state == State::Stopping) {
        emit failed(tr("A run is in progress: stop it before starting another."));
        return;
    }
    // The last run's worker has ended (its end was reported): this join does not wait.
    joinWorker();
    m_config = config;
    m_runId = 0;
    m_sessionStarted = false;
    m_schedule.reset();
    try {
        validateRunConfig(config, "config");
        m_schedule = PipelineSchedule::generate(config.schedule);
    } catch (const InputError& error) {
        setState(State::Failed);
        emit failed(toQString(error.what()));
        return;
    }
    DistributedSetup distributed;
    if (processes.perRank && config.schedule.ranks > 1) {
        QString error;
        if (!startRankProcesses(config, processes, distributed, error)) {
            setState(State::Failed);
            emit failed(error);
            return;
        }
    }

    auto run = std::make_shared<Run>();
    m_run = run;
    setState(State::Starting);
    m_drainTimer.start();
    const std::string runName = name.toStdString();
    // The session's model is built, and the run database opened, on the worker: both can take
    // long (a big model, a database on a slow or locked disk).
    // With other ranks' processes, the session waits here until they all joined (or c10d's time-out).
    m_worker = std::thread([this, run, config, runName, distributed] {
        std::shared_ptr<TrainingSession> session;
        std::shared_ptr<RunRecorder> recorder;
        std::int64_t runId = 0;
        try {
            session = std::make_shared<TrainingSession>(config, distributed);
            session->addSink(run->buffer);
            if (!config.output.db.empty()) {
                NewRun newRun;
                newRun.name = runName;
                newRun.configJson = writeRunConfigJson(config);
                newRun.toolVersion = TFREEZE_VERSION;
                runId = RunStore(config.output.db).beginRun(newRun);
                RunRecorderOptions options;
                // As `tfreeze train`: losing the run's history silently is worse than stopping it.
                TrainingSession* raw = session.get();
                options.onError = [run, raw](const std::string& error) {
                    {
                        const std::lock_guard lock(run->mutex);
                        if (!run->storeError)
                            run->storeError = error;
                    }
                    raw->control().requestStop();
                };
                recorder = std::make_shared<RunRecorder>(config.output.db, runId, options);
                session->addSink(recorder);
            }
        } catch (const std::exception& error) {
            // The QString is made on the GUI thread: a worker keeps no share of what it posts.
            m_calls.post([this, message = std::string(error.what())] { onStartFailed(toQString(message)); });
            return;
        }

        // Bounds and a plan sent before the session existed: both are tried, and both refusals
        // reported (in one message, as they were sent together).
        std::optional<std::string> planError;
        const auto refused = [&planError](const InputError& error) {
            planError = planError ? *planError + "; " + error.what() : std::string(error.what());
        };
        {
            const std::lock_guard lock(run->mutex);
            run->session = session;
            try {
                if (run->bounds)
                    session->setBounds(*run->bounds);
            } catch (const InputError& error) {
                refused(error);
            }
            try {
                if (run->plan)
                    session->applyPlan(run->plan);
            } catch (const InputError& error) {
                refused(error);
            }
            if (run->pauseRequested)
                session->control().pause();
            if (run->stopRequested)
                session->control().requestStop();
        }
        m_calls.post([this, runId, planError] {
            onStarted(runId);
            if (planError)
                emit applyFailed(toQString(*planError));
        });

        TrainingOutcome outcome;
        try {
            outcome = session->run();
        } catch (const std::exception& error) {
            // run() reports failures in its outcome; anything escaping it is a bug of ours, and
            // the run is over either way.
            outcome.status = TrainingOutcome::Status::Failed;
            outcome.error = error.what();
        }
        std::optional<std::string> storeError;
        if (recorder) {
            recorder->close(); // RunFinished/RunFailed committed: the run's status is written
            storeError = recorder->error();
        }
        {
            const std::lock_guard lock(run->mutex);
            if (run->storeError)
                storeError = run->storeError;
            run->session.reset();
        }
        // The session (model, threads) goes here, on the worker, not on the GUI thread.
        recorder.reset();
        session.reset();
        m_calls.post([this, outcome, storeError] { onEnded(outcome, storeError); });
    });
}

void EngineController::onStarted(std::int64_t runId)
{
    m_runId = runId;
    m_sessionStarted = true;
    if (m_state == State::Starting)
        setState(State::Running);
}

bool EngineController::startRankProcesses(
    const RunConfig& config, const RunProcesses& processes, DistributedSetup& distributed, QString& error)
{
    if (!multiProcessRunsAvailable()) {
        error = tr("This build of the engine has no c10d Gloo backend (libgloo-dev when it was built), so it cannot "
                   "run one process per rank; run the ranks as threads instead.");
        return false;
    }
    distributed.enabled = true;
    distributed.rank = 0;
    distributed.localRank = 0;
    distributed.worldSize = config.schedule.ranks;
    distributed.masterAddr = "127.0.0.1";
    distributed.timeoutSeconds = processes.commTimeoutSeconds;
    try {
        distributed.masterPort = freeLoopbackPort();
        m_rankConfigDir = std::make_unique<QTemporaryDir>();
        if (!m_rankConfigDir->isValid())
            throw std::runtime_error(
                "cannot create a temporary folder: " + m_rankConfigDir->errorString().toStdString());
        // What the other ranks train: the same run, without rank 0's outputs (the database, files
        // and checkpoints are the studio's), with its input files found from anywhere.
        RunConfig ranksConfig = config;
        ranksConfig.output.db.clear();
        ranksConfig.output.dir.clear();
        ranksConfig.checkpointInterval = 0;
        makeInputPathsAbsolute(ranksConfig);
        const QString configPath = m_rankConfigDir->filePath(QStringLiteral("run-config.json"));
        writeRunConfigFile(ranksConfig, configPath.toStdString());

        RankProcesses::Options options;
        options.program = processes.program.isEmpty() ? RankProcesses::findProgram() : processes.program;
        options.configPath = configPath;
        options.worldSize = distributed.worldSize;
        options.masterPort = distributed.masterPort;
        options.commTimeoutSeconds = processes.commTimeoutSeconds;
        if (!m_ranks.start(options)) {
            error = m_ranks.errorString();
            return false;
        }
    } catch (const std::exception& failure) {
        error = tr("The other ranks' processes could not be set up: %1").arg(toQString(failure.what()));
        return false;
    }
    return true;
}

QString EngineController::withRankFailures(const QString& message) const
{
    const QString ranks = m_ranks.failureSummary();
    return ranks.isEmpty() ? message : message + QLatin1Char('\n') + ranks;
}

void EngineController::onStartFailed(const QString& message)
{
    m_drainTimer.stop();
    joinWorker();
    m_run.reset();
    m_ranks.finish();
    setState(State::Failed);
    emit failed(withRankFailures(message));
}

void EngineController::onEnded(const TrainingOutcome& outcome, const std::optional<std::string>& storeError)
{
    m_drainTimer.stop();
    joinWorker();
    drainTelemetry(); // what came after the last tick, before the end is announced
    m_run.reset();
    m_ranks.finish(); // they end with the run; the ones that do not are stopped
    if (storeError) {
        setState(State::Failed);
        emit runFailed(tr("The run database failed, so the run stopped: %1").arg(toQString(*storeError)));
    } else if (outcome.status == TrainingOutcome::Status::Failed) {
        setState(State::Failed);
        emit runFailed(withRankFailures(toQString(outcome.error)));
    } else {
        setState(State::Finished);
        emit runFinished(outcome);
    }
}

void EngineController::drainTelemetry()
{
    if (!m_run)
        return;
    TelemetryBatch batch = m_run->buffer->drain();
    if (batch.empty())
        return;
    emit telemetryArrived(batch);
    for (const PlanApplied& applied : batch.plans)
        emit planApplied(applied);
}

void EngineController::pause()
{
    if (m_state != State::Starting && m_state != State::Running)
        return;
    {
        const std::lock_guard lock(m_run->mutex);
        m_run->pauseRequested = true;
        if (m_run->session)
            m_run->session->control().pause();
    }
    setState(State::Paused);
}

void EngineController::resume()
{
    if (m_state != State::Paused)
        return;
    {
        const std::lock_guard lock(m_run->mutex);
        m_run->pauseRequested = false;
        if (m_run->session)
            m_run->session->control().resume();
    }
    setState(m_sessionStarted ? State::Running : State::Starting);
}

void EngineController::stop()
{
    if (m_state != State::Starting && m_state != State::Running && m_state != State::Paused)
        return;
    {
        const std::lock_guard lock(m_run->mutex);
        m_run->stopRequested = true;
        if (m_run->session)
            m_run->session->control().requestStop();
    }
    setState(State::Stopping);
}

void EngineController::setBounds(const FreezeBounds& bounds)
{
    if (!m_run) {
        emit applyFailed(tr("No run in progress."));
        return;
    }
    try {
        const std::lock_guard lock(m_run->mutex);
        if (m_run->session)
            m_run->session->setBounds(bounds);
        else
            m_run->bounds = bounds;
    } catch (const InputError& error) {
        emit applyFailed(toQString(error.what()));
    }
}

void EngineController::applyPlan(std::shared_ptr<const FreezePlan> plan)
{
    if (!m_run) {
        emit applyFailed(tr("No run in progress."));
        return;
    }
    try {
        const std::lock_guard lock(m_run->mutex);
        if (m_run->session)
            m_run->session->applyPlan(std::move(plan));
        else
            m_run->plan = std::move(plan);
    } catch (const InputError& error) {
        emit applyFailed(toQString(error.what()));
    }
}

} // namespace tfreeze
