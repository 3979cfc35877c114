#include "core/engine/run_config.h"
#include "core/plan/plan_error.h"

#include <QtTest>

#include <sched.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using namespace tfreeze;

namespace {

const std::string kConfigDir = std::string(TFREEZE_RESOURCES_DIR) + "/configs";

QByteArray bytes(const std::string& text) { return QByteArray::fromStdString(text); }

// A config where every member differs from its default, so a member the writer or the reader
// forgets cannot survive the round trip by luck.
RunConfig unusualConfig()
{
    RunConfig config;
    config.model = ModelConfig { 300, 96, 6, 3, 48, 200, 5000.5, 1e-6 };
    config.data.kind = DataKind::Add;
    config.data.path = "some/file.txt";
    config.data.validationFraction = 0.25;
    config.data.batchSize = 24;
    config.data.sortLength = 7;
    config.data.addDigits = 3;
    config.data.heldOutExamples = 100;
    config.schedule = ScheduleShape { ScheduleKind::Interleaved1F1B, 2, 6, 3 };
    config.partition = { 1, 1, 1, 1, 1, 1 };
    config.optimizer = OptimizerConfig { 1.0 / 3.0, 0.8, 0.9, 1e-7, 0.05, 7, LearningRateDecay::Constant, 0.2, 0.5 };
    config.freezer.kind = FreezerKind::TimelyAutoFreeze;
    config.freezer.stabilityCheckFreq = 3;
    config.freezer.firstStageDraw = FirstStageDraw::Prefix;
    config.freezer.timely = TimelyFreezeConfig { 11, 12, 13, 14 };
    config.freezer.apf = ApfConfig { 1e-4, 5, 0.9 };
    config.freezer.autoFreeze = AutoFreezeConfig { 7, 80.0 };
    config.freezer.replanDrift = 0.15;
    config.bounds.maxFreezePerStage = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 };
    config.steps = 12345678901LL;
    config.initFrom = "pretrained/checkpoint";
    config.evalInterval = 9;
    config.evalBatches = 3;
    config.checkpointInterval = 100;
    config.seed = 18446744073709551615ULL;
    config.threadsPerRank = 2;
    config.processors = 3;
    config.device = DeviceKind::Cuda;
    config.stageDevices = { 0, 0, 1, 1, 2, 3 };
    config.output = OutputConfig { "out/dir", "my.sqlite" };
    return config;
}

} // namespace

class TestRunConfig : public QObject {
    Q_OBJECT

private slots:
    void defaultsOfEmptyDocument();
    void shippedConfigsParse_data();
    void shippedConfigsParse();
    void roundTrip();
    void dataPathRelativeToConfigFile();
    void fineTuningPresetsFitTogether();
    void badConfig_data();
    void badConfig();
    void messagesAreValidUtf8_data();
    void messagesAreValidUtf8();
    void validateAfterOverride();
    void runInputsCheckedBeforeTheRun();
    void sharedProcessorsOfConfig();
    void allOrNothingStagesOfConfig_data();
    void allOrNothingStagesOfConfig();
};

void TestRunConfig::defaultsOfEmptyDocument()
{
    const RunConfig config = parseRunConfigJson("{}");
    const RunConfig defaults; // named: a temporary here trips GCC 12's -Wmaybe-uninitialized
    QVERIFY(config == defaults);
    QCOMPARE(config.schedule.ranks, 4);
    QCOMPARE(config.schedule.microbatches, 8);
    QCOMPARE(bytes(scheduleKindName(config.schedule.kind)), QByteArray("1F1B"));
    QCOMPARE(config.model.resolvedMlpHidden(), 352); // 8·128/3 = 341.3, rounded up to a multiple of 32
}

