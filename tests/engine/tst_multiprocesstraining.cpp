// TrainingSession as one process per pipeline rank over c10d Gloo on loopback, against the same run
// in one process: the test is rank 0 and starts copies of itself as the other ranks.
#include "core/engine/training_session.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/plan_error.h"
#include "core/plan/synthetic_profile.h"
#include "tests/engine/process_test_support.h"

#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace tfreeze;

Q_DECLARE_METATYPE(tfreeze::ScheduleShape)
Q_DECLARE_METATYPE(tfreeze::FreezerKind)

namespace {

constexpr int kSteps = 20;

RunConfig smallConfig(ScheduleShape shape, FreezerKind freezer)
{
    RunConfig config;
    config.model.width = 32;
    config.model.blocks = 4;
    config.model.heads = 2;
    config.model.sequence = 16;
    config.data.batchSize = 8;
    config.schedule = shape;
    config.optimizer.warmupSteps = 1;
    config.optimizer.lr = 1e-2;
    config.freezer.kind = freezer;
    config.freezer.timely = TimelyFreezeConfig { 2, 3, 3, 2 };
    // APF and AutoFreeze decide every two steps and freeze within the 20 steps.
    config.freezer.apf.window = 2;
    config.freezer.apf.alpha = 0.5;
    config.freezer.apf.threshold = 0.95;
    config.freezer.autoFreeze.interval = 2;
    config.freezer.autoFreeze.percentile = 95.0;
    config.steps = kSteps;
    config.evalInterval = 10;
    config.evalBatches = 1;
    config.seed = 11;
    config.output.db.clear();
    validateRunConfig(config, "test");
    return config;
}

// Adam with a huge step and no damping: the loss stops being finite within a few steps, on the
// last stage (the last rank's process), the same in one process and in several.
RunConfig diverging(RunConfig config)
{
    config.optimizer.lr = 10.0;
    config.optimizer.epsilon = 1e-30;
    config.optimizer.beta2 = 0.0;
    config.optimizer.weightDecay = 0.0;
    config.optimizer.gradClip = 0.0;
    config.optimizer.warmupSteps = 0;
    validateRunConfig(config, "test");
    return config;
}

// What the peers need to build the same config: passed in their environment.
std::string shapeText(const ScheduleShape& shape)
{
    return std::to_string(static_cast<int>(shape.kind)) + " " + std::to_string(shape.ranks) + " "
        + std::to_string(shape.microbatches) + " " + std::to_string(shape.stagesPerRank);
}

ScheduleShape parseShape(const char* text)
{
    int kind = 0;
    ScheduleShape shape;
    std::sscanf(text, "%d %d %d %d", &kind, &shape.ranks, &shape.microbatches, &shape.stagesPerRank);
    shape.kind = static_cast<ScheduleKind>(kind);
    return shape;
}

DistributedSetup setup(int rank, int worldSize, int port)
{
    DistributedSetup s;
    s.enabled = true;
    s.rank = rank;
    s.worldSize = worldSize;
    s.localRank = rank;
    s.masterPort = port;
    s.timeoutSeconds = 10;
    return s;
}

class RecordingSink : public TelemetrySink {
public:
    void publish(const TelemetryEvent& event) override
    {
        const std::lock_guard lock(m_mutex);
        m_events.push_back(event);
    }
    template <typename T> std::vector<T> all() const
    {
        const std::lock_guard lock(m_mutex);
        std::vector<T> result;
        for (const TelemetryEvent& event : m_events)
            if (const auto* value = std::get_if<T>(&event))
                result.push_back(*value);
        return result;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<TelemetryEvent> m_events;
};

// Ranks 1 … N−1: TFREEZE_TEST_SHAPE, TFREEZE_TEST_FREEZER, RANK, WORLD_SIZE, MASTER_PORT; with
// TFREEZE_TEST_DIE_AFTER=k, SIGKILL itself after step k (a crashed rank); with
// TFREEZE_TEST_HANG_AFTER=k, SIGSTOP itself after step k (a hung rank: alive, connections open);
// with TFREEZE_TEST_STEPS=n, train n steps; with TFREEZE_TEST_RESUME=DIR, resume from the checkpoint
// in DIR first; with TFREEZE_TEST_SAVE=DIR, write its part of a checkpoint into DIR at the end;
// with TFREEZE_TEST_TIMEOUT=s, wait s seconds (not 10) for the others; with TFREEZE_TEST_DIVERGE=1,
// train the diverging() config.
int runPeer()
{
    try {
        RunConfig config = smallConfig(parseShape(std::getenv("TFREEZE_TEST_SHAPE")),
            static_cast<FreezerKind>(std::atoi(std::getenv("TFREEZE_TEST_FREEZER"))));
        if (const char* steps = std::getenv("TFREEZE_TEST_STEPS"))
            config.steps = std::atoi(steps);
        if (std::getenv("TFREEZE_TEST_DIVERGE"))
            config = diverging(config);
        DistributedSetup distributed = distributedSetupFromEnvironment();
        distributed.timeoutSeconds = 10;
        if (const char* timeout = std::getenv("TFREEZE_TEST_TIMEOUT"))
            distributed.timeoutSeconds = std::atoi(timeout);
        const char* dieAfter = std::getenv("TFREEZE_TEST_DIE_AFTER");
        const char* hangAfter = std::getenv("TFREEZE_TEST_HANG_AFTER");
        TrainingSession session(config, distributed);
        if (const char* resume = std::getenv("TFREEZE_TEST_RESUME"))
            session.loadCheckpoint(resume);
        const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
            if (dieAfter && progress.stats.step + 1 == std::atoi(dieAfter))
                std::raise(SIGKILL);
            if (hangAfter && progress.stats.step + 1 == std::atoi(hangAfter))
                std::raise(SIGSTOP);
        });
        if (const char* save = std::getenv("TFREEZE_TEST_SAVE"))
            session.saveCheckpoint(save);
        return outcome.status == TrainingOutcome::Status::Failed ? 3 : 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "peer: %s\n", error.what());
        return 4;
    }
}

