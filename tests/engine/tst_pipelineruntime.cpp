#include "core/engine/freeze_selection.h"
#include "core/engine/in_process_transport.h"
#include "core/engine/pipeline_runtime.h"
#include "core/plan/plan_error.h"
#include "test_mlp_stage.h"

#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

using namespace tfreeze;
using namespace tfreeze::test;

namespace {

constexpr int kMicrobatchSize = 4;
constexpr int kSequence = 8;

StepBatch makeBatch(int microbatches, int vocabulary, std::uint64_t seed, int microbatchSize = kMicrobatchSize,
    int sequence = kSequence)
{
    torch::manual_seed(seed);
    StepBatch batch;
    for (int m = 0; m < microbatches; ++m) {
        torch::Tensor ids = torch::randint(vocabulary, { microbatchSize, sequence }, torch::kLong);
        batch.inputs.push_back(ids);
        // A learnable rule (next id), so that the loss falls and gradients are not noise.
        batch.targets.push_back((ids + 1) % vocabulary);
    }
    return batch;
}

std::vector<torch::Tensor> allParameters(const std::vector<std::shared_ptr<TestMlpStage>>& stages)
{
    std::vector<torch::Tensor> parameters;
    for (const auto& stage : stages)
        for (const auto& p : stage->freezableParameters())
            parameters.push_back(p);
    return parameters;
}

// Undefined stays undefined: a frozen-everywhere tensor must have no gradient at all.
std::vector<torch::Tensor> cloneGradients(const std::vector<torch::Tensor>& parameters)
{
    std::vector<torch::Tensor> grads;
    for (const auto& p : parameters)
        grads.push_back(p.grad().defined() ? p.grad().detach().clone() : torch::Tensor());
    return grads;
}

double relativeDifference(const torch::Tensor& actual, const torch::Tensor& expected)
{
    const double scale = expected.norm().item<double>();
    return (actual - expected).norm().item<double>() / std::max(scale, 1e-12);
}

torch::optim::AdamW makeOptimizer(const std::vector<torch::Tensor>& parameters)
{
    return torch::optim::AdamW(parameters, torch::optim::AdamWOptions(1e-2).weight_decay(0.01));
}

torch::Tensor microbatchLoss(
    const std::vector<std::shared_ptr<TestMlpStage>>& stages, const torch::Tensor& input, const torch::Tensor& targets)
{
    torch::Tensor x = input;
    for (const auto& stage : stages)
        x = stage->forward(x);
    return torch::nn::functional::cross_entropy(x.reshape({ -1, x.size(-1) }), targets.reshape({ -1 }));
}

// The independent reference: one thread, the stages composed, 1/M accumulation, the same optimizer.
// Returns the mean loss; `grads` receives the gradients before clipping and the optimizer step.
double sequentialStep(const std::vector<std::shared_ptr<TestMlpStage>>& stages, const StepBatch& batch,
    torch::optim::Optimizer& optimizer, std::vector<torch::Tensor>* grads)
{
    const std::vector<torch::Tensor> parameters = allParameters(stages);
    for (auto& p : parameters)
        p.mutable_grad() = torch::Tensor();
    const auto microbatches = static_cast<double>(batch.inputs.size());
    double lossSum = 0.0;
    for (std::size_t m = 0; m < batch.inputs.size(); ++m) {
        torch::Tensor loss = microbatchLoss(stages, batch.inputs[m], batch.targets[m]);
        lossSum += loss.item<double>();
        (loss / microbatches).backward();
    }
    if (grads)
        *grads = cloneGradients(parameters);
    torch::nn::utils::clip_grad_norm_(parameters, 1.0);
    optimizer.step();
    return lossSum / microbatches;
}

class RecordingSink : public TelemetrySink {
public:
    void publish(const TelemetryEvent& event) override
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_events.push_back(event);
    }
    template <typename T> std::vector<T> all() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<T> found;
        for (const auto& event : m_events)
            if (const T* typed = std::get_if<T>(&event))
                found.push_back(*typed);
        return found;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<TelemetryEvent> m_events;
};