void TestRunConfig::shippedConfigsParse_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("stages");
    QTest::newRow("default") << QStringLiteral("default.json") << 4 << 4;
    QTest::newRow("p2") << QStringLiteral("p2.json") << 2 << 2;
    QTest::newRow("zbv") << QStringLiteral("zbv.json") << 4 << 8;
    QTest::newRow("sort") << QStringLiteral("sort.json") << 4 << 4;
    QTest::newRow("add") << QStringLiteral("add.json") << 4 << 4;
    QTest::newRow("pretrain") << QStringLiteral("pretrain.json") << 4 << 4;
    QTest::newRow("finetune") << QStringLiteral("finetune.json") << 4 << 4;
}

void TestRunConfig::shippedConfigsParse()
{
    QFETCH(QString, file);
    QFETCH(int, ranks);
    QFETCH(int, stages);
    const RunConfig config = readRunConfigFile(kConfigDir + "/" + file.toStdString());
    QCOMPARE(config.schedule.ranks, ranks);
    QCOMPARE(config.schedule.stageCount(), stages);
    if (config.data.kind == DataKind::Text)
        QVERIFY2(std::filesystem::exists(config.data.path), config.data.path.c_str());
}

void TestRunConfig::roundTrip()
{
    const RunConfig config = unusualConfig();
    validateRunConfig(config);
    const std::string text = writeRunConfigJson(config);
    const RunConfig back = parseRunConfigJson(text);
    QVERIFY(back == config);
    QCOMPARE(back.optimizer.lr, 1.0 / 3.0); // bit for bit
    QCOMPARE(back.seed, config.seed);
    QCOMPARE(back.steps, config.steps);
    QCOMPARE(back.bounds.maxFreezePerStage, config.bounds.maxFreezePerStage);
    const RunConfig defaults; // named: a temporary here trips GCC 12's -Wmaybe-uninitialized
    QVERIFY(back != defaults);

    // The shipped default is the code's default but for the resolved corpus path.
    RunConfig shipped = readRunConfigFile(kConfigDir + "/default.json");
    QVERIFY(!shipped.data.path.empty());
    shipped.data.path.clear();
    QVERIFY2(shipped == defaults, writeRunConfigJson(shipped).c_str());
}

// finetune.json starts from the checkpoint that pretrain.json leaves (run from the repository's top
// folder): the same model, the folder the one writes is the one the other reads, a checkpoint at
// the last step, and the fine-tuning learning rate a tenth of the pretraining one.
void TestRunConfig::fineTuningPresetsFitTogether()
{
    const RunConfig pretrain = readRunConfigFile(kConfigDir + "/pretrain.json");
    const RunConfig finetune = readRunConfigFile(kConfigDir + "/finetune.json");
    QCOMPARE(pretrain.freezer.kind, FreezerKind::None);
    QCOMPARE(pretrain.checkpointInterval, pretrain.steps);
    QVERIFY(pretrain.initFrom.empty());
    const std::filesystem::path topFolder = std::filesystem::path(TFREEZE_RESOURCES_DIR).parent_path();
    QCOMPARE(std::filesystem::path(finetune.initFrom), (topFolder / pretrain.output.dir).lexically_normal());
    QCOMPARE(finetune.freezer.kind, FreezerKind::TimelyFreeze);
    QCOMPARE(finetune.optimizer.lr, pretrain.optimizer.lr / 10.0);
    // Everything else (the model, data, schedule, the rest of the optimizer, the seed) is the same.
    RunConfig expected = pretrain;
    expected.steps = finetune.steps;
    expected.evalInterval = finetune.evalInterval;
    expected.checkpointInterval = finetune.checkpointInterval;
    expected.output = finetune.output;
    expected.initFrom = finetune.initFrom;
    expected.optimizer.lr = finetune.optimizer.lr;
    expected.freezer.kind = finetune.freezer.kind;
    // A trained model needs no long freezer warm-up: the plan comes 30 steps earlier, the ramp is
    // shorter, the monitoring windows are not.
    QCOMPARE(finetune.freezer.timely.warmupSteps, pretrain.optimizer.warmupSteps);
    QCOMPARE(finetune.freezer.timely.monitorMaxSteps, pretrain.freezer.timely.monitorMaxSteps);
    QCOMPARE(finetune.freezer.timely.monitorMinSteps, pretrain.freezer.timely.monitorMinSteps);
    QVERIFY(finetune.freezer.timely.rampSteps < pretrain.freezer.timely.rampSteps);
    expected.freezer.timely = finetune.freezer.timely;
    QVERIFY2(expected == finetune, writeRunConfigJson(finetune).c_str());
}

