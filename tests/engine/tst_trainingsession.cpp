// TrainingSession end to end on the real transformer: the pipeline against the sequential
// yardstick, checkpoints, user plans, bounds, the telemetry of a TimelyFreeze run, stop.
#include "core/engine/batch_source.h"
#include "core/engine/freeze_selection.h"
#include "core/engine/sequential_trainer.h"
#include "core/engine/training_session.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/plan_error.h"
#include "core/plan/span_profile_estimate.h"
#include "core/plan/text_file.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

using namespace tfreeze;

Q_DECLARE_METATYPE(tfreeze::ScheduleShape)

namespace {

// Small enough for a few steps a second on one thread: width 32, 4 blocks, 2 heads, sequence 16,
// batch 8.
RunConfig smallConfig(ScheduleShape shape = { ScheduleKind::OneFOneB, 2, 4, 1 })
{
    RunConfig config;
    config.model.width = 32;
    config.model.blocks = 4;
    config.model.heads = 2;
    config.model.sequence = 16;
    config.data.batchSize = 8;
    config.schedule = shape;
    config.optimizer.warmupSteps = 1;
    config.optimizer.lr = 1e-2;
    config.steps = 3;
    config.evalInterval = 0;
    config.evalBatches = 1;
    config.seed = 7;
    config.output.db.clear();
    validateRunConfig(config, "test");
    return config;
}

// Every event, in order (thread-safe: the runtime publishes from the training thread, but a sink
// must not assume it).
class RecordingSink : public TelemetrySink {
public:
    void publish(const TelemetryEvent& event) override
    {
        const std::lock_guard lock(m_mutex);
        m_events.push_back(event);
    }
    std::vector<TelemetryEvent> events() const
    {
        const std::lock_guard lock(m_mutex);
        return m_events;
    }
    template <typename T> std::vector<T> all() const
    {
        std::vector<T> result;
        for (const TelemetryEvent& event : events())
            if (const auto* value = std::get_if<T>(&event))
                result.push_back(*value);
        return result;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<TelemetryEvent> m_events;
};

std::string temporaryDir(const char* name)
{
    const auto dir
        = std::filesystem::temp_directory_path() / ("tst_trainingsession_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir);
    return dir.string();
}

// Trains `config` to its end and checkpoints it into a fresh temporary folder named `name`.
std::string trainAndCheckpoint(const RunConfig& config, const char* name)
{
    const std::string dir = temporaryDir(name);
    TrainingSession session(config);
    const TrainingOutcome outcome = session.run();
    if (outcome.status != TrainingOutcome::Status::Finished)
        throw std::runtime_error("the run to checkpoint did not finish: " + outcome.error);
    session.saveCheckpoint(dir);
    return dir;
}

// The parameters of a session, read back through its checkpoint (the header stays torch-free).
std::vector<torch::Tensor> sessionParameters(const TrainingSession& session, const char* name)
{
    const std::string dir = temporaryDir(name);
    session.saveCheckpoint(dir);
    std::vector<torch::Tensor> parameters;
    torch::load(parameters, (std::filesystem::path(dir) / "model.pt").string());
    std::filesystem::remove_all(dir);
    return parameters;
}

double relativeDifference(const torch::Tensor& actual, const torch::Tensor& expected)
{
    const double scale = expected.norm().item<double>();
    return (actual - expected).norm().item<double>() / std::max(scale, 1e-12);
}

double maxRelativeDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b)
{
    if (a.size() != b.size())
        return std::numeric_limits<double>::infinity();
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, relativeDifference(a[i], b[i]));
    return worst;
}

// Index of every action in rank-major order (the order of ratios and plans).
std::map<std::tuple<int, int, int, ActionKind>, std::size_t> actionIndex(const PipelineSchedule& schedule)
{
    std::map<std::tuple<int, int, int, ActionKind>, std::size_t> index;
    std::size_t i = 0;
    for (int r = 0; r < schedule.rankCount(); ++r)
        for (const Action& action : schedule.rankOrder(r))
            index[{ r, action.stage, action.microbatch, action.kind }] = i++;
    return index;
}

std::size_t indexOf(const std::map<std::tuple<int, int, int, ActionKind>, std::size_t>& index, const ActionSpan& span)
{
    return index.at({ span.rank, span.stage, span.microbatch, span.kind });
}

// round(r·n), computed here rather than through the engine.
int expectedFrozen(double ratio, int n) { return ratio <= 0.0 ? 0 : static_cast<int>(std::floor(ratio * n + 0.5)); }

RunConfig timelyConfig()
{
    RunConfig config = smallConfig();
    config.freezer.kind = FreezerKind::TimelyFreeze;
    config.freezer.timely.warmupSteps = 2;
    config.freezer.timely.monitorMaxSteps = 2;
    config.freezer.timely.monitorMinSteps = 2;
    config.freezer.timely.rampSteps = 2;
    config.steps = 10;
    config.evalInterval = 4;
    validateRunConfig(config, "test");
    return config;
}

} // namespace

