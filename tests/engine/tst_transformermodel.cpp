#include "core/engine/model_stage.h"
#include "core/engine/transformer_model.h"
#include "core/plan/plan_error.h"

#include <QtTest>

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

using namespace tfreeze;

Q_DECLARE_METATYPE(std::vector<int>)

namespace {

// Small enough to run in milliseconds, shaped like the tiny model (8 blocks, even head dim).
ModelConfig smallModel()
{
    ModelConfig config;
    config.width = 32;
    config.heads = 4;
    config.blocks = 8;
    config.sequence = 16;
    return config;
}

torch::Tensor randomTokens(std::int64_t batch, std::int64_t length, std::uint64_t seed)
{
    at::Generator generator = at::detail::createCPUGenerator(seed);
    return torch::randint(0, 256, { batch, length }, generator, torch::kInt64);
}

torch::Tensor composeStages(const std::vector<std::shared_ptr<ModelStage>>& stages, const torch::Tensor& tokens)
{
    torch::Tensor x = tokens;
    for (const auto& stage : stages)
        x = stage->forward(x);
    return x;
}

std::int64_t numel(const std::vector<torch::Tensor>& tensors)
{
    std::int64_t sum = 0;
    for (const torch::Tensor& tensor : tensors)
        sum += tensor.numel();
    return sum;
}

// Every composition of `blocks` into `stages` positive parts (for the brute-force balance check).
void compositions(
    int blocks, int stages, std::vector<int>& prefix, const std::function<void(const std::vector<int>&)>& visit)
{
    if (stages == 1) {
        prefix.push_back(blocks);
        visit(prefix);
        prefix.pop_back();
        return;
    }
    for (int first = 1; first <= blocks - (stages - 1); ++first) {
        prefix.push_back(first);
        compositions(blocks - first, stages - 1, prefix, visit);
        prefix.pop_back();
    }
}

std::int64_t largestStage(const ModelConfig& model, const std::vector<int>& partition)
{
    std::int64_t largest = 0;
    for (std::size_t s = 0; s < partition.size(); ++s) {
        std::int64_t cost = partition[s] * blockParameterCount(model);
        if (s == 0)
            cost += embeddingParameterCount(model);
        if (s + 1 == partition.size())
            cost += headParameterCount(model);
        largest = std::max(largest, cost);
    }
    return largest;
}

} // namespace

class TestTransformerModel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::set_num_threads(1); }
    void initialLossIsUniform();
    void sameSeedSameModel();
    void parameterCountsFromSizes();
    void partitionComposesToModel_data();
    void partitionComposesToModel();
    void balancedPartitionIsOptimal_data();
    void balancedPartitionIsOptimal();
    void badPartition_data();
    void badPartition();
    void rotaryDependsOnRelativePosition();
    void rotaryKeepsNorm();
    void causalMaskHidesFuture();
};

void TestTransformerModel::initialLossIsUniform()
{
    // Small initial weights: the first loss of the tiny model is ≈ ln 256 = 5.545, the figure the
    // "loss falls" test and SETUP-NOTES start from.
    TransformerModel model(ModelConfig {}, 1);
    const torch::Tensor tokens = randomTokens(4, 64, 2);
    const double loss = languageModelLoss(model->forward(tokens), randomTokens(4, 64, 3)).item<double>();
    QVERIFY2(std::abs(loss - std::log(256.0)) < 0.05, std::to_string(loss).c_str());
}

void TestTransformerModel::sameSeedSameModel()
{
    const ModelConfig config = smallModel();
    torch::manual_seed(99); // the global generator must not matter
    TransformerModel a(config, 7);
    torch::manual_seed(12345);
    torch::randn({ 100 }); // nor how far it has advanced
    TransformerModel b(config, 7);
    TransformerModel c(config, 8);
    const auto pa = a->named_parameters();
    const auto pb = b->named_parameters();
    const auto pc = c->named_parameters();
    QCOMPARE(pa.size(), pb.size());
    bool anyDiffers = false;
    for (std::size_t i = 0; i < pa.size(); ++i) {
        QCOMPARE(pa[i].key(), pb[i].key());
        QVERIFY2(torch::equal(pa[i].value(), pb[i].value()), pa[i].key().c_str());
        anyDiffers = anyDiffers || !torch::equal(pa[i].value(), pc[i].value());
    }
    QVERIFY(anyDiffers);
    const torch::Tensor tokens = randomTokens(2, 16, 5);
    QVERIFY(torch::equal(a->forward(tokens), b->forward(tokens)));
}