std::vector<pid_t> spawnPeers(int worldSize, int port, const ScheduleShape& shape, FreezerKind freezer,
    int dieAfter = 0, int hangAfter = 0, const std::vector<std::string>& extra = {})
{
    std::vector<pid_t> pids;
    for (int rank = 1; rank < worldSize; ++rank) {
        std::vector<std::string> variables { "TFREEZE_TEST_PEER=1", "RANK=" + std::to_string(rank),
            "LOCAL_RANK=" + std::to_string(rank), "WORLD_SIZE=" + std::to_string(worldSize), "MASTER_ADDR=127.0.0.1",
            "MASTER_PORT=" + std::to_string(port), "TFREEZE_TEST_SHAPE=" + shapeText(shape),
            "TFREEZE_TEST_FREEZER=" + std::to_string(static_cast<int>(freezer)) };
        if (dieAfter > 0)
            variables.push_back("TFREEZE_TEST_DIE_AFTER=" + std::to_string(dieAfter));
        if (hangAfter > 0)
            variables.push_back("TFREEZE_TEST_HANG_AFTER=" + std::to_string(hangAfter));
        variables.insert(variables.end(), extra.begin(), extra.end());
        const pid_t pid = testing::spawnSelf(variables);
        if (pid > 0)
            pids.push_back(pid);
    }
    return pids;
}

// Exit codes of the peers (128 + signal for a killed one).
std::vector<int> waitAll(const std::vector<pid_t>& pids)
{
    std::vector<int> codes;
    for (pid_t pid : pids)
        codes.push_back(testing::waitExitCode(pid));
    return codes;
}

} // namespace

class TestMultiProcessTraining : public QObject {
    Q_OBJECT

private slots:
    void lossCurveMatchesInProcess_data()
    {
        QTest::addColumn<ScheduleShape>("shape");
        QTest::addColumn<FreezerKind>("freezer");
        const ScheduleShape twoRanks { ScheduleKind::OneFOneB, 2, 4, 1 };
        QTest::newRow("1F1B, 2 processes") << twoRanks << FreezerKind::None;
        QTest::newRow("1F1B, 4 processes") << ScheduleShape { ScheduleKind::OneFOneB, 4, 4, 1 } << FreezerKind::None;
        // Stages 1 and 2 share rank 1: that hop stays inside its process.
        QTest::newRow("ZBV, 2 processes") << ScheduleShape { ScheduleKind::ZBV, 2, 4, 2 } << FreezerKind::None;
        // APF and AutoFreeze decide from every stage's statistics, summed over the processes: the
        // same decisions give the same curve (their choices do not depend on timing).
        QTest::newRow("APF, 1F1B, 2 processes") << twoRanks << FreezerKind::Apf;
        QTest::newRow("AutoFreeze, 1F1B, 4 processes")
            << ScheduleShape { ScheduleKind::OneFOneB, 4, 4, 1 } << FreezerKind::AutoFreeze;
    }

