// The freezers of makeFreezer on the real transformer, driven by hand between steps: APF and
// AutoFreeze against their policies fed with statistics computed here from the same weights and
// gradients, and the hybrids' choice of which tensors an action freezes.
#include "core/engine/apf_policy.h"
#include "core/engine/autofreeze_policy.h"
#include "core/engine/freezer.h"
#include "core/engine/model_stage.h"
#include "core/engine/transformer_model.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

using namespace tfreeze;

namespace {

RunConfig smallConfig(FreezerKind kind)
{
    RunConfig config;
    config.model.width = 32;
    config.model.blocks = 4;
    config.model.heads = 2;
    config.model.sequence = 16;
    config.data.batchSize = 8;
    config.schedule = { ScheduleKind::OneFOneB, 2, 2, 1 };
    config.freezer.kind = kind;
    config.freezer.apf.window = 2;
    config.freezer.apf.alpha = 0.5;
    config.freezer.apf.threshold = 0.4;
    config.freezer.autoFreeze.interval = 1;
    config.freezer.autoFreeze.percentile = 50.0;
    // The hybrids stay in TimelyFreeze's warm-up: the test supplies the ratios itself.
    config.freezer.timely.warmupSteps = 1000;
    config.steps = 2000;
    validateRunConfig(config, "test");
    return config;
}

struct Fixture {
    explicit Fixture(FreezerKind kind)
        : config(smallConfig(kind))
        , schedule(PipelineSchedule::generate(config.schedule))
        , model(config.model, config.seed)
        , stages(partitionModel(model, resolvePartition(config)))
        , pipelineStages(asPipelineStages(stages))
        , freezer(makeFreezer(config, schedule, pipelineStages))
    {
        for (const auto& stage : stages) {
            stageTensors.push_back(stage->freezableParameters());
            for (const auto& tensor : stageTensors.back())
                flat.push_back(tensor);
        }
    }

    int tensorCount(int stage) const { return static_cast<int>(stageTensors[static_cast<std::size_t>(stage)].size()); }
    std::size_t offset(int stage) const
    {
        std::size_t total = 0;
        for (int s = 0; s < stage; ++s)
            total += stageTensors[static_cast<std::size_t>(s)].size();
        return total;
    }

    RunConfig config;
    PipelineSchedule schedule;
    TransformerModel model;
    std::vector<std::shared_ptr<ModelStage>> stages;
    std::vector<PipelineStagePtr> pipelineStages;
    std::unique_ptr<Freezer> freezer;
    std::vector<std::vector<torch::Tensor>> stageTensors;
    std::vector<torch::Tensor> flat; // every freezable tensor, stage by stage
};

// APF's statistics, computed here in double from the weights (METHOD.md §7): per tensor, with Δ
// the change since the last check, E ← αE + (1−α)Δ, A ← αA + (1−α)|Δ|, P = Σ|E| / ΣA; a
// tensor frozen by the policy keeps its statistics. The decisions come from an ApfPolicy of our own.
class ApfReference {
public:
    ApfReference(const std::vector<torch::Tensor>& tensors, const ApfConfig& config)
        : m_alpha(config.alpha)
        , m_policy(tensors.size(), ApfOptions { config.alpha, config.threshold, config.window })
        , m_instability(tensors.size(), std::numeric_limits<double>::infinity())
    {
        for (const auto& tensor : tensors) {
            m_snapshots.push_back(tensor.detach().to(torch::kDouble));
            m_expected.push_back(torch::zeros_like(m_snapshots.back()));
            m_absolute.push_back(torch::zeros_like(m_snapshots.back()));
        }
    }

    void endStep(std::int64_t step, const std::vector<torch::Tensor>& tensors)
    {
        if (!m_policy.isCheckStep(step + 1))
            return;
        for (std::size_t i = 0; i < tensors.size(); ++i) {
            const torch::Tensor now = tensors[i].detach().to(torch::kDouble);
            if (!m_policy.isFrozen(i)) {
                const torch::Tensor delta = now - m_snapshots[i];
                m_expected[i] = m_alpha * m_expected[i] + (1.0 - m_alpha) * delta;
                m_absolute[i] = m_alpha * m_absolute[i] + (1.0 - m_alpha) * delta.abs();
                const double a = m_absolute[i].sum().item<double>();
                m_instability[i]
                    = a > 0.0 ? m_expected[i].abs().sum().item<double>() / a : std::numeric_limits<double>::infinity();
            }
            m_snapshots[i] = now;
        }
        m_policy.check(m_instability);
    }

