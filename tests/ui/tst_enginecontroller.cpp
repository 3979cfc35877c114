// EngineController end to end on the real engine with a tiny model: telemetry through queued
// signals, pause/resume/stop, a plan made from the measured spans and applied mid-run, invalid
// configs, an engine failure, and what the run database holds afterwards.
#include "core/plan/freeze_planner.h"
#include "core/plan/span_profile_estimate.h"
#include "core/plan/synthetic_profile.h"
#include "core/store/run_store.h"
#include "tests/ui/engine_controller_recorder.h"
#include "ui/engine_controller.h"
#include "ui/live_run_bench.h"

#include <QtTest>

#include <cmath>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

using namespace tfreeze;
using tfreeze::testing::Recorder;

namespace {

constexpr int kTimeoutMs = 300000; // the build machine is shared: generous, never asserted on

// Small enough for several steps a second on one thread: the live bench's run, recorded.
RunConfig tinyConfig(const QTemporaryDir& dir, std::int64_t steps)
{
    RunConfig config = liveRunBenchConfig(steps);
    config.output.db = dir.filePath(QStringLiteral("history.sqlite")).toStdString();
    return config;
}

std::vector<std::int64_t> range(std::int64_t count)
{
    std::vector<std::int64_t> numbers;
    for (std::int64_t i = 0; i < count; ++i)
        numbers.push_back(i);
    return numbers;
}

RunRecord storedRun(const RunConfig& config, std::int64_t runId)
{
    return RunStore(config.output.db, RunStore::OpenMode::ReadOnly).run(runId);
}

// round(r·n), computed here rather than through the engine.
int expectedFrozen(double ratio, int n) { return ratio <= 0.0 ? 0 : static_cast<int>(std::floor(ratio * n + 0.5)); }

} // namespace

class TestEngineController : public QObject {
    Q_OBJECT

private slots:
    void runDeliversEveryStepInOrder();
    void pauseHoldsTheRunUntilResume();
    void stopEndsAsStopped();
    void appliedPlanFreezesThePlannedActions();
    void invalidConfigFailsNamingTheField_data();
    void invalidConfigFailsNamingTheField();
    void engineFailureFailsTheRun();
    void destructorStopsTheRun();
    void commandsAreRefusedWithTheReason();
};

void TestEngineController::runDeliversEveryStepInOrder()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const RunConfig config = tinyConfig(dir, 4);
    EngineController controller;
    Recorder recorder(controller);
    QCOMPARE(controller.state(), EngineController::State::Idle);
    controller.start(config, QStringLiteral("steps in order"));
    QCOMPARE(controller.state(), EngineController::State::Starting);
    QVERIFY(controller.schedule().has_value());
    QCOMPARE(controller.schedule()->actionCount(), std::size_t(16));
    QCOMPARE(controller.config(), config);
    QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);

    QVERIFY2(recorder.runFailures.empty() && recorder.startFailures.empty(), qPrintable(recorder.failures()));
    QCOMPARE(recorder.finished.size(), std::size_t(1));
    QCOMPARE(recorder.finished[0].status, TrainingOutcome::Status::Finished);
    QCOMPARE(recorder.finished[0].stepsDone, std::int64_t(4));
    QCOMPARE(recorder.stepNumbers(), range(4));
    // Every step's spans, complete: one per action of the schedule.
    QCOMPARE(recorder.droppedSpanSteps, std::int64_t(0));
    QCOMPARE(recorder.stepSpans.size(), std::size_t(4));
    for (std::size_t i = 0; i < recorder.stepSpans.size(); ++i) {
        QCOMPARE(recorder.stepSpans[i].step, static_cast<std::int64_t>(i));
        QCOMPARE(recorder.stepSpans[i].spans.size(), std::size_t(16));
    }
    QVERIFY(recorder.batches >= 1);
    QCOMPARE(recorder.states,
        (std::vector<EngineController::State> {
            EngineController::State::Starting, EngineController::State::Running, EngineController::State::Finished }));
    QCOMPARE(controller.state(), EngineController::State::Finished);

    QVERIFY(controller.runId() > 0);
    const RunRecord run = storedRun(config, controller.runId());
    QCOMPARE(run.status, RunStatus::Finished);
    QCOMPARE(run.name, std::string("steps in order"));
    QCOMPARE(RunStore(config.output.db, RunStore::OpenMode::ReadOnly).steps(controller.runId()).size(), std::size_t(4));
}

