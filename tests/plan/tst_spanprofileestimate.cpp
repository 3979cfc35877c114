// estimateProfileFromSpans: medians, frozen medians, the linear fit to ratio 1 and the estimate
// from the forward, each against values computed by hand.
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/span_profile_estimate.h"
#include "core/plan/timeline.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

using namespace tfreeze;

// One measurement of the action under test: its duration in ms and frozen tensors out of 4.
using Measurements = std::vector<std::pair<double, int>>;
Q_DECLARE_METATYPE(Measurements)

namespace {

constexpr int kTensors = 4;

struct Measured {
    double ms = 0.0;
    int frozenTensors = 0;
};

// `steps` steps of every action of `schedule`, each laid end to end on its rank (the start does
// not matter to the estimate, only end − start), durations from `measure(action, step)`.
std::vector<std::vector<ActionSpan>> measuredSteps(
    const PipelineSchedule& schedule, int steps, const std::function<Measured(const Action&, int)>& measure)
{
    std::vector<std::vector<ActionSpan>> result;
    for (int step = 0; step < steps; ++step) {
        std::vector<ActionSpan> spans;
        for (const auto& order : schedule.rankOrders()) {
            std::int64_t startUs = 100; // not at 0: durations, not ends, are what counts
            for (const Action& action : order) {
                const Measured measured = measure(action, step);
                const auto us = static_cast<std::int64_t>(measured.ms * 1000.0 + 0.5);
                spans.push_back({ step, action.rank, action.stage, action.microbatch, action.kind, startUs,
                    startUs + us, measured.frozenTensors, isFreezable(action.kind) ? kTensors : 0 });
                startUs += us + 7;
            }
        }
        result.push_back(std::move(spans));
    }
    return result;
}

ActionCost costOf(const Profile& profile, const Action& wanted)
{
    const std::vector<Action> actions = profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i)
        if (actions[i] == wanted)
            return profile.costs()[i];
    qFatal("no such action");
}

PipelineSchedule oneFOneB() { return PipelineSchedule::generate({ ScheduleKind::OneFOneB, 2, 2, 1 }); }

// 1F1B on 3 ranks × 4 microbatches whose ranks share `processors` processors, with known work per
// action: maxWork unfrozen, minWork with every tensor of a backward frozen.
struct SharedRanks {
    int processors;
    PipelineSchedule schedule = PipelineSchedule::generate({ ScheduleKind::OneFOneB, 3, 4, 1 });
    PipelineDag dag { schedule };
    std::vector<double> maxWork;
    std::vector<double> minWork;
    double transferMs = 0.0; // every input from another rank arrives that much after its sender ends

    explicit SharedRanks(int p)
        : processors(p)
        , maxWork(dag.nodeCount())
        , minWork(dag.nodeCount())
    {
        for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
            const Action& a = dag.action(v);
            const double forward = 1.0 + 0.1 * a.stage + 0.05 * a.microbatch;
            const bool backward = a.kind == ActionKind::Backward;
            maxWork[v] = backward ? 2.0 * forward + 0.3 : forward;
            minWork[v] = backward ? 0.8 * forward + 0.1 : forward;
        }
    }

    // One step's spans as the processor-sharing simulation lays out `work`, every freezable span
    // marked with `frozenFraction` of its tensors frozen.
    std::vector<ActionSpan> spans(const std::vector<double>& work, double frozenFraction, int step) const
    {
        const Timeline timeline = simulateTimeline(dag, work, processors, transferMs);
        std::vector<ActionSpan> result;
        for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
            const Action& a = dag.action(v);
            const int total = isFreezable(a.kind) ? kTensors : 0;
            result.push_back({ step, a.rank, a.stage, a.microbatch, a.kind, std::llround(timeline.startMs[v] * 1000.0),
                std::llround(timeline.endMs[v] * 1000.0), static_cast<int>(std::lround(frozenFraction * total)),
                total });
        }
        return result;
    }

    Profile profile() const
    {
        std::vector<ActionCost> costs(dag.nodeCount());
        for (std::size_t i = 0; i < costs.size(); ++i)
            costs[i] = { maxWork[i], minWork[i] };
        Profile result(schedule, std::move(costs), "test");
        result.setProcessors(processors);
        return result;
    }
};

