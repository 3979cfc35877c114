#include "core/engine/run_config.h"

#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"

#include <nlohmann/json.hpp>

#include <sched.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>

namespace tfreeze {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr const char* kFormat = "tfreeze-run-config/1";

// The shortest text that reads back as `value`, without nlohmann's ".0" on whole numbers.
std::string numberText(double value)
{
    if (std::floor(value) == value && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    return Json(value).dump();
}

std::string joinPath(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string shortDump(const Json& value)
{
    std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (text.size() > 40) {
        // Cut on a character boundary (found by fuzzing: a cut inside "é" left invalid UTF-8).
        std::size_t cut = 37;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U)
            --cut;
        text.resize(cut);
        text += "...";
    }
    return text;
}

// Reads the members of one JSON object, each at most once, and rejects the ones nobody read: a
// misspelt key ("microbatch") must not silently keep a default.
class ObjectReader {
public:
    ObjectReader(const Json& object, std::string path, const std::string& source)
        : m_object(object)
        , m_path(std::move(path))
        , m_source(source)
    {
        if (!object.is_object())
            throw InputError(m_source, m_path, "must be an object (got " + shortDump(object) + ")");
    }

    const std::string& path() const { return m_path; }
    const std::string& source() const { return m_source; }
    std::string memberPath(const char* key) const { return joinPath(m_path, key); }

    const Json* take(const char* key)
    {
        m_known.insert(key);
        const auto it = m_object.find(key);
        return it == m_object.end() ? nullptr : &*it;
    }

    void integer(const char* key, int& value, long long minimum, long long maximum)
    {
        std::int64_t wide = value;
        integer64(key, wide, minimum, maximum);
        value = static_cast<int>(wide);
    }

    void integer64(const char* key, std::int64_t& value, long long minimum, long long maximum)
    {
        if (const Json* member = take(key))
            value = requireInteger(*member, memberPath(key), minimum, maximum);
    }

    // lowOpen/highOpen: the bound itself is not allowed.
    void number(const char* key, double& value, double low, double high, bool lowOpen = false, bool highOpen = false)
    {
        const Json* member = take(key);
        if (!member)
            return;
        value = requireNumber(*member, memberPath(key), low, high, lowOpen, highOpen);
    }

    void text(const char* key, std::string& value)
    {
        if (const Json* member = take(key))
            value = requireString(*member, memberPath(key));
    }

    std::string requireString(const Json& value, const std::string& field) const
    {
        if (!value.is_string())
            throw InputError(m_source, field, "must be a string (got " + shortDump(value) + ")");
        return value.get<std::string>();
    }

    std::int64_t requireInteger(const Json& value, const std::string& field, long long minimum, long long maximum) const
    {
        const std::string range = "an integer in [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "]";
        long double number = 0;
        if (value.is_number_unsigned())
            number = static_cast<long double>(value.get<std::uint64_t>());
        else if (value.is_number_integer())
            number = static_cast<long double>(value.get<std::int64_t>());
        else if (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>())
            number = value.get<double>(); // 4.0: what some writers emit for an integer
        else
            throw InputError(m_source, field, "must be " + range + " (got " + shortDump(value) + ")");
        if (number < minimum || number > maximum)
            throw InputError(m_source, field, "must be " + range + " (got " + shortDump(value) + ")");
        return static_cast<std::int64_t>(number);
    }

    double requireNumber(
        const Json& value, const std::string& field, double low, double high, bool lowOpen, bool highOpen) const
    {
        const std::string range = std::string(lowOpen ? "(" : "[") + numberText(low) + ", "
            + (std::isinf(high) ? std::string("∞") : numberText(high)) + (highOpen || std::isinf(high) ? ")" : "]");
        if (!value.is_number())
            throw InputError(m_source, field, "must be a number in " + range + " (got " + shortDump(value) + ")");
        const double number = value.get<double>();
        const bool aboveLow = lowOpen ? number > low : number >= low;
        const bool belowHigh = highOpen ? number < high : number <= high;
        if (!(aboveLow && belowHigh) || !std::isfinite(number))
            throw InputError(m_source, field, "must be a number in " + range + " (got " + shortDump(value) + ")");
        return number;
    }

    // Throws for the first member that no take() asked for, listing the accepted keys.
    void finish() const
    {
        for (auto it = m_object.begin(); it != m_object.end(); ++it) {
            if (m_known.count(it.key()) != 0)
                continue;
            std::string accepted;
            for (const std::string& key : m_known)
                accepted += (accepted.empty() ? "" : ", ") + key;
            // An empty key is spelt "" so that the field is never empty (found by fuzzing).
            const std::string key = it.key().empty() ? std::string("\"\"") : it.key();
            throw InputError(m_source, joinPath(m_path, key), "unknown key (accepted here: " + accepted + ")");
        }
    }

private:
    const Json& m_object;
    std::string m_path;
    const std::string& m_source;
    std::set<std::string> m_known;
};

constexpr long long kIntMax = std::numeric_limits<int>::max();

void readModel(ObjectReader reader, ModelConfig& model)
{
    reader.integer("vocabulary", model.vocabulary, 256, 1 << 20);
    reader.integer("width", model.width, 8, 1 << 16);
    reader.integer("blocks", model.blocks, 1, 4096);
    reader.integer("heads", model.heads, 1, 1024);
    reader.integer("sequence", model.sequence, 2, 1 << 20);
    reader.integer("mlp_hidden", model.mlpHidden, 0, 1 << 20);
    reader.number("rope_base", model.ropeBase, 1.0, 1e12, true);
    reader.number("norm_eps", model.normEpsilon, 0.0, 1.0, true, true);
    reader.finish();
}

void readData(ObjectReader reader, DataConfig& data)
{
    if (const Json* kind = reader.take("kind"))
        data.kind = parseDataKind(reader.requireString(*kind, "data.kind"), reader.source(), "data.kind");
    reader.text("path", data.path);
    reader.number("validation_fraction", data.validationFraction, 0.0, 1.0, true, true);
    reader.integer("batch_size", data.batchSize, 1, 1 << 20);
    reader.integer("sort_length", data.sortLength, 2, 1000);
    reader.integer("add_digits", data.addDigits, 1, 18);
    reader.integer("held_out_examples", data.heldOutExamples, 1, 1000000);
    reader.finish();
}

void readSchedule(ObjectReader reader, ScheduleShape& schedule)
{
    if (const Json* kind = reader.take("kind")) {
        schedule.kind
            = parseScheduleKind(reader.requireString(*kind, "schedule.kind"), reader.source(), "schedule.kind");
        if (schedule.kind == ScheduleKind::Custom)
            throw InputError(reader.source(), "schedule.kind",
                "a Custom schedule comes from a profile file; a run needs GPipe, 1F1B, Interleaved1F1B, ZBH1 or ZBV");
    }
    reader.integer("ranks", schedule.ranks, 1, 1024);
    reader.integer("microbatches", schedule.microbatches, 1, 1 << 16);
    reader.integer("stages_per_rank", schedule.stagesPerRank, 1, 64);
    reader.finish();
}

void readOptimizer(ObjectReader reader, OptimizerConfig& optimizer)
{
    reader.number("lr", optimizer.lr, 0.0, 10.0, true);
    reader.number("beta1", optimizer.beta1, 0.0, 1.0, false, true);
    reader.number("beta2", optimizer.beta2, 0.0, 1.0, false, true);
    reader.number("eps", optimizer.epsilon, 0.0, 1.0, true, true);
    reader.number("weight_decay", optimizer.weightDecay, 0.0, 10.0);
    reader.integer("warmup_steps", optimizer.warmupSteps, 0, kIntMax);
    if (const Json* decay = reader.take("decay")) {
        const std::string name = reader.requireString(*decay, "optimizer.decay");
        if (name == "cosine")
            optimizer.decay = LearningRateDecay::Cosine;
        else if (name == "constant")
            optimizer.decay = LearningRateDecay::Constant;
        else
            throw InputError(reader.source(), "optimizer.decay",
                "unknown learning rate decay \"" + name + "\" (expected cosine or constant)");
    }
    reader.number("min_lr_ratio", optimizer.minLrRatio, 0.0, 1.0);
    reader.number("grad_clip", optimizer.gradClip, 0.0, std::numeric_limits<double>::infinity());
    reader.finish();
}

void readFreezer(ObjectReader reader, FreezerConfig& freezer)
{
    if (const Json* name = reader.take("name"))
        freezer.kind = parseFreezerKind(reader.requireString(*name, "freezer.name"), reader.source(), "freezer.name");
    reader.integer("stability_check_freq", freezer.stabilityCheckFreq, 1, kIntMax);
    if (const Json* draw = reader.take("first_stage_draw")) {
        const std::string name = reader.requireString(*draw, "freezer.first_stage_draw");
        if (name == firstStageDrawName(FirstStageDraw::Weighted))
            freezer.firstStageDraw = FirstStageDraw::Weighted;
        else if (name == firstStageDrawName(FirstStageDraw::Prefix))
            freezer.firstStageDraw = FirstStageDraw::Prefix;
        else
            throw InputError(reader.source(), "freezer.first_stage_draw",
                "unknown first stage draw \"" + name + "\" (expected weighted or prefix)");
    }
    if (const Json* timely = reader.take("timely")) {
        ObjectReader sub(*timely, "freezer.timely", reader.source());
        sub.integer("warmup_steps", freezer.timely.warmupSteps, 0, kIntMax);
        sub.integer("monitor_max_steps", freezer.timely.monitorMaxSteps, 1, kIntMax);
        sub.integer("monitor_min_steps", freezer.timely.monitorMinSteps, 1, kIntMax);
        sub.integer("ramp_steps", freezer.timely.rampSteps, 0, kIntMax);
        sub.finish();
    }
    if (const Json* apf = reader.take("apf")) {
        ObjectReader sub(*apf, "freezer.apf", reader.source());
        sub.number("threshold", freezer.apf.threshold, 0.0, 1.0, true);
        sub.integer("window", freezer.apf.window, 1, kIntMax);
        sub.number("alpha", freezer.apf.alpha, 0.0, 1.0, false, true);
        sub.finish();
    }
    if (const Json* autoFreeze = reader.take("autofreeze")) {
        ObjectReader sub(*autoFreeze, "freezer.autofreeze", reader.source());
        sub.integer("interval", freezer.autoFreeze.interval, 1, kIntMax);
        sub.number("percentile", freezer.autoFreeze.percentile, 0.0, 100.0, true, true);
        sub.finish();
    }
    reader.number("replan_drift", freezer.replanDrift, 0.0, 100.0);
    reader.finish();
}

void readBounds(ObjectReader reader, BoundsConfig& bounds)
{
    if (const Json* maxFreeze = reader.take("max_freeze")) {
        const std::string field = "bounds.max_freeze";
        if (maxFreeze->is_array()) {
            bounds.maxFreezePerStage.clear();
            for (std::size_t i = 0; i < maxFreeze->size(); ++i)
                bounds.maxFreezePerStage.push_back(reader.requireNumber(
                    (*maxFreeze)[i], field + "[" + std::to_string(i) + "]", 0.0, 1.0, false, false));
        } else {
            bounds.maxFreeze = reader.requireNumber(*maxFreeze, field, 0.0, 1.0, false, false);
            bounds.maxFreezePerStage.clear();
        }
    }
    reader.finish();
}

void readOutput(ObjectReader reader, OutputConfig& output)
{
    reader.text("dir", output.dir);
    reader.text("db", output.db);
    reader.finish();
}

std::vector<int> readStageDevices(const ObjectReader& reader, const Json& member, const std::string& source)
{
    if (!member.is_array())
        throw InputError(
            source, "stage_devices", "must be an array of CUDA device indices (got " + shortDump(member) + ")");
    std::vector<int> devices;
    devices.reserve(member.size());
    for (std::size_t i = 0; i < member.size(); ++i)
        devices.push_back(
            static_cast<int>(reader.requireInteger(member[i], "stage_devices[" + std::to_string(i) + "]", 0, 1023)));
    return devices;
}

RunConfig readRoot(const Json& document, const std::string& source)
{
    RunConfig config;
    ObjectReader reader(document, "", source);
    if (const Json* format = reader.take("format")) {
        if (!format->is_string() || format->get<std::string>() != kFormat)
            throw InputError(
                source, "format", std::string("expected \"") + kFormat + "\" (got " + shortDump(*format) + ")");
    }
    if (const Json* member = reader.take("model"))
        readModel(ObjectReader(*member, "model", source), config.model);
    if (const Json* member = reader.take("data"))
        readData(ObjectReader(*member, "data", source), config.data);
    if (const Json* member = reader.take("schedule"))
        readSchedule(ObjectReader(*member, "schedule", source), config.schedule);
    if (const Json* member = reader.take("partition")) {
        if (!member->is_array())
            throw InputError(source, "partition", "must be an array of block counts (got " + shortDump(*member) + ")");
        config.partition.clear();
        for (std::size_t i = 0; i < member->size(); ++i)
            config.partition.push_back(
                static_cast<int>(reader.requireInteger((*member)[i], "partition[" + std::to_string(i) + "]", 1, 4096)));
    }
    if (const Json* member = reader.take("optimizer"))
        readOptimizer(ObjectReader(*member, "optimizer", source), config.optimizer);
    if (const Json* member = reader.take("freezer"))
        readFreezer(ObjectReader(*member, "freezer", source), config.freezer);
    if (const Json* member = reader.take("bounds"))
        readBounds(ObjectReader(*member, "bounds", source), config.bounds);
    reader.integer64("steps", config.steps, 1, 1000000000000LL);
    reader.text("init_from", config.initFrom);
    reader.integer("eval_interval", config.evalInterval, 0, kIntMax);
    reader.integer("eval_batches", config.evalBatches, 1, 1000000);
    reader.integer("checkpoint_interval", config.checkpointInterval, 0, kIntMax);
    if (const Json* seed = reader.take("seed")) {
        if (!seed->is_number_integer() || (!seed->is_number_unsigned() && seed->get<std::int64_t>() < 0))
            throw InputError(source, "seed", "must be an integer in [0, 2^64) (got " + shortDump(*seed) + ")");
        config.seed = seed->get<std::uint64_t>();
    }
    reader.integer("threads_per_rank", config.threadsPerRank, 1, 1024);
    reader.integer("processors", config.processors, 0, 1 << 20);
    if (const Json* device = reader.take("device"))
        config.device = parseDeviceKind(reader.requireString(*device, "device"), source, "device");
    if (const Json* member = reader.take("stage_devices"))
        config.stageDevices = readStageDevices(reader, *member, source);
    if (const Json* member = reader.take("output"))
        readOutput(ObjectReader(*member, "output", source), config.output);
    reader.finish();
    validateRunConfig(config, source);
    return config;
}

// The number of distinct prompts a synthetic task can draw (in double: it may exceed 2^64).
double promptCount(const DataConfig& data)
{
    if (data.kind == DataKind::Sort) {
        double count = 0;
        for (int length = 2; length <= data.sortLength; ++length)
            count += std::pow(10.0, length);
        return count;
    }
    return std::pow(10.0, 2.0 * data.addDigits);
}

// Tokens of the longest example, terminator included: "d..d=d..d\n" or "a+b=c\n".
int longestExample(const DataConfig& data)
{
    return data.kind == DataKind::Sort ? 2 * data.sortLength + 2 : 3 * data.addDigits + 4;
}

template <typename Kind, std::size_t N>
Kind parseName(const std::string& text, const std::array<Kind, N>& kinds, const char* (*name)(Kind), const char* what,
    const std::string& source, const std::string& field)
{
    std::string accepted;
    for (std::size_t i = 0; i < N; ++i) {
        if (text == name(kinds[i]))
            return kinds[i];
        accepted += std::string(i == 0 ? "" : (i + 1 == N ? " or " : ", ")) + name(kinds[i]);
    }
    throw InputError(source, field, "unknown " + std::string(what) + " \"" + text + "\" (expected " + accepted + ")");
}

} // namespace