void TestRunConfig::dataPathRelativeToConfigFile()
{
    const RunConfig config = readRunConfigFile(kConfigDir + "/p2.json");
    QCOMPARE(std::filesystem::path(config.data.path).filename().string(), std::string("kjv.txt"));
    QVERIFY(std::filesystem::equivalent(
        config.data.path, std::filesystem::path(TFREEZE_RESOURCES_DIR) / "corpus" / "kjv.txt"));
    QVERIFY(config.initFrom.empty());

    // So is the checkpoint a fine-tuning run starts from; an absolute path stays as it is.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path folder = dir.path().toStdString();
    const auto readWithInit = [&folder](const std::string& initFrom) {
        const std::string path = (folder / "configs" / "fine.json").string();
        std::filesystem::create_directories(folder / "configs");
        std::ofstream(path) << nlohmann::json { { "init_from", initFrom } }.dump();
        return readRunConfigFile(path).initFrom;
    };
    QCOMPARE(readWithInit("../runs/pre"), (folder / "runs" / "pre").string());
    QCOMPARE(readWithInit("/abs/pre"), std::string("/abs/pre"));

    // For a config written elsewhere: relative to the working folder, made absolute; none stays none.
    RunConfig written;
    written.data.path = "corpus/../corpus/text.txt";
    written.initFrom = "runs/pre";
    makeInputPathsAbsolute(written);
    const std::filesystem::path cwd = std::filesystem::current_path();
    QCOMPARE(written.data.path, (cwd / "corpus" / "text.txt").string());
    QCOMPARE(written.initFrom, (cwd / "runs" / "pre").string());
    RunConfig none;
    makeInputPathsAbsolute(none);
    QVERIFY(none.data.path.empty() && none.initFrom.empty());
}