void TestTransformerModel::parameterCountsFromSizes()
{
    const ModelConfig config = smallModel();
    TransformerModel model(config, 1);
    QCOMPARE(numel(model->embedding->parameters()), embeddingParameterCount(config));
    QCOMPARE(numel(model->blocks[0]->parameters()), blockParameterCount(config));
    QCOMPARE(numel(model->finalNorm->parameters()) + numel(model->head->parameters()), headParameterCount(config));
    QCOMPARE(numel(model->parameters()),
        embeddingParameterCount(config) + config.blocks * blockParameterCount(config) + headParameterCount(config));
    // 9 tensors a block: 2 norm gains, q, k, v, output, gate, up, down.
    QCOMPARE(model->blocks[0]->parameters().size(), std::size_t(9));
}

void TestTransformerModel::partitionComposesToModel_data()
{
    QTest::addColumn<std::vector<int>>("partition");
    QTest::newRow("one stage") << std::vector<int> { 8 };
    QTest::newRow("two even") << std::vector<int> { 4, 4 };
    QTest::newRow("four uneven") << std::vector<int> { 1, 3, 2, 2 };
    QTest::newRow("eight (ZBV 4x2)") << std::vector<int> { 1, 1, 1, 1, 1, 1, 1, 1 };
    QTest::newRow("balanced 4") << balancedPartition(smallModel(), 4);
    QTest::newRow("balanced 3") << balancedPartition(smallModel(), 3);
}

void TestTransformerModel::partitionComposesToModel()
{
    QFETCH(std::vector<int>, partition);
    const ModelConfig config = smallModel();
    // Two models from one seed: the stages must not depend on sharing the reference's tensors.
    TransformerModel reference(config, 42);
    TransformerModel split(config, 42);
    const auto stages = partitionModel(split, partition);
    QCOMPARE(stages.size(), partition.size());

    const torch::Tensor tokens = randomTokens(3, 16, 9);
    QVERIFY(torch::equal(composeStages(stages, tokens), reference->forward(tokens)));

    // Freezable parameters: every parameter of the model exactly once, in model order.
    std::vector<torch::Tensor> all;
    int firstBlock = 0;
    for (std::size_t s = 0; s < stages.size(); ++s) {
        QCOMPARE(stages[s]->firstBlock(), firstBlock);
        QCOMPARE(stages[s]->blockCount(), partition[s]);
        QCOMPARE(stages[s]->isFirst(), s == 0);
        QCOMPARE(stages[s]->isLast(), s + 1 == stages.size());
        firstBlock += partition[s];
        const std::vector<torch::Tensor> own = stages[s]->freezableParameters();
        QCOMPARE(own.size(), stages[s]->parameters().size());
        all.insert(all.end(), own.begin(), own.end());
    }
    const std::vector<torch::Tensor> modelOrder = split->parameters();
    QCOMPARE(all.size(), modelOrder.size());
    for (std::size_t i = 0; i < all.size(); ++i)
        QVERIFY2(all[i].is_same(modelOrder[i]), std::to_string(i).c_str());
    QCOMPARE(numel(all), numel(reference->parameters()));

    // The pipeline stages behind the runtime's interface are the same objects.
    const std::vector<PipelineStagePtr> pipeline = asPipelineStages(stages);
    torch::Tensor x = tokens;
    for (const PipelineStagePtr& stage : pipeline)
        x = stage->forward(x);
    QVERIFY(torch::equal(x, reference->forward(tokens)));
}

void TestTransformerModel::balancedPartitionIsOptimal_data()
{
    QTest::addColumn<int>("blocks");
    QTest::addColumn<int>("stages");
    QTest::addColumn<int>("width");
    QTest::newRow("8 blocks 4 stages tiny") << 8 << 4 << 128;
    QTest::newRow("8 blocks 8 stages") << 8 << 8 << 128;
    QTest::newRow("7 blocks 3 stages") << 7 << 3 << 128;
    QTest::newRow("12 blocks 5 stages narrow (embedding ~ block)") << 12 << 5 << 16;
    QTest::newRow("1 stage") << 5 << 1 << 64;
}

void TestTransformerModel::balancedPartitionIsOptimal()
{
    QFETCH(int, blocks);
    QFETCH(int, stages);
    QFETCH(int, width);
    ModelConfig config;
    config.blocks = blocks;
    config.width = width;
    const std::vector<int> balanced = balancedPartition(config, stages);
    validatePartition(balanced, stages, config);
    std::int64_t best = std::numeric_limits<std::int64_t>::max();
    std::vector<int> prefix;
    compositions(
        blocks, stages, prefix, [&](const std::vector<int>& p) { best = std::min(best, largestStage(config, p)); });
    QCOMPARE(largestStage(config, balanced), best);
}

