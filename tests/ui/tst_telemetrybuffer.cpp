// TelemetryBuffer: several engine threads publish while the GUI thread drains; nothing lost or
// duplicated, spans grouped per complete step in publish order, spans bounded when nobody drains.
#include "ui/telemetry_buffer.h"

#include <QtTest>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

using namespace tfreeze;

namespace {

// A span whose microbatch field carries its sequence number within the step, so that order and
// duplicates can be checked; the rank names the thread that published it.
ActionSpan span(std::int64_t step, int rank, int sequence)
{
    ActionSpan s;
    s.step = step;
    s.rank = rank;
    s.microbatch = sequence;
    s.startUs = sequence * 10;
    s.endUs = sequence * 10 + 5;
    return s;
}

StepStats stats(std::int64_t step)
{
    StepStats s;
    s.step = step;
    s.loss = 1.0 / static_cast<double>(step + 1);
    return s;
}

std::vector<std::int64_t> stepsOf(const std::vector<StepStats>& stats)
{
    std::vector<std::int64_t> steps;
    for (const StepStats& s : stats)
        steps.push_back(s.step);
    return steps;
}

} // namespace

class TestTelemetryBuffer : public QObject {
    Q_OBJECT

private slots:
    void producersAndDrainerLoseNothing();
    void ranksOfOneStepKeepTheirOrder();
    void slowGuiKeepsStepsAndLatestSpans();
    void pendingSpansAreBoundedToo();
    void endEventsAndPlansComeOnce_data();
    void endEventsAndPlansComeOnce();
};

// Four producers, each owning every fourth step (spans, then the StepStats, an EvalStats every tenth
// step), while this thread drains in a loop. The bound is above the steps in flight, so
// nothing may be dropped.
void TestTelemetryBuffer::producersAndDrainerLoseNothing()
{
    constexpr int kProducers = 4;
    constexpr int kSteps = 400;
    constexpr int kSpansPerStep = 24;
    TelemetryBuffer buffer(kSteps);
    std::atomic<int> running { kProducers };
    std::atomic<int> drains { 0 };
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&buffer, &running, &drains, p] {
            int drainsSeen = drains.load();
            for (std::int64_t step = p; step < kSteps; step += kProducers) {
                // Every tenth step of its own, a producer waits for a drain: draining really
                // overlaps publishing, however the threads are scheduled.
                if ((step / kProducers) % 10 == 9) {
                    while (drains.load() == drainsSeen)
                        std::this_thread::yield();
                    drainsSeen = drains.load();
                }
                for (int i = 0; i < kSpansPerStep; ++i)
                    buffer.publish(span(step, p, i));
                buffer.publish(stats(step));
                if (step % 10 == 0)
                    buffer.publish(EvalStats { step, 2.0, 7.4, 0.5, -1.0 });
            }
            --running;
        });
    }

    std::vector<StepStats> allStats;
    std::vector<EvalStats> allEvals;
    std::map<std::int64_t, int> spanGroups;
    int batches = 0;
    auto take = [&](const TelemetryBatch& batch) {
        if (batch.empty())
            return;
        ++batches;
        QCOMPARE(batch.droppedSpanSteps, std::int64_t(0));
        std::set<std::int64_t> statsHere;
        for (const StepStats& s : batch.steps)
            statsHere.insert(s.step);
        for (const StepSpans& group : batch.stepSpans) {
            // Complete only: the step's StepStats travels in the same batch.
            QVERIFY(statsHere.count(group.step) == 1);
            ++spanGroups[group.step];
            QCOMPARE(static_cast<int>(group.spans.size()), kSpansPerStep);
            for (int i = 0; i < kSpansPerStep; ++i) {
                const ActionSpan& s = group.spans[static_cast<std::size_t>(i)];
                QCOMPARE(s.step, group.step);
                QCOMPARE(s.microbatch, i);
                QCOMPARE(static_cast<std::int64_t>(s.rank), group.step % kProducers);
            }
        }
        allStats.insert(allStats.end(), batch.steps.begin(), batch.steps.end());
        allEvals.insert(allEvals.end(), batch.evals.begin(), batch.evals.end());
    };
    while (running.load() > 0) {
        take(buffer.drain());
        ++drains; // on, even after a failed check: the producers wait for drains
        std::this_thread::yield();
    }
    for (std::thread& producer : producers)
        producer.join();
    if (QTest::currentTestFailed())
        return;
    take(buffer.drain());
    QVERIFY(buffer.drain().empty());

    // Every step once, every producer's steps in its own order.
    QCOMPARE(static_cast<int>(allStats.size()), kSteps);
    QCOMPARE(static_cast<int>(spanGroups.size()), kSteps);
    for (const auto& [step, count] : spanGroups)
        QCOMPARE(count, 1);
    std::vector<std::int64_t> lastOfProducer(kProducers, -1);
    for (const StepStats& s : allStats) {
        const auto p = static_cast<std::size_t>(s.step % kProducers);
        QVERIFY(s.step > lastOfProducer[p]);
        lastOfProducer[p] = s.step;
        QCOMPARE(s.loss, 1.0 / static_cast<double>(s.step + 1));
    }
    QCOMPARE(static_cast<int>(allEvals.size()), kSteps / 10);
    QVERIFY2(batches > 2, qPrintable(QStringLiteral("%1 batches").arg(batches)));
}