class TestTrainingSession : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::set_num_threads(1); }
    void matchesSequentialTrainer_data();
    void matchesSequentialTrainer();
    void resumeIsExact_data();
    void resumeIsExact();
    void checkpointOfAnotherConfigIsRefused();
    void damagedCheckpointIsRefused();
    void timelyFreezeResumesItsPlan_data();
    void timelyFreezeResumesItsPlan();
    void initFromCheckpoint();
    void initFromUnusableCheckpointIsRefused();
    void userPlanFreezesRoundedCounts();
    void planForAnotherScheduleIsRefused();
    void timelyFreezeTelemetry();
    void setBoundsReplansAtNextStep();
    void stopFromProgressCallback();
    void pauseHoldsTheNextStep();
};

void TestTrainingSession::matchesSequentialTrainer_data()
{
    QTest::addColumn<ScheduleShape>("shape");
    QTest::newRow("1F1B P=2") << ScheduleShape { ScheduleKind::OneFOneB, 2, 4, 1 };
    QTest::newRow("1F1B P=4") << ScheduleShape { ScheduleKind::OneFOneB, 4, 4, 1 };
    QTest::newRow("GPipe P=2") << ScheduleShape { ScheduleKind::GPipe, 2, 4, 1 };
    QTest::newRow("Interleaved1F1B P=2 V=2") << ScheduleShape { ScheduleKind::Interleaved1F1B, 2, 4, 2 };
    QTest::newRow("ZBH1 P=2") << ScheduleShape { ScheduleKind::ZBH1, 2, 4, 1 };
    QTest::newRow("ZBH1 P=4") << ScheduleShape { ScheduleKind::ZBH1, 4, 4, 1 };
    QTest::newRow("ZBV P=2") << ScheduleShape { ScheduleKind::ZBV, 2, 4, 2 };
}

// Issue 3 §2: with freezing off every schedule reproduces the sequential loop: the same loss at
// every step (StepStats.loss, mean over microbatches of each microbatch's mean loss) and the same
// parameters at the end (gradient clipping on, so the global norm across ranks is exercised).
void TestTrainingSession::matchesSequentialTrainer()
{
    QFETCH(ScheduleShape, shape);
    const RunConfig config = smallConfig(shape);

    SequentialTrainer reference(config);
    const std::unique_ptr<BatchSource> data = makeBatchSource(config);
    std::vector<double> expectedLosses;
    for (std::int64_t step = 0; step < config.steps; ++step)
        expectedLosses.push_back(reference.step(data->trainingBatch(step)).loss);

    TrainingSession session(config);
    auto sink = std::make_shared<RecordingSink>();
    session.addSink(sink);
    const TrainingOutcome outcome = session.run();
    QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);
    QCOMPARE(outcome.stepsDone, config.steps);

    const auto stats = sink->all<StepStats>();
    QCOMPARE(stats.size(), static_cast<std::size_t>(config.steps));
    for (std::size_t i = 0; i < stats.size(); ++i) {
        QCOMPARE(stats[i].step, static_cast<std::int64_t>(i));
        const double relative = std::abs(stats[i].loss - expectedLosses[i]) / std::abs(expectedLosses[i]);
        QVERIFY2(relative <= 1e-5,
            qPrintable(QStringLiteral("step %1: loss %2 vs sequential %3")
                           .arg(i)
                           .arg(stats[i].loss, 0, 'g', 10)
                           .arg(expectedLosses[i], 0, 'g', 10)));
        for (double ratio : stats[i].stageMeanFreezeRatio)
            QCOMPARE(ratio, 0.0);
    }
    // The loss moved: the comparison is not of three identical numbers.
    QVERIFY(std::abs(expectedLosses.front() - expectedLosses.back()) > 1e-3);

    std::vector<torch::Tensor> expected;
    for (const auto& p : reference.model()->parameters())
        expected.push_back(p.detach());
    const std::vector<torch::Tensor> actual = sessionParameters(session, "params");
    QCOMPARE(actual.size(), expected.size());
    const double difference = maxRelativeDifference(actual, expected);
    QVERIFY2(difference <= 1e-5, qPrintable(QStringLiteral("parameters differ by %1").arg(difference)));
}

void TestTrainingSession::resumeIsExact_data()
{
    QTest::addColumn<int>("freezer");
    QTest::newRow("none") << static_cast<int>(FreezerKind::None);
    QTest::newRow("apf") << static_cast<int>(FreezerKind::Apf);
    QTest::newRow("autofreeze") << static_cast<int>(FreezerKind::AutoFreeze);
}

