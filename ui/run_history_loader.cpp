#include "ui/run_history_loader.h"

#include "core/engine/run_config.h"
#include "core/plan/plan_error.h"
#include "core/store/run_store.h"
#include "ui/telemetry_metatypes.h"

#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace tfreeze {

namespace {

std::optional<RunConfig> tryParseConfig(const RunRecord& record)
{
    try {
        return parseRunConfigJson(record.configJson, "run " + std::to_string(record.id));
    } catch (const std::exception&) {
        // A config this version cannot read (older keys, hand-made runs): its columns stay empty.
        return std::nullopt;
    }
}

// A read-only store, after upgrading an older schema in place when the file may be written: a
// read-only open cannot migrate, and the CLI's first writable open would do the same upgrade.
std::unique_ptr<RunStore> openForReading(const std::string& path)
{
    try {
        return std::make_unique<RunStore>(path, RunStore::OpenMode::ReadOnly);
    } catch (const InputError& error) {
        if (error.field() != "user_version" || access(path.c_str(), W_OK) != 0)
            throw;
    }
    // A newer schema throws here again, with the same message, and leaves the file unchanged.
    {
        RunStore upgrade(path, RunStore::OpenMode::ReadWrite);
    }
    return std::make_unique<RunStore>(path, RunStore::OpenMode::ReadOnly);
}

// Writes must not create a database: a typo in the path would otherwise make an empty one.
void requireExistingFile(const std::string& path)
{
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        throw InputError(path, "", "no such run database");
}

} // namespace

void registerRunHistoryMetaTypes()
{
    registerTelemetryMetaTypes();
    qRegisterMetaType<RunHistoryRow>();
    qRegisterMetaType<QVector<RunHistoryRow>>();
    qRegisterMetaType<RunReplay>();
    qRegisterMetaType<RunComparison>();
}

RunHistoryLoader::RunHistoryLoader(QObject* parent)
    : QObject(parent)
{
    registerRunHistoryMetaTypes();
}

RunHistoryLoader::~RunHistoryLoader() { m_jobs.waitForIdle(); }

void RunHistoryLoader::setDatabasePath(const QString& path) { m_path = path; }

void RunHistoryLoader::waitForIdle() { m_jobs.waitForIdle(); }

RunHistoryRow RunHistoryLoader::makeRow(const RunRecord& record, const RunSummary& steps)
{
    RunHistoryRow row;
    row.record = record;
    if (steps.steps > 0) {
        row.finalLoss = steps.finalLoss;
        row.meanTokensPerSecond = steps.meanTokensPerSecond;
    }
    if (const std::optional<RunConfig> config = tryParseConfig(record)) {
        row.configParsed = true;
        row.scheduleKind = scheduleKindName(config->schedule.kind);
        row.ranks = config->schedule.ranks;
        row.microbatches = config->schedule.microbatches;
        row.freezer = freezerKindName(config->freezer.kind);
        row.maxFreeze = config->bounds.maxFreeze;
        row.perStageBounds = !config->bounds.maxFreezePerStage.empty();
    }
    return row;
}

void RunHistoryLoader::submit(const QString& what, std::function<void(const std::string& path)> job)
{
    const std::string path = m_path.toStdString();
    m_jobs.post([this, what = what.toStdString(), path, job = std::move(job)] {
        std::string failure;
        try {
            if (path.empty())
                throw InputError("", "", "no run database chosen");
            job(path);
            return;
        } catch (const std::exception& error) {
            failure = error.what();
        } catch (...) {
            failure = path + ": an unknown error";
        }
        m_replies.post([this, what, failure = std::move(failure)] {
            emit loadFailed(QString::fromStdString(what), QString::fromStdString(failure));
        });
    });
}

void RunHistoryLoader::loadRuns()
{
    const quint64 generation = ++m_runsGeneration;
    submit(QStringLiteral("runs"), [this, generation](const std::string& path) {
        const auto opened = openForReading(path);
        RunStore& store = *opened;
        QVector<RunHistoryRow> rows;
        for (const RunRecord& record : store.listRuns())
            rows.append(makeRow(record, store.summarizeSteps(record.id)));
        m_replies.post([this, generation, rows = std::move(rows)] {
            if (generation == m_runsGeneration)
                emit runsLoaded(rows);
        });
    });
}

