#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "core/store/span_retention.h"

#include "store_test_support.h"

#include <QtTest>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <tuple>

using namespace tfreeze;
using namespace tfreeze::test;

Q_DECLARE_METATYPE(std::vector<std::int64_t>)

namespace {

void publishStep(TelemetrySink& sink, std::int64_t step)
{
    // The engine's order: a step's spans, then its stats.
    for (const ActionSpan& span : makeSpans(step))
        sink.publish(span);
    sink.publish(makeStep(step));
}

std::vector<std::int64_t> keptSteps(
    const SpanRetention& retention, std::int64_t steps, const std::vector<std::int64_t>& planSteps)
{
    SpanRetentionFilter filter(retention);
    std::vector<ActionSpan> keep;
    std::set<std::int64_t> kept;
    for (std::int64_t step = 0; step < steps; ++step) {
        // A plan applied at step s is published at the boundary before s's spans.
        for (std::int64_t planStep : planSteps) {
            if (planStep == step)
                filter.planApplied(step, keep);
        }
        for (const ActionSpan& span : makeSpans(step))
            filter.add(span, keep);
        for (const ActionSpan& span : keep)
            kept.insert(span.step);
        if (keep.size() % kSpansPerStep != 0)
            return {}; // a step's spans are kept whole or not at all
        keep.clear();
    }
    return { kept.begin(), kept.end() };
}

} // namespace

class TestRunRecorder : public QObject {
    Q_OBJECT

private slots:
    void retentionKeepsTheExpectedSteps_data();
    void retentionKeepsTheExpectedSteps();
    void recorderRoundTripsEveryEvent();
    void retentionAppliesToTheDatabase();
    void spansInAnyOrderAndRepeatedKeysKeepTheLatest();
    void closingWithoutFinishMarksInterrupted();
    void runFailedKeepsTheReason();
    void runStoppedByTheUserIsStoppedNotFinished();
    void fullDatabaseStopsTheRecorderAndKeepsCommittedSteps();
    void readersReadWhileTheRecorderWrites();
};

void TestRunRecorder::retentionKeepsTheExpectedSteps_data()
{
    QTest::addColumn<std::int64_t>("keepFirst");
    QTest::addColumn<std::int64_t>("every");
    QTest::addColumn<std::int64_t>("around");
    QTest::addColumn<std::int64_t>("steps");
    QTest::addColumn<std::vector<std::int64_t>>("planSteps");
    QTest::newRow("default, no plan") << std::int64_t { 200 } << std::int64_t { 10 } << std::int64_t { 1 }
                                      << std::int64_t { 1000 } << std::vector<std::int64_t> {};
    QTest::newRow("default, plan at 505") << std::int64_t { 200 } << std::int64_t { 10 } << std::int64_t { 1 }
                                          << std::int64_t { 1000 } << std::vector<std::int64_t> { 505 };
    QTest::newRow("plan at 300 and 733, 2 around") << std::int64_t { 200 } << std::int64_t { 10 } << std::int64_t { 2 }
                                                   << std::int64_t { 1000 } << std::vector<std::int64_t> { 300, 733 };
    QTest::newRow("plan at step 0") << std::int64_t { 0 } << std::int64_t { 25 } << std::int64_t { 1 }
                                    << std::int64_t { 100 } << std::vector<std::int64_t> { 0 };
    QTest::newRow("every step") << std::int64_t { 0 } << std::int64_t { 1 } << std::int64_t { 1 } << std::int64_t { 50 }
                                << std::vector<std::int64_t> { 20 };
}