double medianOf(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

} // namespace

class TestSpanProfileEstimate : public QObject {
    Q_OBJECT

private slots:
    void backwardMinimum_data();
    void backwardMinimum();
    void forwardIsMedianOfAllMeasurements();
    void splitBackwardWeightEstimate();
    void infoCountsEveryFreezableAction();
    void missingActionIsNamed_data();
    void missingActionIsNamed();
    void spanOfAnotherScheduleIsRefused();
    void sharedProcessorsGiveTheWork_data();
    void sharedProcessorsGiveTheWork();
    void transferBetweenRanksIsMeasured_data() { sharedProcessorsGiveTheWork_data(); }
    void transferBetweenRanksIsMeasured();
    void unfreezableWorkScale_data();
    void unfreezableWorkScale();
    void sharedWorkAddsUpToTheSteps();
};

// The action under test is 1B0 (stage 1, microbatch 0, full backward): one measurement per step,
// from the row; every other action costs F = `forward` ms (forwards) or 10 ms (backwards).
void TestSpanProfileEstimate::backwardMinimum_data()
{
    QTest::addColumn<Measurements>("measurements");
    QTest::addColumn<double>("forward");
    QTest::addColumn<double>("maxMs");
    QTest::addColumn<double>("minMs");
    QTest::addColumn<QString>("method");

    // Odd count: the middle; even count: the mean of the two middle values.
    QTest::newRow("frozen median, odd") << Measurements { { 10, 0 }, { 12, 0 }, { 11, 0 }, { 6, 4 }, { 5, 4 },
        { 90, 4 } } << 3.0 << 11.0 << 6.0
                                        << QStringLiteral("measured");
    QTest::newRow("frozen median, even") << Measurements { { 10, 0 }, { 14, 0 }, { 6, 4 }, { 5, 4 }, { 7, 4 },
        { 100, 4 } } << 3.0 << 12.0 << 6.5
                                         << QStringLiteral("measured");
    // Frozen measurements win over partial ones: the fit is not consulted.
    QTest::newRow("frozen beats partial")
        << Measurements { { 10, 0 }, { 2, 2 }, { 4, 4 } } << 3.0 << 10.0 << 4.0 << QStringLiteral("measured");
    // Points (0, 10), (0.25, 9), (0.5, 8): the line d = 10 − 4r, so 6 at r = 1. The 50 ms outlier
    // at r = 0.5 is outvoted by the median of that ratio.
    QTest::newRow("fit, collinear") << Measurements { { 10, 0 }, { 10, 0 }, { 9, 1 }, { 8, 2 }, { 8, 2 }, { 50, 2 } }
                                    << 3.0 << 10.0 << 6.0 << QStringLiteral("fitted");
    // Points (0, 10), (0.5, 7), (0.75, 6.5): mean r 5/12, mean d 47/6, Sxx 7/24, Sxy −17/12,
    // slope −34/7; at r = 1: 47/6 − (34/7)(7/12) = 5.
    QTest::newRow("fit, least squares") << Measurements { { 10, 0 }, { 7, 2 }, { 6.5, 3 } } << 3.0 << 10.0 << 5.0
                                        << QStringLiteral("fitted");
    // Points (0, 10), (0.75, 1): the line reaches −2 at r = 1, clamped to 0.
    QTest::newRow("fit below zero") << Measurements { { 10, 0 }, { 1, 3 } } << 3.0 << 10.0 << 0.0
                                    << QStringLiteral("fitted");
    // A frozen backward slower than the unfrozen one is noise: min = max.
    QTest::newRow("frozen slower") << Measurements { { 10, 0 }, { 12, 4 } } << 3.0 << 10.0 << 10.0
                                   << QStringLiteral("measured");
    // No freezing measured: max(B − F, B/2).
    QTest::newRow("estimate, B − F") << Measurements { { 10, 0 }, { 9, 0 }, { 11, 0 } } << 3.0 << 10.0 << 7.0
                                     << QStringLiteral("estimated");
    QTest::newRow("estimate, half") << Measurements { { 10, 0 }, { 10, 0 } } << 8.0 << 10.0 << 5.0
                                    << QStringLiteral("estimated");
}