// Passes everything to an InProcessTransport and records the keys of the gradients sent.
class RecordingTransport : public Transport {
public:
    explicit RecordingTransport(std::vector<int> stageRanks)
        : m_inner(std::move(stageRanks))
    {
    }
    void send(const TransportKey& key, torch::Tensor tensor) override
    {
        if (key.direction == TransportDirection::Gradient) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_gradientKeys.push_back(key);
        }
        m_inner.send(key, std::move(tensor));
    }
    torch::Tensor receive(const TransportKey& key) override { return m_inner.receive(key); }
    void abort(const std::string& reason) override { m_inner.abort(reason); }
    bool aborted() const override { return m_inner.aborted(); }
    void reset() override { m_inner.reset(); }

    std::vector<TransportKey> gradientKeys() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_gradientKeys;
    }

private:
    InProcessTransport m_inner;
    mutable std::mutex m_mutex;
    std::vector<TransportKey> m_gradientKeys;
};

// An InProcessTransport whose every receive first waits `delay`: a peer that is late.
class LateTransport : public Transport {
public:
    LateTransport(std::vector<int> stageRanks, std::chrono::milliseconds delay)
        : m_inner(std::move(stageRanks))
        , m_delay(delay)
    {
    }
    void send(const TransportKey& key, torch::Tensor tensor) override { m_inner.send(key, std::move(tensor)); }
    torch::Tensor receive(const TransportKey& key) override
    {
        std::this_thread::sleep_for(m_delay);
        return m_inner.receive(key);
    }
    void abort(const std::string& reason) override { m_inner.abort(reason); }
    bool aborted() const override { return m_inner.aborted(); }
    void reset() override { m_inner.reset(); }

private:
    InProcessTransport m_inner;
    std::chrono::milliseconds m_delay;
};

// Freezes exactly the tensors a test names per (stage, microbatch), whatever the ratio.
class ExplicitSelector : public FreezeSelector {
public:
    std::map<std::pair<int, int>, std::vector<int>> frozen;
    std::vector<int> frozenTensors(const Action& action, int, double, std::int64_t) const override
    {
        auto it = frozen.find({ action.stage, action.microbatch });
        return it == frozen.end() ? std::vector<int> {} : it->second;
    }
};

std::vector<int> stageRanks(const PipelineSchedule& schedule)
{
    std::vector<int> ranks;
    for (int s = 0; s < schedule.stageCount(); ++s)
        ranks.push_back(schedule.stageRank(s));
    return ranks;
}

ScheduleShape shapeOf(ScheduleKind kind, int ranks, int microbatches)
{
    ScheduleShape shape;
    shape.kind = kind;
    shape.ranks = ranks;
    shape.microbatches = microbatches;
    shape.stagesPerRank = (kind == ScheduleKind::Interleaved1F1B || kind == ScheduleKind::ZBV) ? 2 : 1;
    return shape;
}

double meanMs(const std::vector<double>& values)
{
    double sum = 0.0;
    for (double v : values)
        sum += v;
    return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

} // namespace

class TestPipelineRuntime : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void schedulesMatchSequential_data();
    void schedulesMatchSequential();
    void frozenGradientsUntouched_data();
    void frozenGradientsUntouched();
    void selectionCountsAreRounded();
    void prefixDrawOnFirstStage();
    void workerFailureEndsRun_data();
    void workerFailureEndsRun();
    void commandsApplyAtStepBoundary();
    void rejectsBadRatios();
    void backwardTimeFallsWithRatio();
    void spansLeaveOutWaits_data();
    void spansLeaveOutWaits();
    void wallTimeAndTimingOverhead();
};

void TestPipelineRuntime::initTestCase()
{
    // Ranks are threads already, and the build machine is shared.
    torch::set_num_threads(1);
}

void TestPipelineRuntime::schedulesMatchSequential_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::newRow("GPipe P4 M8") << int(ScheduleKind::GPipe) << 4 << 8;
    QTest::newRow("1F1B P4 M8") << int(ScheduleKind::OneFOneB) << 4 << 8;
    QTest::newRow("Interleaved1F1B P2 V2 M4") << int(ScheduleKind::Interleaved1F1B) << 2 << 4;
    QTest::newRow("ZBH1 P4 M8") << int(ScheduleKind::ZBH1) << 4 << 8;
    QTest::newRow("ZBV P2 M4") << int(ScheduleKind::ZBV) << 2 << 4;
}

