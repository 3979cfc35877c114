#include "core/engine/evaluation.h"
#include "core/engine/lr_schedule.h"
#include "core/engine/optimizer_setup.h"
#include "core/engine/sequential_trainer.h"
#include "core/engine/synthetic_tasks.h"

#include <QtTest>

#include <cmath>

using namespace tfreeze;

namespace {

// One-hot-ish logits [1, T, V] whose argmax at position t is predicted[t].
torch::Tensor logitsPredicting(const std::vector<std::int64_t>& predicted, std::int64_t vocabulary = 8)
{
    torch::Tensor logits = torch::zeros({ 1, static_cast<std::int64_t>(predicted.size()), vocabulary });
    for (std::size_t t = 0; t < predicted.size(); ++t)
        logits.index_put_({ 0, static_cast<std::int64_t>(t), predicted[t] }, 5.0);
    return logits;
}

torch::Tensor row(const std::vector<std::int64_t>& values) { return torch::tensor(values, torch::kInt64).unsqueeze(0); }

} // namespace

class TestSequentialTrainer : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::set_num_threads(1); }
    void learningRateClosedForm_data();
    void learningRateClosedForm();
    void exactMatchOnHandMadeLogits();
    void lossAndPerplexity();
    void clippingPiecesMatchTorch();
    void weightDecaySkipsNorms();
    void trainingIsDeterministic();
    void microbatchesAccumulateToFullBatch();
    void lossFallsOnCorpus();
};

void TestSequentialTrainer::learningRateClosedForm_data()
{
    QTest::addColumn<qint64>("step");
    QTest::addColumn<double>("expected");
    // lr 0.01, warm-up 10, 110 steps, min ratio 0.1: cosine over steps 10..109 (span 99).
    const double lr = 0.01;
    const double floor = 0.001;
    const auto cosine = [&](double p) { return floor + 0.5 * (lr - floor) * (1 + std::cos(M_PI * p)); };
    QTest::newRow("first warm-up step") << qint64(0) << lr / 10;
    QTest::newRow("mid warm-up") << qint64(4) << lr * 5 / 10;
    QTest::newRow("last warm-up step") << qint64(9) << lr;
    QTest::newRow("cosine start") << qint64(10) << lr;
    QTest::newRow("cosine quarter") << qint64(10 + 99 / 4) << cosine((99 / 4) / 99.0);
    QTest::newRow("cosine middle") << qint64(10 + 33) << cosine(33 / 99.0);
    QTest::newRow("last step") << qint64(109) << floor;
    QTest::newRow("past the end") << qint64(500) << floor;
}

void TestSequentialTrainer::learningRateClosedForm()
{
    QFETCH(qint64, step);
    QFETCH(double, expected);
    OptimizerConfig optimizer;
    optimizer.lr = 0.01;
    optimizer.warmupSteps = 10;
    optimizer.minLrRatio = 0.1;
    QVERIFY2(std::abs(learningRateAt(step, optimizer, 110) - expected) < 1e-15,
        std::to_string(learningRateAt(step, optimizer, 110)).c_str());
    optimizer.decay = LearningRateDecay::Constant;
    QCOMPARE(learningRateAt(step, optimizer, 110), step < 10 ? expected : 0.01);
}

void TestSequentialTrainer::exactMatchOnHandMadeLogits()
{
    const std::int64_t I = kIgnoreTarget;
    // Row 0: both scored positions right; row 1: one of two wrong; row 2: right where scored,
    // wrong where ignored (must still count); row 3: nothing scored (not a row of the metric).
    const torch::Tensor logits = torch::cat({ logitsPredicting({ 1, 2, 3, 4 }), logitsPredicting({ 1, 2, 3, 4 }),
        logitsPredicting({ 7, 2, 3, 7 }), logitsPredicting({ 1, 2, 3, 4 }) });
    const torch::Tensor targets
        = torch::cat({ row({ I, 2, 3, I }), row({ I, 2, 5, I }), row({ I, 2, 3, I }), row({ I, I, I, I }) });
    const MetricSums sums = measureLogits(logits, targets);
    QCOMPARE(sums.targets, std::int64_t(6));
    QCOMPARE(sums.correct, std::int64_t(5));
    QCOMPARE(sums.exactRows, std::int64_t(2));
    QCOMPARE(sums.scoredRows, std::int64_t(3));
    const EvalStats stats = sums.stats(7, true);
    QCOMPARE(stats.step, std::int64_t(7));
    QCOMPARE(stats.exactMatch, 2.0 / 3.0);
    QCOMPARE(stats.tokenAccuracy, 5.0 / 6.0);
    QCOMPARE(sums.stats(7, false).exactMatch, -1.0);
}

