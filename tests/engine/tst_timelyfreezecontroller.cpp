// The TimelyFreeze phases and the profiler behind them, driven by spans simulated from a known
// profile: what they measure, plan and ramp is checked against that profile and a direct solve.
#include "core/engine/action_time_profiler.h"
#include "core/engine/timely_freeze_controller.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/timeline.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace tfreeze;

namespace {

// One step as the engine would time it: every action's work is w_max − r^exponent·(w_max − w_min),
// times `scale` (exponent 1: the planner's linear model; 2: freezing part of an action saves less
// than its share, as on stage 0); it starts when the DAG lets it (after the profile's transfer
// time for an input from another rank) and, when the profile's ranks share processors, runs at
// its share of them.
struct SimulatedStep {
    std::vector<ActionSpan> spans;
    double batchMs = 0.0;
};

SimulatedStep simulateStep(const Profile& profile, const std::vector<double>& ratios, std::int64_t step,
    double scale = 1.0, double exponent = 1.0)
{
    const PipelineDag dag(profile.schedule());
    std::vector<double> durations(dag.nodeCount());
    for (std::size_t i = 0; i < durations.size(); ++i) {
        const ActionCost& cost = profile.costs()[i];
        durations[i] = scale * (cost.maxMs - std::pow(ratios[i], exponent) * (cost.maxMs - cost.minMs));
    }
    const Timeline timeline = simulateTimeline(dag, durations, profile.processors(), profile.transferMs());
    SimulatedStep result;
    result.batchMs = timeline.batchMs;
    for (std::size_t i = 0; i < durations.size(); ++i) {
        const Action& action = dag.action(static_cast<PipelineDag::Node>(i));
        ActionSpan span;
        span.step = step;
        span.rank = action.rank;
        span.stage = action.stage;
        span.microbatch = action.microbatch;
        span.kind = action.kind;
        span.startUs = std::llround(timeline.startMs[i] * 1000.0);
        span.endUs = std::llround(timeline.endMs[i] * 1000.0);
        result.spans.push_back(span);
    }
    return result;
}

Profile exampleProfile(ScheduleKind kind, int processors = 0)
{
    ScheduleShape shape;
    shape.kind = kind;
    shape.ranks = 3;
    shape.microbatches = 6;
    shape.stagesPerRank = kind == ScheduleKind::ZBV ? 2 : 1;
    SyntheticCosts costs;
    costs.forwardMs = { 1.0 };
    costs.backwardMs = { 2.0 };
    costs.backwardFrozenMs = { 0.8 };
    costs.jitter = 0.3; // every action its own cost, so a mix-up of actions shows
    costs.seed = 7;
    Profile profile = makeSyntheticProfile(PipelineSchedule::generate(shape), costs);
    profile.setProcessors(processors);
    return profile;
}

TimelyFreezeOptions shortPhases(double maxFreeze)
{
    TimelyFreezeOptions options;
    options.warmupSteps = 2;
    options.monitorMaxSteps = 3;
    options.monitorMinSteps = 3;
    options.rampSteps = 4;
    options.profileWindow = 3;
    options.bounds.maxFreeze = maxFreeze;
    return options;
}

// Steps of `truth` through the controller's phases up to its plan; the first step after them.
std::int64_t runUntilPlanned(TimelyFreezeController& controller, const Profile& truth)
{
    std::int64_t step = 0;
    for (; step < controller.planStep(); ++step) {
        const SimulatedStep simulated = simulateStep(truth, controller.ratiosFor(step), step);
        controller.endStep(step, simulated.spans, simulated.batchMs);
    }
    return step;
}

// Short phases, no ramp, and a re-plan when `replanDrift` is exceeded over 3 stable steps.
TimelyFreezeOptions driftOptions(double replanDrift)
{
    TimelyFreezeOptions options = shortPhases(0.5);
    options.rampSteps = 0;
    options.replanDrift = replanDrift;
    options.driftWindow = 3;
    return options;
}

// Stable steps at `scale` × (and `exponent`, as simulateStep) until the controller re-plans or
// its drift window is over; the new plan, if any. `step` moves past the steps run.
std::optional<PlanApplied> runDriftWindow(TimelyFreezeController& controller, const Profile& truth, std::int64_t& step,
    std::int64_t window, double scale, double exponent = 1.0)
{
    std::optional<PlanApplied> applied;
    for (std::int64_t k = 0; k < window && !applied; ++k, ++step) {
        const SimulatedStep simulated = simulateStep(truth, controller.ratiosFor(step), step, scale, exponent);
        applied = controller.endStep(step, simulated.spans, simulated.batchMs);
    }
    return applied;
}

} // namespace