    const ApfPolicy& policy() const { return m_policy; }
    double instability(std::size_t i) const { return m_instability[i]; }

private:
    double m_alpha;
    ApfPolicy m_policy;
    std::vector<double> m_instability;
    std::vector<torch::Tensor> m_snapshots;
    std::vector<torch::Tensor> m_expected;
    std::vector<torch::Tensor> m_absolute;
};

// A weight update per tensor that gives APF something to decide on, window by window (Δ is
// the change over a check window): every third tensor oscillates with an amplitude of its own
// (APF calls it stable, P distinct per tensor), every third drifts in one direction (unstable,
// P = 1), the rest random-walk (P in between).
void updateWeights(const std::vector<torch::Tensor>& tensors, std::int64_t step, int window,
    const std::vector<bool>& frozen, at::Generator& generator, const std::vector<torch::Tensor>& directions)
{
    const torch::NoGradGuard noGrad;
    const bool forward = (step / window) % 2 == 0;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (frozen[i])
            continue; // no gradient, no update
        torch::Tensor delta;
        switch (i % 3) {
        case 0: {
            const double back = 0.5 + 0.5 * std::fmod(0.618 * static_cast<double>(i), 1.0);
            delta = directions[i] * (forward ? 1e-3 : -1e-3 * back);
            break;
        }
        case 1:
            delta = directions[i] * 1e-3;
            break;
        default:
            delta = torch::randn(tensors[i].sizes(), generator) * 1e-3 + directions[i] * 3e-4;
            break;
        }
        tensors[i].add_(delta);
    }
}

std::vector<int> sorted(std::vector<int> values)
{
    std::sort(values.begin(), values.end());
    return values;
}

QString describe(const std::vector<int>& values)
{
    QStringList items;
    for (int v : values)
        items << QString::number(v);
    return QLatin1Char('{') + items.join(QLatin1Char(',')) + QLatin1Char('}');
}

} // namespace

class TestFreezers : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::set_num_threads(1); }
    void noneFreezesNothing();
    void apfMatchesIndependentStatistics();
    void autoFreezeFreezesAPrefixOfLayers();
    void timelyApfFreezesRoundedCountInTrackerOrder();
    void timelyAutoFreezeFreezesFrontTensorsFirst();
};

void TestFreezers::noneFreezesNothing()
{
    Fixture fixture(FreezerKind::None);
    QCOMPARE(fixture.freezer->kind(), FreezerKind::None);
    const StepFreezing freezing = fixture.freezer->beginStep(0);
    QCOMPARE(freezing.ratios.size(), fixture.schedule.actionCount());
    for (double ratio : freezing.ratios)
        QCOMPARE(ratio, 0.0);
    QVERIFY(!fixture.freezer->plan());
}

// Step by step: the freezer's ratios and its selector's frozen sets equal what an ApfPolicy fed
// with statistics computed here decides; oscillating tensors end up frozen, drifting ones never.
void TestFreezers::apfMatchesIndependentStatistics()
{
    Fixture fixture(FreezerKind::Apf);
    const std::shared_ptr<const FreezeSelector> selector = fixture.freezer->selector();
    QVERIFY(selector);
    ApfReference reference(fixture.flat, fixture.config.freezer.apf);
    at::Generator generator = at::detail::createCPUGenerator(11);
    std::vector<torch::Tensor> directions;
    for (const auto& tensor : fixture.flat)
        directions.push_back(torch::randn(tensor.sizes(), generator).sign());

    std::size_t maxFrozen = 0;
    std::vector<bool> everFrozen(fixture.flat.size(), false);
    for (std::int64_t step = 0; step < 16; ++step) {
        const StepFreezing freezing = fixture.freezer->beginStep(step);
        QCOMPARE(freezing.ratios.size(), fixture.schedule.actionCount());
        std::size_t actionIndex = 0;
        for (const auto& order : fixture.schedule.rankOrders()) {
            for (const Action& action : order) {
                const double ratio = freezing.ratios[actionIndex++];
                const int n = fixture.tensorCount(action.stage);
                std::vector<int> expected;
                for (int t = 0; t < n; ++t)
                    if (reference.policy().isFrozen(fixture.offset(action.stage) + static_cast<std::size_t>(t)))
                        expected.push_back(t);
                if (!isFreezable(action.kind)) {
                    QCOMPARE(ratio, 0.0);
                    continue;
                }
                QCOMPARE(static_cast<int>(std::lround(ratio * n)), static_cast<int>(expected.size()));
                const std::vector<int> actual
                    = ratio > 0.0 ? sorted(selector->frozenTensors(action, n, ratio, step)) : std::vector<int> {};
                QVERIFY2(actual == expected,
                    qPrintable(QStringLiteral("step %1 stage %2: selector %3, reference %4")
                                   .arg(step)
                                   .arg(action.stage)
                                   .arg(describe(actual), describe(expected))));
            }
        }
        updateWeights(
            fixture.flat, step, fixture.config.freezer.apf.window, reference.policy().frozen(), generator, directions);
        fixture.freezer->afterBackward(step);
        QVERIFY(!fixture.freezer->endStep(step, {}, 0.0));
        reference.endStep(step, fixture.flat);
        maxFrozen = std::max(maxFrozen, reference.policy().frozenCount());
        for (std::size_t i = 0; i < fixture.flat.size(); ++i)
            everFrozen[i] = everFrozen[i] || reference.policy().isFrozen(i);
        for (std::size_t i = 1; i < fixture.flat.size(); i += 3)
            QVERIFY2(!reference.policy().isFrozen(i), "a drifting tensor froze");
    }
    QVERIFY2(maxFrozen > 0, "nothing froze: the test checks nothing");
    // Every oscillating tensor is found stable at some check (frozen periods end, so a tensor
    // thaws, trains a window and is tested again: it need not be frozen at the end).
    for (std::size_t i = 0; i < fixture.flat.size(); i += 3)
        QVERIFY2(everFrozen[i], qPrintable(QStringLiteral("oscillating tensor %1 never froze").arg(i)));
}