void TestSequentialTrainer::lossAndPerplexity()
{
    // Uniform logits: loss ln V exactly, perplexity V, whatever the targets.
    const torch::Tensor logits = torch::zeros({ 2, 3, 16 });
    const torch::Tensor targets = row({ 1, 2, kIgnoreTarget, 4, 5, 6 }).view({ 2, 3 });
    const EvalStats stats = measureLogits(logits, targets).stats(0, false);
    QVERIFY(std::abs(stats.validationLoss - std::log(16.0)) < 1e-6);
    QVERIFY(std::abs(stats.perplexity - 16.0) < 1e-4);
    QVERIFY(std::abs(languageModelLoss(logits, targets).item<double>() - std::log(16.0)) < 1e-6);
}

void TestSequentialTrainer::clippingPiecesMatchTorch()
{
    // Two "ranks" clip with one global norm: Σ of their squared norms, one scale for both. The
    // result must equal torch's own clip_grad_norm_ over all parameters together.
    at::Generator generator = at::detail::createCPUGenerator(1);
    std::vector<torch::Tensor> ours;
    std::vector<torch::Tensor> reference;
    for (std::int64_t size : { 5, 7, 3 }) {
        torch::Tensor a = torch::zeros({ size }, torch::requires_grad());
        a.mutable_grad() = torch::randn({ size }, generator) * 3;
        torch::Tensor b = torch::zeros({ size }, torch::requires_grad());
        b.mutable_grad() = a.grad().clone();
        ours.push_back(a);
        reference.push_back(b);
    }
    torch::Tensor frozen = torch::zeros({ 4 }, torch::requires_grad()); // no gradient this step
    ours.push_back(frozen);
    const std::vector<torch::Tensor> rank0(ours.begin(), ours.begin() + 1);
    const std::vector<torch::Tensor> rank1(ours.begin() + 1, ours.end());
    const double norm = std::sqrt(squaredGradientNorm(rank0) + squaredGradientNorm(rank1));
    const double scale = gradientClipScale(norm, 1.0);
    QVERIFY(scale < 1.0);
    scaleGradients(rank0, scale);
    scaleGradients(rank1, scale);
    const double torchNorm = torch::nn::utils::clip_grad_norm_(reference, 1.0);
    QVERIFY(std::abs(norm - torchNorm) < 1e-5 * torchNorm);
    for (std::size_t i = 0; i < reference.size(); ++i)
        QVERIFY(torch::allclose(ours[i].grad(), reference[i].grad(), 1e-6, 1e-7));
    QVERIFY(!frozen.grad().defined());
    QCOMPARE(gradientClipScale(norm, 0.0), 1.0); // clipping off
    QCOMPARE(gradientClipScale(0.5, 1.0), 1.0); // under the limit
}

void TestSequentialTrainer::weightDecaySkipsNorms()
{
    TransformerModel model(ModelConfig {}, 1);
    const auto optimizer = makeOptimizer(model->parameters(), OptimizerConfig {});
    QCOMPARE(optimizer->param_groups().size(), std::size_t(2));
    const auto& decayed = static_cast<const torch::optim::AdamWOptions&>(optimizer->param_groups()[0].options());
    const auto& plain = static_cast<const torch::optim::AdamWOptions&>(optimizer->param_groups()[1].options());
    QCOMPARE(decayed.weight_decay(), 0.1);
    QCOMPARE(plain.weight_decay(), 0.0);
    // 8 blocks × 2 norms + the final norm.
    QCOMPARE(optimizer->param_groups()[1].params().size(), std::size_t(17));
    setLearningRate(*optimizer, 0.5);
    QCOMPARE(plain.lr(), 0.5);
    QCOMPARE(decayed.lr(), 0.5);
}