// Paused before the first step: no step runs (however long we wait) until resume; a bad bound and
// a plan for another schedule are refused meanwhile and the run goes on.
void TestEngineController::pauseHoldsTheRunUntilResume()
{
    QTemporaryDir dir;
    const RunConfig config = tinyConfig(dir, 3);
    EngineController controller;
    Recorder recorder(controller);
    controller.start(config, QStringLiteral("paused"));
    controller.pause();
    QCOMPARE(controller.state(), EngineController::State::Paused);
    // The worker has built the session and handed it the pause before run() (runId is reported
    // after that).
    QTRY_VERIFY_WITH_TIMEOUT(controller.runId() > 0, kTimeoutMs);
    QTest::qWait(1500);
    QVERIFY(recorder.steps.empty());
    QCOMPARE(controller.state(), EngineController::State::Paused);

    FreezeBounds bad;
    bad.maxFreeze = 2.0;
    controller.setBounds(bad);
    const PipelineSchedule other = PipelineSchedule::generate({ ScheduleKind::OneFOneB, 2, 8, 1 });
    FreezePlanner planner(Profile(other, std::vector<ActionCost>(other.actionCount(), ActionCost { 1.0, 1.0 })));
    controller.applyPlan(std::make_shared<const FreezePlan>(planner.plan(FreezeBounds {})));
    QCOMPARE(recorder.applyFailures.size(), std::size_t(2));
    QVERIFY2(recorder.applyFailures[0].contains(QStringLiteral("max_freeze")), qPrintable(recorder.applyFailures[0]));
    QVERIFY2(recorder.applyFailures[1].contains(QStringLiteral("schedule")), qPrintable(recorder.applyFailures[1]));

    controller.resume();
    QCOMPARE(controller.state(), EngineController::State::Running);
    QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
    QCOMPARE(recorder.finished.size(), std::size_t(1));
    QCOMPARE(recorder.finished[0].status, TrainingOutcome::Status::Finished);
    QCOMPARE(recorder.stepNumbers(), range(3));
    QVERIFY(recorder.plans.empty());
    QCOMPARE(recorder.states.back(), EngineController::State::Finished);
}

void TestEngineController::stopEndsAsStopped()
{
    QTemporaryDir dir;
    const RunConfig config = tinyConfig(dir, 500);
    EngineController controller;
    Recorder recorder(controller);
    connect(&controller, &EngineController::telemetryArrived, &controller, [&controller](const TelemetryBatch& batch) {
        if (!batch.steps.empty())
            controller.stop();
    });
    controller.start(config, QStringLiteral("stopped"));
    QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
    QCOMPARE(recorder.finished.size(), std::size_t(1));
    const TrainingOutcome& outcome = recorder.finished[0];
    QCOMPARE(outcome.status, TrainingOutcome::Status::Stopped);
    QVERIFY(outcome.stepsDone < 500);
    QCOMPARE(recorder.stepNumbers(), range(outcome.stepsDone));
    QVERIFY(std::find(recorder.states.begin(), recorder.states.end(), EngineController::State::Stopping)
        != recorder.states.end());
    QCOMPARE(controller.state(), EngineController::State::Finished);
    // A stopped run ended normally (the engine published RunFinished), and its history says the
    // user stopped it, and when.
    const RunRecord stored = storedRun(config, controller.runId());
    QCOMPARE(stored.status, RunStatus::Stopped);
    QCOMPARE(stored.failureReason,
        std::optional<std::string>("stopped by the user after step " + std::to_string(outcome.stepsDone) + " of 500"));
    QCOMPARE(RunStore(config.output.db, RunStore::OpenMode::ReadOnly).steps(controller.runId()).size(),
        static_cast<std::size_t>(outcome.stepsDone));
}