void TestRunRecorder::retentionKeepsTheExpectedSteps()
{
    QFETCH(std::int64_t, keepFirst);
    QFETCH(std::int64_t, every);
    QFETCH(std::int64_t, around);
    QFETCH(std::int64_t, steps);
    QFETCH(std::vector<std::int64_t>, planSteps);
    // The analytic expectation: the rule, plus [p - around, p + around] for each plan step p.
    std::vector<std::int64_t> expected;
    for (std::int64_t step = 0; step < steps; ++step) {
        bool keep = step < keepFirst || every <= 1 || step % every == 0;
        for (std::int64_t plan : planSteps)
            keep = keep || (step >= plan - around && step <= plan + around);
        if (keep)
            expected.push_back(step);
    }
    const std::vector<std::int64_t> kept = keptSteps({ keepFirst, every, around }, steps, planSteps);
    QCOMPARE(kept, expected);
    if (planSteps.empty() && steps == 1000 && keepFirst == 200)
        QCOMPARE(kept.size(), std::size_t { 280 }); // 200 + the 80 multiples of 10 in [200, 1000)
}

void TestRunRecorder::recorderRoundTripsEveryEvent()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t run = RunStore(path).beginRun(newRun("recorded"));
    std::vector<std::int64_t> committed;
    {
        RunRecorderOptions options;
        options.retention = SpanRetention::keepAll();
        options.commitInterval = std::chrono::milliseconds(5);
        options.onCommitted = [&committed](std::int64_t step) { committed.push_back(step); };
        RunRecorder recorder(path, run, options);
        for (std::int64_t step = 0; step < 30; ++step) {
            if (step == 10)
                recorder.publish(PlanApplied { 8, 10, PlanSource::Engine, makePlan() });
            publishStep(recorder, step);
            if (step % 10 == 9)
                recorder.publish(EvalStats { step, 2.0 + static_cast<double>(step), 7.0, 0.5, 0.25 });
        }
        recorder.publish(RunEvent { EventLevel::Info, "phase → stable" });
        recorder.publish(RunFinished { 30, std::nullopt });
        recorder.flush();
        QCOMPARE(recorder.lastCommittedStep(), std::int64_t { 29 });
        QCOMPARE(recorder.committedSpanCount(), std::uint64_t { 30 * kSpansPerStep });
        QVERIFY(!recorder.error());
    }
    QVERIFY(!committed.empty());
    QCOMPARE(committed.back(), std::int64_t { 29 });

    RunStore store(path, RunStore::OpenMode::ReadOnly);
    const RunRecord record = store.run(run);
    QCOMPARE(record.status, RunStatus::Finished);
    QVERIFY(record.finished.has_value());
    const auto steps = store.steps(run);
    QCOMPARE(steps.size(), std::size_t { 30 });
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const StepStats expected = makeStep(static_cast<std::int64_t>(i));
        QCOMPARE(steps[i].step, expected.step);
        QCOMPARE(steps[i].loss, expected.loss);
        QCOMPARE(steps[i].phase, expected.phase);
        QCOMPARE(steps[i].rankBubbleFraction, expected.rankBubbleFraction);
    }
    QCOMPARE(store.spanCount(run), std::int64_t { 30 * kSpansPerStep });
    QCOMPARE(store.spans(run, 17).at(5).startUs, makeSpans(17).at(5).startUs);
    const auto evals = store.evals(run);
    QCOMPARE(evals.size(), std::size_t { 3 });
    QCOMPARE(evals[2].step, std::int64_t { 29 });
    QCOMPARE(evals[2].validationLoss, 31.0);
    QCOMPARE(evals[2].exactMatch, 0.25);
    const auto plans = store.plans(run);
    QCOMPARE(plans.size(), std::size_t { 1 });
    QCOMPARE(plans[0].appliedAtStep.value_or(-1), std::int64_t { 10 });
    QCOMPARE(plans[0].source, PlanSource::Engine);
    const auto events = store.events(run);
    QCOMPARE(events.size(), std::size_t { 1 });
    QCOMPARE(events[0].message, std::string("phase → stable"));
    QVERIFY(events[0].time.size() == 24 && events[0].time.back() == 'Z');
}