// N steps straight vs a few steps, stop, checkpoint, a new session, load, the rest: the same
// parameters, losses and freeze ratios. APF and AutoFreeze check every step (APF with a loose
// threshold) so that their state matters after the resume.
void TestTrainingSession::resumeIsExact()
{
    QFETCH(int, freezer);
    RunConfig config = smallConfig();
    config.freezer.kind = static_cast<FreezerKind>(freezer);
    config.freezer.apf.window = 1;
    config.freezer.apf.alpha = 0.5;
    config.freezer.apf.threshold = 0.99; // P < 1 as soon as one element of a tensor changed direction
    config.freezer.autoFreeze.interval = 1;
    config.steps = 6;
    validateRunConfig(config, "test");
    // APF's first decision comes at the check after step 1 (the first check only starts E and A):
    // resuming at step 2 needs the frozen sets, statistics and threshold from the checkpoint.
    const std::int64_t half = 2;

    TrainingSession straight(config);
    auto straightSink = std::make_shared<RecordingSink>();
    straight.addSink(straightSink);
    QCOMPARE(straight.run().status, TrainingOutcome::Status::Finished);
    const std::vector<torch::Tensor> expected = sessionParameters(straight, "straight");

    const std::string dir = temporaryDir("resume");
    {
        TrainingSession first(config);
        const TrainingOutcome outcome = first.run([&first, half](const TrainingProgress& progress) {
            if (progress.stats.step == half - 1)
                first.control().requestStop();
        });
        QCOMPARE(outcome.status, TrainingOutcome::Status::Stopped);
        QCOMPARE(outcome.stepsDone, half);
        first.saveCheckpoint(dir);
    }
    TrainingSession second(config);
    second.loadCheckpoint(dir);
    QCOMPARE(second.nextStep(), half);
    auto secondSink = std::make_shared<RecordingSink>();
    second.addSink(secondSink);
    QCOMPARE(second.run().status, TrainingOutcome::Status::Finished);
    const std::vector<torch::Tensor> actual = sessionParameters(second, "resumed");
    std::filesystem::remove_all(dir);

    const auto straightStats = straightSink->all<StepStats>();
    const auto resumedStats = secondSink->all<StepStats>();
    const auto h = static_cast<std::size_t>(half);
    QCOMPARE(resumedStats.size(), straightStats.size() - h);
    for (std::size_t i = 0; i < resumedStats.size(); ++i) {
        QCOMPARE(resumedStats[i].step, straightStats[h + i].step);
        QCOMPARE(resumedStats[i].loss, straightStats[h + i].loss);
        QCOMPARE(resumedStats[i].stageMeanFreezeRatio, straightStats[h + i].stageMeanFreezeRatio);
    }
    if (config.freezer.kind == FreezerKind::Apf) {
        // The test means something only if APF froze some tensors after the resume point.
        double frozen = 0.0;
        for (std::size_t i = h; i < straightStats.size(); ++i)
            for (double ratio : straightStats[i].stageMeanFreezeRatio)
                frozen += ratio;
        QVERIFY2(frozen > 0.0, "APF froze nothing: loosen the test's threshold");
    }
    const double difference = maxRelativeDifference(actual, expected);
    QVERIFY2(difference <= 1e-6, qPrintable(QStringLiteral("parameters differ by %1").arg(difference)));
}

void TestTrainingSession::checkpointOfAnotherConfigIsRefused()
{
    RunConfig config = smallConfig();
    config.steps = 1;
    const std::string dir = trainAndCheckpoint(config, "other");
    const std::string checkpointFile = (std::filesystem::path(dir) / "checkpoint.json").string();

    RunConfig otherSeed = config;
    otherSeed.seed = 8;
    RunConfig otherWidth = config;
    otherWidth.model.width = 48;
    for (const RunConfig& other : { otherSeed, otherWidth }) {
        TrainingSession session(other);
        try {
            session.loadCheckpoint(dir);
            QFAIL("a checkpoint of another config was loaded");
        } catch (const InputError& error) {
            QVERIFY2(std::string(error.what()).find(checkpointFile) != std::string::npos, error.what());
        }
        QCOMPARE(session.nextStep(), std::int64_t(0));
    }
    // A longer run of the same config may continue it (steps and outputs may change on resume).
    RunConfig longer = config;
    longer.steps = 2;
    TrainingSession continued(longer);
    continued.loadCheckpoint(dir);
    QCOMPARE(continued.nextStep(), std::int64_t(1));
    std::filesystem::remove_all(dir);

    TrainingSession session(config);
    const std::string missing = temporaryDir("missing");
    try {
        session.loadCheckpoint(missing);
        QFAIL("a missing checkpoint folder was loaded");
    } catch (const InputError& error) {
        QVERIFY2(std::string(error.what()).find(missing) != std::string::npos, error.what());
    }
}

