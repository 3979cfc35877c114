// RunDocument's account of a plan in force: the realised batch time and the forwards' drift over
// the steps since it was applied, against a timeline simulated from the plan's own profile.
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_dag.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/timeline.h"
#include "ui/run_document.h"

#include <QtTest>

#include <cmath>
#include <memory>

using namespace tfreeze;

namespace {

Profile threeRanks(int processors)
{
    SyntheticCosts costs;
    costs.forwardMs = { 1.0 };
    costs.backwardMs = { 2.0 };
    costs.backwardFrozenMs = { 0.8 };
    costs.jitter = 0.2;
    costs.seed = 3;
    Profile profile
        = makeSyntheticProfile(PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 3, 6 }), costs);
    profile.setProcessors(processors);
    return profile;
}

// One step's spans laid out by the simulation (with the profile's sharing): every forward
// `forwardScale` × its profiled time, every backward at the plan's ratio, `backwardScale` × its time.
std::vector<ActionSpan> simulatedStep(
    const FreezePlan& plan, std::int64_t step, double forwardScale, double backwardScale, double* batchMs = nullptr)
{
    const PipelineDag dag(plan.profile.schedule());
    std::vector<double> work(dag.nodeCount());
    for (std::size_t i = 0; i < work.size(); ++i) {
        const ActionCost& cost = plan.profile.costs()[i];
        const bool freezable = isFreezable(dag.action(static_cast<PipelineDag::Node>(i)).kind);
        work[i] = freezable ? backwardScale * (cost.maxMs - plan.actions[i].ratio * (cost.maxMs - cost.minMs))
                            : forwardScale * cost.maxMs;
    }
    const Timeline timeline = simulateTimeline(dag, work, plan.profile.processors());
    if (batchMs)
        *batchMs = timeline.batchMs;
    std::vector<ActionSpan> spans;
    for (std::size_t i = 0; i < work.size(); ++i) {
        const Action& a = dag.action(static_cast<PipelineDag::Node>(i));
        const int total = isFreezable(a.kind) ? 10 : 0;
        spans.push_back({ step, a.rank, a.stage, a.microbatch, a.kind, std::llround(timeline.startMs[i] * 1000.0),
            std::llround(timeline.endMs[i] * 1000.0), static_cast<int>(std::lround(plan.actions[i].ratio * total)),
            total });
    }
    return spans;
}

} // namespace

class TestRunDocument : public QObject {
    Q_OBJECT

private slots:
    void forwardDriftOfThePlanInForce_data()
    {
        QTest::addColumn<int>("processors");
        QTest::newRow("a processor per rank") << 0;
        QTest::newRow("3 ranks on 2 processors") << 2;
    }

    // Before a plan: nothing. Steps before it was applied (forwards twice as slow) do not count;
    // after it, forwards 10% slower and backwards 30% slower than profiled read +10%, whatever the
    // backwards did, and the realised batch is the simulated one.
    void forwardDriftOfThePlanInForce()
    {
        QFETCH(int, processors);
        const Profile profile = threeRanks(processors);
        FreezeBounds bounds;
        bounds.maxFreeze = 0.5;
        auto plan = std::make_shared<FreezePlan>(FreezePlanner(profile).plan(bounds));

        RunDocument document;
        document.reset(RunDocument::Source::Live, QStringLiteral("test"));
        document.setSchedule(profile.schedule());
        for (std::int64_t step = 0; step < 4; ++step)
            document.addSpans(step, simulatedStep(*plan, step, 2.0, 1.0));
        QVERIFY(!document.forwardDrift(0).has_value()); // no plan in force

        PlanApplied applied;
        applied.createdAtStep = 4;
        applied.appliedAtStep = 5;
        applied.plan = plan;
        document.addPlan(applied);
        QVERIFY(!document.forwardDrift(5).has_value()); // nothing measured since
        double batchMs = 0.0;
        for (std::int64_t step = 5; step < 9; ++step)
            document.addSpans(step, simulatedStep(*plan, step, 1.1, 1.3, &batchMs));
        const auto drift = document.forwardDrift(5);
        QVERIFY(drift.has_value());
        QVERIFY2(std::abs(*drift - 0.10) < 2e-3, qPrintable(QString::number(*drift)));
        QVERIFY(std::abs(document.realisedBatchMs(5).value_or(0.0) - batchMs) < 2e-3);
        QVERIFY(batchMs > 1.1 * plan->batchMsPlanned); // the backwards' slowness is not the drift
        // Counting from step 0 takes in the four slow steps before the plan: the median of four
        // at +100% and four at +10%.
        const auto fromStart = document.forwardDrift(0);
        QVERIFY2(std::abs(fromStart.value_or(0.0) - 0.55) < 2e-3, qPrintable(QString::number(fromStart.value_or(0.0))));
        // The window counts back from the latest step: the last two are after the plan.
        QVERIFY(std::abs(document.forwardDrift(0, 2).value_or(0.0) - 0.10) < 2e-3);
    }
};

QTEST_APPLESS_MAIN(TestRunDocument)
#include "tst_rundocument.moc"
