// StepSpanCache keeps exactly the steps its rule says: checked against a brute-force evaluation of
// the rule (retained by SpanRetention, around a plan change, or among the latest few).

#include "ui/step_span_cache.h"

#include <QTest>

#include <algorithm>
#include <cstdlib>
#include <set>

using namespace tfreeze;

namespace {

std::vector<ActionSpan> spansOf(std::int64_t step, int count)
{
    std::vector<ActionSpan> spans(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        spans[static_cast<std::size_t>(i)].step = step;
        spans[static_cast<std::size_t>(i)].microbatch = i;
        spans[static_cast<std::size_t>(i)].startUs = step * 100 + i;
        spans[static_cast<std::size_t>(i)].endUs = step * 100 + i + 10;
    }
    return spans;
}

// The brute force: a step stays when the rule keeps it, a plan was applied within
// aroundPlanChange of it, or it is among the latest `keepLatest` steps.
std::vector<std::int64_t> expectedSteps(const SpanRetention& retention, std::size_t keepLatest, std::int64_t lastStep,
    const std::vector<std::int64_t>& planSteps)
{
    std::vector<std::int64_t> steps;
    for (std::int64_t step = 0; step <= lastStep; ++step) {
        const bool latest = lastStep - step < static_cast<std::int64_t>(keepLatest);
        const bool nearPlan = std::any_of(planSteps.begin(), planSteps.end(),
            [&](std::int64_t plan) { return std::llabs(step - plan) <= retention.aroundPlanChange; });
        if (latest || nearPlan || retention.keepsByRule(step))
            steps.push_back(step);
    }
    return steps;
}

} // namespace

class TestStepSpanCache : public QObject {
    Q_OBJECT

private slots:
    void keepsWhatTheRuleSays_data()
    {
        QTest::addColumn<int>("keepFirst");
        QTest::addColumn<int>("keepEvery");
        QTest::addColumn<int>("keepLatest");
        QTest::addColumn<int>("lastStep");
        QTest::addColumn<QList<int>>("planSteps");
        QTest::newRow("default-like") << 20 << 10 << 5 << 300 << QList<int> {};
        QTest::newRow("plans") << 10 << 25 << 3 << 200 << QList<int> { 57, 58, 133 };
        QTest::newRow("keep every step") << 0 << 1 << 2 << 50 << QList<int> { 7 };
        QTest::newRow("short run") << 100 << 10 << 20 << 15 << QList<int> { 3 };
        QTest::newRow("plan at the first step") << 0 << 50 << 1 << 120 << QList<int> { 0, 119 };
    }

    void keepsWhatTheRuleSays()
    {
        QFETCH(int, keepFirst);
        QFETCH(int, keepEvery);
        QFETCH(int, keepLatest);
        QFETCH(int, lastStep);
        QFETCH(QList<int>, planSteps);
        SpanRetention retention;
        retention.keepFirstSteps = keepFirst;
        retention.keepEvery = keepEvery;
        retention.aroundPlanChange = 1;
        StepSpanCache cache(retention, static_cast<std::size_t>(keepLatest));
        std::vector<std::int64_t> plans;
        std::size_t spansAdded = 0;
        for (std::int64_t step = 0; step <= lastStep; ++step) {
            // A plan is applied at a step boundary: after the previous step's spans, before its own.
            if (planSteps.contains(static_cast<int>(step))) {
                cache.planApplied(step);
                plans.push_back(step);
            }
            const int count = 1 + static_cast<int>(step % 4);
            cache.addStep(step, spansOf(step, count));
            spansAdded += static_cast<std::size_t>(count);
        }
        const std::vector<std::int64_t> expected
            = expectedSteps(retention, static_cast<std::size_t>(keepLatest), lastStep, plans);
        QCOMPARE(cache.steps(), expected);
        std::size_t expectedSpans = 0;
        for (const std::int64_t step : expected) {
            const auto& held = cache.spans(step);
            const auto made = spansOf(step, 1 + static_cast<int>(step % 4));
            QCOMPARE(held.size(), made.size());
            for (std::size_t i = 0; i < held.size(); ++i) {
                QCOMPARE(held[i].step, step);
                QCOMPARE(held[i].startUs, made[i].startUs);
            }
            expectedSpans += static_cast<std::size_t>(1 + step % 4);
        }
        QCOMPARE(cache.spanCount(), expectedSpans);
        QVERIFY(cache.spanCount() <= spansAdded);
        QCOMPARE(cache.latestStep(), std::optional<std::int64_t>(lastStep));
    }

    void latestStepsAreOldestFirst()
    {
        StepSpanCache cache(SpanRetention::keepAll(), 4);
        for (std::int64_t step = 0; step < 10; ++step)
            cache.addStep(step, spansOf(step, 2));
        const auto latest = cache.latestSteps(3);
        QCOMPARE(latest.size(), std::size_t(3));
        QCOMPARE(latest[0].front().step, std::int64_t(7));
        QCOMPARE(latest[2].front().step, std::int64_t(9));
        QCOMPARE(cache.latestSteps(100).size(), std::size_t(10));
    }

    void missingStepIsEmpty()
    {
        StepSpanCache cache;
        QVERIFY(cache.spans(42).empty());
        QVERIFY(!cache.latestStep());
        cache.addStep(3, spansOf(3, 2));
        cache.addStep(3, spansOf(3, 5)); // replaced, not added twice
        QCOMPARE(cache.spanCount(), std::size_t(5));
        cache.clear();
        QVERIFY(cache.steps().empty());
        QCOMPARE(cache.spanCount(), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestStepSpanCache)
#include "tst_stepspancache.moc"