const char* dataKindName(DataKind kind)
{
    switch (kind) {
    case DataKind::Text:
        return "text";
    case DataKind::Sort:
        return "sort";
    case DataKind::Add:
        return "add";
    }
    return "?";
}

const char* learningRateDecayName(LearningRateDecay decay)
{
    return decay == LearningRateDecay::Cosine ? "cosine" : "constant";
}

const char* freezerKindName(FreezerKind kind)
{
    switch (kind) {
    case FreezerKind::None:
        return "none";
    case FreezerKind::TimelyFreeze:
        return "timelyfreeze";
    case FreezerKind::Apf:
        return "apf";
    case FreezerKind::AutoFreeze:
        return "autofreeze";
    case FreezerKind::TimelyApf:
        return "timely+apf";
    case FreezerKind::TimelyAutoFreeze:
        return "timely+autofreeze";
    }
    return "?";
}

const char* deviceKindName(DeviceKind kind) { return kind == DeviceKind::Cpu ? "cpu" : "cuda"; }

DataKind parseDataKind(const std::string& text, const std::string& source, const std::string& field)
{
    static constexpr std::array kinds { DataKind::Text, DataKind::Sort, DataKind::Add };
    return parseName(text, kinds, dataKindName, "data kind", source, field);
}

FreezerKind parseFreezerKind(const std::string& text, const std::string& source, const std::string& field)
{
    static constexpr std::array kinds { FreezerKind::None, FreezerKind::TimelyFreeze, FreezerKind::Apf,
        FreezerKind::AutoFreeze, FreezerKind::TimelyApf, FreezerKind::TimelyAutoFreeze };
    return parseName(text, kinds, freezerKindName, "freezer", source, field);
}