void TestRunConfig::badConfig_data()
{
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("reason"); // a part of the message

    const auto row = [](const char* name, const char* json, const char* field, const char* reason) {
        QTest::newRow(name) << QString::fromUtf8(json) << QString::fromUtf8(field) << QString::fromUtf8(reason);
    };
    row("not json", "{", "", "not valid JSON");
    row("not an object", "[1]", "", "must be an object");
    row("wrong format", R"({"format": "tfreeze-profile/1"})", "format", "expected");
    row("unknown top-level key", R"({"stepz": 3})", "stepz", "unknown key");
    // Found by fuzzing: the field of an unknown empty key was empty.
    row("unknown empty key", R"({"": 3})", R"("")", "unknown key");
    row("unknown empty nested key", R"({"model": {"": 3}})", R"(model."")", "unknown key");
    row("unknown model key", R"({"model": {"depth": 3}})", "model.depth", "unknown key");
    row("unknown nested key", R"({"freezer": {"apf": {"treshold": 0.1}}})", "freezer.apf.treshold", "unknown key");
    row("unknown timely key", R"({"freezer": {"timely": {"warmup": 1}}})", "freezer.timely.warmup", "unknown key");
    row("unknown autofreeze key", R"({"freezer": {"autofreeze": {"p": 1}}})", "freezer.autofreeze.p", "unknown key");
    row("unknown schedule key", R"({"schedule": {"microbatch": 4}})", "schedule.microbatch", "unknown key");
    row("unknown optimizer key", R"({"optimizer": {"learning_rate": 1}})", "optimizer.learning_rate", "unknown");
    row("unknown data key", R"({"data": {"file": "x"}})", "data.file", "unknown key");
    row("unknown bounds key", R"({"bounds": {"rho": 0.5}})", "bounds.rho", "unknown key");
    row("unknown output key", R"({"output": {"csv": "x"}})", "output.csv", "unknown key");
    row("model not an object", R"({"model": 3})", "model", "must be an object");
    row("vocabulary too small", R"({"model": {"vocabulary": 255}})", "model.vocabulary", "[256,");
    row("width not an integer", R"({"model": {"width": 12.5}})", "model.width", "integer");
    row("width a string", R"({"model": {"width": "128"}})", "model.width", "integer");
    row("blocks zero", R"({"model": {"blocks": 0}})", "model.blocks", "[1, 4096]");
    row("heads not dividing width", R"({"model": {"heads": 3}})", "model.heads", "divide");
    row("odd head dimension", R"({"model": {"width": 120, "heads": 8}})", "model.heads", "even");
    row("rope base", R"({"model": {"rope_base": 1}})", "model.rope_base", "(1,");
    row("norm eps zero", R"({"model": {"norm_eps": 0}})", "model.norm_eps", "(0, 1)");
    row("data kind", R"({"data": {"kind": "images"}})", "data.kind", "text, sort or add");
    row("validation fraction one", R"({"data": {"validation_fraction": 1}})", "data.validation_fraction", "(0, 1)");
    row("validation fraction zero", R"({"data": {"validation_fraction": 0}})", "data.validation_fraction", "(0, 1)");
    row("batch size zero", R"({"data": {"batch_size": 0}})", "data.batch_size", "[1,");
    row("batch size not a multiple", R"({"data": {"batch_size": 12}})", "data.batch_size", "multiple");
    row("sort length too long", R"({"data": {"kind": "sort", "sort_length": 40}})", "data.sort_length", "sequence");
    row("add digits too many", R"({"data": {"kind": "add", "add_digits": 19}})", "data.add_digits", "[1, 18]");
    row("held out too many", R"({"data": {"kind": "sort", "sort_length": 2, "held_out_examples": 60}})",
        "data.held_out_examples", "half");
    row("path not a string", R"({"data": {"path": 3}})", "data.path", "string");
    row("init from not a string", R"({"init_from": ["a"]})", "init_from", "string");
    row("schedule kind", R"({"schedule": {"kind": "2F2B"}})", "schedule.kind", "unknown schedule");
    row("schedule custom", R"({"schedule": {"kind": "Custom"}})", "schedule.kind", "profile file");
    row("ranks zero", R"({"schedule": {"ranks": 0}})", "schedule.ranks", "[1, 1024]");
    row("microbatches negative", R"({"schedule": {"microbatches": -8}})", "schedule.microbatches", "[1,");
    row("1F1B with two stages per rank", R"({"schedule": {"stages_per_rank": 2}})", "schedule.stages_per_rank",
        "stages_per_rank = 1");
    row("interleaved microbatches", R"({"schedule": {"kind": "Interleaved1F1B", "stages_per_rank": 2,
        "microbatches": 6, "ranks": 4}, "data": {"batch_size": 30}})",
        "schedule.microbatches", "multiple of ranks");
    row("more stages than blocks", R"({"schedule": {"ranks": 9, "microbatches": 16}})", "schedule.ranks",
        "model.blocks");
    row("more virtual stages than blocks", R"({"schedule": {"kind": "ZBV", "stages_per_rank": 2, "ranks": 5,
        "microbatches": 8}})",
        "schedule.stages_per_rank", "model.blocks");
    row("partition not an array", R"({"partition": {"blocks": [2, 2, 2, 2]}})", "partition", "array");
    row("partition wrong count", R"({"partition": [4, 4]})", "partition", "one block count per stage");
    row("partition zero blocks", R"({"partition": [0, 4, 2, 2]})", "partition[0]", "[1, 4096]");
    row("partition wrong sum", R"({"partition": [2, 2, 2, 3]})", "partition", "model.blocks = 8");
    row("stage devices on cpu", R"({"stage_devices": [0, 0, 0, 0]})", "stage_devices", "\"device\": \"cuda\"");
    row("stage devices wrong count", R"({"device": "cuda", "stage_devices": [0, 1]})", "stage_devices",
        "one device index per stage: 4");
    row("stage device negative", R"({"device": "cuda", "stage_devices": [0, -1, 0, 0]})", "stage_devices[1]",
        "[0, 1023]");
    row("stage devices not an array", R"({"device": "cuda", "stage_devices": 0})", "stage_devices", "array");
    row("lr zero", R"({"optimizer": {"lr": 0}})", "optimizer.lr", "(0, 10]");
    row("beta one", R"({"optimizer": {"beta2": 1}})", "optimizer.beta2", "[0, 1)");
    row("eps", R"({"optimizer": {"eps": -1}})", "optimizer.eps", "(0, 1)");
    row("weight decay", R"({"optimizer": {"weight_decay": -0.1}})", "optimizer.weight_decay", "[0, 10]");
    row("warmup negative", R"({"optimizer": {"warmup_steps": -1}})", "optimizer.warmup_steps", "[0,");
    row("decay", R"({"optimizer": {"decay": "linear"}})", "optimizer.decay", "cosine or constant");
    row("min lr ratio", R"({"optimizer": {"min_lr_ratio": 1.5}})", "optimizer.min_lr_ratio", "[0, 1]");
    row("grad clip", R"({"optimizer": {"grad_clip": -1}})", "optimizer.grad_clip", "[0, ∞)");
    row("freezer name", R"({"freezer": {"name": "egeria"}})", "freezer.name", "timely+autofreeze");
    row("stability check", R"({"freezer": {"stability_check_freq": 0}})", "freezer.stability_check_freq", "[1,");
    row("first stage draw", R"({"freezer": {"first_stage_draw": "front"}})", "freezer.first_stage_draw",
        "unknown first stage draw \"front\" (expected weighted or prefix)");
    row("monitor steps", R"({"freezer": {"timely": {"monitor_min_steps": 0}}})", "freezer.timely.monitor_min_steps",
        "[1,");
    row("apf threshold", R"({"freezer": {"apf": {"threshold": 0}}})", "freezer.apf.threshold", "(0, 1]");
    row("apf threshold string", R"({"freezer": {"apf": {"threshold": "0.1"}}})", "freezer.apf.threshold", "number");
    row("apf window", R"({"freezer": {"apf": {"window": 0}}})", "freezer.apf.window", "[1,");
    row("apf alpha", R"({"freezer": {"apf": {"alpha": 1}}})", "freezer.apf.alpha", "[0, 1)");
    row("autofreeze percentile", R"({"freezer": {"autofreeze": {"percentile": 100}}})", "freezer.autofreeze.percentile",
        "(0, 100)");
    row("replan drift", R"({"freezer": {"replan_drift": -0.5}})", "freezer.replan_drift", "[0, 100]");
    row("max freeze above one", R"({"bounds": {"max_freeze": 1.2}})", "bounds.max_freeze", "[0, 1]");
    row("max freeze per stage count", R"({"bounds": {"max_freeze": [0.5, 0.5]}})", "bounds.max_freeze",
        "one value per stage");
    row("max freeze per stage value", R"({"bounds": {"max_freeze": [0.5, 0.5, -0.1, 0.5]}})", "bounds.max_freeze[2]",
        "[0, 1]");
    row("steps zero", R"({"steps": 0})", "steps", "[1,");
    row("eval interval", R"({"eval_interval": -1})", "eval_interval", "[0,");
    row("eval batches", R"({"eval_batches": 0})", "eval_batches", "[1,");
    row("checkpoint interval", R"({"checkpoint_interval": 1.5})", "checkpoint_interval", "integer");
    row("seed negative", R"({"seed": -1})", "seed", "[0, 2^64)");
    row("threads", R"({"threads_per_rank": 0})", "threads_per_rank", "[1, 1024]");
    row("negative processors", R"({"processors": -1})", "processors", "[0, 1048576]");
    row("device", R"({"device": "tpu"})", "device", "cpu or cuda");
    row("output dir", R"({"output": {"dir": false}})", "output.dir", "string");
}