void TestSpanProfileEstimate::backwardMinimum()
{
    QFETCH(Measurements, measurements);
    QFETCH(double, forward);
    QFETCH(double, maxMs);
    QFETCH(double, minMs);
    QFETCH(QString, method);

    const PipelineSchedule schedule = oneFOneB();
    const Action target { 1, 1, 0, ActionKind::Backward };
    const auto steps = measuredSteps(schedule, static_cast<int>(measurements.size()), [&](const Action& a, int step) {
        if (a == target)
            return Measured { measurements[static_cast<std::size_t>(step)].first,
                measurements[static_cast<std::size_t>(step)].second };
        return Measured { a.kind == ActionKind::Forward ? forward : 10.0, 0 };
    });
    ProfileEstimateInfo info;
    const Profile profile = estimateProfileFromSpans(schedule, steps, &info);

    const ActionCost cost = costOf(profile, target);
    QCOMPARE(cost.maxMs, maxMs);
    QVERIFY2(qAbs(cost.minMs - minMs) < 1e-9, qPrintable(QStringLiteral("min %1, want %2").arg(cost.minMs).arg(minMs)));
    // The other three backwards were measured unfrozen only: estimated.
    QCOMPARE(info.freezableActions, 4);
    QCOMPARE(info.measuredFrozen, method == QStringLiteral("measured") ? 1 : 0);
    QCOMPARE(info.fittedPartial, method == QStringLiteral("fitted") ? 1 : 0);
    QCOMPARE(info.estimated, method == QStringLiteral("estimated") ? 4 : 3);
    const ActionCost other = costOf(profile, { 0, 0, 1, ActionKind::Backward });
    QCOMPARE(other.maxMs, 10.0);
    QCOMPARE(other.minMs, std::max(10.0 - forward, 5.0));
}

// F cannot freeze: every measurement counts for max, and min equals max.
void TestSpanProfileEstimate::forwardIsMedianOfAllMeasurements()
{
    const PipelineSchedule schedule = oneFOneB();
    const std::vector<double> forwardMs { 4.0, 1.0, 3.0, 2.0 }; // median (2 + 3) / 2
    const auto steps = measuredSteps(schedule, 4, [&](const Action& a, int step) {
        if (a.kind == ActionKind::Forward)
            return Measured { forwardMs[static_cast<std::size_t>(step)] * (a.stage + 1), 0 };
        return Measured { 9.0, 0 };
    });
    const Profile profile = estimateProfileFromSpans(schedule, steps);
    for (int stage = 0; stage < 2; ++stage) {
        for (int microbatch = 0; microbatch < 2; ++microbatch) {
            const ActionCost cost = costOf(profile, { stage, stage, microbatch, ActionKind::Forward });
            QCOMPARE(cost.maxMs, 2.5 * (stage + 1));
            QCOMPARE(cost.minMs, cost.maxMs);
            // B = 9: max(9 − F, 4.5) with F = 2.5 on stage 0 and 5 on stage 1.
            QCOMPARE(costOf(profile, { stage, stage, microbatch, ActionKind::Backward }).minMs, stage == 0 ? 6.5 : 4.5);
        }
    }
}

// ZBH1: I cannot freeze (min = max), W is estimated with the same rule as B.
void TestSpanProfileEstimate::splitBackwardWeightEstimate()
{
    const PipelineSchedule schedule = PipelineSchedule::generate({ ScheduleKind::ZBH1, 2, 4, 1 });
    QVERIFY(schedule.splitBackward());
    const auto steps = measuredSteps(schedule, 3, [](const Action& a, int step) {
        switch (a.kind) {
        case ActionKind::Forward:
            return Measured { 2.0, 0 };
        case ActionKind::BackwardInput:
            return Measured { 3.0 + step, 0 }; // 3, 4, 5
        case ActionKind::BackwardWeight:
            return Measured { 6.0, 0 };
        case ActionKind::Backward:
            break;
        }
        qFatal("ZBH1 has no full backward");
    });
    ProfileEstimateInfo info;
    const Profile profile = estimateProfileFromSpans(schedule, steps, &info);
    const std::vector<Action> actions = profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const ActionCost cost = profile.costs()[i];
        if (actions[i].kind == ActionKind::BackwardInput) {
            QCOMPARE(cost.maxMs, 4.0);
            QCOMPARE(cost.minMs, 4.0);
        } else if (actions[i].kind == ActionKind::BackwardWeight) {
            QCOMPARE(cost.maxMs, 6.0);
            QCOMPARE(cost.minMs, 4.0); // max(6 − 2, 3)
        }
    }
    QCOMPARE(info.freezableActions, 8);
    QCOMPARE(info.estimated, 8);
}