void TestSequentialTrainer::trainingIsDeterministic()
{
    RunConfig config;
    config.model.blocks = 2;
    config.model.width = 32;
    config.schedule.ranks = 2;
    config.data.kind = DataKind::Sort;
    config.data.batchSize = 16;
    const std::unique_ptr<BatchSource> data = makeBatchSource(config);
    SequentialTrainer a(config);
    SequentialTrainer b(config);
    for (std::int64_t step = 0; step < 3; ++step) {
        const TrainingStepResult ra = a.step(data->trainingBatch(step));
        const TrainingStepResult rb = b.step(data->trainingBatch(step));
        QCOMPARE(ra.loss, rb.loss);
        QCOMPARE(ra.gradientNorm, rb.gradientNorm);
        QCOMPARE(ra.step, step);
    }
    const auto pa = a.model()->parameters();
    const auto pb = b.model()->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i)
        QVERIFY(torch::equal(pa[i], pb[i]));
}

void TestSequentialTrainer::microbatchesAccumulateToFullBatch()
{
    // With equal-sized microbatches of text (every target scored), 1/M-scaled losses accumulate to
    // the full batch's gradient: M = 1 and M = 4 give the same gradient (up to float sums).
    RunConfig config;
    config.model.blocks = 2;
    config.model.width = 32;
    config.schedule.ranks = 1;
    config.optimizer.gradClip = 0.0;
    const std::unique_ptr<BatchSource> data = makeBatchSource(config);
    const Batch batch = data->trainingBatch(0);
    std::vector<torch::Tensor> gradients[2];
    for (int variant = 0; variant < 2; ++variant) {
        config.schedule.microbatches = variant == 0 ? 1 : 4;
        SequentialTrainer trainer(config);
        const auto parameters = trainer.model()->parameters();
        const double lossBefore = trainer.step(batch).loss;
        QVERIFY(lossBefore > 5.0);
        for (const torch::Tensor& parameter : parameters)
            gradients[variant].push_back(parameter.grad().clone());
    }
    for (std::size_t i = 0; i < gradients[0].size(); ++i)
        QVERIFY2(torch::allclose(gradients[0][i], gradients[1][i], 1e-4, 1e-6), std::to_string(i).c_str());
}

void TestSequentialTrainer::lossFallsOnCorpus()
{
    // The default model on the shipped corpus for 20 steps, with a short warm-up to match and
    // half batches of 4 microbatches, which keeps this near 15 s on one thread of the build machine.
    RunConfig config;
    config.steps = 20;
    config.data.batchSize = 16;
    config.schedule.microbatches = 4;
    config.optimizer.warmupSteps = 5;
    const std::unique_ptr<BatchSource> data = makeBatchSource(config);
    SequentialTrainer trainer(config);
    const EvalStats before = evaluate(trainer.model(), *data, 2);
    QVERIFY2(std::abs(before.validationLoss - std::log(256.0)) < 0.1, std::to_string(before.validationLoss).c_str());
    double firstLoss = 0.0;
    double lastLoss = 0.0;
    for (std::int64_t step = 0; step < config.steps; ++step) {
        const TrainingStepResult result = trainer.step(data->trainingBatch(step));
        QVERIFY(std::isfinite(result.loss));
        if (step == 0)
            firstLoss = result.loss;
        lastLoss = result.loss;
    }
    const EvalStats after = evaluate(trainer.model(), *data, 2);
    qInfo("training loss %.3f -> %.3f, validation loss %.3f -> %.3f", firstLoss, lastLoss, before.validationLoss,
        after.validationLoss);
    // ln 256 = 5.55 at the start; byte frequencies of English alone are worth ≈ 3 nats. A drop of
    // 1.5 on both splits needs the model to learn, not just to survive 20 steps.
    QVERIFY2(lastLoss < firstLoss - 1.5, (std::to_string(firstLoss) + " → " + std::to_string(lastLoss)).c_str());
    QVERIFY2(after.validationLoss < before.validationLoss - 1.5, std::to_string(after.validationLoss).c_str());
    QVERIFY(after.tokenAccuracy > before.tokenAccuracy);
    QCOMPARE(after.exactMatch, -1.0);
    QCOMPARE(trainer.stepsDone(), config.steps);
}

QTEST_APPLESS_MAIN(TestSequentialTrainer)
#include "tst_sequentialtrainer.moc"