void TestRunConfig::badConfig()
{
    QFETCH(QString, json);
    QFETCH(QString, field);
    QFETCH(QString, reason);
    try {
        parseRunConfigJson(json.toStdString(), "run.json");
        QFAIL("no InputError");
    } catch (const InputError& error) {
        QCOMPARE(QString::fromStdString(error.source()), QStringLiteral("run.json"));
        QCOMPARE(QString::fromStdString(error.field()), field);
        QVERIFY2(QString::fromStdString(error.reason()).contains(reason), error.what());
    }
}

// Messages reach the terminal and the studio (QString::fromUtf8): found by fuzzing, both cases
// once put invalid UTF-8 into them.
void TestRunConfig::messagesAreValidUtf8_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("reason"); // a part of the message

    // nlohmann's parse error quotes the ill-formed byte it last read.
    QTest::newRow("ill-formed byte in a string")
        << QByteArray("{\"output\": {\"dir\": \"\xff\"}}") << QString() << QStringLiteral("\\xFF");
    // The offending value is cut to 40 bytes; here byte 37 is inside an "é".
    QByteArray longText = "{\"optimizer\": {\"lr\": \"x";
    for (int i = 0; i < 30; ++i)
        longText += "\xc3\xa9";
    longText += "\"}}";
    QTest::newRow("long multibyte value cut") << longText << QStringLiteral("optimizer.lr") << QStringLiteral("...");
}