DeviceKind parseDeviceKind(const std::string& text, const std::string& source, const std::string& field)
{
    static constexpr std::array kinds { DeviceKind::Cpu, DeviceKind::Cuda };
    return parseName(text, kinds, deviceKindName, "device", source, field);
}

namespace {

void validateModelAndSchedule(const RunConfig& config, const std::string& source)
{
    const ModelConfig& model = config.model;
    if (model.width % model.heads != 0)
        throw InputError(source, "model.heads",
            "must divide model.width (got " + std::to_string(model.heads) + " heads, width "
                + std::to_string(model.width) + ")");
    if (model.headDim() % 2 != 0)
        throw InputError(source, "model.heads",
            "width / heads must be even for the rotary embedding (got " + std::to_string(model.headDim()) + ")");

    try {
        validateScheduleShape(config.schedule);
    } catch (const InputError& error) {
        throw InputError(source, joinPath("schedule", error.field()), error.reason());
    }
    const ScheduleShape& schedule = config.schedule;
    const int stages = schedule.stageCount();
    if (stages > model.blocks)
        throw InputError(source, schedule.stagesPerRank > 1 ? "schedule.stages_per_rank" : "schedule.ranks",
            std::to_string(stages) + " pipeline stages need at least as many model.blocks (got "
                + std::to_string(model.blocks) + ")");
}

void validateData(const RunConfig& config, const std::string& source)
{
    const ModelConfig& model = config.model;
    const ScheduleShape& schedule = config.schedule;
    if (config.data.batchSize % schedule.microbatches != 0)
        throw InputError(source, "data.batch_size",
            "must be a multiple of schedule.microbatches (got " + std::to_string(config.data.batchSize) + " and "
                + std::to_string(schedule.microbatches) + ")");
    if (config.data.kind != DataKind::Text) {
        const char* key = config.data.kind == DataKind::Sort ? "data.sort_length" : "data.add_digits";
        if (longestExample(config.data) > model.sequence + 1)
            throw InputError(source, key,
                "the longest example has " + std::to_string(longestExample(config.data))
                    + " tokens, more than model.sequence + 1 = " + std::to_string(model.sequence + 1));
        // Training draws avoid the held-out prompts; leave most prompts to train on.
        if (2.0 * config.data.heldOutExamples > promptCount(config.data))
            throw InputError(source, "data.held_out_examples",
                "must be at most half of the " + numberText(promptCount(config.data)) + " distinct prompts of " + key
                    + " = "
                    + std::to_string(
                        config.data.kind == DataKind::Sort ? config.data.sortLength : config.data.addDigits));
    }
}

void validatePartitionAndBounds(const RunConfig& config, const std::string& source)
{
    const ModelConfig& model = config.model;
    const int stages = config.schedule.stageCount();
    if (!config.partition.empty()) {
        if (static_cast<int>(config.partition.size()) != stages)
            throw InputError(source, "partition",
                "needs one block count per stage: " + std::to_string(stages) + " (got "
                    + std::to_string(config.partition.size()) + ")");
        int sum = 0;
        for (std::size_t i = 0; i < config.partition.size(); ++i) {
            if (config.partition[i] < 1)
                throw InputError(source, "partition[" + std::to_string(i) + "]",
                    "every stage needs at least one block (got " + std::to_string(config.partition[i]) + ")");
            sum += config.partition[i];
        }
        if (sum != model.blocks)
            throw InputError(source, "partition",
                "block counts must add up to model.blocks = " + std::to_string(model.blocks) + " (got "
                    + std::to_string(sum) + ")");
    }

    const std::vector<double>& perStage = config.bounds.maxFreezePerStage;
    if (!perStage.empty() && static_cast<int>(perStage.size()) != stages)
        throw InputError(source, "bounds.max_freeze",
            "needs one value per stage: " + std::to_string(stages) + " (got " + std::to_string(perStage.size()) + ")");
    for (std::size_t i = 0; i < perStage.size(); ++i)
        if (!(perStage[i] >= 0.0 && perStage[i] <= 1.0))
            throw InputError(source, "bounds.max_freeze[" + std::to_string(i) + "]",
                "must be a number in [0, 1] (got " + numberText(perStage[i]) + ")");
    if (!(config.bounds.maxFreeze >= 0.0 && config.bounds.maxFreeze <= 1.0))
        throw InputError(source, "bounds.max_freeze",
            "must be a number in [0, 1] (got " + numberText(config.bounds.maxFreeze) + ")");
}

} // namespace