// Gradient norms whose change rate grows with depth: layer l changes by 10·l % per check. With
// the 50th percentile each check freezes the layers in front of the first one at the median; the
// selector returns exactly the tensors of the frozen layers for every backward.
void TestFreezers::autoFreezeFreezesAPrefixOfLayers()
{
    Fixture fixture(FreezerKind::AutoFreeze);
    const std::shared_ptr<const FreezeSelector> selector = fixture.freezer->selector();
    QVERIFY(selector);

    // Layers from the model's own names: embedding, blocks.i, final_norm, head.
    std::map<const void*, int> layerOf;
    int layerCount = 0;
    {
        std::map<std::string, int> layerIds;
        for (const auto& item : fixture.model->named_parameters()) {
            const std::string& name = item.key();
            std::string key = name.substr(0, name.find('.'));
            if (key == "blocks")
                key = name.substr(0, name.find('.', 7));
            if (!layerIds.count(key))
                layerIds[key] = layerCount++;
            layerOf[item.value().unsafeGetTensorImpl()] = layerIds[key];
        }
    }
    QCOMPARE(layerCount, 4 + 3);
    std::vector<int> tensorLayer;
    for (const auto& tensor : fixture.flat)
        tensorLayer.push_back(layerOf.at(tensor.unsafeGetTensorImpl()));
    QVERIFY(std::is_sorted(tensorLayer.begin(), tensorLayer.end()));

    AutoFreezePolicy reference(static_cast<std::size_t>(layerCount),
        AutoFreezeOptions { fixture.config.freezer.autoFreeze.interval, fixture.config.freezer.autoFreeze.percentile });
    std::size_t previousFrozen = 0;
    for (std::int64_t step = 0; step < 6; ++step) {
        const StepFreezing freezing = fixture.freezer->beginStep(step);
        std::size_t actionIndex = 0;
        for (const auto& order : fixture.schedule.rankOrders()) {
            for (const Action& action : order) {
                const double ratio = freezing.ratios[actionIndex++];
                if (!isFreezable(action.kind))
                    continue;
                const int n = fixture.tensorCount(action.stage);
                std::vector<int> expected;
                for (int t = 0; t < n; ++t)
                    if (reference.isFrozen(static_cast<std::size_t>(
                            tensorLayer[fixture.offset(action.stage) + static_cast<std::size_t>(t)])))
                        expected.push_back(t);
                QCOMPARE(static_cast<int>(std::lround(ratio * n)), static_cast<int>(expected.size()));
                const std::vector<int> actual
                    = ratio > 0.0 ? sorted(selector->frozenTensors(action, n, ratio, step)) : std::vector<int> {};
                QVERIFY2(actual == expected,
                    qPrintable(QStringLiteral("step %1 stage %2: selector %3, reference %4")
                                   .arg(step)
                                   .arg(action.stage)
                                   .arg(describe(actual), describe(expected))));
            }
        }
        // The step's gradients: every element of layer l is (1 + 0.1·l)^step.
        std::vector<double> squares(static_cast<std::size_t>(layerCount), 0.0);
        for (std::size_t i = 0; i < fixture.flat.size(); ++i) {
            const double value = std::pow(1.0 + 0.1 * tensorLayer[i], static_cast<double>(step));
            fixture.flat[i].mutable_grad() = torch::full_like(fixture.flat[i], value);
            squares[static_cast<std::size_t>(tensorLayer[i])] += value * value * fixture.flat[i].numel();
        }
        std::vector<double> norms;
        for (double square : squares)
            norms.push_back(std::sqrt(square));
        fixture.freezer->afterBackward(step);
        if (reference.isCheckStep(step + 1))
            reference.check(norms);
        fixture.freezer->endStep(step, {}, 0.0);
        QVERIFY(reference.frozenLayerCount() >= previousFrozen); // never thaws
        previousFrozen = reference.frozenLayerCount();
    }
    QVERIFY2(previousFrozen >= 3, qPrintable(QString::number(previousFrozen)));
    QVERIFY(previousFrozen < static_cast<std::size_t>(layerCount));
}