class TestTimelyFreezeController : public QObject {
    Q_OBJECT

private slots:
    void profilerTakesMediansOverTheWindow()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB);
        ActionTimeProfiler profiler(truth.schedule(), 3);
        const std::vector<double> none(truth.costs().size(), 0.0);
        // Samples at scales 5 (an outlier, pushed out of the window), then 1.0, 3.0, 1.1:
        // the median of the last three is the 1.1-scaled duration.
        for (double scale : { 5.0, 1.0, 3.0, 1.1 })
            profiler.addStep(simulateStep(truth, none, 0, scale).spans, ActionTimeProfiler::Bound::Max);
        QCOMPARE(profiler.sampleCount(ActionTimeProfiler::Bound::Max), std::size_t(3));
        QCOMPARE(profiler.sampleCount(ActionTimeProfiler::Bound::Min), std::size_t(0));
        const std::vector<double> medians = profiler.medianMs(ActionTimeProfiler::Bound::Max);
        for (std::size_t i = 0; i < medians.size(); ++i)
            QVERIFY2(std::abs(medians[i] - 1.1 * truth.costs()[i].maxMs) <= 1e-3, qPrintable(QString::number(i)));
        QVERIFY_THROWS_EXCEPTION(std::logic_error, profiler.profile()); // no w_min yet
    }

    // Ranks sharing processors: an action's work is its share of what ran beside it, which scatters
    // to the right over the steps (here a quarter of each action's steps at 2.5 times its work), so
    // the medians add up to less than a step's work. estimatedMs() scales the forwards, and
    // separately the backwards, to their group's median total per step (computed here from the
    // known work); with a processor per rank, or samples not aligned by step, it is the medians.
    void profilerScalesSharedWorkToTheStepTotals()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB, 2);
        const PipelineDag dag(truth.schedule());
        const std::size_t count = dag.nodeCount();
        ActionTimeProfiler shared(truth.schedule(), 6, 2);
        ActionTimeProfiler alone(truth.schedule(), 6, 0);
        std::vector<std::vector<double>> works; // the last 6 steps': the window
        for (std::size_t step = 0; step < 9; ++step) {
            std::vector<double> work(count);
            for (std::size_t v = 0; v < count; ++v)
                work[v] = truth.costs()[v].maxMs * ((step + 3 * v) % 4 == 0 ? 2.5 : 1.0);
            const Timeline timeline = simulateTimeline(dag, work, 2);
            std::vector<ActionSpan> spans;
            for (std::size_t v = 0; v < count; ++v) {
                const Action& a = dag.action(static_cast<PipelineDag::Node>(v));
                spans.push_back({ static_cast<std::int64_t>(step), a.rank, a.stage, a.microbatch, a.kind,
                    std::llround(timeline.startMs[v] * 1000.0), std::llround(timeline.endMs[v] * 1000.0), 0, 0 });
            }
            shared.addStep(spans, ActionTimeProfiler::Bound::Max);
            alone.addStep(spans, ActionTimeProfiler::Bound::Max);
            if (step >= 3)
                works.push_back(work);
        }
        const auto medianOf = [](std::vector<double> values) {
            std::sort(values.begin(), values.end());
            return values.size() % 2 ? values[values.size() / 2]
                                     : (values[values.size() / 2 - 1] + values[values.size() / 2]) / 2.0;
        };
        const std::vector<double> medians = shared.medianMs(ActionTimeProfiler::Bound::Max);
        const std::vector<double> estimated = shared.estimatedMs(ActionTimeProfiler::Bound::Max);
        for (const bool freezable : { false, true }) {
            std::vector<double> totals;
            for (const std::vector<double>& work : works) {
                double total = 0.0;
                for (std::size_t v = 0; v < count; ++v)
                    if (isFreezable(dag.action(static_cast<PipelineDag::Node>(v)).kind) == freezable)
                        total += work[v];
                totals.push_back(total);
            }
            double mediansSum = 0.0;
            for (std::size_t v = 0; v < count; ++v) {
                if (isFreezable(dag.action(static_cast<PipelineDag::Node>(v)).kind) == freezable) {
                    std::vector<double> samples;
                    for (const std::vector<double>& work : works)
                        samples.push_back(work[v]);
                    QVERIFY(std::abs(medians[v] - medianOf(samples)) < 5e-3);
                    mediansSum += medianOf(samples);
                }
            }
            const double scale = medianOf(totals) / mediansSum;
            QVERIFY2(scale > 1.2, qPrintable(QString::number(scale))); // the test could fail
            for (std::size_t v = 0; v < count; ++v)
                if (isFreezable(dag.action(static_cast<PipelineDag::Node>(v)).kind) == freezable)
                    QVERIFY2(std::abs(estimated[v] - scale * medians[v]) < 0.02, qPrintable(QString::number(v)));
        }
        // One span per action per step, so the window's samples are aligned by step.
        QVERIFY(alone.estimatedMs(ActionTimeProfiler::Bound::Max) == alone.medianMs(ActionTimeProfiler::Bound::Max));
        // A step without its last span: the samples no longer line up by step.
        std::vector<ActionSpan> partial = simulateStep(truth, std::vector<double>(count, 0.0), 9).spans;
        partial.pop_back();
        shared.addStep(partial, ActionTimeProfiler::Bound::Max);
        QVERIFY(shared.estimatedMs(ActionTimeProfiler::Bound::Max) == shared.medianMs(ActionTimeProfiler::Bound::Max));
    }

    void profilerRejectsActionsOutsideTheSchedule()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB);
        ActionTimeProfiler profiler(truth.schedule(), 3);
        ActionSpan stray;
        stray.stage = 99;
        QVERIFY_THROWS_EXCEPTION(std::logic_error, profiler.addStep({ stray }, ActionTimeProfiler::Bound::Max));
    }

    void phasesFollowTheConfiguredLengths()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB);
        TimelyFreezeController controller(truth.schedule(), shortPhases(0.5));
        const TrainingPhase expected[] = { TrainingPhase::WarmUp, TrainingPhase::WarmUp, TrainingPhase::MonitorMax,
            TrainingPhase::MonitorMax, TrainingPhase::MonitorMax, TrainingPhase::MonitorMin, TrainingPhase::MonitorMin,
            TrainingPhase::MonitorMin, TrainingPhase::Ramp, TrainingPhase::Ramp, TrainingPhase::Ramp,
            TrainingPhase::Ramp, TrainingPhase::Stable };
        for (std::int64_t step = 0; step < 13; ++step)
            QCOMPARE(controller.phaseAt(step), expected[step]);
        QCOMPARE(controller.planStep(), std::int64_t(8));
    }

    void plansWhatTheMeasuredProfileGivesAndRampsItIn_data()
    {
        QTest::addColumn<ScheduleKind>("kind");
        QTest::addColumn<int>("processors");
        QTest::addColumn<double>("transferMs");
        QTest::addColumn<bool>("stageZeroWhole"); // TimelyFreezeOptions::allOrNothingStages {0}
        QTest::newRow("1F1B") << ScheduleKind::OneFOneB << 0 << 0.0 << false;
        QTest::newRow("ZBV") << ScheduleKind::ZBV << 0 << 0.0 << false;
        // The weighted draw's stage 0: its actions planned at ratio 0 or 1.
        QTest::newRow("1F1B, stage 0 all or nothing") << ScheduleKind::OneFOneB << 0 << 0.0 << true;
        // 3 ranks on 2 processors: the spans are stretched where 3 actions overlap, and the
        // profiler must measure each action's work, not its stretched time.
        QTest::newRow("1F1B, 3 ranks on 2 processors") << ScheduleKind::OneFOneB << 2 << 0.0 << false;
        QTest::newRow("ZBV, 3 ranks on 1 processor") << ScheduleKind::ZBV << 1 << 0.0 << false;
        // Ranks in separate processes: every input from another rank arrives that much later.
        QTest::newRow("1F1B, transfer 0.4 ms") << ScheduleKind::OneFOneB << 0 << 0.4 << false;
        QTest::newRow("ZBV, 3 ranks on 2 processors, transfer 1.5 ms") << ScheduleKind::ZBV << 2 << 1.5 << false;
    }

    void plansWhatTheMeasuredProfileGivesAndRampsItIn()
    {
        QFETCH(ScheduleKind, kind);
        QFETCH(int, processors);
        QFETCH(double, transferMs);
        QFETCH(bool, stageZeroWhole);
        Profile truth = exampleProfile(kind, processors);
        truth.setTransferMs(transferMs);
        TimelyFreezeOptions options = shortPhases(0.6);
        options.processors = processors;
        if (stageZeroWhole) {
            options.allOrNothingStages = { 0 };
            truth.setAllOrNothingStages({ 0 });
        }
        TimelyFreezeController controller(truth.schedule(), options);

        std::optional<PlanApplied> applied;
        for (std::int64_t step = 0; step < controller.planStep(); ++step) {
            const std::vector<double> ratios = controller.ratiosFor(step);
            const TrainingPhase phase = controller.phaseAt(step);
            const std::vector<Action> actions = truth.actions();
            for (std::size_t i = 0; i < ratios.size(); ++i) {
                const double expected = phase == TrainingPhase::MonitorMin && isFreezable(actions[i].kind) ? 1.0 : 0.0;
                QCOMPARE(ratios[i], expected);
            }
            const SimulatedStep simulated = simulateStep(truth, ratios, step);
            applied = controller.endStep(step, simulated.spans, simulated.batchMs);
            QCOMPARE(applied.has_value(), step + 1 == controller.planStep());
            if (step + 2 == controller.planStep()) {
                // A checkpoint carries the measured transfer times like the durations.
                const TimelyFreezeController::State state = controller.state();
                QVERIFY(!state.transferSamples.empty());
                TimelyFreezeController resumed(truth.schedule(), options);
                resumed.restore(state);
                QCOMPARE(resumed.state().transferSamples, state.transferSamples);
            }
        }
        QVERIFY(applied && applied->plan);
        QCOMPARE(applied->source, PlanSource::Engine);
        QCOMPARE(applied->appliedAtStep, controller.planStep());

        // The measured profile is the true one (to the microseconds the spans are rounded to).
        QVERIFY(controller.profile().has_value());
        QCOMPARE(controller.profile()->processors(), processors);
        QVERIFY2(std::abs(controller.profile()->transferMs() - transferMs) <= 3e-3,
            qPrintable(QString::number(controller.profile()->transferMs())));
        QCOMPARE(controller.profile()->allOrNothingStages(), truth.allOrNothingStages());
        if (stageZeroWhole) {
            const std::vector<Action> actions = truth.actions();
            for (std::size_t i = 0; i < actions.size(); ++i) {
                const double ratio = applied->plan->actions[i].ratio;
                if (actions[i].stage == 0)
                    QVERIFY2(ratio == 0.0 || std::abs(ratio - 1.0) < 1e-9, qPrintable(QString::number(ratio)));
            }
        }
        for (std::size_t i = 0; i < truth.costs().size(); ++i) {
            QVERIFY(std::abs(controller.profile()->costs()[i].maxMs - truth.costs()[i].maxMs) <= 3e-3);
            QVERIFY(std::abs(controller.profile()->costs()[i].minMs - truth.costs()[i].minMs) <= 3e-3);
        }
        // And its plan is the planner's on the true profile.
        FreezePlanner direct(truth);
        const FreezePlan expected = direct.plan(options.bounds);
        QVERIFY(std::abs(applied->plan->batchMsPlanned - expected.batchMsPlanned) <= 1e-2);

        // Ramp: 1/4, 2/4, 3/4, then all of the plan.
        for (std::int64_t k = 0; k <= options.rampSteps; ++k) {
            const std::int64_t step = controller.planStep() + k;
            const double scale = std::min(1.0, static_cast<double>(k + 1) / static_cast<double>(options.rampSteps));
            const std::vector<double> ratios = controller.ratiosFor(step);
            for (std::size_t i = 0; i < ratios.size(); ++i)
                QVERIFY(std::abs(ratios[i] - scale * applied->plan->actions[i].ratio) <= 1e-12);
            const SimulatedStep simulated = simulateStep(truth, ratios, step);
            QVERIFY(!controller.endStep(step, simulated.spans, simulated.batchMs));
        }
    }

    void newBoundsReplanAtTheNextStep()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB);
        TimelyFreezeController controller(truth.schedule(), shortPhases(0.2));
        std::int64_t step = runUntilPlanned(controller, truth);
        const double before = controller.plan()->batchMsPlanned;
        FreezeBounds looser;
        looser.maxFreeze = 0.9;
        controller.setBounds(looser);
        const SimulatedStep simulated = simulateStep(truth, controller.ratiosFor(step), step);
        const std::optional<PlanApplied> applied = controller.endStep(step, simulated.spans, simulated.batchMs);
        QVERIFY(applied.has_value());
        QCOMPARE(applied->source, PlanSource::User);
        QCOMPARE(applied->plan->bounds.maxFreeze, 0.9);
        QVERIFY(applied->plan->batchMsPlanned < before); // more freezing allowed: a shorter batch
        FreezePlanner direct(truth);
        QVERIFY(std::abs(applied->plan->batchMsPlanned - direct.plan(looser).batchMsPlanned) <= 1e-2);

        FreezeBounds bad;
        bad.maxFreeze = 1.5;
        QVERIFY_THROWS_EXCEPTION(InputError, controller.setBounds(bad));
        bad.maxFreeze = 0.5;
        bad.stageMaxFreeze = { 0.5 };
        QVERIFY_THROWS_EXCEPTION(InputError, controller.setBounds(bad));
    }

    void driftRescalesTheProfileAndReplans()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB);
        const TimelyFreezeOptions options = driftOptions(0.1);
        TimelyFreezeController controller(truth.schedule(), options);
        std::int64_t step = runUntilPlanned(controller, truth);
        const double planned = controller.plan()->batchMsPlanned;
        const std::vector<PlannedAction> ran = controller.plan()->actions;
        // The machine gets 1.5× slower: after driftWindow stable steps the plan is redone on a
        // profile that predicts what was measured.
        const std::optional<PlanApplied> applied = runDriftWindow(controller, truth, step, options.driftWindow, 1.5);
        QVERIFY(applied.has_value());
        QVERIFY(std::abs(applied->plan->batchMsPlanned / planned - 1.5) <= 1e-3);
        // The re-plan started from the first plan's basis; a cold planner of the new profile agrees.
        const double cold = FreezePlanner(*controller.profile()).plan(options.bounds).batchMsPlanned;
        QVERIFY(std::abs(applied->plan->batchMsPlanned - cold) <= 1e-9 * cold);
        // The rescaled profile predicts, at the ratios that ran, 1.5× the true durations (to the
        // microsecond the spans are rounded to).
        for (std::size_t i = 0; i < truth.costs().size(); ++i) {
            auto at = [&](const ActionCost& cost) { return cost.maxMs - ran[i].ratio * (cost.maxMs - cost.minMs); };
            QVERIFY(std::abs(at(controller.profile()->costs()[i]) - 1.5 * at(truth.costs()[i])) <= 2e-3);
        }

        // Steady times within the drift bound: no new plan.
        for (int k = 0; k < 2 * options.driftWindow; ++k, ++step) {
            const SimulatedStep simulated = simulateStep(truth, controller.ratiosFor(step), step, 1.52);
            QVERIFY(!controller.endStep(step, simulated.spans, simulated.batchMs));
        }
    }

    // Partial freezing that saves less than the linear model says (w(r) = w_max − r²·Δ), on a
    // machine 1.2× slower: the re-planned profile keeps each action's w_max at the machine's
    // speed and meets every measurement at the ratio that ran (a partly frozen action gets the
    // w_min of that line; uniform scaling would have inflated its w_max instead).
    void driftCalibratesPartialFreezing()
    {
        const Profile truth = exampleProfile(ScheduleKind::OneFOneB);
        const TimelyFreezeOptions options = driftOptions(0.05);
        TimelyFreezeController controller(truth.schedule(), options);
        std::int64_t step = runUntilPlanned(controller, truth);
        const std::vector<PlannedAction> ran = controller.plan()->actions;
        int partial = 0;
        for (const PlannedAction& action : ran)
            partial += action.ratio > 0.01 && action.ratio < 0.99 ? 1 : 0;
        QVERIFY2(partial > 0, "the plan must freeze some action partly for this test to mean anything");
        const std::optional<PlanApplied> applied
            = runDriftWindow(controller, truth, step, options.driftWindow, 1.2, 2.0);
        QVERIFY(applied.has_value());
        const double cold = FreezePlanner(*controller.profile()).plan(options.bounds).batchMsPlanned;
        QVERIFY(std::abs(applied->plan->batchMsPlanned - cold) <= 1e-9 * cold);
        const std::vector<Action> actions = truth.actions();
        for (std::size_t i = 0; i < actions.size(); ++i) {
            const ActionCost& t = truth.costs()[i];
            const ActionCost& fitted = controller.profile()->costs()[i];
            const double r = ran[i].ratio;
            const double measured = 1.2 * (t.maxMs - r * r * (t.maxMs - t.minMs));
            const std::string name = actionName(actions[i]);
            // Spans are whole microseconds.
            QVERIFY2(std::abs(fitted.maxMs - 1.2 * t.maxMs) <= 2e-3, name.c_str());
            QVERIFY2(std::abs(fitted.maxMs - r * (fitted.maxMs - fitted.minMs) - measured) <= 2e-3, name.c_str());
            if (r <= 0.0)
                QVERIFY2(std::abs(fitted.minMs - 1.2 * t.minMs) <= 2e-3, name.c_str());
        }
    }
};

QTEST_APPLESS_MAIN(TestTimelyFreezeController)
#include "tst_timelyfreezecontroller.moc"