std::optional<std::string> missingInitCheckpoint(const std::string& dir)
{
    namespace fs = std::filesystem;
    std::error_code error; // an unreadable folder is as good as an empty one here
    if (fs::exists(fs::path(dir) / "checkpoint.json", error)
        || fs::exists(fs::path(dir) / "checkpoint" / "checkpoint.json", error))
        return std::nullopt;
    return "no checkpoint in " + dir
        + " (neither checkpoint.json nor checkpoint/checkpoint.json); a run with checkpoint_interval > 0 writes one "
          "in its output folder, as `tfreeze train --config resources/configs/pretrain.json` does for the fine-tuning "
          "preset";
}

void checkRunInputs(const RunConfig& config, const std::string& source)
{
    namespace fs = std::filesystem;
    if (config.data.kind == DataKind::Text && !config.data.path.empty()) {
        std::error_code error;
        const fs::file_status status = fs::status(config.data.path, error);
        if (!fs::exists(status))
            throw InputError(source, "data.path", config.data.path + ": no such file");
        if (!fs::is_regular_file(status))
            throw InputError(source, "data.path", config.data.path + ": not a file (a text corpus)");
        if (!std::ifstream(config.data.path))
            throw InputError(source, "data.path", config.data.path + ": cannot be read");
    }
    if (!config.initFrom.empty()) {
        if (const std::optional<std::string> missing = missingInitCheckpoint(config.initFrom))
            throw InputError(source, "init_from", *missing);
    }
}