void TestPipelineRuntime::schedulesMatchSequential()
{
    QFETCH(int, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    const PipelineSchedule schedule
        = PipelineSchedule::generate(shapeOf(static_cast<ScheduleKind>(kind), ranks, microbatches));
    TestModelShape modelShape;
    modelShape.stages = schedule.stageCount();
    auto pipelined = makeTestModel(modelShape, 17);
    auto reference = makeTestModel(modelShape, 17);
    const auto pipelinedParameters = allParameters(pipelined);
    const auto referenceParameters = allParameters(reference);
    auto pipelinedOptimizer = makeOptimizer(pipelinedParameters);
    auto referenceOptimizer = makeOptimizer(referenceParameters);

    std::vector<torch::Tensor> pipelinedGrads;
    auto transport = std::make_shared<RecordingTransport>(stageRanks(schedule));
    PipelineRuntime runtime(
        schedule, asPipelineStages(pipelined),
        [&] {
            pipelinedGrads = cloneGradients(pipelinedParameters);
            torch::nn::utils::clip_grad_norm_(pipelinedParameters, 1.0);
            pipelinedOptimizer.step();
        },
        {}, transport);

    const int steps = 3;
    double firstLoss = 0.0;
    double lastLoss = 0.0;
    for (int step = 0; step < steps; ++step) {
        const StepBatch batch = makeBatch(microbatches, modelShape.vocabulary, 100 + step);
        const StepResult result = runtime.runStep(batch);
        QCOMPARE(int(result.status), int(StepStatus::Completed));
        std::vector<torch::Tensor> referenceGrads;
        const double referenceLoss = sequentialStep(reference, batch, referenceOptimizer, &referenceGrads);
        QVERIFY2(std::abs(result.stats.loss - referenceLoss) <= 1e-5 * std::abs(referenceLoss),
            qPrintable(QStringLiteral("step %1: loss %2 vs %3").arg(step).arg(result.stats.loss).arg(referenceLoss)));
        QCOMPARE(pipelinedGrads.size(), referenceGrads.size());
        for (std::size_t i = 0; i < referenceGrads.size(); ++i) {
            QVERIFY(pipelinedGrads[i].defined());
            const double difference = relativeDifference(pipelinedGrads[i], referenceGrads[i]);
            QVERIFY2(difference <= 1e-5,
                qPrintable(
                    QStringLiteral("step %1 tensor %2: relative difference %3").arg(step).arg(i).arg(difference)));
        }
        if (step == 0)
            firstLoss = referenceLoss;
        lastLoss = referenceLoss;
    }
    QVERIFY(lastLoss < firstLoss);
    // Parameters after the optimizer steps agree too.
    for (std::size_t i = 0; i < referenceParameters.size(); ++i)
        QVERIFY(relativeDifference(pipelinedParameters[i], referenceParameters[i]) <= 1e-5);
    // Every stage but 0 sends its input gradient once per microbatch; stage 0 never computes one.
    const auto keys = transport->gradientKeys();
    QCOMPARE(static_cast<int>(keys.size()), (schedule.stageCount() - 1) * steps * microbatches);
    for (const TransportKey& key : keys)
        QVERIFY(key.stage >= 0 && key.stage < schedule.stageCount() - 1);
}

void TestPipelineRuntime::frozenGradientsUntouched_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("1F1B (B)") << int(ScheduleKind::OneFOneB);
    QTest::newRow("ZBH1 (I then W)") << int(ScheduleKind::ZBH1);
}