// Fully frozen on stage 0, partly frozen on stage 1: the counts say which is which.
void TestSpanProfileEstimate::infoCountsEveryFreezableAction()
{
    const PipelineSchedule schedule = oneFOneB();
    const auto steps = measuredSteps(schedule, 4, [](const Action& a, int step) {
        if (a.kind == ActionKind::Forward)
            return Measured { 2.0, 0 };
        if (step < 2)
            return Measured { 10.0, 0 };
        return a.stage == 0 ? Measured { 4.0, kTensors } : Measured { 8.0, 2 };
    });
    ProfileEstimateInfo info;
    const Profile profile = estimateProfileFromSpans(schedule, steps, &info);
    QCOMPARE(info.freezableActions, 4);
    QCOMPARE(info.measuredFrozen, 2);
    QCOMPARE(info.fittedPartial, 2);
    QCOMPARE(info.estimated, 0);
    QCOMPARE(costOf(profile, { 0, 0, 1, ActionKind::Backward }).minMs, 4.0);
    QCOMPARE(costOf(profile, { 1, 1, 1, ActionKind::Backward }).minMs, 6.0); // (0, 10), (0.5, 8) → 6
}

void TestSpanProfileEstimate::missingActionIsNamed_data()
{
    QTest::addColumn<bool>("frozenOnly");
    QTest::addColumn<QString>("message");
    QTest::newRow("never measured") << false << QStringLiteral("no measurement");
    QTest::newRow("measured frozen only") << true << QStringLiteral("no unfrozen measurement");
}

void TestSpanProfileEstimate::missingActionIsNamed()
{
    QFETCH(bool, frozenOnly);
    QFETCH(QString, message);
    const PipelineSchedule schedule = oneFOneB();
    auto steps = measuredSteps(schedule, 2, [](const Action& a, int) {
        return Measured { 5.0, a.stage == 1 && a.microbatch == 1 && a.kind == ActionKind::Backward ? kTensors : 0 };
    });
    if (!frozenOnly) {
        for (auto& spans : steps)
            spans.erase(std::remove_if(spans.begin(), spans.end(),
                            [](const ActionSpan& s) {
                                return s.stage == 1 && s.microbatch == 1 && s.kind == ActionKind::Backward;
                            }),
                spans.end());
    }
    try {
        estimateProfileFromSpans(schedule, steps);
        QFAIL("no InputError");
    } catch (const InputError& error) {
        QCOMPARE(QString::fromStdString(error.field()), QStringLiteral("1B1"));
        QVERIFY2(QString::fromStdString(error.reason()).startsWith(message), error.what());
    }
}

void TestSpanProfileEstimate::spanOfAnotherScheduleIsRefused()
{
    const PipelineSchedule schedule = oneFOneB();
    auto steps = measuredSteps(schedule, 1, [](const Action&, int) { return Measured { 5.0, 0 }; });
    steps[0].push_back({ 0, 1, 1, 2, ActionKind::Forward, 0, 10, 0, 0 }); // microbatch 2 of 2
    try {
        estimateProfileFromSpans(schedule, steps);
        QFAIL("no InputError");
    } catch (const InputError& error) {
        QCOMPARE(QString::fromStdString(error.field()), QStringLiteral("1F2"));
    }
    // The right action on the wrong rank is another schedule too.
    steps[0].back() = { 0, 0, 1, 1, ActionKind::Forward, 0, 10, 0, 0 };
    QVERIFY_THROWS_EXCEPTION(InputError, estimateProfileFromSpans(schedule, steps));
}