void TestRunRecorder::retentionAppliesToTheDatabase()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t run = RunStore(path).beginRun(newRun("retained"));
    {
        RunRecorderOptions options;
        options.retention = { 20, 10, 1 };
        RunRecorder recorder(path, run, options);
        for (std::int64_t step = 0; step < 100; ++step) {
            if (step == 55)
                recorder.publish(PlanApplied { 55, 55, PlanSource::User, makePlan() });
            publishStep(recorder, step);
        }
        recorder.publish(RunFinished { 100, std::nullopt });
    }
    RunStore store(path);
    std::vector<std::int64_t> expected;
    for (std::int64_t step = 0; step < 100; ++step) {
        if (step < 20 || step % 10 == 0 || (step >= 54 && step <= 56))
            expected.push_back(step);
    }
    QCOMPARE(store.spanSteps(run), expected);
    QCOMPARE(store.spanCount(run), static_cast<std::int64_t>(expected.size()) * kSpansPerStep);
    QCOMPARE(store.steps(run).size(), std::size_t { 100 }); // stats of every step are kept
}

// The writer sorts a batch's spans into key order before inserting them: spans published in any
// order all arrive, once each, and of a key published twice the later figures stay, within a batch
// and across batches (tiny batches that end mid-step and mid-insert-chunk).
void TestRunRecorder::spansInAnyOrderAndRepeatedKeysKeepTheLatest()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t run = RunStore(path).beginRun(newRun("any order"));
    constexpr std::int64_t kSteps = 40;
    std::map<std::int64_t, std::int64_t> latestStartOfFirstSpan; // by step
    {
        RunRecorderOptions options;
        options.retention = { 10, 5, 1 };
        options.maxBatchEvents = 37;
        options.commitInterval = std::chrono::milliseconds(1);
        RunRecorder recorder(path, run, options);
        for (std::int64_t step = 0; step < kSteps; ++step) {
            if (step == 23)
                recorder.publish(PlanApplied { 23, 23, PlanSource::Engine, makePlan() });
            std::vector<ActionSpan> spans = makeSpans(step);
            // As ranks report them: interleaved and late, not in key order.
            std::reverse(spans.begin(), spans.end());
            std::rotate(spans.begin(), spans.begin() + 21, spans.end());
            ActionSpan first = makeSpans(step).front();
            latestStartOfFirstSpan[step] = first.startUs;
            const auto firstAt
                = static_cast<std::size_t>(std::find_if(spans.begin(), spans.end(), [](const ActionSpan& span) {
                      return span.rank == 0 && span.microbatch == 0 && span.kind == ActionKind::Forward;
                  }) - spans.begin());
            for (std::size_t i = 0; i < spans.size(); ++i) {
                recorder.publish(spans[i]);
                if (step % 3 == 0 && i == firstAt + 5) {
                    first.startUs = 500'000 + step; // the same key again, later in the step
                    recorder.publish(first);
                    latestStartOfFirstSpan[step] = first.startUs;
                }
            }
            recorder.publish(makeStep(step));
            if (step >= 2 && step % 4 == 0) {
                // A step two back reported again, after its first report may have been committed.
                ActionSpan late = makeSpans(step - 2).front();
                late.startUs = 900'000 + step;
                recorder.publish(late);
                latestStartOfFirstSpan[step - 2] = late.startUs;
            }
        }
        recorder.publish(RunFinished { kSteps, std::nullopt });
        recorder.close();
        QVERIFY(!recorder.error());
    }
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    std::vector<std::int64_t> expectedSteps;
    for (std::int64_t step = 0; step < kSteps; ++step) {
        if (step < 10 || step % 5 == 0 || (step >= 22 && step <= 24))
            expectedSteps.push_back(step);
    }
    QCOMPARE(store.spanSteps(run), expectedSteps);
    QCOMPARE(store.spanCount(run), static_cast<std::int64_t>(expectedSteps.size()) * kSpansPerStep);
    for (std::int64_t step : expectedSteps) {
        const std::vector<ActionSpan> stored = store.spans(run, step);
        QCOMPARE(static_cast<int>(stored.size()), kSpansPerStep);
        const ActionSpan first = makeSpans(step).front();
        std::set<std::tuple<int, int, int, int>> keys;
        for (const ActionSpan& span : stored) {
            keys.insert({ span.rank, span.stage, span.microbatch, static_cast<int>(span.kind) });
            if (span.rank == first.rank && span.microbatch == first.microbatch && span.kind == first.kind)
                QCOMPARE(span.startUs, latestStartOfFirstSpan[step]);
        }
        QCOMPARE(static_cast<int>(keys.size()), kSpansPerStep);
    }
    QCOMPARE(store.steps(run).size(), static_cast<std::size_t>(kSteps));
}