// Three steps measured, paused, planned on estimateProfileFromSpans of their spans, applied,
// resumed: the plan arrives as planApplied (source User), the following steps freeze as planned,
// and the database holds the plan with its applied step.
void TestEngineController::appliedPlanFreezesThePlannedActions()
{
    QTemporaryDir dir;
    const RunConfig config = tinyConfig(dir, 500);
    EngineController controller;
    Recorder recorder(controller);
    std::shared_ptr<const FreezePlan> plan;
    ProfileEstimateInfo info;
    QString planError;
    connect(&controller, &EngineController::telemetryArrived, &controller, [&](const TelemetryBatch&) {
        if (!plan && recorder.stepSpans.size() >= 3) {
            controller.pause();
            std::vector<std::vector<ActionSpan>> measured;
            for (const StepSpans& group : recorder.stepSpans)
                measured.push_back(group.spans);
            try {
                FreezePlanner planner(estimateProfileFromSpans(*controller.schedule(), measured, &info));
                plan = std::make_shared<const FreezePlan>(planner.plan(FreezeBounds {}));
            } catch (const std::exception& error) {
                planError = QString::fromStdString(error.what());
                controller.stop();
                return;
            }
            controller.applyPlan(plan);
            controller.resume();
        }
        if (!recorder.plans.empty()) {
            const std::int64_t applied = recorder.plans[0].appliedAtStep;
            if (!recorder.steps.empty() && recorder.steps.back().step >= applied + 2)
                controller.stop();
        }
    });
    controller.start(config, QStringLiteral("planned"));
    QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
    QVERIFY2(planError.isEmpty(), qPrintable(planError));
    QVERIFY2(recorder.runFailures.empty() && recorder.startFailures.empty(), qPrintable(recorder.failures()));
    QVERIFY(plan);
    QVERIFY(recorder.applyFailures.empty());
    // No freezing was measured (freezer none): every freezable action's minimum was estimated.
    QCOMPARE(info.freezableActions, 8);
    QCOMPARE(info.estimated, 8);

    QCOMPARE(recorder.plans.size(), std::size_t(1));
    const PlanApplied& applied = recorder.plans[0];
    QCOMPARE(applied.source, PlanSource::User);
    QCOMPARE(applied.plan.get(), plan.get());
    QVERIFY(applied.appliedAtStep >= 3);
    QCOMPARE(recorder.finished.size(), std::size_t(1));
    QCOMPARE(recorder.finished[0].status, TrainingOutcome::Status::Stopped);
    QCOMPARE(recorder.finished[0].predictedBatchMs, plan->batchMsPlanned);

    std::map<std::tuple<int, int, ActionKind>, double> ratioOf;
    const std::vector<Action> actions = plan->profile.actions();
    int highRatios = 0;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        ratioOf[{ actions[i].stage, actions[i].microbatch, actions[i].kind }] = plan->actions[i].ratio;
        highRatios += plan->actions[i].ratio >= 0.5 ? 1 : 0;
    }
    QVERIFY2(highRatios > 0, "the plan freezes nothing much: nothing to check");
    int frozenHigh = 0;
    int stepsAfter = 0;
    for (const StepSpans& group : recorder.stepSpans) {
        stepsAfter += group.step >= applied.appliedAtStep ? 1 : 0;
        for (const ActionSpan& span : group.spans) {
            if (group.step < applied.appliedAtStep || !isFreezable(span.kind)) {
                QCOMPARE(span.frozenTensors, 0);
                continue;
            }
            const double ratio = ratioOf.at({ span.stage, span.microbatch, span.kind });
            QCOMPARE(span.frozenTensors, expectedFrozen(ratio, span.totalTensors));
            if (ratio >= 0.5) {
                QVERIFY(span.frozenTensors > 0);
                ++frozenHigh;
            }
        }
    }
    QVERIFY(stepsAfter >= 1);
    QVERIFY(frozenHigh > 0);

    RunStore store(config.output.db, RunStore::OpenMode::ReadOnly);
    const std::vector<PlanRecord> plans = store.plans(controller.runId());
    QCOMPARE(plans.size(), std::size_t(1));
    QCOMPARE(plans[0].source, PlanSource::User);
    QVERIFY(plans[0].appliedAtStep.has_value());
    QCOMPARE(*plans[0].appliedAtStep, applied.appliedAtStep);
    QCOMPARE(plans[0].actionCount, std::int64_t(16));
    QCOMPARE(plans[0].batchMsPlanned, plan->batchMsPlanned);
}