void TestSpanProfileEstimate::sharedProcessorsGiveTheWork_data()
{
    QTest::addColumn<int>("processors");
    QTest::newRow("1 processor") << 1;
    QTest::newRow("2 processors") << 2;
    QTest::newRow("one per rank") << 3;
}

// Steps of 3 ranks on `processors` processors, laid out by the processor-sharing simulation from
// known work (unfrozen steps, then steps with every backward frozen): the estimate must give back
// that work, not the stretched spans, and a planner on it must predict the simulated batch.
void TestSpanProfileEstimate::sharedProcessorsGiveTheWork()
{
    QFETCH(int, processors);
    const SharedRanks ranks(processors);
    const PipelineDag& dag = ranks.dag;
    const std::vector<double>& maxWork = ranks.maxWork;
    const std::vector<double>& minWork = ranks.minWork;
    const PipelineSchedule& schedule = ranks.schedule;
    const std::vector<std::vector<ActionSpan>> steps { ranks.spans(maxWork, 0.0, 0), ranks.spans(maxWork, 0.0, 1),
        ranks.spans(minWork, 1.0, 2) };

    const Profile profile = estimateProfileFromSpans(schedule, steps, nullptr, processors);
    const int shared = processors < 3 ? processors : 0;
    QCOMPARE(profile.processors(), shared);
    const std::vector<Action> actions = profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const std::string name = actionName(actions[i]);
        // Span ends are whole microseconds: a few µs of rounding per span.
        QVERIFY2(std::abs(profile.costs()[i].maxMs - maxWork[i]) < 5e-3, name.c_str());
        QVERIFY2(std::abs(profile.costs()[i].minMs - minWork[i]) < 5e-3, name.c_str());
    }
    const double sharedBatchMs = simulateTimeline(dag, maxWork, processors).batchMs;
    FreezePlanner planner(profile);
    QVERIFY(std::abs(planner.plan(FreezeBounds {}).batchMsNoFreeze - sharedBatchMs) < 0.02);

    // The stretched spans themselves are not the work when processors are shared: without
    // `processors` the estimate is longer (the test above could fail).
    const Profile stretched = estimateProfileFromSpans(schedule, steps);
    double stretchedSum = 0.0;
    double workSum = 0.0;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        stretchedSum += stretched.costs()[i].maxMs;
        workSum += maxWork[i];
    }
    if (shared > 0)
        QVERIFY2(stretchedSum > 1.2 * workSum, qPrintable(QStringLiteral("%1 vs %2").arg(stretchedSum).arg(workSum)));
    else
        QVERIFY(std::abs(stretchedSum - workSum) < 0.05);
}

// Steps laid out with a transfer time between ranks (ranks in separate processes): each step's
// spans give it back, so does the estimated profile, and a planner on that profile predicts the
// simulated batch; without one the steps measure none. A single rank waits for no other.
void TestSpanProfileEstimate::transferBetweenRanksIsMeasured()
{
    const auto near = [](double actual, double expected, double tolerance, const char* what) {
        return std::abs(actual - expected) <= tolerance
            ? QByteArray()
            : QStringLiteral("%1: %2, expected %3").arg(QLatin1String(what)).arg(actual).arg(expected).toUtf8();
    };
    QFETCH(int, processors);
    SharedRanks ranks(processors);
    QByteArray failure
        = near(stepTransferMs(ranks.dag, ranks.spans(ranks.maxWork, 0.0, 0)).value_or(-1.0), 0.0, 2e-3, "no transfer");
    QVERIFY2(failure.isEmpty(), failure.constData());
    ranks.transferMs = 0.8;
    const std::vector<std::vector<ActionSpan>> steps { ranks.spans(ranks.maxWork, 0.0, 0),
        ranks.spans(ranks.maxWork, 0.0, 1), ranks.spans(ranks.minWork, 1.0, 2) };
    for (const auto& step : steps) {
        failure = near(stepTransferMs(ranks.dag, step).value_or(-1.0), 0.8, 2e-3, "step");
        QVERIFY2(failure.isEmpty(), failure.constData());
    }
    const Profile profile = estimateProfileFromSpans(ranks.schedule, steps, nullptr, processors);
    failure = near(profile.transferMs(), 0.8, 2e-3, "profile");
    QVERIFY2(failure.isEmpty(), failure.constData());
    const double batchMs = simulateTimeline(ranks.dag, ranks.maxWork, processors, 0.8).batchMs;
    // With a processor each, the critical path crosses ranks at least twice; a shared processor can
    // keep computing other ranks' work meanwhile.
    const double withoutMs = simulateTimeline(ranks.dag, ranks.maxWork, processors).batchMs;
    QVERIFY(processors < 3 ? batchMs >= withoutMs - 1e-9 : batchMs > withoutMs + 1.6 - 1e-9);
    failure = near(FreezePlanner(profile).plan(FreezeBounds {}).batchMsNoFreeze, batchMs, 0.02, "no-freeze batch");
    QVERIFY2(failure.isEmpty(), failure.constData());

    const PipelineDag single(PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 1, 4 }));
    std::vector<ActionSpan> alone;
    for (PipelineDag::Node v = 0; v < single.nodeCount(); ++v) {
        const Action& a = single.action(v);
        alone.push_back({ 0, a.rank, a.stage, a.microbatch, a.kind, static_cast<std::int64_t>(v) * 1000,
            static_cast<std::int64_t>(v + 1) * 1000, 0, 0 });
    }
    QVERIFY(!stepTransferMs(single, alone).has_value());
}