// A frozen tensor's gradient is the sum over the microbatches where it was not frozen, each computed
// here independently with autograd::grad on the composed model; frozen everywhere means no gradient.
void TestPipelineRuntime::frozenGradientsUntouched()
{
    QFETCH(int, kind);
    const int microbatches = 4;
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(static_cast<ScheduleKind>(kind), 2, 4));
    TestModelShape modelShape;
    modelShape.stages = 2;
    auto model = makeTestModel(modelShape, 5);
    const auto stage0 = model[0]->freezableParameters(); // embedding, block0 w/b, block1 w/b
    const auto stage1 = model[1]->freezableParameters(); // block0 w/b, block1 w/b, head w/b
    auto selector = std::make_shared<ExplicitSelector>();
    for (int m = 0; m < microbatches; ++m) {
        selector->frozen[{ 0, m }] = { 0, 3 }; // embedding and block1.weight frozen on every microbatch
        selector->frozen[{ 1, m }] = (m % 2 == 0) ? std::vector<int> { 1, 4 } : std::vector<int> {};
    }
    selector->frozen[{ 0, 2 }] = { 0, 1, 2, 3, 4 }; // stage 0 all frozen once: no backward at all
    std::vector<torch::Tensor> grads0;
    std::vector<torch::Tensor> grads1;
    PipelineRuntime runtime(
        schedule, asPipelineStages(model),
        [&] {
            grads0 = cloneGradients(stage0);
            grads1 = cloneGradients(stage1);
        },
        {}, nullptr, selector);
    const StepBatch batch = makeBatch(microbatches, modelShape.vocabulary, 9);
    StepContext context;
    context.freezeRatios.assign(schedule.actionCount(), 1.0); // the selector ignores the value
    QCOMPARE(int(runtime.runStep(batch, context).status), int(StepStatus::Completed));

    // Independent: the full gradient of every microbatch (no step was taken: the weights are as used).
    auto isFrozen = [&](int stage, int m, int index) {
        const auto& list = selector->frozen[{ stage, m }];
        return std::find(list.begin(), list.end(), index) != list.end();
    };
    for (int stage = 0; stage < 2; ++stage) {
        const auto& parameters = stage == 0 ? stage0 : stage1;
        const auto& actual = stage == 0 ? grads0 : grads1;
        std::vector<torch::Tensor> expected(parameters.size());
        for (int m = 0; m < microbatches; ++m) {
            torch::Tensor loss = microbatchLoss(model, batch.inputs[static_cast<std::size_t>(m)],
                                     batch.targets[static_cast<std::size_t>(m)])
                / double(microbatches);
            const auto perMicrobatch = torch::autograd::grad({ loss }, parameters);
            for (std::size_t i = 0; i < parameters.size(); ++i) {
                if (isFrozen(stage, m, int(i)))
                    continue;
                expected[i] = expected[i].defined() ? expected[i] + perMicrobatch[i] : perMicrobatch[i];
            }
        }
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const QString where = QStringLiteral("stage %1 tensor %2").arg(stage).arg(i);
            QVERIFY2(actual[i].defined() == expected[i].defined(), qPrintable(where));
            if (expected[i].defined())
                QVERIFY2(relativeDifference(actual[i], expected[i]) <= 1e-5, qPrintable(where));
        }
    }
    // The per-tensor microbatch counts say the same.
    const auto& counts = runtime.lastGradientCounts();
    QCOMPARE(counts.at(0), (std::vector<int> { 0, 3, 3, 0, 3 }));
    QCOMPARE(counts.at(1), (std::vector<int> { 4, 2, 4, 4, 2, 4 }));
}

void TestPipelineRuntime::selectionCountsAreRounded()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind::ZBV, 2, 4));
    TestModelShape modelShape;
    modelShape.stages = schedule.stageCount();
    auto model = makeTestModel(modelShape, 3);
    PipelineRuntime runtime(schedule, asPipelineStages(model), {});
    auto sink = std::make_shared<RecordingSink>();
    runtime.addSink(sink);
    std::vector<double> ratios;
    const double choices[] = { 0.0, 0.3, 0.5, 0.77, 1.0 };
    for (std::size_t i = 0; i < schedule.actionCount(); ++i)
        ratios.push_back(choices[i % 5]);
    StepContext context;
    context.freezeRatios = ratios;
    QCOMPARE(int(runtime.runStep(makeBatch(4, modelShape.vocabulary, 1), context).status), int(StepStatus::Completed));

    const auto spans = sink->all<ActionSpan>();
    QCOMPARE(spans.size(), schedule.actionCount());
    std::vector<double> frozenSum(std::size_t(schedule.stageCount()), 0.0);
    std::vector<int> freezable(std::size_t(schedule.stageCount()), 0);
    for (std::size_t i = 0; i < spans.size(); ++i) {
        const ActionSpan& span = spans[i];
        const int n = int(model[std::size_t(span.stage)]->freezableParameters().size());
        QCOMPARE(span.totalTensors, n);
        const int expected = isFreezable(span.kind) ? int(std::lround(ratios[i] * n)) : 0;
        QCOMPARE(span.frozenTensors, expected);
        QVERIFY(span.startUs <= span.endUs);
        if (isFreezable(span.kind)) {
            frozenSum[std::size_t(span.stage)] += double(expected) / n;
            ++freezable[std::size_t(span.stage)];
        }
    }
    const auto stats = sink->all<StepStats>();
    QCOMPARE(stats.size(), std::size_t(1));
    for (int s = 0; s < schedule.stageCount(); ++s)
        QVERIFY(std::abs(stats[0].stageMeanFreezeRatio[std::size_t(s)]
                    - frozenSum[std::size_t(s)] / freezable[std::size_t(s)])
            < 1e-12);
    QCOMPARE(stats[0].tokens, std::int64_t(4 * kMicrobatchSize * kSequence));
    QCOMPARE(stats[0].rankBubbleFraction.size(), std::size_t(2));
}