// A checkpoint damaged in any one file (the manifest's keys, the weights, the optimizer, APF's
// state) is refused with the file and what is wrong with it, and the session stays at step 0.
void TestTrainingSession::damagedCheckpointIsRefused()
{
    namespace fs = std::filesystem;
    RunConfig config = smallConfig();
    config.freezer.kind = FreezerKind::Apf;
    config.steps = 1;
    const std::string good = trainAndCheckpoint(config, "damaged-source");
    QVERIFY(fs::exists(fs::path(good) / "freezer_state.json") && fs::exists(fs::path(good) / "apf_tensors.pt"));

    const auto editManifest = [](const std::string& dir, const std::function<void(nlohmann::json&)>& edit) {
        const std::string path = (fs::path(dir) / "checkpoint.json").string();
        nlohmann::json state = nlohmann::json::parse(readTextFile(path));
        edit(state);
        writeTextFile(path, state.dump());
    };
    const auto truncate = [](const std::string& path) {
        const std::string bytes = readTextFile(path);
        writeTextFile(path, std::string_view(bytes).substr(0, bytes.size() / 2));
    };
    struct Damage {
        const char* what;
        std::function<void(const std::string& dir)> apply;
        const char* file; // the file the message names, in the checkpoint folder
        const char* message;
    };
    const std::vector<Damage> damages {
        { "another format",
            [&](const std::string& dir) { editManifest(dir, [](nlohmann::json& s) { s["format"] = "x/1"; }); },
            "checkpoint.json", "format: expected \"tfreeze-checkpoint/1\"" },
        { "next_step not a number",
            [&](const std::string& dir) { editManifest(dir, [](nlohmann::json& s) { s["next_step"] = "one"; }); },
            "checkpoint.json", "next_step: expected a step number" },
        { "negative next_step",
            [&](const std::string& dir) { editManifest(dir, [](nlohmann::json& s) { s["next_step"] = -1; }); },
            "checkpoint.json", "next_step: expected a step number" },
        { "no config", [&](const std::string& dir) { editManifest(dir, [](nlohmann::json& s) { s.erase("config"); }); },
            "checkpoint.json", "config: missing" },
        { "weights cut short", [&](const std::string& dir) { truncate((fs::path(dir) / "model.pt").string()); },
            "model.pt", "cannot read the checkpoint: " },
        { "optimizer replaced",
            [](const std::string& dir) { writeTextFile((fs::path(dir) / "optimizer.pt").string(), "not a tensor"); },
            "optimizer.pt", "cannot read the checkpoint: " },
        { "APF state not JSON",
            [](const std::string& dir) { writeTextFile((fs::path(dir) / "freezer_state.json").string(), "{\"x\""); },
            "freezer_state.json", "not valid JSON: " },
        { "APF state without its threshold",
            [](const std::string& dir) {
                const std::string path = (fs::path(dir) / "freezer_state.json").string();
                nlohmann::json state = nlohmann::json::parse(readTextFile(path));
                state.at("tracker").erase("threshold");
                writeTextFile(path, state.dump());
            },
            "freezer_state.json", "threshold: missing or malformed: key 'threshold' not found" },
        { "APF tensors cut short",
            [&](const std::string& dir) { truncate((fs::path(dir) / "apf_tensors.pt").string()); }, "apf_tensors.pt",
            "cannot read: " },
    };
    for (const Damage& damage : damages) {
        const std::string dir = temporaryDir("damaged");
        fs::remove_all(dir);
        fs::copy(good, dir, fs::copy_options::recursive);
        damage.apply(dir);
        const std::string file = (fs::path(dir) / damage.file).string();
        TrainingSession session(config);
        try {
            session.loadCheckpoint(dir);
            QFAIL(qPrintable(QString::fromUtf8(damage.what) + QStringLiteral(": the checkpoint was loaded")));
        } catch (const InputError& error) {
            const std::string text = error.what();
            QVERIFY2(text.rfind(file + ": ", 0) == 0 && text.find(damage.message) != std::string::npos,
                qPrintable(QString::fromUtf8(damage.what) + QStringLiteral(": ") + QString::fromStdString(text)));
        }
        QCOMPARE(session.nextStep(), std::int64_t(0));
        fs::remove_all(dir);
    }
    // The undamaged copy loads: the damage, not the copying, made each fail.
    TrainingSession session(config);
    session.loadCheckpoint(good);
    QCOMPARE(session.nextStep(), std::int64_t(1));
    fs::remove_all(good);
}

void TestTrainingSession::timelyFreezeResumesItsPlan_data()
{
    QTest::addColumn<int>("freezer");
    QTest::newRow("timelyfreeze") << static_cast<int>(FreezerKind::TimelyFreeze);
    QTest::newRow("timely+apf") << static_cast<int>(FreezerKind::TimelyApf);
    QTest::newRow("timely+autofreeze") << static_cast<int>(FreezerKind::TimelyAutoFreeze);
}

// A TimelyFreeze run checkpointed once its plan holds resumes under the same plan: nothing is
// measured or planned again, every step runs the plan's ratios, and the prediction is the plan's.
// (Its plan depends on measured times, so a resumed run cannot be compared with a straight one
// bit for bit, as resumeIsExact() does for the other freezers.)
void TestTrainingSession::timelyFreezeResumesItsPlan()
{
    QFETCH(int, freezer);
    RunConfig config = timelyConfig();
    config.freezer.kind = static_cast<FreezerKind>(freezer);
    config.freezer.autoFreeze.interval = 1;
    config.steps = 9; // steps 0-8: planned after step 5, ramped in over 6-7, held from step 8
    const std::string dir = temporaryDir("timely-resume");
    std::shared_ptr<const FreezePlan> plan;
    std::vector<double> heldMeans;
    {
        TrainingSession first(config);
        auto sink = std::make_shared<RecordingSink>();
        first.addSink(sink);
        QCOMPARE(first.run().status, TrainingOutcome::Status::Finished);
        const auto plans = sink->all<PlanApplied>();
        QCOMPARE(plans.size(), std::size_t(1));
        plan = plans[0].plan;
        QVERIFY(plan);
        const auto stats = sink->all<StepStats>();
        QCOMPARE(stats.back().step, std::int64_t(8));
        QCOMPARE(stats.back().phase, TrainingPhase::Stable);
        heldMeans = stats.back().stageMeanFreezeRatio;
        first.saveCheckpoint(dir);
    }
    QVERIFY(std::any_of(heldMeans.begin(), heldMeans.end(), [](double mean) { return mean > 0.0; }));

    RunConfig longer = config;
    longer.steps = 11;
    TrainingSession second(longer);
    second.loadCheckpoint(dir);
    QCOMPARE(second.nextStep(), std::int64_t(9));
    auto sink = std::make_shared<RecordingSink>();
    second.addSink(sink);
    const TrainingOutcome outcome = second.run();
    QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);
    QVERIFY(sink->all<PlanApplied>().empty());
    const auto stats = sink->all<StepStats>();
    QCOMPARE(stats.size(), std::size_t(2));
    for (const StepStats& step : stats) {
        QCOMPARE(step.phase, TrainingPhase::Stable);
        QCOMPARE(step.stageMeanFreezeRatio, heldMeans);
    }
    QCOMPARE(outcome.predictedBatchMs, plan->batchMsPlanned);
    std::filesystem::remove_all(dir);
}