void TestSpanProfileEstimate::unfreezableWorkScale_data() { sharedProcessorsGiveTheWork_data(); }

// A machine 30% slower than when it was profiled: every action's work × 1.3, backwards half
// frozen. The scale is read from the forwards alone, as work (processor sharing undone), their
// total against the profile's.
void TestSpanProfileEstimate::unfreezableWorkScale()
{
    QFETCH(int, processors);
    const SharedRanks ranks(processors);
    const Profile profile = ranks.profile();
    std::vector<double> slower(ranks.maxWork.size());
    for (std::size_t i = 0; i < slower.size(); ++i) {
        const bool backward = ranks.dag.action(i).kind == ActionKind::Backward;
        slower[i] = 1.3 * (backward ? (ranks.maxWork[i] + ranks.minWork[i]) / 2.0 : ranks.maxWork[i]);
    }
    std::vector<ActionSpan> spans = ranks.spans(slower, 0.5, 0);
    QVERIFY2(std::abs(tfreeze::unfreezableWorkScale(profile, spans) - 1.3) < 2e-3,
        qPrintable(QString::number(tfreeze::unfreezableWorkScale(profile, spans))));
    // Only the forwards count: backwards twice as slow again change nothing.
    for (ActionSpan& span : spans)
        if (span.kind == ActionKind::Backward)
            span.endUs += span.endUs - span.startUs;
    if (processors >= 3) {
        QVERIFY(std::abs(tfreeze::unfreezableWorkScale(profile, spans) - 1.3) < 2e-3);
        // One forward four times as slow moves the forwards' total, not their median ratio.
        double forwardsMs = 0.0;
        for (std::size_t i = 0; i < slower.size(); ++i)
            if (!isFreezable(ranks.dag.action(i).kind))
                forwardsMs += slower[i];
        for (std::size_t i = 0; i < spans.size(); ++i) {
            if (!isFreezable(spans[i].kind)) {
                const std::int64_t us = spans[i].endUs - spans[i].startUs;
                spans[i].endUs += 3 * us;
                const double expected = 1.3 * (forwardsMs + 3.0 * us / 1000.0) / forwardsMs;
                QVERIFY2(std::abs(tfreeze::unfreezableWorkScale(profile, spans) - expected) < 2e-3,
                    qPrintable(QString::number(tfreeze::unfreezableWorkScale(profile, spans))));
                break;
            }
        }
    }
    // Without a measured forward there is no scale.
    spans.erase(std::remove_if(spans.begin(), spans.end(), [](const ActionSpan& s) { return !isFreezable(s.kind); }),
        spans.end());
    QCOMPARE(tfreeze::unfreezableWorkScale(profile, spans), 0.0);
}