// RuntimeOptions::firstStageDraw reaches the default selection: with Prefix, stage 0's first
// round(r·n) tensors get no gradient from any microbatch and the rest from all of them (their sum
// over the microbatches, checked against autograd); stage 1 still draws per microbatch.
void TestPipelineRuntime::prefixDrawOnFirstStage()
{
    const int microbatches = 4;
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind::OneFOneB, 2, microbatches));
    TestModelShape modelShape;
    modelShape.stages = 2;
    modelShape.blocksPerStage = 3;
    auto model = makeTestModel(modelShape, 6);
    const auto stage0 = model[0]->freezableParameters();
    const int n0 = int(stage0.size());
    const int n1 = int(model[1]->freezableParameters().size());
    std::vector<torch::Tensor> grads0;
    RuntimeOptions options;
    options.seed = 17;
    options.firstStageDraw = FirstStageDraw::Prefix;
    PipelineRuntime runtime(
        schedule, asPipelineStages(model), [&] { grads0 = cloneGradients(stage0); }, options);
    const double ratio = 0.45;
    StepContext context;
    context.freezeRatios.assign(schedule.actionCount(), ratio);
    const StepBatch batch = makeBatch(microbatches, modelShape.vocabulary, 4);
    QCOMPARE(int(runtime.runStep(batch, context).status), int(StepStatus::Completed));

    const int k0 = FreezeSelection::frozenCount(n0, ratio);
    QVERIFY(k0 > 0 && k0 < n0);
    std::vector<int> expected0(std::size_t(n0), microbatches);
    std::fill(expected0.begin(), expected0.begin() + k0, 0);
    QCOMPARE(runtime.lastGradientCounts().at(0), expected0);
    const auto& counts1 = runtime.lastGradientCounts().at(1);
    QCOMPARE(std::accumulate(counts1.begin(), counts1.end(), 0),
        microbatches * (n1 - FreezeSelection::frozenCount(n1, ratio)));
    QVERIFY(std::any_of(counts1.begin(), counts1.end(), [&](int c) { return c > 0 && c < microbatches; }));

    // The trained suffix of stage 0 has the whole batch's gradient.
    torch::Tensor loss;
    for (int m = 0; m < microbatches; ++m) {
        const torch::Tensor part = microbatchLoss(model, batch.inputs[std::size_t(m)], batch.targets[std::size_t(m)]);
        loss = loss.defined() ? loss + part : part;
    }
    const std::vector<torch::Tensor> suffix(stage0.begin() + k0, stage0.end());
    const auto full = torch::autograd::grad({ loss / double(microbatches) }, suffix);
    for (int i = 0; i < n0; ++i) {
        const QString where = QStringLiteral("stage 0 tensor %1").arg(i);
        QVERIFY2(grads0[std::size_t(i)].defined() == (i >= k0), qPrintable(where));
        if (i >= k0)
            QVERIFY2(relativeDifference(grads0[std::size_t(i)], full[std::size_t(i - k0)]) <= 1e-5, qPrintable(where));
    }
}

void TestPipelineRuntime::workerFailureEndsRun_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("faultStage");
    QTest::addColumn<int>("fault");
    QTest::addColumn<QString>("message");
    // Each stage's forward call 8 + 2 is microbatch 2 of the second step (M = 8).
    QTest::newRow("1F1B, first stage throws")
        << int(ScheduleKind::OneFOneB) << 0 << int(Fault::Throw) << QStringLiteral("rank 0: injected fault");
    QTest::newRow("1F1B, last stage throws")
        << int(ScheduleKind::OneFOneB) << 3 << int(Fault::Throw) << QStringLiteral("rank 3: injected fault");
    QTest::newRow("ZBH1, middle stage throws")
        << int(ScheduleKind::ZBH1) << 2 << int(Fault::Throw) << QStringLiteral("rank 2: injected fault");
    QTest::newRow("GPipe, NaN loss") << int(ScheduleKind::GPipe) << 1 << int(Fault::NaN)
                                     << QStringLiteral("rank 3: non-finite loss");
    QTest::newRow("ZBV, NaN loss") << int(ScheduleKind::ZBV) << 2 << int(Fault::NaN)
                                   << QStringLiteral("rank 0: non-finite loss");
}