void TestEngineController::invalidConfigFailsNamingTheField_data()
{
    QTest::addColumn<int>("batchSize");
    QTest::addColumn<int>("heads");
    QTest::addColumn<qint64>("steps");
    QTest::addColumn<QString>("field");
    QTest::newRow("batch not a multiple of microbatches") << 6 << 2 << qint64(3) << QStringLiteral("data.batch_size");
    QTest::newRow("heads do not divide width") << 8 << 3 << qint64(3) << QStringLiteral("model.heads");
    QTest::newRow("no steps") << 8 << 2 << qint64(0) << QStringLiteral("steps");
}

void TestEngineController::invalidConfigFailsNamingTheField()
{
    QFETCH(int, batchSize);
    QFETCH(int, heads);
    QFETCH(qint64, steps);
    QFETCH(QString, field);
    QTemporaryDir dir;
    RunConfig config = tinyConfig(dir, steps);
    config.data.batchSize = batchSize;
    config.model.heads = heads;
    EngineController controller;
    Recorder recorder(controller);
    controller.start(config, QStringLiteral("invalid"));
    // Refused at once, on the caller's thread.
    QCOMPARE(controller.state(), EngineController::State::Failed);
    QCOMPARE(recorder.startFailures.size(), std::size_t(1));
    QVERIFY2(recorder.startFailures[0].contains(field), qPrintable(recorder.startFailures[0]));
    QCOMPARE(recorder.states, (std::vector<EngineController::State> { EngineController::State::Failed }));
    QCOMPARE(controller.runId(), std::int64_t(0));
    QTest::qWait(100);
    QVERIFY(recorder.steps.empty());
    QVERIFY(recorder.finished.empty());
    // Nothing recorded: the database was never opened.
    QVERIFY(!QFile::exists(QString::fromStdString(config.output.db)));
}

// Learning rate 10 with weight decay 10: AdamW multiplies every weight by 1 − 100 each step, so
// the activations overflow within a few steps and the loss is not finite. The engine fails the
// run; the controller reports it and the database says failed, with the reason.
void TestEngineController::engineFailureFailsTheRun()
{
    QTemporaryDir dir;
    RunConfig config = tinyConfig(dir, 200);
    config.optimizer.lr = 10.0;
    config.optimizer.weightDecay = 10.0;
    config.optimizer.warmupSteps = 0;
    config.optimizer.decay = LearningRateDecay::Constant;
    config.optimizer.gradClip = 0.0;
    EngineController controller;
    Recorder recorder(controller);
    controller.start(config, QStringLiteral("diverges"));
    QTRY_VERIFY_WITH_TIMEOUT(recorder.ended(), kTimeoutMs);
    QVERIFY(recorder.finished.empty());
    QCOMPARE(recorder.runFailures.size(), std::size_t(1));
    QVERIFY2(recorder.runFailures[0].contains(QStringLiteral("non-finite")), qPrintable(recorder.runFailures[0]));
    QCOMPARE(controller.state(), EngineController::State::Failed);
    QVERIFY(static_cast<std::int64_t>(recorder.steps.size()) < 200);
    const RunRecord run = storedRun(config, controller.runId());
    QCOMPARE(run.status, RunStatus::Failed);
    QVERIFY(run.failureReason.has_value());
    QVERIFY2(
        QString::fromStdString(*run.failureReason).contains(QStringLiteral("non-finite")), run.failureReason->c_str());
}

// Destroying the controller mid-run (the studio closed) stops the run and waits for it: the
// database holds a run stopped by the user with the steps that ran, fewer than configured.
void TestEngineController::destructorStopsTheRun()
{
    QTemporaryDir dir;
    const RunConfig config = tinyConfig(dir, 100000);
    std::int64_t runId = 0;
    {
        EngineController controller;
        Recorder recorder(controller);
        controller.start(config, QStringLiteral("torn down"));
        QTRY_VERIFY_WITH_TIMEOUT(!recorder.steps.empty(), kTimeoutMs);
        runId = controller.runId();
    }
    QVERIFY(runId > 0);
    const RunRecord run = storedRun(config, runId);
    QCOMPARE(run.status, RunStatus::Stopped);
    const std::size_t steps = RunStore(config.output.db, RunStore::OpenMode::ReadOnly).steps(runId).size();
    QVERIFY(steps >= 1 && steps < 100000);
}