// With shared processors which span the OS served first is not what fair sharing assumes, and an
// action's work scatters to the right over the steps (a quarter of its steps here 2.5 times its
// work): its median is its usual work, but every step carries some slow actions, so the medians
// add up to less than any step's work. The estimate scales the forwards, and separately the
// backwards, to the median over the steps of their group's measured over predicted work (computed
// here from the known work, not from the spans), and a planner on it predicts the steps' median
// batch closer than one on the bare medians.
void TestSpanProfileEstimate::sharedWorkAddsUpToTheSteps()
{
    const SharedRanks ranks(2);
    const std::size_t count = ranks.dag.nodeCount();
    std::vector<std::vector<double>> works; // per step, per action
    std::vector<std::vector<ActionSpan>> steps;
    std::vector<double> batchMs;
    for (int step = 0; step < 8; ++step) {
        std::vector<double> work = ranks.maxWork;
        for (std::size_t v = 0; v < count; ++v)
            if ((static_cast<std::size_t>(step) + 3 * v) % 4 == 0)
                work[v] *= 2.5;
        steps.push_back(ranks.spans(work, 0.0, step));
        batchMs.push_back(simulateTimeline(ranks.dag, work, 2).batchMs);
        works.push_back(std::move(work));
    }
    for (int step = 8; step < 11; ++step) { // everything frozen, nothing slow
        steps.push_back(ranks.spans(ranks.minWork, 1.0, step));
        works.push_back(ranks.minWork);
    }
    const Profile profile = estimateProfileFromSpans(ranks.schedule, steps, nullptr, 2);

    std::vector<ActionCost> bare(count); // the medians over unfrozen and over frozen steps
    for (std::size_t v = 0; v < count; ++v) {
        std::vector<double> unfrozen;
        std::vector<double> frozen;
        for (std::size_t k = 0; k < works.size(); ++k)
            (k < 8 || !isFreezable(ranks.dag.action(v).kind) ? unfrozen : frozen).push_back(works[k][v]);
        bare[v].maxMs = medianOf(unfrozen);
        bare[v].minMs = isFreezable(ranks.dag.action(v).kind) ? medianOf(frozen) : bare[v].maxMs;
    }
    for (const bool freezable : { false, true }) {
        std::vector<double> scales;
        for (std::size_t k = 0; k < works.size(); ++k) {
            double measured = 0.0;
            double predicted = 0.0;
            for (std::size_t v = 0; v < count; ++v) {
                if (isFreezable(ranks.dag.action(v).kind) != freezable)
                    continue;
                measured += works[k][v];
                predicted += k < 8 || !freezable ? bare[v].maxMs : bare[v].minMs;
            }
            scales.push_back(measured / predicted);
        }
        const double scale = medianOf(scales);
        QVERIFY2(scale > 1.2, qPrintable(QString::number(scale))); // the test could fail
        for (std::size_t v = 0; v < count; ++v) {
            if (isFreezable(ranks.dag.action(v).kind) != freezable)
                continue;
            const std::string name = actionName(ranks.dag.action(v));
            QVERIFY2(std::abs(profile.costs()[v].maxMs - scale * bare[v].maxMs) < 0.02, name.c_str());
            QVERIFY2(std::abs(profile.costs()[v].minMs - scale * bare[v].minMs) < 0.02, name.c_str());
        }
    }

    const double typicalMs = medianOf(batchMs);
    const double predictedMs = FreezePlanner(profile).plan(FreezeBounds {}).batchMsNoFreeze;
    Profile bareProfile(ranks.schedule, bare, "bare medians");
    bareProfile.setProcessors(2);
    const double bareMs = FreezePlanner(bareProfile).plan(FreezeBounds {}).batchMsNoFreeze;
    QVERIFY2(std::abs(predictedMs - typicalMs) < std::abs(bareMs - typicalMs) && bareMs < typicalMs,
        qPrintable(
            QStringLiteral("steps %1, predicted %2, bare medians %3").arg(typicalMs).arg(predictedMs).arg(bareMs)));
}

QTEST_APPLESS_MAIN(TestSpanProfileEstimate)
#include "tst_spanprofileestimate.moc"