void TestPipelineRuntime::workerFailureEndsRun()
{
    QFETCH(int, kind);
    QFETCH(int, faultStage);
    QFETCH(int, fault);
    QFETCH(QString, message);
    const int microbatches = 8;
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(static_cast<ScheduleKind>(kind), 4, 8));
    TestModelShape modelShape;
    modelShape.stages = schedule.stageCount();
    auto model = makeTestModel(modelShape, 23);
    model[std::size_t(faultStage)]->injectFault(static_cast<Fault>(fault), microbatches + 2);
    const auto parameters = allParameters(model);
    auto optimizer = makeOptimizer(parameters);
    int optimizerSteps = 0;
    auto sink = std::make_shared<RecordingSink>();
    std::vector<torch::Tensor> afterFirstStep;
    {
        PipelineRuntime runtime(schedule, asPipelineStages(model), [&] {
            optimizer.step();
            ++optimizerSteps;
        });
        runtime.addSink(sink);
        QCOMPARE(
            int(runtime.runStep(makeBatch(microbatches, modelShape.vocabulary, 1)).status), int(StepStatus::Completed));
        for (const auto& p : parameters)
            afterFirstStep.push_back(p.detach().clone());

        const StepResult failed = runtime.runStep(makeBatch(microbatches, modelShape.vocabulary, 2));
        QCOMPARE(int(failed.status), int(StepStatus::Failed));
        QVERIFY2(QString::fromStdString(failed.error).startsWith(message), failed.error.c_str());
        QVERIFY(runtime.failed());
        // A failed run stays failed, at once, without running anything.
        const StepResult again = runtime.runStep(makeBatch(microbatches, modelShape.vocabulary, 3));
        QCOMPARE(int(again.status), int(StepStatus::Failed));
        QCOMPARE(again.error, failed.error);
    } // the destructor joins every worker: a hanging thread would hang the test here
    QCOMPARE(optimizerSteps, 1);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        QVERIFY(torch::equal(parameters[i], afterFirstStep[i]));
        QVERIFY(!parameters[i].grad().defined()); // the failed step's partial gradients are dropped
    }
    const auto failures = sink->all<RunFailed>();
    QCOMPARE(failures.size(), std::size_t(1));
    QCOMPARE(failures[0].step, std::int64_t(1));
    QVERIFY(QString::fromStdString(failures[0].reason).startsWith(message));
    QCOMPARE(sink->all<StepStats>().size(), std::size_t(1));
}

void TestPipelineRuntime::commandsApplyAtStepBoundary()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind::OneFOneB, 2, 2));
    TestModelShape modelShape;
    modelShape.stages = 2;
    auto model = makeTestModel(modelShape, 4);
    PipelineRuntime runtime(schedule, asPipelineStages(model), {});
    auto sink = std::make_shared<RecordingSink>();
    runtime.addSink(sink);
    const StepBatch batch = makeBatch(2, modelShape.vocabulary, 6);

    // Ratios sent through the control hold for every later step that brings none.
    runtime.control()->setFreezeRatios(std::vector<double>(schedule.actionCount(), 1.0));
    QCOMPARE(int(runtime.runStep(batch).status), int(StepStatus::Completed));
    QCOMPARE(int(runtime.runStep(batch).status), int(StepStatus::Completed));
    for (const ActionSpan& span : runtime.lastSpans())
        QCOMPARE(span.frozenTensors, isFreezable(span.kind) ? span.totalTensors : 0);

    // Paused: the next step waits at the boundary; a stop ends the wait and no step runs.
    runtime.control()->pause();
    StepResult result;
    std::thread loop([&] { result = runtime.runStep(batch); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    QCOMPARE(runtime.nextStep(), std::int64_t(2));
    runtime.control()->requestStop();
    loop.join();
    QCOMPARE(int(result.status), int(StepStatus::Stopped));
    QCOMPARE(runtime.nextStep(), std::int64_t(2));
    runtime.finish();
    const auto finished = sink->all<RunFinished>();
    QCOMPARE(finished.size(), std::size_t(1));
    QCOMPARE(finished[0].steps, std::int64_t(2));

    // Resume after pause lets the loop continue.
    PipelineRuntime second(schedule, asPipelineStages(model), {});
    second.control()->pause();
    std::thread resumer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        second.control()->resume();
    });
    QCOMPARE(int(second.runStep(batch).status), int(StepStatus::Completed));
    resumer.join();
}