// init_from (fine-tuning): a run of another seed, schedule and optimizer starts from the weights
// of a checkpoint, bit for bit, at step 0; a run of its own resumes without reading them again.
void TestTrainingSession::initFromCheckpoint()
{
    RunConfig pretraining = smallConfig();
    pretraining.steps = 4;
    const std::string out = temporaryDir("pretrained");
    const std::string dir = trainAndCheckpoint(pretraining, "pretrained/checkpoint");
    std::vector<torch::Tensor> pretrained;
    torch::load(pretrained, (std::filesystem::path(dir) / "model.pt").string());

    RunConfig fineTuning = smallConfig({ ScheduleKind::GPipe, 4, 4, 1 });
    fineTuning.seed = 8;
    fineTuning.optimizer.lr = 1e-3;
    fineTuning.freezer.kind = FreezerKind::Apf;
    fineTuning.steps = 2;
    RunConfig fromScratch = fineTuning;
    fineTuning.initFrom = out; // the --out folder of the run: its checkpoint/ is found
    validateRunConfig(fineTuning, "test");

    TrainingSession started(fineTuning);
    QCOMPARE(started.nextStep(), std::int64_t(0));
    QCOMPARE(maxRelativeDifference(sessionParameters(started, "started"), pretrained), 0.0);
    // The other seed alone would give other weights: the equality above is the checkpoint's doing.
    const TrainingSession scratch(fromScratch);
    QVERIFY(maxRelativeDifference(sessionParameters(scratch, "scratch"), pretrained) > 0.1);

    // The first step's loss is that of the pretrained weights on the fine-tuning run's first batch:
    // below the same batch's loss from scratch (the seeds pick the same batches for both runs).
    auto startedSink = std::make_shared<RecordingSink>();
    started.addSink(startedSink);
    QCOMPARE(started.run().status, TrainingOutcome::Status::Finished);
    TrainingSession scratchRun(fromScratch);
    auto scratchSink = std::make_shared<RecordingSink>();
    scratchRun.addSink(scratchSink);
    QCOMPARE(scratchRun.run().status, TrainingOutcome::Status::Finished);
    const double startedLoss = startedSink->all<StepStats>().front().loss;
    const double scratchLoss = scratchSink->all<StepStats>().front().loss;
    QVERIFY2(startedLoss < scratchLoss - 0.05,
        qPrintable(
            QStringLiteral("first loss %1 from the checkpoint, %2 from scratch").arg(startedLoss).arg(scratchLoss)));

    // Resuming the fine-tuning run takes its own checkpoint's weights, with the pretrained ones gone
    // and init_from cleared (as tfreeze train --resume does).
    const std::string own = temporaryDir("finetuned");
    started.saveCheckpoint(own);
    const std::vector<torch::Tensor> finetuned = sessionParameters(started, "finetuned-parameters");
    std::filesystem::remove_all(out);
    RunConfig resumed = fineTuning;
    resumed.initFrom.clear();
    resumed.steps = 3;
    TrainingSession continued(resumed);
    continued.loadCheckpoint(own);
    QCOMPARE(continued.nextStep(), std::int64_t(2));
    QCOMPARE(maxRelativeDifference(sessionParameters(continued, "continued"), finetuned), 0.0);
    std::filesystem::remove_all(own);
}

void TestTrainingSession::initFromUnusableCheckpointIsRefused()
{
    RunConfig config = smallConfig();
    config.steps = 1;
    const std::string dir = trainAndCheckpoint(config, "init");
    auto expectRefusal = [](const RunConfig& other, const std::string& expected) {
        try {
            const TrainingSession session(other);
            QFAIL(qPrintable(QString::fromStdString("no error; expected one with \"" + expected + "\"")));
        } catch (const InputError& error) {
            QVERIFY2(std::string(error.what()).find(expected) != std::string::npos, error.what());
        }
    };
    RunConfig otherModel = config;
    otherModel.model.width = 48;
    otherModel.initFrom = dir;
    expectRefusal(otherModel, "checkpoint.json: config.model: init_from: the checkpoint is of another model");
    RunConfig missing = config;
    missing.initFrom = temporaryDir("no-such-checkpoint");
    expectRefusal(missing, "init_from: no checkpoint in " + missing.initFrom);

    // A checkpoint that says it is of two processes: its weights are spread over their parts.
    const std::string manifest = (std::filesystem::path(dir) / "checkpoint.json").string();
    std::ifstream in(manifest);
    nlohmann::json state = nlohmann::json::parse(in);
    in.close();
    state["world_size"] = 2;
    std::ofstream(manifest) << state.dump();
    RunConfig twoProcesses = config;
    twoProcesses.initFrom = dir;
    expectRefusal(twoProcesses, "world_size: init_from needs the checkpoint of a one-process run");

    // A manifest cut short, ending in a byte that is not UTF-8: the message names the file and
    // quotes the byte printably (nlohmann's own message would carry it raw).
    std::ofstream(manifest) << "{\"step\": \xff";
    RunConfig corrupt = config;
    corrupt.initFrom = dir;
    expectRefusal(corrupt, "checkpoint.json: not valid JSON: ");
    expectRefusal(corrupt, "\\xFF");
    std::filesystem::remove_all(dir);
}

