#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/synthetic_profile.h"
#include "ui/planning_service.h"
#include "ui/rho_drag_bench.h"
#include "ui/telemetry_metatypes.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>

using namespace tfreeze;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

// Generous: a wait for a result, never a measurement (the machine is shared).
constexpr int resultTimeoutMs = 120'000;

Profile makeProfile(int ranks, int microbatches, unsigned seed = 3)
{
    SyntheticCosts costs;
    costs.forwardMs = { 1.0 };
    costs.backwardMs = { 2.0 };
    costs.backwardFrozenMs = { 0.8 };
    costs.jitter = 0.25;
    costs.seed = seed;
    return makeSyntheticProfile(PipelineSchedule::generate({ ScheduleKind::OneFOneB, ranks, microbatches, 1 }), costs);
}

FreezeBounds boundsOf(double maxFreeze, std::vector<double> stages = {})
{
    FreezeBounds bounds;
    bounds.maxFreeze = maxFreeze;
    bounds.stageMaxFreeze = std::move(stages);
    return bounds;
}

void comparePlans(const FreezePlan& actual, const FreezePlan& expected)
{
    QCOMPARE(actual.batchMsNoFreeze, expected.batchMsNoFreeze);
    QCOMPARE(actual.batchMsPlanned, expected.batchMsPlanned);
    QCOMPARE(actual.batchMsAllFrozen, expected.batchMsAllFrozen);
    QCOMPARE(actual.actions.size(), expected.actions.size());
    for (std::size_t v = 0; v < expected.actions.size(); ++v) {
        QCOMPARE(actual.actions[v].ratio, expected.actions[v].ratio);
        QCOMPARE(actual.actions[v].startMs, expected.actions[v].startMs);
        QCOMPARE(actual.actions[v].endMs, expected.actions[v].endMs);
    }
    QCOMPARE(actual.stageMeanRatio, expected.stageMeanRatio);
    QCOMPARE(actual.bounds.maxFreeze, expected.bounds.maxFreeze);
    QCOMPARE(actual.bounds.stageMaxFreeze, expected.bounds.stageMaxFreeze);
}

std::shared_ptr<const FreezePlan> planOf(const QSignalSpy& spy, qsizetype row)
{
    return spy.at(row).at(1).value<std::shared_ptr<const FreezePlan>>();
}

} // namespace