void TestPipelineRuntime::rejectsBadRatios()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind::GPipe, 2, 2));
    TestModelShape modelShape;
    modelShape.stages = 2;
    auto model = makeTestModel(modelShape, 4);
    PipelineRuntime runtime(schedule, asPipelineStages(model), {});
    const StepBatch batch = makeBatch(2, modelShape.vocabulary, 6);
    StepContext context;
    context.freezeRatios = { 0.5 };
    QVERIFY_THROWS_EXCEPTION(InputError, runtime.runStep(batch, context));
    context.freezeRatios.assign(schedule.actionCount(), 1.5);
    QVERIFY_THROWS_EXCEPTION(InputError, runtime.runStep(batch, context));
    StepBatch short_ = batch;
    short_.targets.pop_back();
    QVERIFY_THROWS_EXCEPTION(InputError, runtime.runStep(short_));
    // Bad input is the caller's error: the run goes on.
    QCOMPARE(int(runtime.runStep(batch).status), int(StepStatus::Completed));
}

// Printed, not asserted: the mean duration of B per stage at freeze ratios 0, 0.5 and 1.
void TestPipelineRuntime::backwardTimeFallsWithRatio()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind::OneFOneB, 2, 4));
    TestModelShape modelShape;
    modelShape.stages = 2;
    modelShape.width = 256;
    modelShape.blocksPerStage = 4;
    modelShape.vocabulary = 64;
    auto model = makeTestModel(modelShape, 8);
    PipelineRuntime runtime(schedule, asPipelineStages(model), {});
    const StepBatch batch = makeBatch(4, modelShape.vocabulary, 2, 16, 32);
    for (double ratio : { 0.0, 0.5, 1.0 }) {
        StepContext context;
        context.freezeRatios.assign(schedule.actionCount(), ratio);
        std::map<int, std::vector<double>> backwardMs;
        for (int step = 0; step < 6; ++step) {
            QCOMPARE(int(runtime.runStep(batch, context).status), int(StepStatus::Completed));
            if (step == 0)
                continue; // warm-up
            for (const ActionSpan& span : runtime.lastSpans())
                if (span.kind == ActionKind::Backward)
                    backwardMs[span.stage].push_back(double(span.endUs - span.startUs) / 1000.0);
        }
        qInfo("freeze ratio %.1f: mean B stage 0 %.2f ms, stage 1 %.2f ms", ratio, meanMs(backwardMs[0]),
            meanMs(backwardMs[1]));
    }
    // The split backward of the zero-bubble schedules: W re-walks the activation-gradient chain that
    // I already walked (autograd keeps no intermediate gradients), so I + W costs more than B.
    const PipelineSchedule zb = PipelineSchedule::generate(shapeOf(ScheduleKind::ZBH1, 2, 4));
    PipelineRuntime split(zb, asPipelineStages(model), {});
    std::map<ActionKind, std::vector<double>> splitMs;
    for (int step = 0; step < 6; ++step) {
        QCOMPARE(int(split.runStep(batch).status), int(StepStatus::Completed));
        for (const ActionSpan& span : split.lastSpans())
            if (step > 0 && span.stage == 1)
                splitMs[span.kind].push_back(double(span.endUs - span.startUs) / 1000.0);
    }
    qInfo("ZBH1, nothing frozen, stage 1: mean I %.2f ms, W %.2f ms", meanMs(splitMs[ActionKind::BackwardInput]),
        meanMs(splitMs[ActionKind::BackwardWeight]));
}

void TestPipelineRuntime::spansLeaveOutWaits_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("GPipe") << int(ScheduleKind::GPipe);
    QTest::newRow("ZBH1 (I receives)") << int(ScheduleKind::ZBH1);
}

// A span is the action's own work: the wait for its input is idle time, which the planner's DAG
// adds through the cross-rank edge. Every receive here takes 300 ms, far longer than an action
// of this tiny model; a span that included the wait would be at least that long.
void TestPipelineRuntime::spansLeaveOutWaits()
{
    QFETCH(int, kind);
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind(kind), 2, 2));
    TestModelShape modelShape;
    modelShape.stages = 2;
    auto model = makeTestModel(modelShape, 4);
    const auto delay = std::chrono::milliseconds(300);
    PipelineRuntime runtime(
        schedule, asPipelineStages(model), {}, {}, std::make_shared<LateTransport>(stageRanks(schedule), delay));
    QCOMPARE(int(runtime.runStep(makeBatch(2, modelShape.vocabulary, 1)).status), int(StepStatus::Completed));

    int receiving = 0;
    std::int64_t lastEndUs = 0;
    for (const ActionSpan& span : runtime.lastSpans()) {
        lastEndUs = std::max(lastEndUs, span.endUs);
        const bool receives = (span.kind == ActionKind::Forward && span.stage > 0)
            || ((span.kind == ActionKind::Backward || span.kind == ActionKind::BackwardInput) && span.stage == 0);
        if (!receives)
            continue;
        ++receiving;
        QVERIFY2(span.endUs - span.startUs < 300000,
            (std::to_string(span.stage) + actionKindLetter(span.kind) + std::to_string(span.microbatch) + " took "
                + std::to_string(span.endUs - span.startUs) + " us")
                .c_str());
    }
    QCOMPARE(receiving, 4); // F(1,0), F(1,1), and the B or I of (0,0) and (0,1)
    // The waits are in the step itself: rank 1 receives twice in a row before its last forward.
    QVERIFY(lastEndUs >= 2 * 300000);
}