// A user plan overrides the freezer: every backward freezes round(r·n) of its stage's n tensors.
void TestTrainingSession::userPlanFreezesRoundedCounts()
{
    RunConfig config = smallConfig();
    config.steps = 2;
    const PipelineSchedule schedule = PipelineSchedule::generate(config.schedule);
    std::vector<ActionCost> costs;
    for (const auto& order : schedule.rankOrders())
        for (const Action& action : order)
            costs.push_back(isFreezable(action.kind) ? ActionCost { 2.0, 1.0 } : ActionCost { 1.0, 1.0 });
    FreezePlan base { Profile(schedule, costs, "test"), FreezeBounds {}, 0.0, 0.0, 0.0, {}, {}, 0.0 };
    base.actions.resize(schedule.actionCount());
    const double choices[] = { 0.0, 0.3, 0.7, 1.0, 0.45 };
    std::size_t next = 0;
    std::size_t i = 0;
    for (const auto& order : schedule.rankOrders())
        for (const Action& action : order)
            base.actions[i++].ratio = isFreezable(action.kind) ? choices[next++ % 5] : 0.0;
    const auto plan = std::make_shared<const FreezePlan>(base);

    TrainingSession session(config);
    auto sink = std::make_shared<RecordingSink>();
    session.addSink(sink);
    session.applyPlan(plan);
    QCOMPARE(session.run().status, TrainingOutcome::Status::Finished);

    const auto applied = sink->all<PlanApplied>();
    QCOMPARE(applied.size(), std::size_t(1));
    QCOMPARE(applied[0].source, PlanSource::User);
    QCOMPARE(applied[0].appliedAtStep, std::int64_t(0));
    QCOMPARE(applied[0].plan.get(), plan.get());

    const auto index = actionIndex(schedule);
    int freezableSpans = 0;
    int partlyFrozen = 0;
    for (const ActionSpan& span : sink->all<ActionSpan>()) {
        if (!isFreezable(span.kind)) {
            QCOMPARE(span.frozenTensors, 0);
            continue;
        }
        ++freezableSpans;
        QVERIFY(span.totalTensors > 1);
        const double ratio = plan->actions[indexOf(index, span)].ratio;
        QVERIFY2(span.frozenTensors == expectedFrozen(ratio, span.totalTensors),
            qPrintable(QStringLiteral("step %1 stage %2 mb %3: %4 of %5 frozen at r = %6")
                           .arg(span.step)
                           .arg(span.stage)
                           .arg(span.microbatch)
                           .arg(span.frozenTensors)
                           .arg(span.totalTensors)
                           .arg(ratio)));
        partlyFrozen += span.frozenTensors > 0 && span.frozenTensors < span.totalTensors ? 1 : 0;
    }
    QCOMPARE(freezableSpans, static_cast<int>(2 * schedule.stageCount() * schedule.microbatchCount()));
    QVERIFY(partlyFrozen > 0);

    // The user's plan is part of a checkpoint: a resumed run goes on under it, with nothing applied anew.
    const std::string dir = temporaryDir("user-plan");
    session.saveCheckpoint(dir);
    RunConfig longer = config;
    longer.steps = 3;
    TrainingSession resumed(longer);
    resumed.loadCheckpoint(dir);
    auto resumedSink = std::make_shared<RecordingSink>();
    resumed.addSink(resumedSink);
    QCOMPARE(resumed.run().status, TrainingOutcome::Status::Finished);
    QVERIFY(resumedSink->all<PlanApplied>().empty());
    const auto spans = resumedSink->all<ActionSpan>();
    QCOMPARE(spans.size(), static_cast<std::size_t>(schedule.actionCount()));
    for (const ActionSpan& span : spans) {
        QCOMPARE(span.step, std::int64_t(2));
        const double ratio = isFreezable(span.kind) ? plan->actions[indexOf(index, span)].ratio : 0.0;
        QCOMPARE(span.frozenTensors, isFreezable(span.kind) ? expectedFrozen(ratio, span.totalTensors) : 0);
    }
    std::filesystem::remove_all(dir);
}

void TestTrainingSession::planForAnotherScheduleIsRefused()
{
    const RunConfig config = smallConfig();
    const PipelineSchedule other = PipelineSchedule::generate({ ScheduleKind::OneFOneB, 2, 8, 1 });
    std::vector<ActionCost> costs(other.actionCount(), ActionCost { 1.0, 1.0 });
    FreezePlanner planner(Profile(other, costs, "other"));
    const auto plan = std::make_shared<const FreezePlan>(planner.plan(FreezeBounds {}));
    TrainingSession session(config);
    QVERIFY_THROWS_EXCEPTION(InputError, session.applyPlan(plan));
    QVERIFY_THROWS_EXCEPTION(InputError, session.applyPlan(nullptr));
}