void TestRunRecorder::closingWithoutFinishMarksInterrupted()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t run = RunStore(path).beginRun(newRun("stopped"));
    {
        RunRecorder recorder(path, run);
        publishStep(recorder, 0);
    }
    RunStore store(path);
    QCOMPARE(store.run(run).status, RunStatus::Interrupted);
    QCOMPARE(store.steps(run).size(), std::size_t { 1 });
}

void TestRunRecorder::runFailedKeepsTheReason()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t run = RunStore(path).beginRun(newRun("failing"));
    {
        RunRecorder recorder(path, run);
        publishStep(recorder, 0);
        recorder.publish(RunFailed { 1, "loss is NaN" });
    }
    RunStore store(path);
    const RunRecord record = store.run(run);
    QCOMPARE(record.status, RunStatus::Failed);
    QCOMPARE(record.failureReason.value_or(""), std::string("step 1: loss is NaN"));
}

// A run the user stopped before its last step is recorded as stopped, with when; one that ran to
// its end as finished, with no reason. The status filter tells them apart.
void TestRunRecorder::runStoppedByTheUserIsStoppedNotFinished()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t stopped = RunStore(path).beginRun(newRun("stopped"));
    const std::int64_t finished = RunStore(path).beginRun(newRun("finished"));
    for (const std::int64_t run : { stopped, finished }) {
        RunRecorder recorder(path, run);
        publishStep(recorder, 0);
        publishStep(recorder, 1);
        if (run == stopped)
            recorder.publish(RunFinished { 2, std::string("stopped by the user after step 2 of 300") });
        else
            recorder.publish(RunFinished { 2, std::nullopt });
        recorder.close();
        QVERIFY(!recorder.error());
    }
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    QCOMPARE(store.run(stopped).status, RunStatus::Stopped);
    QCOMPARE(store.run(stopped).failureReason, std::optional<std::string>("stopped by the user after step 2 of 300"));
    QVERIFY(store.run(stopped).finished.has_value());
    QCOMPARE(store.run(finished).status, RunStatus::Finished);
    QCOMPARE(store.run(finished).failureReason, std::optional<std::string>());
    const std::vector<RunRecord> listed = store.listRuns({ RunStatus::Stopped, std::nullopt });
    QCOMPARE(listed.size(), std::size_t { 1 });
    QCOMPARE(listed[0].id, stopped);
    QCOMPARE(listed[0].stepCount, std::int64_t { 2 });
}