void validateRunConfig(const RunConfig& config, const std::string& source)
{
    validateModelAndSchedule(config, source);
    validateData(config, source);
    validatePartitionAndBounds(config, source);
    if (!config.stageDevices.empty()) {
        if (config.device != DeviceKind::Cuda)
            throw InputError(source, "stage_devices", R"(places stages on CUDA devices: it needs "device": "cuda")");
        const int stages = config.schedule.stageCount();
        if (static_cast<int>(config.stageDevices.size()) != stages)
            throw InputError(source, "stage_devices",
                "needs one device index per stage: " + std::to_string(stages) + " (got "
                    + std::to_string(config.stageDevices.size()) + ")");
    }
    if (config.steps < 1)
        throw InputError(source, "steps", "must be at least 1 (got " + std::to_string(config.steps) + ")");
}

RunConfig parseRunConfigJson(const std::string& text, const std::string& source)
{
    Json document;
    try {
        document = Json::parse(text);
    } catch (const Json::exception& error) {
        throw InputError(source, "", "not valid JSON: " + jsonErrorText(error));
    }
    return readRoot(document, source);
}

RunConfig readRunConfigFile(const std::string& path)
{
    RunConfig config = parseRunConfigJson(readTextFile(path), path);
    // The inputs (the data file, the checkpoint to start from) are relative to the config, so that
    // a shipped config finds the shipped corpus from whatever folder the tool runs in; outputs stay
    // relative to the working folder, like --out.
    for (std::string* input : { &config.data.path, &config.initFrom })
        if (!input->empty() && std::filesystem::path(*input).is_relative())
            *input = (std::filesystem::path(path).parent_path() / *input).lexically_normal().string();
    return config;
}