// The ranks of one step publish concurrently (as pipeline ranks would); the StepStats comes
// after all of them. Each rank's spans keep their order inside the step's group.
void TestTelemetryBuffer::ranksOfOneStepKeepTheirOrder()
{
    constexpr int kRanks = 4;
    constexpr int kSpansPerRank = 50;
    TelemetryBuffer buffer;
    for (std::int64_t step = 0; step < 20; ++step) {
        std::vector<std::thread> ranks;
        for (int r = 0; r < kRanks; ++r)
            ranks.emplace_back([&buffer, step, r] {
                for (int i = 0; i < kSpansPerRank; ++i)
                    buffer.publish(span(step, r, i));
            });
        for (std::thread& rank : ranks)
            rank.join();
        buffer.publish(stats(step));
    }
    const TelemetryBatch batch = buffer.drain();
    QCOMPARE(stepsOf(batch.steps).size(), std::size_t(20));
    QCOMPARE(batch.stepSpans.size(), std::size_t(20));
    for (std::size_t g = 0; g < batch.stepSpans.size(); ++g) {
        const StepSpans& group = batch.stepSpans[g];
        QCOMPARE(group.step, static_cast<std::int64_t>(g));
        QCOMPARE(static_cast<int>(group.spans.size()), kRanks * kSpansPerRank);
        std::vector<int> next(kRanks, 0);
        for (const ActionSpan& s : group.spans)
            QCOMPARE(s.microbatch, next[static_cast<std::size_t>(s.rank)]++);
        for (int count : next)
            QCOMPARE(count, kSpansPerRank);
    }
}

// Ten complete steps and no drain, room for four: every StepStats, the spans of the last four.
void TestTelemetryBuffer::slowGuiKeepsStepsAndLatestSpans()
{
    TelemetryBuffer buffer(4);
    for (std::int64_t step = 0; step < 10; ++step) {
        for (int i = 0; i < 3; ++i)
            buffer.publish(span(step, 0, i));
        buffer.publish(stats(step));
    }
    const TelemetryBatch batch = buffer.drain();
    QCOMPARE(stepsOf(batch.steps), (std::vector<std::int64_t> { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }));
    QCOMPARE(batch.droppedSpanSteps, std::int64_t(6));
    std::vector<std::int64_t> spanSteps;
    for (const StepSpans& group : batch.stepSpans) {
        spanSteps.push_back(group.step);
        QCOMPARE(group.spans.size(), std::size_t(3));
    }
    QCOMPARE(spanSteps, (std::vector<std::int64_t> { 6, 7, 8, 9 }));
    QVERIFY(buffer.drain().empty());
}

// Spans of six steps whose StepStats do not come (yet), room for four: the oldest two go; when
// the stats of the last two come, their spans are there.
void TestTelemetryBuffer::pendingSpansAreBoundedToo()
{
    TelemetryBuffer buffer(4);
    for (std::int64_t step = 10; step < 16; ++step)
        buffer.publish(span(step, 1, 0));
    TelemetryBatch batch = buffer.drain();
    QCOMPARE(batch.droppedSpanSteps, std::int64_t(2));
    QVERIFY(batch.stepSpans.empty()); // pending spans are not handed out
    QVERIFY(batch.steps.empty());

    buffer.publish(stats(14));
    buffer.publish(stats(15));
    batch = buffer.drain();
    QCOMPARE(batch.droppedSpanSteps, std::int64_t(0));
    QCOMPARE(batch.stepSpans.size(), std::size_t(2));
    QCOMPARE(batch.stepSpans[0].step, std::int64_t(14));
    QCOMPARE(batch.stepSpans[1].step, std::int64_t(15));
    // A StepStats of an evicted step still arrives, without spans.
    buffer.publish(stats(10));
    batch = buffer.drain();
    QCOMPARE(stepsOf(batch.steps), (std::vector<std::int64_t> { 10 }));
    QVERIFY(batch.stepSpans.empty());
}

void TestTelemetryBuffer::endEventsAndPlansComeOnce_data()
{
    QTest::addColumn<bool>("fails");
    QTest::newRow("finished") << false;
    QTest::newRow("failed") << true;
}

void TestTelemetryBuffer::endEventsAndPlansComeOnce()
{
    QFETCH(bool, fails);
    TelemetryBuffer buffer;
    QVERIFY(buffer.drain().empty());
    auto plan = std::make_shared<const FreezePlan>(
        FreezePlan { Profile(PipelineSchedule::generate({ ScheduleKind::GPipe, 1, 1, 1 }),
                         { ActionCost { 1.0, 1.0 }, ActionCost { 2.0, 1.0 } }),
            FreezeBounds {}, 3.0, 2.5, 2.0, {}, {}, 0.0 });
    buffer.publish(PlanApplied { 3, 4, PlanSource::User, plan });
    buffer.publish(RunEvent { EventLevel::Warning, "first" });
    buffer.publish(RunEvent { EventLevel::Info, "second" });
    if (fails)
        buffer.publish(RunFailed { 5, "loss is NaN" });
    else
        buffer.publish(RunFinished { 6, std::nullopt });

    TelemetryBatch batch = buffer.drain();
    QVERIFY(!batch.empty());
    QCOMPARE(batch.plans.size(), std::size_t(1));
    QCOMPARE(batch.plans[0].appliedAtStep, std::int64_t(4));
    QCOMPARE(batch.plans[0].source, PlanSource::User);
    QCOMPARE(batch.plans[0].plan.get(), plan.get());
    QCOMPARE(batch.events.size(), std::size_t(2));
    QCOMPARE(batch.events[0].message, std::string("first"));
    QCOMPARE(batch.events[1].level, EventLevel::Info);
    QCOMPARE(batch.failed.has_value(), fails);
    QCOMPARE(batch.finished.has_value(), !fails);
    if (fails)
        QCOMPARE(batch.failed->reason, std::string("loss is NaN"));
    else
        QCOMPARE(batch.finished->steps, std::int64_t(6));
    QVERIFY(buffer.drain().empty());
}

QTEST_GUILESS_MAIN(TestTelemetryBuffer)
#include "tst_telemetrybuffer.moc"