    // The 20-step loss curve, evaluations included, equals the in-process run's with the same seed.
    void lossCurveMatchesInProcess()
    {
        QFETCH(ScheduleShape, shape);
        QFETCH(FreezerKind, freezer);
        const RunConfig config = smallConfig(shape, freezer);

        RecordingSink inProcess;
        {
            TrainingSession session(config);
            session.addSink(std::shared_ptr<TelemetrySink>(&inProcess, [](TelemetrySink*) {}));
            QCOMPARE(session.run().status, TrainingOutcome::Status::Finished);
        }

        const int port = testing::freeLoopbackPort();
        const std::vector<pid_t> peers = spawnPeers(shape.ranks, port, shape, freezer);
        QCOMPARE(static_cast<int>(peers.size()), shape.ranks - 1);
        RecordingSink distributed;
        TrainingOutcome outcome;
        {
            TrainingSession session(config, setup(0, shape.ranks, port));
            session.addSink(std::shared_ptr<TelemetrySink>(&distributed, [](TelemetrySink*) {}));
            outcome = session.run();
        }
        for (int code : waitAll(peers))
            QCOMPARE(code, 0);
        QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);

        const auto expected = inProcess.all<StepStats>();
        const auto actual = distributed.all<StepStats>();
        QCOMPARE(static_cast<int>(actual.size()), kSteps);
        QCOMPARE(actual.size(), expected.size());
        for (std::size_t i = 0; i < actual.size(); ++i) {
            QVERIFY2(std::abs(actual[i].loss - expected[i].loss) <= 1e-5 * std::abs(expected[i].loss),
                qPrintable(QStringLiteral("step %1: %2 vs %3").arg(i).arg(actual[i].loss).arg(expected[i].loss)));
            // Every process's spans reach rank 0.
            QCOMPARE(static_cast<int>(actual[i].rankBubbleFraction.size()), shape.ranks);
            QCOMPARE(actual[i].stageMeanFreezeRatio, expected[i].stageMeanFreezeRatio);
        }
        if (freezer != FreezerKind::None) {
            // The freezer froze something, in a process other than rank 0 too.
            bool frozeInPeer = false;
            for (const ActionSpan& span : distributed.all<ActionSpan>())
                frozeInPeer = frozeInPeer || (span.rank > 0 && span.frozenTensors > 0);
            QVERIFY2(frozeInPeer, "nothing froze outside rank 0");
        }
        QCOMPARE(distributed.all<ActionSpan>().size(), inProcess.all<ActionSpan>().size());
        const auto expectedEval = inProcess.all<EvalStats>();
        const auto actualEval = distributed.all<EvalStats>();
        QCOMPARE(actualEval.size(), expectedEval.size());
        for (std::size_t i = 0; i < actualEval.size(); ++i)
            QVERIFY(std::abs(actualEval[i].validationLoss - expectedEval[i].validationLoss)
                <= 1e-5 * expectedEval[i].validationLoss);
    }

    // TimelyFreeze across processes: rank 0 plans from every process's spans and its ratios reach
    // the stages on the other processes (their frozen share comes back in the step's figures).
    void timelyFreezeFreezesEveryProcess()
    {
        const ScheduleShape shape { ScheduleKind::OneFOneB, 2, 4, 1 };
        const RunConfig config = smallConfig(shape, FreezerKind::TimelyFreeze);
        const int port = testing::freeLoopbackPort();
        const std::vector<pid_t> peers = spawnPeers(2, port, shape, FreezerKind::TimelyFreeze);
        RecordingSink sink;
        TrainingOutcome outcome;
        {
            TrainingSession session(config, setup(0, 2, port));
            session.addSink(std::shared_ptr<TelemetrySink>(&sink, [](TelemetrySink*) {}));
            outcome = session.run();
        }
        for (int code : waitAll(peers))
            QCOMPARE(code, 0);
        QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);
        QVERIFY(!sink.all<PlanApplied>().empty());
        const StepStats last = sink.all<StepStats>().back();
        QCOMPARE(last.phase, TrainingPhase::Stable);
        // The last step ran the plan everywhere: each action (rank-major, as the plan lists them) froze
        // round(ratio × tensors), stage 1's actions in the peer process included. The ratios reach the
        // peer only through rank 0's broadcast.
        const FreezePlan& plan = *sink.all<PlanApplied>().back().plan;
        std::vector<ActionSpan> spans;
        for (const ActionSpan& span : sink.all<ActionSpan>())
            if (span.step == last.step)
                spans.push_back(span);
        QCOMPARE(spans.size(), plan.actions.size());
        int frozen = 0;
        int frozenInPeer = 0;
        for (std::size_t i = 0; i < spans.size(); ++i) {
            if (!isFreezable(spans[i].kind))
                continue;
            // TimelyFreeze keeps one tensor of the last stage trainable (METHOD.md §6).
            const int total = spans[i].totalTensors;
            const bool lastStage = spans[i].stage == shape.ranks * shape.stagesPerRank - 1;
            const double ratio
                = lastStage ? std::min(plan.actions[i].ratio, (total - 1.0) / total) : plan.actions[i].ratio;
            const long expected = std::min<long>(std::lround(ratio * total), total);
            QVERIFY2(spans[i].frozenTensors == expected,
                qPrintable(
                    QStringLiteral("action %1 (rank %2, stage %3, microbatch %4): %5 frozen, plan ratio %6 of %7")
                        .arg(i)
                        .arg(spans[i].rank)
                        .arg(spans[i].stage)
                        .arg(spans[i].microbatch)
                        .arg(spans[i].frozenTensors)
                        .arg(plan.actions[i].ratio)
                        .arg(spans[i].totalTensors)));
            frozen += spans[i].frozenTensors;
            if (spans[i].rank == 1)
                frozenInPeer += spans[i].frozenTensors;
        }
        QVERIFY2(frozen > 0 || plan.batchMsPlanned >= plan.batchMsNoFreeze, "a plan that saves time freezes something");
        qInfo("last step: %d tensors frozen, %d of them in the peer process", frozen, frozenInPeer);
    }

    // Paused longer than the others' c10d time-out (6 s), rank 0 tells them "still paused" every
    // 2 s, so they wait instead of failing; a plan the user applies meanwhile reaches the peer's
    // stage through rank 0's broadcast at the resume, and every step after it runs that plan.
    void pauseOutlivesTheTimeoutAndAPlanReachesEveryProcess()
    {
        const ScheduleShape shape { ScheduleKind::OneFOneB, 2, 4, 1 };
        RunConfig config = smallConfig(shape, FreezerKind::None);
        config.steps = 6;
        const PipelineSchedule schedule = PipelineSchedule::generate(shape);
        FreezeBounds bounds;
        bounds.maxFreeze = 0.5;
        const auto plan = std::make_shared<const FreezePlan>(
            FreezePlanner(makeSyntheticProfile(schedule, SyntheticCosts {})).plan(bounds));
        QVERIFY(std::all_of(plan->stageMeanRatio.begin(), plan->stageMeanRatio.end(), [](double r) { return r > 0; }));

        const int port = testing::freeLoopbackPort();
        const std::vector<pid_t> peers
            = spawnPeers(2, port, shape, FreezerKind::None, 0, 0, { "TFREEZE_TEST_STEPS=6", "TFREEZE_TEST_TIMEOUT=6" });
        RecordingSink sink;
        TrainingOutcome outcome;
        double pausedSeconds = 0.0;
        {
            TrainingSession session(config, setup(0, 2, port));
            session.addSink(std::shared_ptr<TelemetrySink>(&sink, [](TelemetrySink*) {}));
            std::thread resumer;
            outcome = session.run([&](const TrainingProgress& progress) {
                if (progress.stats.step != 1)
                    return;
                session.control().pause();
                session.applyPlan(plan);
                resumer = std::thread([&session, &pausedSeconds] {
                    const auto start = std::chrono::steady_clock::now();
                    std::this_thread::sleep_for(std::chrono::seconds(8));
                    pausedSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                    session.control().resume();
                });
            });
            if (resumer.joinable())
                resumer.join();
        }
        for (int code : waitAll(peers))
            QCOMPARE(code, 0);
        QVERIFY2(outcome.status == TrainingOutcome::Status::Finished, outcome.error.c_str());
        QVERIFY(pausedSeconds >= 8.0);
        const auto stats = sink.all<StepStats>();
        QCOMPARE(stats.size(), std::size_t(6));
        for (const StepStats& step : stats) {
            if (step.step <= 1)
                QCOMPARE(step.stageMeanFreezeRatio, std::vector<double>(2, 0.0));
            else
                for (std::size_t k = 0; k < 2; ++k)
                    QVERIFY2(std::abs(step.stageMeanFreezeRatio[k] - plan->stageMeanRatio[k]) < 1e-12,
                        qPrintable(QStringLiteral("step %1, stage %2: %3 against the plan's %4")
                                       .arg(step.step)
                                       .arg(k)
                                       .arg(step.stageMeanFreezeRatio[k])
                                       .arg(plan->stageMeanRatio[k])));
        }
        int frozenInPeer = 0;
        for (const ActionSpan& span : sink.all<ActionSpan>())
            if (span.step >= 2 && span.rank == 1)
                frozenInPeer += span.frozenTensors;
        QVERIFY(frozenInPeer > 0);
    }

    // A step that fails inside one process (a non-finite loss on the peer, which holds the last
    // stage) ends the run in every process at that step, and rank 0 reports the peer's own message,
    // as the same run in one process fails.
    void peerFailureIsReportedByRankZero()
    {
        const ScheduleShape shape { ScheduleKind::OneFOneB, 2, 4, 1 };
        const RunConfig config = diverging(smallConfig(shape, FreezerKind::None));
        TrainingOutcome expected;
        {
            TrainingSession session(config);
            expected = session.run();
        }
        QCOMPARE(expected.status, TrainingOutcome::Status::Failed);
        QVERIFY2(expected.error.find("rank 1: non-finite loss") != std::string::npos, expected.error.c_str());
        QVERIFY(expected.stepsDone < config.steps);

        const int port = testing::freeLoopbackPort();
        const std::vector<pid_t> peers
            = spawnPeers(2, port, shape, FreezerKind::None, 0, 0, { "TFREEZE_TEST_DIVERGE=1" });
        RecordingSink sink;
        TrainingOutcome outcome;
        {
            TrainingSession session(config, setup(0, 2, port));
            session.addSink(std::shared_ptr<TelemetrySink>(&sink, [](TelemetrySink*) {}));
            outcome = session.run();
        }
        QCOMPARE(waitAll(peers), std::vector<int> { 3 }); // the peer's run failed too, and it exited
        QCOMPARE(outcome.status, TrainingOutcome::Status::Failed);
        QCOMPARE(outcome.stepsDone, expected.stepsDone);
        QVERIFY2(outcome.error == expected.error,
            qPrintable(QString::fromStdString(outcome.error + " | " + expected.error)));
        const auto failures = sink.all<RunFailed>();
        QCOMPARE(failures.size(), std::size_t { 1 });
        QCOMPARE(failures[0].step, expected.stepsDone);
    }

    // A rank that dies (SIGKILL after step 3) ends the run on rank 0 as failed, naming the process
    // group, within the c10d time-out (the ctest time-out bounds it).
    void killedRankFailsTheRun()
    {
        const ScheduleShape shape { ScheduleKind::OneFOneB, 2, 4, 1 };
        const RunConfig config = smallConfig(shape, FreezerKind::None);
        const int port = testing::freeLoopbackPort();
        const std::vector<pid_t> peers = spawnPeers(2, port, shape, FreezerKind::None, 3);
        RecordingSink sink;
        TrainingOutcome outcome;
        const auto start = std::chrono::steady_clock::now();
        {
            TrainingSession session(config, setup(0, 2, port));
            session.addSink(std::shared_ptr<TelemetrySink>(&sink, [](TelemetrySink*) {}));
            outcome = session.run();
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::vector<int> codes = waitAll(peers);
        QCOMPARE(codes.front(), 128 + SIGKILL);
        QCOMPARE(outcome.status, TrainingOutcome::Status::Failed);
        // The survivor names itself and the operation that failed (Gloo names only a socket).
        QVERIFY2(outcome.error.find("rank 0 of 2, ") != std::string::npos, outcome.error.c_str());
        QCOMPARE(outcome.stepsDone, std::int64_t { 3 });
        QCOMPARE(sink.all<RunFailed>().size(), std::size_t { 1 });
        qInfo("rank 0 failed %.1f s after the start: %s", seconds, outcome.error.c_str());
    }

    // A rank that stops answering but keeps its connections open (SIGSTOP) fails the run on the
    // others after the c10d time-out, with the operation that timed out, instead of hanging it.
    void hungRankFailsTheRun()
    {
        const ScheduleShape shape { ScheduleKind::OneFOneB, 2, 4, 1 };
        const RunConfig config = smallConfig(shape, FreezerKind::None);
        const int port = testing::freeLoopbackPort();
        const std::vector<pid_t> peers = spawnPeers(2, port, shape, FreezerKind::None, 0, 3);
        DistributedSetup distributed = setup(0, 2, port);
        distributed.timeoutSeconds = 3;
        RecordingSink sink;
        TrainingOutcome outcome;
        const auto start = std::chrono::steady_clock::now();
        {
            TrainingSession session(config, distributed);
            session.addSink(std::shared_ptr<TelemetrySink>(&sink, [](TelemetrySink*) {}));
            outcome = session.run();
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        for (pid_t peer : peers)
            ::kill(peer, SIGKILL); // stopped processes still take SIGKILL
        const std::vector<int> codes = waitAll(peers);
        QCOMPARE(codes.front(), 128 + SIGKILL);
        QCOMPARE(outcome.status, TrainingOutcome::Status::Failed);
        QVERIFY2(outcome.error.find("rank 0 of 2, ") != std::string::npos, outcome.error.c_str());
        QVERIFY2(outcome.error.find("did not answer in time") != std::string::npos, outcome.error.c_str());
        QCOMPARE(outcome.stepsDone, std::int64_t { 3 });
        QCOMPARE(sink.all<RunFailed>().size(), std::size_t { 1 });
        qInfo("rank 0 failed %.1f s after the start: %s", seconds, outcome.error.c_str());
    }

    // A 2-process run stopped after 10 steps and checkpointed, then resumed by two new processes,
    // continues the very curve of an uninterrupted run in one process. APF's statistics are part of
    // each process's share of the checkpoint, so its decisions must carry over too.
    void checkpointResumesAcrossProcesses()
    {
        const ScheduleShape shape { ScheduleKind::OneFOneB, 2, 4, 1 };
        const RunConfig config = smallConfig(shape, FreezerKind::Apf);
        RecordingSink reference;
        {
            TrainingSession session(config);
            session.addSink(std::shared_ptr<TelemetrySink>(&reference, [](TelemetrySink*) {}));
            QCOMPARE(session.run().status, TrainingOutcome::Status::Finished);
        }
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string checkpoint = dir.filePath(QStringLiteral("checkpoint")).toStdString();
        constexpr int kStopAt = 10;

        // First half: rank 0 stops the run for both after step 10; each writes its part.
        {
            const int port = testing::freeLoopbackPort();
            const std::vector<pid_t> peers
                = spawnPeers(2, port, shape, FreezerKind::Apf, 0, 0, { "TFREEZE_TEST_SAVE=" + checkpoint });
            TrainingSession session(config, setup(0, 2, port));
            const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
                if (progress.stats.step + 1 == kStopAt)
                    session.control().requestStop();
            });
            QCOMPARE(outcome.status, TrainingOutcome::Status::Stopped);
            QCOMPARE(outcome.stepsDone, std::int64_t { kStopAt });
            session.saveCheckpoint(checkpoint);
            for (int code : waitAll(peers))
                QCOMPARE(code, 0);
        }
        for (const char* file : { "checkpoint.json", "rank-0/part.json", "rank-0/model.pt", "rank-1/part.json",
                 "rank-1/model.pt", "rank-1/apf_tensors.pt" })
            QVERIFY2(QFile::exists(QString::fromStdString(checkpoint + "/" + file)), file);

        // Second half, in two new processes.
        {
            const int port = testing::freeLoopbackPort();
            const std::vector<pid_t> peers
                = spawnPeers(2, port, shape, FreezerKind::Apf, 0, 0, { "TFREEZE_TEST_RESUME=" + checkpoint });
            RecordingSink resumed;
            TrainingSession session(config, setup(0, 2, port));
            session.addSink(std::shared_ptr<TelemetrySink>(&resumed, [](TelemetrySink*) {}));
            session.loadCheckpoint(checkpoint);
            QCOMPARE(session.nextStep(), std::int64_t { kStopAt });
            QCOMPARE(session.run().status, TrainingOutcome::Status::Finished);
            for (int code : waitAll(peers))
                QCOMPARE(code, 0);
            const auto expected = reference.all<StepStats>();
            const auto actual = resumed.all<StepStats>();
            QCOMPARE(static_cast<int>(actual.size()), kSteps - kStopAt);
            for (std::size_t i = 0; i < actual.size(); ++i) {
                const StepStats& want = expected[kStopAt + i];
                QCOMPARE(actual[i].step, want.step);
                QVERIFY2(std::abs(actual[i].loss - want.loss) <= 1e-5 * std::abs(want.loss),
                    qPrintable(QStringLiteral("step %1: %2 vs %3").arg(want.step).arg(actual[i].loss).arg(want.loss)));
                QCOMPARE(actual[i].stageMeanFreezeRatio, want.stageMeanFreezeRatio);
            }
        }

        // In one process: the checkpoint says how many it needs.
        {
            TrainingSession session(config);
            QString message;
            try {
                session.loadCheckpoint(checkpoint);
            } catch (const InputError& error) {
                message = QString::fromUtf8(error.what());
            }
            QVERIFY2(message.contains(QStringLiteral("world_size")) && message.contains(QStringLiteral("2 process")),
                qPrintable(message));
        }

        // A part of another step (a checkpoint whose run ended while rank 1 rewrote it): both
        // processes refuse it, and rank 0 names rank 1.
        {
            QFile part(QString::fromStdString(checkpoint + "/rank-1/part.json"));
            QVERIFY(part.open(QIODevice::WriteOnly | QIODevice::Truncate));
            part.write("{\"rank\": 1, \"next_step\": 7}\n");
            part.close();
            const int port = testing::freeLoopbackPort();
            const std::vector<pid_t> peers
                = spawnPeers(2, port, shape, FreezerKind::Apf, 0, 0, { "TFREEZE_TEST_RESUME=" + checkpoint });
            TrainingSession session(config, setup(0, 2, port));
            QString message;
            try {
                session.loadCheckpoint(checkpoint);
            } catch (const InputError& error) {
                message = QString::fromUtf8(error.what());
            }
            QCOMPARE(waitAll(peers), std::vector<int> { 4 });
            QVERIFY2(message.contains(QStringLiteral("rank 1 of 2 could not load")), qPrintable(message));
        }
    }

    void configErrors_data()
    {
        QTest::addColumn<int>("worldSize");
        QTest::addColumn<QString>("field");
        QTest::newRow("world size is not the rank count") << 3 << QStringLiteral("WORLD_SIZE");
    }

    // Checked before joining: no process is started, nothing waits.
    void configErrors()
    {
        QFETCH(int, worldSize);
        QFETCH(QString, field);
        const RunConfig config = smallConfig({ ScheduleKind::OneFOneB, 2, 4, 1 }, FreezerKind::None);
        QString message;
        try {
            TrainingSession session(config, setup(0, worldSize, testing::freeLoopbackPort()));
        } catch (const InputError& error) {
            message = QString::fromUtf8(error.what());
        }
        QVERIFY2(message.contains(field), qPrintable(message));
    }
};

int main(int argc, char** argv)
{
    if (std::getenv("TFREEZE_TEST_PEER"))
        return runPeer();
    TestMultiProcessTraining test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_multiprocesstraining.moc"