// A TimelyFreeze run with short phases: the phase of every step, one engine plan at the plan
// step, evaluations at the interval and at the end, RunFinished last; in monitor_min everything
// freezable is frozen except one tensor of the last stage.
void TestTrainingSession::timelyFreezeTelemetry()
{
    const RunConfig config = timelyConfig();
    TrainingSession session(config);
    auto sink = std::make_shared<RecordingSink>();
    session.addSink(sink);
    const TrainingOutcome outcome = session.run();
    QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);
    QVERIFY(outcome.predictedBatchMs > 0.0);
    QVERIFY(outcome.realisedBatchMs > 0.0);

    const std::vector<TelemetryEvent> events = sink->events();
    QVERIFY(!events.empty());
    QVERIFY(std::holds_alternative<RunFinished>(events.back()));
    QCOMPARE(std::get<RunFinished>(events.back()).steps, config.steps);
    QVERIFY(!std::get<RunFinished>(events.back()).stopReason); // ran to its last step
    QVERIFY(sink->all<RunFailed>().empty());

    const TrainingPhase expectedPhases[] = { TrainingPhase::WarmUp, TrainingPhase::WarmUp, TrainingPhase::MonitorMax,
        TrainingPhase::MonitorMax, TrainingPhase::MonitorMin, TrainingPhase::MonitorMin, TrainingPhase::Ramp,
        TrainingPhase::Ramp, TrainingPhase::Stable, TrainingPhase::Stable };
    const auto stats = sink->all<StepStats>();
    QCOMPARE(stats.size(), std::size_t(10));
    for (std::size_t i = 0; i < stats.size(); ++i) {
        QCOMPARE(stats[i].step, static_cast<std::int64_t>(i));
        QVERIFY2(stats[i].phase == expectedPhases[i],
            qPrintable(QStringLiteral("step %1: phase %2")
                           .arg(i)
                           .arg(QString::fromLatin1(trainingPhaseName(stats[i].phase)))));
    }

    const auto plans = sink->all<PlanApplied>();
    QCOMPARE(plans.size(), std::size_t(1));
    QCOMPARE(plans[0].source, PlanSource::Engine);
    QCOMPARE(plans[0].createdAtStep, std::int64_t(5));
    QCOMPARE(plans[0].appliedAtStep, std::int64_t(6));
    QVERIFY(plans[0].plan);
    // The forwards' speed against the plan's profile: the median over the stable steps (8 and 9).
    std::vector<ActionSpan> stableSpans[2];
    for (const ActionSpan& span : sink->all<ActionSpan>())
        if (span.step >= 8)
            stableSpans[span.step - 8].push_back(span);
    const double scale8 = unfreezableWorkScale(plans[0].plan->profile, stableSpans[0]);
    const double scale9 = unfreezableWorkScale(plans[0].plan->profile, stableSpans[1]);
    QVERIFY(scale8 > 0.0 && scale9 > 0.0);
    QCOMPARE(outcome.unfreezableWorkScale, (scale8 + scale9) / 2.0);
    // Published after step 5's StepStats and before step 6's spans.
    std::int64_t lastStepSeen = -1;
    bool planSeen = false;
    for (const TelemetryEvent& event : events) {
        if (const auto* s = std::get_if<StepStats>(&event))
            lastStepSeen = s->step;
        if (const auto* span = std::get_if<ActionSpan>(&event)) {
            if (span->step == 6) {
                QVERIFY(planSeen);
            }
        }
        if (std::holds_alternative<PlanApplied>(event)) {
            QCOMPARE(lastStepSeen, std::int64_t(5));
            planSeen = true;
        }
    }

    const auto evals = sink->all<EvalStats>();
    QCOMPARE(evals.size(), std::size_t(3));
    QCOMPARE(evals[0].step, std::int64_t(3));
    QCOMPARE(evals[1].step, std::int64_t(7));
    QCOMPARE(evals[2].step, std::int64_t(9));
    for (const EvalStats& eval : evals)
        QVERIFY(std::isfinite(eval.validationLoss) && eval.validationLoss > 0.0);

    const int last = config.schedule.ranks * config.schedule.stagesPerRank - 1;
    const PipelineSchedule schedule = PipelineSchedule::generate(config.schedule);
    const auto index = actionIndex(schedule);
    int monitorMinSpans = 0;
    for (const ActionSpan& span : sink->all<ActionSpan>()) {
        const TrainingPhase phase = expectedPhases[span.step];
        if (!isFreezable(span.kind) || phase == TrainingPhase::WarmUp || phase == TrainingPhase::MonitorMax) {
            QCOMPARE(span.frozenTensors, 0);
            continue;
        }
        if (phase == TrainingPhase::MonitorMin) {
            ++monitorMinSpans;
            if (span.stage < last)
                QCOMPARE(span.frozenTensors, span.totalTensors);
            else
                QCOMPARE(span.frozenTensors, span.totalTensors - 1);
            continue;
        }
        // Ramp then stable: round(scale · r · n), with the last stage's cap of n − 1.
        const double scale = phase == TrainingPhase::Ramp ? (span.step - 6 + 1) / 2.0 : 1.0;
        double ratio = plans[0].plan->actions[indexOf(index, span)].ratio * scale;
        if (span.stage == last)
            ratio = std::min(ratio, (span.totalTensors - 1.0) / span.totalTensors);
        QVERIFY2(std::abs(span.frozenTensors - ratio * span.totalTensors) <= 0.5 + 1e-9,
            qPrintable(QStringLiteral("step %1 stage %2: %3 of %4 frozen, planned ratio %5")
                           .arg(span.step)
                           .arg(span.stage)
                           .arg(span.frozenTensors)
                           .arg(span.totalTensors)
                           .arg(ratio)));
    }
    QCOMPARE(monitorMinSpans, 2 * schedule.stageCount() * schedule.microbatchCount());
}