// Printed, not asserted: 1F1B with 4 ranks and 8 microbatches against the sequential loop, and the
// cost of timing every action.
void TestPipelineRuntime::wallTimeAndTimingOverhead()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(shapeOf(ScheduleKind::OneFOneB, 4, 8));
    TestModelShape modelShape;
    modelShape.stages = 4;
    modelShape.width = 128;
    modelShape.blocksPerStage = 2;
    modelShape.vocabulary = 64;
    const int steps = 8;
    const StepBatch batch = makeBatch(8, modelShape.vocabulary, 2, 8, 32);
    using Clock = std::chrono::steady_clock;
    auto elapsedMs = [](Clock::time_point start) {
        return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    };

    auto sequentialModel = makeTestModel(modelShape, 1);
    auto sequentialOptimizer = makeOptimizer(allParameters(sequentialModel));
    sequentialStep(sequentialModel, batch, sequentialOptimizer, nullptr);
    auto start = Clock::now();
    for (int step = 0; step < steps; ++step)
        sequentialStep(sequentialModel, batch, sequentialOptimizer, nullptr);
    const double sequentialMs = elapsedMs(start) / steps;

    double pipelineMs[2] = { 0.0, 0.0 };
    double bubble = 0.0;
    auto model = makeTestModel(modelShape, 1);
    const auto parameters = allParameters(model);
    auto optimizer = makeOptimizer(parameters);
    PipelineRuntime runtime(schedule, asPipelineStages(model), [&] {
        torch::nn::utils::clip_grad_norm_(parameters, 1.0);
        optimizer.step();
    });
    // Alternating rounds, so that drift in the shared machine's load hits both settings alike.
    for (int round = 0; round < 4; ++round) {
        for (int timing = 1; timing >= 0; --timing) {
            runtime.setTimingEnabled(timing == 1);
            runtime.runStep(batch);
            start = Clock::now();
            for (int step = 0; step < steps; ++step) {
                const StepResult result = runtime.runStep(batch);
                QCOMPARE(int(result.status), int(StepStatus::Completed));
                if (timing == 1)
                    bubble += result.stats.bubbleFraction;
            }
            pipelineMs[timing] += elapsedMs(start) / steps / 4;
        }
    }
    // The clock itself, which noise on a shared machine hides in the comparison above: two reads per
    // action.
    const int reads = 1000000;
    start = Clock::now();
    std::int64_t sink = 0;
    for (int i = 0; i < reads; ++i)
        sink += Clock::now().time_since_epoch().count() & 1;
    const double readNs = elapsedMs(start) * 1e6 / reads;
    qInfo("steady_clock read %.1f ns (%lld): %zu actions/step -> %.4f%% of a %.1f ms step", readNs,
        static_cast<long long>(sink), schedule.actionCount(),
        100.0 * 2 * readNs * schedule.actionCount() / (pipelineMs[1] * 1e6), pipelineMs[1]);
    qInfo("1F1B P4 M8 (width %d, %d blocks/stage, %d tokens/batch): sequential %.2f ms/step, pipeline %.2f ms/step "
          "(timing on), %.2f ms/step (timing off), timing overhead %+.1f%%, measured bubble %.1f%%",
        modelShape.width, modelShape.blocksPerStage, int(8 * 8 * 32), sequentialMs, pipelineMs[1], pipelineMs[0],
        100.0 * (pipelineMs[1] - pipelineMs[0]) / pipelineMs[0], 100.0 * bubble / (4 * steps));
}

QTEST_APPLESS_MAIN(TestPipelineRuntime)
#include "tst_pipelineruntime.moc"