void makeInputPathsAbsolute(RunConfig& config)
{
    for (std::string* input : { &config.data.path, &config.initFrom })
        if (!input->empty())
            *input = std::filesystem::absolute(*input).lexically_normal().string();
}

std::string writeRunConfigJson(const RunConfig& config)
{
    const ModelConfig& m = config.model;
    const DataConfig& d = config.data;
    const OptimizerConfig& o = config.optimizer;
    const FreezerConfig& f = config.freezer;
    OrderedJson doc;
    doc["format"] = kFormat;
    doc["model"] = { { "vocabulary", m.vocabulary }, { "width", m.width }, { "blocks", m.blocks }, { "heads", m.heads },
        { "sequence", m.sequence }, { "mlp_hidden", m.mlpHidden }, { "rope_base", m.ropeBase },
        { "norm_eps", m.normEpsilon } };
    doc["data"] = { { "kind", dataKindName(d.kind) }, { "path", d.path },
        { "validation_fraction", d.validationFraction }, { "batch_size", d.batchSize }, { "sort_length", d.sortLength },
        { "add_digits", d.addDigits }, { "held_out_examples", d.heldOutExamples } };
    doc["schedule"] = { { "kind", scheduleKindName(config.schedule.kind) }, { "ranks", config.schedule.ranks },
        { "microbatches", config.schedule.microbatches }, { "stages_per_rank", config.schedule.stagesPerRank } };
    doc["partition"] = config.partition;
    doc["optimizer"] = { { "lr", o.lr }, { "beta1", o.beta1 }, { "beta2", o.beta2 }, { "eps", o.epsilon },
        { "weight_decay", o.weightDecay }, { "warmup_steps", o.warmupSteps },
        { "decay", learningRateDecayName(o.decay) }, { "min_lr_ratio", o.minLrRatio }, { "grad_clip", o.gradClip } };
    doc["freezer"] = { { "name", freezerKindName(f.kind) }, { "stability_check_freq", f.stabilityCheckFreq },
        { "first_stage_draw", firstStageDrawName(f.firstStageDraw) },
        { "timely",
            { { "warmup_steps", f.timely.warmupSteps }, { "monitor_max_steps", f.timely.monitorMaxSteps },
                { "monitor_min_steps", f.timely.monitorMinSteps }, { "ramp_steps", f.timely.rampSteps } } },
        { "apf", { { "threshold", f.apf.threshold }, { "window", f.apf.window }, { "alpha", f.apf.alpha } } },
        { "autofreeze", { { "interval", f.autoFreeze.interval }, { "percentile", f.autoFreeze.percentile } } },
        { "replan_drift", f.replanDrift } };
    if (config.bounds.maxFreezePerStage.empty())
        doc["bounds"] = { { "max_freeze", config.bounds.maxFreeze } };
    else
        doc["bounds"] = { { "max_freeze", config.bounds.maxFreezePerStage } };
    doc["steps"] = config.steps;
    doc["init_from"] = config.initFrom;
    doc["eval_interval"] = config.evalInterval;
    doc["eval_batches"] = config.evalBatches;
    doc["checkpoint_interval"] = config.checkpointInterval;
    doc["seed"] = config.seed;
    doc["threads_per_rank"] = config.threadsPerRank;
    doc["processors"] = config.processors;
    doc["device"] = deviceKindName(config.device);
    if (!config.stageDevices.empty())
        doc["stage_devices"] = config.stageDevices;
    doc["output"] = { { "dir", config.output.dir }, { "db", config.output.db } };
    return doc.dump(2) + "\n";
}