class TestPlanningService : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { registerTelemetryMetaTypes(); }

    void planEqualsDirectPlanner_data()
    {
        QTest::addColumn<double>("maxFreeze");
        QTest::addColumn<std::vector<double>>("stages");
        QTest::newRow("nothing frozen") << 0.0 << std::vector<double> {};
        QTest::newRow("global 0.5") << 0.5 << std::vector<double> {};
        QTest::newRow("global 1") << 1.0 << std::vector<double> {};
        QTest::newRow("stage overrides") << 0.6 << std::vector<double> { 0.1, 0.9, 0.6, 0.0 };
    }

    void planEqualsDirectPlanner()
    {
        QFETCH(double, maxFreeze);
        QFETCH(std::vector<double>, stages);
        const Profile profile = makeProfile(4, 8);
        const FreezeBounds bounds = boundsOf(maxFreeze, stages);

        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy failed(&service, &PlanningService::planFailed);
        service.setProfile(profile);
        const quint64 generation = service.requestPlan(bounds);
        QTRY_COMPARE_WITH_TIMEOUT(ready.size() + failed.size(), 1, resultTimeoutMs);
        QCOMPARE(failed.size(), 0);
        QCOMPARE(ready.at(0).at(0).value<quint64>(), generation);

        FreezePlanner direct(profile);
        const FreezePlan expected = direct.plan(bounds);
        comparePlans(*planOf(ready, 0), expected);
        // The planner really freezes when allowed to: the comparison is not between two empty plans.
        if (maxFreeze > 0.0)
            QVERIFY(expected.batchMsPlanned < expected.batchMsNoFreeze);
    }

    // One request at a time, each waited for: the service's warm planner gives what a direct
    // planner given the same sequence gives.
    void sequenceEqualsDirectSequence()
    {
        const Profile profile = makeProfile(3, 6);
        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        service.setProfile(profile);
        FreezePlanner direct(profile);
        const std::vector<double> rhos { 0.2, 0.7, 0.4, 1.0, 0.0 };
        for (std::size_t i = 0; i < rhos.size(); ++i) {
            service.requestPlan(boundsOf(rhos[i]));
            QTRY_COMPARE_WITH_TIMEOUT(ready.size(), static_cast<qsizetype>(i + 1), resultTimeoutMs);
            comparePlans(*planOf(ready, static_cast<qsizetype>(i)), direct.plan(boundsOf(rhos[i])));
        }
    }

    void latestRequestWins()
    {
        const Profile profile = makeProfile(4, 16);
        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy failed(&service, &PlanningService::planFailed);
        service.setProfile(profile);
        std::map<quint64, double> requested;
        quint64 last = 0;
        for (int i = 1; i <= 20; ++i) {
            const double rho = i / 20.0;
            last = service.requestPlan(boundsOf(rho));
            requested[last] = rho;
        }
        QCOMPARE(last, service.latestGeneration());
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() && ready.last().at(0).value<quint64>() == last, resultTimeoutMs);
        QCOMPARE(failed.size(), 0);
        quint64 previous = 0;
        for (qsizetype i = 0; i < ready.size(); ++i) {
            const auto generation = ready.at(i).at(0).value<quint64>();
            QVERIFY2(generation > previous, "a result older than a delivered one arrived");
            previous = generation;
            QCOMPARE(planOf(ready, i)->bounds.maxFreeze, requested.at(generation));
        }
        QCOMPARE(planOf(ready, ready.size() - 1)->bounds.maxFreeze, 1.0);
        // Nothing else arrives later.
        QTest::qWait(50);
        QCOMPARE(ready.last().at(0).value<quint64>(), last);
    }

    void badBoundFails_data()
    {
        QTest::addColumn<double>("maxFreeze");
        QTest::addColumn<std::vector<double>>("stages");
        QTest::addColumn<QString>("named");
        QTest::newRow("global 1.5") << 1.5 << std::vector<double> {} << u"max_freeze"_qs;
        QTest::newRow("stage -0.1") << 0.5 << std::vector<double> { 0.5, -0.1, 0.5, 0.5 } << u"stage_max_freeze"_qs;
        QTest::newRow("wrong stage count") << 0.5 << std::vector<double> { 0.5 } << u"stage_max_freeze"_qs;
    }

    void badBoundFails()
    {
        QFETCH(double, maxFreeze);
        QFETCH(std::vector<double>, stages);
        QFETCH(QString, named);
        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy failed(&service, &PlanningService::planFailed);
        service.setProfile(makeProfile(4, 4));
        const quint64 generation = service.requestPlan(boundsOf(maxFreeze, stages));
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, resultTimeoutMs);
        QCOMPARE(ready.size(), 0);
        QCOMPARE(failed.at(0).at(0).value<quint64>(), generation);
        const QString message = failed.at(0).at(1).toString();
        QVERIFY2(message.contains(named), qPrintable(message));
        if (maxFreeze > 1.0)
            QVERIFY2(message.contains(u"1.5"), qPrintable(message));
        // The service still plans after a failure.
        const quint64 next = service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, resultTimeoutMs);
        QCOMPARE(ready.at(0).at(0).value<quint64>(), next);
    }

    void noProfileFails()
    {
        PlanningService service;
        QSignalSpy failed(&service, &PlanningService::planFailed);
        const quint64 generation = service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, resultTimeoutMs);
        QCOMPARE(failed.at(0).at(0).value<quint64>(), generation);
    }

    // A request made for the old profile is never answered once the profile changed.
    // A run's profile measured again (same pipeline, new costs): the new planner starts from the
    // last optimum's basis and plans what a cold planner plans (the ratios may be another of the
    // equally good choices; the batch time and the total freezing are unique).
    void profileMeasuredAgainPlansAsAColdPlanner()
    {
        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy failed(&service, &PlanningService::planFailed);
        service.setProfile(makeProfile(4, 16, 3));
        service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, resultTimeoutMs);
        const Profile again = makeProfile(4, 16, 4);
        service.setProfile(again);
        service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 2, resultTimeoutMs);
        QCOMPARE(failed.size(), 0);

        const FreezePlan cold = FreezePlanner(again).plan(boundsOf(0.5));
        const FreezePlan& replanned = *planOf(ready, 1);
        QVERIFY(std::abs(replanned.batchMsPlanned - cold.batchMsPlanned) <= 1e-9 * cold.batchMsPlanned);
        const auto total = [](const FreezePlan& plan) {
            double sum = 0.0;
            for (const PlannedAction& action : plan.actions)
                sum += action.ratio;
            return sum;
        };
        QVERIFY(std::abs(total(replanned) - total(cold)) <= 1e-6);
        QVERIFY(cold.batchMsPlanned < cold.batchMsNoFreeze);
    }

    void newProfileDropsOldRequests()
    {
        const Profile small = makeProfile(2, 4);
        const Profile large = makeProfile(4, 8);
        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        service.setProfile(small);
        service.requestPlan(boundsOf(0.5));
        service.setProfile(large);
        const quint64 generation = service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, resultTimeoutMs);
        QCOMPARE(ready.at(0).at(0).value<quint64>(), generation);
        QCOMPARE(planOf(ready, 0)->actions.size(), large.costs().size());
        QTest::qWait(50);
        QCOMPARE(ready.size(), 1);
    }

    void tradeoffCurve()
    {
        const Profile profile = makeProfile(4, 8);
        PlanningService service;
        QSignalSpy curves(&service, &PlanningService::tradeoffCurveReady);
        QSignalSpy failures(&service, &PlanningService::tradeoffCurveFailed);
        service.setProfile(profile);
        // Stage overrides in the shape are ignored (documented): the curve is for a uniform ρ.
        service.requestTradeoffCurve(boundsOf(0.3, { 0.0, 0.0, 1.0, 0.2 }), 11);
        QTRY_COMPARE_WITH_TIMEOUT(curves.size() + failures.size(), 1, resultTimeoutMs);
        QCOMPARE(failures.size(), 0);
        const auto curve = curves.at(0).at(0).value<QList<QPointF>>();
        QCOMPARE(curve.size(), 11);

        FreezePlanner direct(profile);
        const FreezePlan none = direct.plan(boundsOf(0.0));
        const FreezePlan all = direct.plan(boundsOf(1.0));
        QVERIFY(all.batchMsPlanned < none.batchMsNoFreeze);
        QCOMPARE(curve.front().x(), 0.0);
        QVERIFY(qAbs(curve.front().y() - none.batchMsNoFreeze) < 1e-6);
        QCOMPARE(curve.back().x(), 1.0);
        QVERIFY(qAbs(curve.back().y() - all.batchMsPlanned) < 1e-6);
        for (qsizetype i = 0; i < curve.size(); ++i) {
            QVERIFY(qAbs(curve[i].x() - i / 10.0) < 1e-12);
            if (i > 0)
                QVERIFY2(curve[i].y() <= curve[i - 1].y() + 1e-6, "the curve rises with ρ");
            FreezePlanner cold(profile);
            QVERIFY(qAbs(curve[i].y() - cold.plan(boundsOf(curve[i].x())).batchMsPlanned) < 1e-6);
        }
    }

    // A drag plan asked while the curve sweeps is answered, and by the drag planner: the sweep
    // does not move its basis (the plan equals a direct planner that never saw the sweep).
    void curveDoesNotDisturbPlans()
    {
        const Profile profile = makeProfile(4, 8);
        PlanningService service;
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy curves(&service, &PlanningService::tradeoffCurveReady);
        service.setProfile(profile);
        service.requestTradeoffCurve(boundsOf(0.5), 6);
        service.requestPlan(boundsOf(0.35));
        QTRY_VERIFY_WITH_TIMEOUT(ready.size() == 1 && curves.size() == 1, resultTimeoutMs);
        FreezePlanner direct(profile);
        comparePlans(*planOf(ready, 0), direct.plan(boundsOf(0.35)));
    }

    void newProfileCancelsCurve()
    {
        PlanningService service;
        QSignalSpy curves(&service, &PlanningService::tradeoffCurveReady);
        service.setProfile(makeProfile(4, 8));
        service.requestTradeoffCurve(boundsOf(0.5), 21);
        const Profile other = makeProfile(2, 4, 9);
        service.setProfile(other);
        service.requestTradeoffCurve(boundsOf(0.5), 3);
        QTRY_COMPARE_WITH_TIMEOUT(curves.size(), 1, resultTimeoutMs);
        const auto curve = curves.at(0).at(0).value<QList<QPointF>>();
        QCOMPARE(curve.size(), 3);
        FreezePlanner direct(other);
        QVERIFY(qAbs(curve.back().y() - direct.plan(boundsOf(1.0)).batchMsPlanned) < 1e-6);
        QTest::qWait(50);
        QCOMPARE(curves.size(), 1);
    }

    // The bench's shape and bookkeeping (its figures are reported, not asserted).
    void rhoDragBench()
    {
        const RhoDragBenchResult result = runRhoDragBench(4);
        QCOMPARE(result.actions, 1024);
        QCOMPARE(result.ranks * result.microbatches * 2, result.actions);
        QCOMPARE(result.steps, 4);
        QCOMPARE(result.failures, 0);
        QCOMPARE(result.rhos.size(), std::size_t(4));
        QCOMPARE(result.rhos.front(), 0.05);
        QCOMPARE(result.rhos.back(), 0.95);
        QCOMPARE(result.latencyMs.size(), std::size_t(4));
        QCOMPARE(result.warmSolveMs.size(), std::size_t(4));
        QCOMPARE(result.coldSolveMs.size(), std::size_t(4));
        QCOMPARE(result.firstLatencyMs, result.latencyMs.front());
        QCOMPARE(result.maxLatencyMs, *std::max_element(result.latencyMs.begin(), result.latencyMs.end()));
        std::vector<double> sorted = result.latencyMs;
        std::sort(sorted.begin(), sorted.end());
        QCOMPARE(result.medianLatencyMs, (sorted[1] + sorted[2]) / 2.0);
        QVERIFY(result.toText().contains(u"1024 actions"));
    }

    // A long solve reports how far it got, and Stop ends it: planCancelled, never planReady. The
    // next request, on the same profile, solves again and gives a direct planner's plan.
    void stopWhileSolving()
    {
        const Profile profile = makeProfile(16, 128); // 4,096 actions: a cold solve of seconds
        PlanningService service;
        service.setProgressInterval(0.02);
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy failed(&service, &PlanningService::planFailed);
        QSignalSpy progress(&service, &PlanningService::planProgress);
        QSignalSpy cancelled(&service, &PlanningService::planCancelled);
        // Stop as the first report arrives, as a user's click would.
        connect(&service, &PlanningService::planProgress, &service, [&service] { service.cancelPlan(); });
        service.setProfile(profile);
        const quint64 generation = service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.size(), 1, resultTimeoutMs);
        QVERIFY(!progress.isEmpty());
        QCOMPARE(cancelled.at(0).at(0).value<quint64>(), generation);
        QCOMPARE(ready.size(), 0);
        QCOMPARE(failed.size(), 0);
        const auto progressCount = progress.size();
        for (qsizetype i = 0; i < progressCount; ++i) {
            QCOMPARE(progress.at(i).at(0).value<quint64>(), generation);
            QVERIFY(progress.at(i).at(1).toDouble() >= 0.02);
            if (i > 0)
                QVERIFY(progress.at(i).at(2).value<qint64>() >= progress.at(i - 1).at(2).value<qint64>());
        }

        // Solved whole this time: no reports, so no stop (lp_solve runs uninstrumented under the
        // sanitizers, so this takes seconds there too).
        service.setProgressInterval(3600.0);
        const quint64 again = service.requestPlan(boundsOf(0.5));
        QTRY_COMPARE_WITH_TIMEOUT(ready.size(), 1, resultTimeoutMs);
        QCOMPARE(ready.at(0).at(0).value<quint64>(), again);
        FreezePlanner direct(profile);
        comparePlans(*planOf(ready, 0), direct.plan(boundsOf(0.5)));
        QCOMPARE(cancelled.size(), 1);
    }

    // Stop with a request still waiting behind the solve: both answer planCancelled, the waiting
    // one at once.
    void stopDropsWaitingRequest()
    {
        PlanningService service;
        service.setProgressInterval(0.02);
        QSignalSpy ready(&service, &PlanningService::planReady);
        QSignalSpy progress(&service, &PlanningService::planProgress);
        QSignalSpy cancelled(&service, &PlanningService::planCancelled);
        service.setProfile(makeProfile(16, 128));
        const quint64 first = service.requestPlan(boundsOf(0.5));
        QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), resultTimeoutMs);
        const quint64 second = service.requestPlan(boundsOf(0.6));
        service.cancelPlan();
        QCOMPARE(cancelled.size(), 1); // the waiting one, before anything else ran
        QCOMPARE(cancelled.at(0).at(0).value<quint64>(), second);
        // The first one's answer is older than one delivered: dropped, like any stale result.
        QTest::qWait(200);
        QCOMPARE(ready.size(), 0);
        QCOMPARE(cancelled.size(), 1);
        QVERIFY(progress.at(0).at(0).value<quint64>() == first);
    }

    // Destroyed while solving: stops the solve and emits nothing afterwards.
    void destroyWhileSolving()
    {
        auto* service = new PlanningService;
        QSignalSpy ready(service, &PlanningService::planReady);
        service->setProfile(makeProfile(8, 32));
        service->requestPlan(boundsOf(0.5));
        service->requestTradeoffCurve(boundsOf(0.5), 5);
        delete service;
        QCoreApplication::processEvents();
        QCOMPARE(ready.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestPlanningService)
#include "tst_planningservice.moc"