// timely+apf: the ratio says how many (round(r·n)), APF says which: its frozen tensors first,
// then the rest from the most to the least stable (lowest P first).
void TestFreezers::timelyApfFreezesRoundedCountInTrackerOrder()
{
    Fixture fixture(FreezerKind::TimelyApf);
    const std::shared_ptr<const FreezeSelector> selector = fixture.freezer->selector();
    QVERIFY(selector);
    ApfReference reference(fixture.flat, fixture.config.freezer.apf);
    at::Generator generator = at::detail::createCPUGenerator(5);
    std::vector<torch::Tensor> directions;
    for (const auto& tensor : fixture.flat)
        directions.push_back(torch::randn(tensor.sizes(), generator).sign());
    std::vector<bool> nothingFrozen(fixture.flat.size(), false);
    std::size_t everFrozenCount = 0;

    for (std::int64_t step = 0; step < 8; ++step) {
        const StepFreezing freezing = fixture.freezer->beginStep(step);
        QCOMPARE(freezing.phase, TrainingPhase::WarmUp);
        // Whatever the hybrid freezes is decided by the LP's ratio: try several.
        for (const auto& order : fixture.schedule.rankOrders()) {
            for (const Action& action : order) {
                if (!isFreezable(action.kind))
                    continue;
                const int n = fixture.tensorCount(action.stage);
                const std::size_t offset = fixture.offset(action.stage);
                std::vector<int> ranking(static_cast<std::size_t>(n));
                std::iota(ranking.begin(), ranking.end(), 0);
                std::stable_sort(ranking.begin(), ranking.end(), [&](int a, int b) {
                    const auto key = [&](int t) {
                        const std::size_t i = offset + static_cast<std::size_t>(t);
                        return std::make_pair(reference.policy().isFrozen(i) ? 0 : 1, reference.instability(i));
                    };
                    return key(a) < key(b);
                });
                for (double ratio : { 0.1, 0.25, 0.5, 0.77, 1.0 }) {
                    const auto count = static_cast<std::size_t>(std::floor(ratio * n + 0.5));
                    const std::vector<int> expected = sorted(
                        std::vector<int>(ranking.begin(), ranking.begin() + static_cast<std::ptrdiff_t>(count)));
                    const std::vector<int> actual = sorted(selector->frozenTensors(action, n, ratio, step));
                    QVERIFY2(actual == expected,
                        qPrintable(QStringLiteral("step %1 stage %2 r %3: selector %4, reference %5")
                                       .arg(step)
                                       .arg(action.stage)
                                       .arg(ratio)
                                       .arg(describe(actual), describe(expected))));
                }
            }
        }
        // The hybrid's selector does not change what trains here: update every tensor.
        updateWeights(fixture.flat, step, fixture.config.freezer.apf.window, nothingFrozen, generator, directions);
        fixture.freezer->afterBackward(step);
        QVERIFY(!fixture.freezer->endStep(step, {}, 0.0));
        reference.endStep(step, fixture.flat);
        everFrozenCount = std::max(everFrozenCount, reference.policy().frozenCount());
    }
    QVERIFY2(everFrozenCount > 0, "APF froze nothing: the order was never tested with frozen tensors first");
}

void TestFreezers::timelyAutoFreezeFreezesFrontTensorsFirst()
{
    Fixture fixture(FreezerKind::TimelyAutoFreeze);
    const std::shared_ptr<const FreezeSelector> selector = fixture.freezer->selector();
    QVERIFY(selector);
    for (const auto& order : fixture.schedule.rankOrders()) {
        for (const Action& action : order) {
            if (!isFreezable(action.kind))
                continue;
            const int n = fixture.tensorCount(action.stage);
            for (double ratio : { 0.2, 0.5, 1.0 }) {
                const int count = static_cast<int>(std::floor(ratio * n + 0.5));
                std::vector<int> expected(static_cast<std::size_t>(count));
                std::iota(expected.begin(), expected.end(), 0);
                QCOMPARE(sorted(selector->frozenTensors(action, n, ratio, 0)), expected);
            }
        }
    }
}

QTEST_GUILESS_MAIN(TestFreezers)
#include "tst_freezers.moc"