std::vector<int> allOrNothingStages(const RunConfig& config)
{
    // timely+autofreeze freezes AutoFreeze's order, front to back: a prefix whatever the draw.
    if (config.freezer.kind == FreezerKind::TimelyAutoFreeze)
        return {};
    if (config.freezer.firstStageDraw == FirstStageDraw::Weighted)
        return { 0 };
    return {};
}

int sharedProcessors(const RunConfig& config)
{
    int processors = config.processors;
    if (processors == 0 && config.device == DeviceKind::Cpu) {
        int cores = 0;
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
            cores = CPU_COUNT(&allowed);
        if (cores <= 0)
            cores = static_cast<int>(std::thread::hardware_concurrency());
        if (cores > 0)
            processors = std::max(1, cores / std::max(1, config.threadsPerRank));
    }
    return processors > 0 && processors < config.schedule.ranks ? processors : 0;
}

void writeRunConfigFile(const RunConfig& config, const std::string& path)
{
    writeTextFile(path, writeRunConfigJson(config));
}

bool operator==(const RunConfig& a, const RunConfig& b)
{
    // Through the writer: every member is written, so equal text is equal configs, and a member
    // added later cannot be forgotten here.
    return writeRunConfigJson(a) == writeRunConfigJson(b);
}

} // namespace tfreeze