// Commands that cannot be carried out say why and leave the run alone: a plan or bounds with no run;
// bounds for another number of stages and a plan for another schedule, sent while the run is still
// starting (the controller holds them until its session exists) or while it runs; a second start.
void TestEngineController::commandsAreRefusedWithTheReason()
{
    QTemporaryDir dir;
    const RunConfig config = tinyConfig(dir, 100000); // stopped by the test
    EngineController controller;
    Recorder recorder(controller);
    const auto foreignPlan = std::make_shared<const FreezePlan>(
        FreezePlanner(makeSyntheticProfile(PipelineSchedule::generate({ ScheduleKind::OneFOneB, 4, 8, 1 }), {}))
            .plan(FreezeBounds {}));
    FreezeBounds threeStages;
    threeStages.stageMaxFreeze = { 0.5, 0.5, 0.5 };
    const QString noRun = QStringLiteral("No run in progress.");
    const QString wrongStages = QStringLiteral("expected one value per stage (2), got 3");
    const QString wrongPlan = QStringLiteral("the plan is for another schedule than this run's");

    controller.applyPlan(foreignPlan);
    controller.setBounds(FreezeBounds {});
    QCOMPARE(recorder.applyFailures, (std::vector<QString> { noRun, noRun }));
    QCOMPARE(controller.state(), EngineController::State::Idle);

    controller.start(config, QStringLiteral("refuses"));
    controller.setBounds(threeStages);
    controller.applyPlan(foreignPlan);
    QTRY_VERIFY_WITH_TIMEOUT(recorder.steps.size() >= 2, kTimeoutMs);
    QVERIFY2(recorder.runFailures.empty() && recorder.startFailures.empty(), qPrintable(recorder.failures()));
    const auto mentions = [&recorder](const QString& text) {
        return std::count_if(recorder.applyFailures.begin(), recorder.applyFailures.end(),
            [&text](const QString& message) { return message.contains(text); });
    };
    QTRY_COMPARE_WITH_TIMEOUT(mentions(wrongStages), 1, kTimeoutMs);
    QCOMPARE(mentions(wrongPlan), 1);

    // Running: the same refusals, at once; a valid bound is taken without a word.
    const std::size_t before = recorder.applyFailures.size();
    controller.setBounds(threeStages);
    controller.applyPlan(foreignPlan);
    FreezeBounds half;
    half.maxFreeze = 0.5;
    controller.setBounds(half);
    QCOMPARE(recorder.applyFailures.size(), before + 2);
    QVERIFY2(recorder.applyFailures[before].contains(wrongStages), qPrintable(recorder.applyFailures[before]));
    QVERIFY2(recorder.applyFailures[before + 1].contains(wrongPlan), qPrintable(recorder.applyFailures[before + 1]));
    const std::int64_t runId = controller.runId();
    controller.start(config, QStringLiteral("second"));
    QCOMPARE(recorder.startFailures,
        (std::vector<QString> { QStringLiteral("A run is in progress: stop it before starting another.") }));
    QCOMPARE(controller.runId(), runId);
    const std::size_t stepsSoFar = recorder.steps.size();
    QTRY_VERIFY_WITH_TIMEOUT(recorder.steps.size() > stepsSoFar, kTimeoutMs); // the run goes on

    controller.stop();
    QTRY_VERIFY_WITH_TIMEOUT(!recorder.finished.empty(), kTimeoutMs); // ended() counts the refused start
    QVERIFY(recorder.runFailures.empty());
    QVERIFY(recorder.plans.empty());
    QCOMPARE(recorder.finished.size(), std::size_t(1));
    QCOMPARE(recorder.finished[0].status, TrainingOutcome::Status::Stopped);
    QCOMPARE(storedRun(config, runId).status, RunStatus::Stopped);
    QCOMPARE(RunStore(config.output.db, RunStore::OpenMode::ReadOnly).listRuns().size(), std::size_t(1));
}

QTEST_GUILESS_MAIN(TestEngineController)
#include "tst_enginecontroller.moc"