void TestTransformerModel::badPartition_data()
{
    QTest::addColumn<std::vector<int>>("partition");
    QTest::addColumn<int>("stages");
    QTest::addColumn<QString>("field");
    QTest::newRow("wrong count") << std::vector<int> { 4, 4 } << 4 << QStringLiteral("partition");
    QTest::newRow("zero blocks") << std::vector<int> { 4, 0, 2, 2 } << 4 << QStringLiteral("partition[1]");
    QTest::newRow("negative blocks") << std::vector<int> { 5, 5, -2 } << 3 << QStringLiteral("partition[2]");
    QTest::newRow("too few blocks") << std::vector<int> { 2, 2, 2, 1 } << 4 << QStringLiteral("partition");
    QTest::newRow("too many blocks") << std::vector<int> { 3, 3, 3 } << 3 << QStringLiteral("partition");
    QTest::newRow("more stages than blocks") << std::vector<int> {} << 9 << QStringLiteral("model.blocks");
}

void TestTransformerModel::badPartition()
{
    QFETCH(std::vector<int>, partition);
    QFETCH(int, stages);
    QFETCH(QString, field);
    const ModelConfig config = smallModel();
    try {
        if (partition.empty()) {
            balancedPartition(config, stages, "run.json");
        } else {
            TransformerModel model(config, 1);
            validatePartition(partition, stages, config, "run.json");
            partitionModel(model, partition, "run.json"); // checks the sum on its own too
        }
        QFAIL("no InputError");
    } catch (const InputError& error) {
        QCOMPARE(QString::fromStdString(error.field()), field);
        QCOMPARE(QString::fromStdString(error.source()), QStringLiteral("run.json"));
    }
}

void TestTransformerModel::rotaryDependsOnRelativePosition()
{
    // The same query and key vector at every position: after rotation, q_i · k_j must depend on
    // i − j only (a Toeplitz score matrix), and not be constant (rotation does something).
    const std::int64_t positions = 40;
    const std::int64_t headDim = 16;
    const RotaryTables tables = makeRotaryTables(positions, headDim, 10000.0);
    at::Generator generator = at::detail::createCPUGenerator(3);
    const torch::Tensor q = torch::randn({ 1, headDim }, generator).expand({ positions, headDim });
    const torch::Tensor k = torch::randn({ 1, headDim }, generator).expand({ positions, headDim });
    const torch::Tensor scores = torch::matmul(applyRotary(q, tables), applyRotary(k, tables).t());
    const auto s = scores.accessor<float, 2>();
    for (std::int64_t i = 0; i + 1 < positions; ++i)
        for (std::int64_t j = 0; j + 1 < positions; ++j)
            for (std::int64_t d : { 1, 7 })
                if (i + d < positions && j + d < positions)
                    QVERIFY2(std::abs(s[i][j] - s[i + d][j + d]) < 1e-4f,
                        (std::to_string(i) + "," + std::to_string(j) + "+" + std::to_string(d)).c_str());
    QVERIFY(std::abs(s[0][0] - s[5][0]) > 1e-3f);
    // Position 0 is not rotated.
    QVERIFY(torch::allclose(applyRotary(q, tables)[0], q[0]));
}

void TestTransformerModel::rotaryKeepsNorm()
{
    const RotaryTables tables = makeRotaryTables(32, 8, 10000.0);
    at::Generator generator = at::detail::createCPUGenerator(4);
    const torch::Tensor x = torch::randn({ 2, 3, 32, 8 }, generator);
    QVERIFY(torch::allclose(applyRotary(x, tables).norm(2, -1), x.norm(2, -1), 1e-5, 1e-5));
}

void TestTransformerModel::causalMaskHidesFuture()
{
    const ModelConfig config = smallModel();
    TransformerModel model(config, 5);
    const torch::Tensor tokens = randomTokens(2, 16, 6);
    torch::Tensor changed = tokens.clone();
    const std::int64_t cut = 9;
    changed.slice(1, cut).random_(0, 256); // the future from position `cut` on
    changed.index_put_({ 0, cut }, (tokens.index({ 0, cut }).item<std::int64_t>() + 1) % 256); // surely changed
    const torch::Tensor before = model->forward(tokens);
    const torch::Tensor after = model->forward(changed);
    QVERIFY(torch::equal(before.slice(1, 0, cut), after.slice(1, 0, cut)));
    QVERIFY(!torch::allclose(before.slice(1, cut), after.slice(1, cut)));
}

QTEST_APPLESS_MAIN(TestTransformerModel)
#include "tst_transformermodel.moc"