void TestRunConfig::messagesAreValidUtf8()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, field);
    QFETCH(QString, reason);
    try {
        parseRunConfigJson(json.toStdString(), "run.json");
        QFAIL("no InputError");
    } catch (const InputError& error) {
        const QByteArray message(error.what());
        // Ill-formed UTF-8 would decode to U+FFFD and not encode back to the same bytes.
        QCOMPARE(QString::fromUtf8(message).toUtf8(), message);
        QCOMPARE(QString::fromStdString(error.field()), field);
        QVERIFY2(QString::fromUtf8(message).contains(reason), error.what());
    }
}

void TestRunConfig::validateAfterOverride()
{
    RunConfig config;
    config.bounds.maxFreeze = 1.5; // as a --max-freeze flag might set it
    QVERIFY_THROWS_EXCEPTION(InputError, validateRunConfig(config, "--max-freeze"));
    config.bounds.maxFreeze = 0.5;
    config.schedule.ranks = 3; // the batch splits into microbatches, whatever the ranks
    validateRunConfig(config);
    config.schedule.microbatches = 5;
    try {
        validateRunConfig(config, "cli");
        QFAIL("no InputError");
    } catch (const InputError& error) {
        QCOMPARE(bytes(error.field()), QByteArray("data.batch_size"));
    }
}

