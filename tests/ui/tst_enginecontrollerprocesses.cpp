// EngineController running one process per pipeline rank: the studio is rank 0 and starts the
// other ranks as `tfreeze-engine train` processes (the CLI of this build, found beside the
// studio). The run shows live like a run of threads, and its loss curve is the same; a CLI that is
// missing or that fails is reported.
#include "tests/ui/engine_controller_recorder.h"
#include "ui/engine_controller.h"
#include "ui/live_run_bench.h"
#include "ui/rank_processes.h"

#include <QtTest>

#include <cmath>

using namespace tfreeze;
using tfreeze::testing::Recorder;

namespace {

constexpr int kTimeoutMs = 300000; // the build machine is shared: generous, never asserted on
constexpr int kSteps = 6;

RunProcesses processesOf(const QString& program, int commTimeoutSeconds = 30)
{
    RunProcesses processes;
    processes.perRank = true;
    processes.program = program;
    processes.commTimeoutSeconds = commTimeoutSeconds;
    return processes;
}

} // namespace

class TestEngineControllerProcesses : public QObject {
    Q_OBJECT

private slots:
    // Registered only for an engine with Gloo (tests/ui/CMakeLists.txt): it must be able to.
    void initTestCase() { QVERIFY(multiProcessRunsAvailable()); }

    // Two processes against two threads, same config and seed: the same losses, step by step, and
    // the other process's spans reach the studio.
    void processPerRankRunMatchesThreads()
    {
        const RunConfig config = liveRunBenchConfig(kSteps);
        std::vector<StepStats> threads;
        {
            EngineController controller;
            Recorder recorder(controller);
            controller.start(config, QStringLiteral("threads"));
            QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
            QVERIFY2(recorder.finished.size() == 1, qPrintable(recorder.failures()));
            threads = recorder.steps;
        }

        EngineController controller;
        Recorder recorder(controller);
        QStringList rankLines;
        connect(&controller, &EngineController::rankOutput, this, [&rankLines](int rank, const QString& line) {
            rankLines << QString::number(rank) + QStringLiteral(": ") + line;
        });
        // The CLI the studio finds by itself in the build tree (TFREEZE_CLI unset).
        qunsetenv("TFREEZE_CLI");
        const QString program = RankProcesses::findProgram(QStringLiteral(TFREEZE_STUDIO_DIR));
        QVERIFY2(QFileInfo(program).fileName() == QStringLiteral("tfreeze-engine"), qPrintable(program));
        controller.start(config, QStringLiteral("processes"), processesOf(program));
        QCOMPARE(controller.rankProcesses().runningCount(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
        QVERIFY2(recorder.finished.size() == 1,
            qPrintable(recorder.failures() + QStringLiteral("\n") + rankLines.join(QLatin1Char('\n'))));
        QCOMPARE(controller.state(), EngineController::State::Finished);

        QCOMPARE(recorder.steps.size(), threads.size());
        for (std::size_t i = 0; i < threads.size(); ++i) {
            QCOMPARE(recorder.steps[i].step, threads[i].step);
            QVERIFY2(std::abs(recorder.steps[i].loss - threads[i].loss) <= 1e-5 * std::abs(threads[i].loss),
                qPrintable(
                    QStringLiteral("step %1: %2 vs %3").arg(i).arg(recorder.steps[i].loss).arg(threads[i].loss)));
        }
        bool rankOneSpans = false;
        for (const StepSpans& group : recorder.stepSpans)
            for (const ActionSpan& span : group.spans)
                rankOneSpans = rankOneSpans || span.rank == 1;
        QVERIFY(rankOneSpans);
        // The other rank ends with the run, by itself.
        QTRY_COMPARE_WITH_TIMEOUT(controller.rankProcesses().runningCount(), 0, kTimeoutMs);
        QVERIFY2(controller.rankProcesses().failureSummary().isEmpty(),
            qPrintable(controller.rankProcesses().failureSummary()));
    }

    // No CLI where the studio looks: the start fails at once, naming the path, and nothing runs.
    void missingProgramFailsTheStart()
    {
        EngineController controller;
        Recorder recorder(controller);
        controller.start(liveRunBenchConfig(kSteps), QStringLiteral("missing"),
            processesOf(QStringLiteral("/nonexistent/bin/tfreeze")));
        QCOMPARE(controller.state(), EngineController::State::Failed);
        QCOMPARE(recorder.startFailures.size(), std::size_t { 1 });
        QVERIFY2(recorder.startFailures.front().contains(QStringLiteral("/nonexistent/bin/tfreeze")),
            qPrintable(recorder.startFailures.front()));
        QCOMPARE(controller.rankProcesses().runningCount(), 0);
    }

    // A rank whose process exits at once (here: `false`): rank 0 gives up waiting for it after the
    // c10d time-out, and the message says what became of that rank.
    void rankThatExitsFailsTheStart()
    {
        EngineController controller;
        Recorder recorder(controller);
        controller.start(liveRunBenchConfig(kSteps), QStringLiteral("failing rank"),
            processesOf(QStandardPaths::findExecutable(QStringLiteral("false")), 2));
        QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
        QCOMPARE(controller.state(), EngineController::State::Failed);
        QCOMPARE(recorder.startFailures.size(), std::size_t { 1 });
        QVERIFY2(recorder.startFailures.front().contains(QStringLiteral("rank 1 exited with code 1")),
            qPrintable(recorder.startFailures.front()));
    }
};

QTEST_MAIN(TestEngineControllerProcesses)
#include "tst_enginecontrollerprocesses.moc"