void RunHistoryLoader::loadReplay(qint64 runId)
{
    const quint64 generation = ++m_replayGeneration;
    submit(QStringLiteral("run %1").arg(runId), [this, generation, runId](const std::string& path) {
        const auto opened = openForReading(path);
        RunStore& store = *opened;
        RunReplay replay;
        replay.record = store.run(runId);
        replay.steps = store.steps(runId);
        replay.evals = store.evals(runId);
        replay.plans = store.plans(runId);
        replay.spanSteps = store.spanSteps(runId);
        if (const std::optional<RunConfig> config = tryParseConfig(replay.record)) {
            replay.schedule = config->schedule;
            replay.processors = sharedProcessors(*config);
            replay.allOrNothingStages = allOrNothingStages(*config);
        }
        m_replies.post([this, generation, replay = std::move(replay)] {
            if (generation == m_replayGeneration)
                emit replayLoaded(replay);
        });
    });
}

void RunHistoryLoader::loadSpans(qint64 runId, qint64 step)
{
    submit(
        QStringLiteral("spans of run %1, step %2").arg(runId).arg(step), [this, runId, step](const std::string& path) {
            const auto opened = openForReading(path);
            RunStore& store = *opened;
            std::vector<ActionSpan> spans = store.spans(runId, step);
            m_replies.post([this, runId, step, spans = std::move(spans)] { emit spansLoaded(runId, step, spans); });
        });
}

void RunHistoryLoader::loadPlan(qint64 planId)
{
    submit(QStringLiteral("plan %1").arg(planId), [this, planId](const std::string& path) {
        const auto opened = openForReading(path);
        RunStore& store = *opened;
        auto plan = std::make_shared<const FreezePlan>(store.plan(planId));
        m_replies.post([this, planId, plan = std::move(plan)] { emit planLoaded(planId, plan); });
    });
}

void RunHistoryLoader::loadComparison(qint64 a, qint64 b)
{
    const quint64 generation = ++m_comparisonGeneration;
    submit(QStringLiteral("comparison of runs %1 and %2").arg(a).arg(b),
        [this, generation, a, b](const std::string& path) {
            const auto opened = openForReading(path);
            RunStore& store = *opened;
            RunComparison comparison = store.compare(a, b);
            m_replies.post([this, generation, comparison = std::move(comparison)] {
                if (generation == m_comparisonGeneration)
                    emit comparisonLoaded(comparison);
            });
        });
}

void RunHistoryLoader::checkDatabase()
{
    submit(QStringLiteral("check the database"), [this](const std::string& path) {
        requireExistingFile(path);
        RunStore store(path, RunStore::OpenMode::ReadOnly);
        std::vector<std::string> problems = store.integrityProblems();
        const int runs = problems.empty() ? static_cast<int>(store.listRuns().size()) : 0;
        // The problems cross as std::string and become QStrings on the GUI thread, so no buffer is
        // shared between the two threads (QueuedCallReceiver::post).
        m_replies.post([this, path, runs, problems = std::move(problems)] {
            QStringList lines;
            lines.reserve(static_cast<qsizetype>(problems.size()));
            for (const std::string& problem : problems)
                lines.append(QString::fromStdString(problem));
            emit databaseChecked(QString::fromStdString(path), runs, lines);
        });
    });
}

void RunHistoryLoader::deleteRun(qint64 runId)
{
    const QString what = QStringLiteral("delete run %1").arg(runId);
    submit(what, [this, what = what.toStdString(), runId](const std::string& path) {
        requireExistingFile(path);
        RunStore store(path);
        if (!store.deleteRun(runId))
            throw InputError(path, "", "no run with id " + std::to_string(runId));
        m_replies.post([this, what, runId] { emit writeFinished(runId, QString::fromStdString(what)); });
    });
}

void RunHistoryLoader::renameRun(qint64 runId, const QString& name)
{
    const QString what = QStringLiteral("rename run %1").arg(runId);
    submit(what, [this, what = what.toStdString(), runId, name = name.toStdString()](const std::string& path) {
        requireExistingFile(path);
        RunStore store(path);
        if (!store.renameRun(runId, name))
            throw InputError(path, "", "no run with id " + std::to_string(runId));
        m_replies.post([this, what, runId] { emit writeFinished(runId, QString::fromStdString(what)); });
    });
}

void RunHistoryLoader::setRunNotes(qint64 runId, const QString& notes)
{
    const QString what = QStringLiteral("notes of run %1").arg(runId);
    submit(what, [this, what = what.toStdString(), runId, notes = notes.toStdString()](const std::string& path) {
        requireExistingFile(path);
        RunStore store(path);
        if (!store.setRunNotes(runId, notes))
            throw InputError(path, "", "no run with id " + std::to_string(runId));
        m_replies.post([this, what, runId] { emit writeFinished(runId, QString::fromStdString(what)); });
    });
}

} // namespace tfreeze