// What a run reads as it starts: a corpus that is not a readable file, or an init_from without a
// checkpoint, is refused naming the config and the key; the shipped corpus and a folder with a
// checkpoint pass.
void TestRunConfig::runInputsCheckedBeforeTheRun()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    // The key and the reason of the refusal; the source too, which must be the config's name.
    const auto refusal = [](const RunConfig& config) -> std::pair<std::string, std::string> {
        try {
            checkRunInputs(config, "my.json");
        } catch (const InputError& error) {
            return { error.source() == "my.json" ? error.field() : "source " + error.source(), error.reason() };
        }
        return {};
    };
    RunConfig config;
    config.data.path = std::string(TFREEZE_RESOURCES_DIR) + "/corpus/kjv.txt";
    QCOMPARE(refusal(config).first, std::string());
    config.data.path = dir.filePath(QStringLiteral("missing.txt")).toStdString();
    QCOMPARE(refusal(config), std::make_pair(std::string("data.path"), config.data.path + ": no such file"));
    config.data.path = dir.path().toStdString();
    QCOMPARE(
        refusal(config), std::make_pair(std::string("data.path"), config.data.path + ": not a file (a text corpus)"));
    config.data.kind = DataKind::Sort; // generated in process: the path is not read
    QCOMPARE(refusal(config).first, std::string());

    config.initFrom = dir.path().toStdString();
    QCOMPARE(refusal(config).first, std::string("init_from"));
    QVERIFY(refusal(config).second.find("no checkpoint in " + config.initFrom) == 0);
    QFile manifest(dir.filePath(QStringLiteral("checkpoint.json")));
    QVERIFY(manifest.open(QIODevice::WriteOnly));
    manifest.close();
    QCOMPARE(refusal(config).first, std::string());
}

// What the planner's processor-sharing model gets: a count below the ranks as given, nothing
// when every rank has a processor; automatic on the CPU from the cores this process may use.
void TestRunConfig::sharedProcessorsOfConfig()
{
    RunConfig config; // 4 ranks
    config.processors = 2;
    QCOMPARE(sharedProcessors(config), 2);
    config.processors = 4;
    QCOMPARE(sharedProcessors(config), 0);
    config.device = DeviceKind::Cuda;
    config.processors = 1;
    QCOMPARE(sharedProcessors(config), 1);
    config.processors = 0;
    QCOMPARE(sharedProcessors(config), 0); // ranks on a GPU are not modelled unless said

    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    QCOMPARE(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
    const int cores = CPU_COUNT(&allowed);
    config.device = DeviceKind::Cpu;
    for (int threads : { 1, 2 }) {
        for (int ranks : { 2, 4, 64 }) {
            config.threadsPerRank = threads;
            config.schedule.ranks = ranks;
            const int expected = std::max(1, cores / threads) < ranks ? std::max(1, cores / threads) : 0;
            QCOMPARE(sharedProcessors(config), expected);
        }
    }
}

// Stage 0 is planned whole where its tensors freeze in an order that is not front to back: the
// weighted draw (timelyfreeze, and what a plan applied to any other run uses) and APF's order;
// AutoFreeze's order and the prefix draw freeze a prefix, whose cost the plan's line follows.
void TestRunConfig::allOrNothingStagesOfConfig_data()
{
    QTest::addColumn<QString>("freezer");
    QTest::addColumn<QString>("draw");
    QTest::addColumn<bool>("stageZeroWhole");
    const std::pair<const char*, bool> freezers[] = { { "timelyfreeze", true }, { "timely+apf", true },
        { "timely+autofreeze", false }, { "none", true }, { "apf", true }, { "autofreeze", true } };
    for (const auto& [freezer, whole] : freezers) {
        QTest::addRow("%s, weighted", freezer) << QString::fromLatin1(freezer) << QStringLiteral("weighted") << whole;
        QTest::addRow("%s, prefix", freezer) << QString::fromLatin1(freezer) << QStringLiteral("prefix") << false;
    }
}

void TestRunConfig::allOrNothingStagesOfConfig()
{
    QFETCH(QString, freezer);
    QFETCH(QString, draw);
    QFETCH(bool, stageZeroWhole);
    const std::string text = R"({"freezer": {"name": ")" + freezer.toStdString() + R"(", "first_stage_draw": ")"
        + draw.toStdString() + R"("}})";
    const RunConfig config = parseRunConfigJson(text);
    QCOMPARE(allOrNothingStages(config), stageZeroWhole ? std::vector<int> { 0 } : std::vector<int> {});
}

QTEST_APPLESS_MAIN(TestRunConfig)
#include "tst_runconfig.moc"
