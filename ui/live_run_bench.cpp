#include "ui/live_run_bench.h"

#include "ui/engine_controller.h"
#include "ui/event_loop_stall_monitor.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTemporaryDir>

#include <algorithm>
#include <vector>

namespace tfreeze {

RunConfig liveRunBenchConfig(std::int64_t steps)
{
    RunConfig config;
    config.model.width = 32;
    config.model.blocks = 4;
    config.model.heads = 2;
    config.model.sequence = 16;
    config.data.batchSize = 8;
    config.schedule = { ScheduleKind::OneFOneB, 2, 4, 1 };
    config.optimizer.warmupSteps = 1;
    config.optimizer.lr = 1e-2;
    config.steps = steps;
    config.evalInterval = 0;
    config.evalBatches = 1;
    config.seed = 7;
    config.output.db.clear();
    config.output.dir.clear();
    return config;
}

LiveRunBenchResult runLiveRunBench(int steps)
{
    LiveRunBenchResult result;
    QTemporaryDir dir;
    RunConfig config = liveRunBenchConfig(steps);
    if (dir.isValid())
        config.output.db = dir.filePath(QStringLiteral("bench.sqlite")).toStdString();

    EngineController controller;
    EventLoopStallMonitor monitor(5);
    QEventLoop loop;
    QElapsedTimer clock;
    std::vector<qint64> updateTimesMs;
    QObject::connect(&controller, &EngineController::telemetryArrived, &loop, [&](const TelemetryBatch& batch) {
        updateTimesMs.push_back(clock.elapsed());
        if (!batch.steps.empty())
            result.steps = batch.steps.back().step + 1;
    });
    QObject::connect(&controller, &EngineController::runFinished, &loop, [&](const TrainingOutcome& outcome) {
        result.finished = outcome.status == TrainingOutcome::Status::Finished;
        if (!result.finished)
            result.error = QStringLiteral("the run stopped early");
        loop.quit();
    });
    auto fail = [&](const QString& reason) {
        result.error = reason;
        loop.quit();
    };
    QObject::connect(&controller, &EngineController::runFailed, &loop, fail);
    QObject::connect(&controller, &EngineController::failed, &loop, fail);

    monitor.start();
    clock.start();
    controller.start(config, QStringLiteral("bench live"));
    if (controller.state() == EngineController::State::Starting)
        loop.exec();
    result.wallSeconds = static_cast<double>(clock.elapsed()) / 1000.0;
    monitor.stop();

    result.telemetryUpdates = static_cast<int>(updateTimesMs.size());
    result.updatesPerSecond = result.wallSeconds > 0.0 ? result.telemetryUpdates / result.wallSeconds : 0.0;
    // Sliding one-second window over the (sorted) emission times.
    std::size_t first = 0;
    for (std::size_t last = 0; last < updateTimesMs.size(); ++last) {
        while (updateTimesMs[last] - updateTimesMs[first] >= 1000)
            ++first;
        result.maxUpdatesInOneSecond = std::max(result.maxUpdatesInOneSecond, static_cast<int>(last - first + 1));
    }
    result.longestStallMs = monitor.longestStallMs();
    result.stallsOver50Ms = monitor.stallsOver(50.0);
    return result;
}

QString liveRunBenchReport(const LiveRunBenchResult& result)
{
    QString text;
    text += QStringLiteral("live run: %1 steps in %2 s (%3)\n")
                .arg(result.steps)
                .arg(result.wallSeconds, 0, 'f', 2)
                .arg(result.finished ? QStringLiteral("finished") : result.error);
    text += QStringLiteral("telemetry updates: %1, %2 per second on average, at most %3 in one second (target <= 30)\n")
                .arg(result.telemetryUpdates)
                .arg(result.updatesPerSecond, 0, 'f', 1)
                .arg(result.maxUpdatesInOneSecond);
    text += QStringLiteral("GUI thread: longest stall %1 ms, %2 stalls over 50 ms (target: none)\n")
                .arg(result.longestStallMs, 0, 'f', 1)
                .arg(result.stallsOver50Ms);
    return text;
}

} // namespace tfreeze