void TestRunRecorder::fullDatabaseStopsTheRecorderAndKeepsCommittedSteps()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    std::int64_t run = 0;
    std::int64_t size = 0;
    {
        RunStore store(path);
        run = store.beginRun(newRun("full"));
        size = store.sizeBytes();
    }
    std::atomic<int> errorCalls { 0 };
    RunRecorderOptions options;
    options.retention = SpanRetention::keepAll();
    options.maxDatabaseBytes = size + 64 * 1024; // room for a few dozen steps of spans
    options.onError = [&errorCalls](const std::string&) { ++errorCalls; };
    std::int64_t committedBeforeFailure = -1;
    {
        RunRecorder recorder(path, run, options);
        for (std::int64_t step = 0; step < 2000 && !recorder.error(); ++step) {
            publishStep(recorder, step);
            if (step % 5 == 4) {
                recorder.flush();
                if (!recorder.error())
                    committedBeforeFailure = recorder.lastCommittedStep();
            }
        }
        QVERIFY(recorder.error().has_value());
        QVERIFY2(recorder.error()->find("full") != std::string::npos, recorder.error()->c_str());
        QVERIFY2(recorder.error()->find(path) != std::string::npos, recorder.error()->c_str());
        publishStep(recorder, 5000); // ignored: the recorder accepts nothing after a failure
        recorder.flush();
    }
    QCOMPARE(errorCalls.load(), 1);
    QVERIFY(committedBeforeFailure >= 4);

    RunStore store(path);
    SqliteStatement check = store.connection().prepare("PRAGMA integrity_check");
    QVERIFY(check.step());
    QCOMPARE(check.text(0), std::string("ok"));
    const auto steps = store.steps(run);
    QVERIFY(static_cast<std::int64_t>(steps.size()) >= committedBeforeFailure + 1);
    for (std::size_t i = 0; i < steps.size(); ++i)
        QCOMPARE(steps[i].step, static_cast<std::int64_t>(i));
    QVERIFY(store.steps(run, 5000, 5000).empty());
    QCOMPARE(store.spanCount(run), static_cast<std::int64_t>(steps.size()) * kSpansPerStep);
    QCOMPARE(store.run(run).status, RunStatus::Failed);
}

void TestRunRecorder::readersReadWhileTheRecorderWrites()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    const std::int64_t run = RunStore(path).beginRun(newRun("concurrent"));
    constexpr std::int64_t kSteps = 600;

    std::atomic<bool> done { false };
    std::atomic<int> reads { 0 };
    std::string readerFailure;
    std::thread reader([&] {
        try {
            RunStore store(path, RunStore::OpenMode::ReadOnly); // its own connection
            while (!done.load()) {
                // One read transaction: the steps and spans seen come from one commit.
                store.connection().execute("BEGIN");
                const std::vector<StepStats> steps = store.steps(run);
                const std::int64_t spans = store.spanCount(run);
                store.connection().execute("COMMIT");
                const auto n = static_cast<std::int64_t>(steps.size());
                for (std::int64_t i = 0; i < n; ++i) {
                    if (steps[static_cast<std::size_t>(i)].step != i)
                        throw std::runtime_error("steps not contiguous at " + std::to_string(i));
                }
                // Spans precede their step's stats: every step seen has all its spans, and at most one
                // step beyond has some, or all when a batch ended between its last span and its stats.
                if (spans < n * kSpansPerStep || spans > (n + 1) * kSpansPerStep)
                    throw std::runtime_error(std::to_string(n) + " steps but " + std::to_string(spans) + " spans");
                ++reads;
            }
        } catch (const std::exception& error) {
            readerFailure = error.what();
        }
    });
    {
        RunRecorderOptions options;
        options.retention = SpanRetention::keepAll();
        options.commitInterval = std::chrono::milliseconds(2);
        options.maxBatchEvents = 1000; // batches end mid-step, as they would under load
        RunRecorder recorder(path, run, options);
        for (std::int64_t step = 0; step < kSteps; ++step) {
            publishStep(recorder, step);
            if (step % 20 == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        recorder.publish(RunFinished { kSteps, std::nullopt });
        recorder.flush();
        QVERIFY(!recorder.error());
    }
    // The last reads see the final state.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    done = true;
    reader.join();
    QVERIFY2(readerFailure.empty(), readerFailure.c_str());
    QVERIFY(reads.load() > 0);
    RunStore store(path);
    QCOMPARE(store.steps(run).size(), std::size_t { kSteps });
}

QTEST_GUILESS_MAIN(TestRunRecorder)
#include "tst_runrecorder.moc"