// A new bound mid-run: the controller re-plans at the next step's end; the plan carries the bound.
void TestTrainingSession::setBoundsReplansAtNextStep()
{
    const RunConfig config = timelyConfig();
    TrainingSession session(config);
    auto sink = std::make_shared<RecordingSink>();
    session.addSink(sink);
    FreezeBounds bounds;
    bounds.maxFreeze = 0.25;
    FreezeBounds tooHigh;
    tooHigh.maxFreeze = 1.5;
    FreezeBounds wrongLength;
    wrongLength.stageMaxFreeze = { 0.5, 0.5, 0.5 };
    const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
        if (progress.stats.step == 6) {
            // Refused at once, on the caller's thread; the run goes on.
            QVERIFY_THROWS_EXCEPTION(InputError, session.setBounds(tooHigh));
            QVERIFY_THROWS_EXCEPTION(InputError, session.setBounds(wrongLength));
            session.setBounds(bounds);
        }
    });
    QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);
    const auto plans = sink->all<PlanApplied>();
    QCOMPARE(plans.size(), std::size_t(2));
    QCOMPARE(plans[0].source, PlanSource::Engine);
    QCOMPARE(plans[0].plan->bounds.maxFreeze, config.bounds.maxFreeze);
    QCOMPARE(plans[1].source, PlanSource::User);
    QCOMPARE(plans[1].createdAtStep, std::int64_t(7));
    QCOMPARE(plans[1].appliedAtStep, std::int64_t(8));
    QCOMPARE(plans[1].plan->bounds.maxFreeze, 0.25);
    for (double mean : plans[1].plan->stageMeanRatio)
        QVERIFY2(mean <= 0.25 + 1e-6, qPrintable(QString::number(mean)));
    // Step 8 (stable) runs the new plan.
    const PipelineSchedule schedule = PipelineSchedule::generate(config.schedule);
    const auto index = actionIndex(schedule);
    const int last = schedule.stageCount() - 1;
    for (const ActionSpan& span : sink->all<ActionSpan>()) {
        if (span.step < 8 || !isFreezable(span.kind))
            continue;
        double ratio = plans[1].plan->actions[indexOf(index, span)].ratio;
        if (span.stage == last)
            ratio = std::min(ratio, (span.totalTensors - 1.0) / span.totalTensors);
        QVERIFY(std::abs(span.frozenTensors - ratio * span.totalTensors) <= 0.5 + 1e-9);
    }
}

void TestTrainingSession::stopFromProgressCallback()
{
    RunConfig config = smallConfig();
    config.steps = 5;
    TrainingSession session(config);
    auto sink = std::make_shared<RecordingSink>();
    session.addSink(sink);
    std::vector<std::int64_t> seen;
    const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
        seen.push_back(progress.stats.step);
        QCOMPARE(progress.totalSteps, std::int64_t(5));
        if (progress.stats.step == 1)
            session.control().requestStop();
    });
    QCOMPARE(outcome.status, TrainingOutcome::Status::Stopped);
    QCOMPARE(outcome.stepsDone, std::int64_t(2));
    QCOMPARE(session.nextStep(), std::int64_t(2));
    QCOMPARE(seen, (std::vector<std::int64_t> { 0, 1 }));
    QCOMPARE(sink->all<StepStats>().size(), std::size_t(2));
    const auto events = sink->events();
    QVERIFY(std::holds_alternative<RunFinished>(events.back()));
    QCOMPARE(std::get<RunFinished>(events.back()).steps, std::int64_t(2));
    QVERIFY(outcome.finalEval.has_value());
    // The event and the run's end say where the run stopped as the progress lines count: two
    // steps ran.
    const std::string expected = "stopped by the user after step 2 of 5";
    QCOMPARE(std::get<RunFinished>(events.back()).stopReason, std::optional<std::string>(expected));
    const auto notes = sink->all<RunEvent>();
    QVERIFY(std::any_of(
        notes.begin(), notes.end(), [&expected](const RunEvent& event) { return event.message == expected; }));
}

// Pause from the callback holds the next step until another thread resumes (no timing asserted).
void TestTrainingSession::pauseHoldsTheNextStep()
{
    RunConfig config = smallConfig();
    config.steps = 3;
    TrainingSession session(config);
    std::atomic<int> steps { 0 };
    std::atomic<int> stepsWhilePaused { -1 };
    std::thread resumer;
    const TrainingOutcome outcome = session.run([&](const TrainingProgress& progress) {
        ++steps;
        if (progress.stats.step == 0) {
            session.control().pause();
            resumer = std::thread([&session, &steps, &stepsWhilePaused] {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                stepsWhilePaused = steps.load(); // still paused: no step ran since
                session.control().resume();
            });
        }
    });
    resumer.join();
    QCOMPARE(outcome.status, TrainingOutcome::Status::Finished);
    QCOMPARE(stepsWhilePaused.load(), 1);
    QCOMPARE(steps.load(), 3);
}

QTEST_GUILESS_MAIN(TestTrainingSession)
#include "tst_trainingsession.moc"
