// libFuzzer target for parseRunConfigJson (tfreeze-run-config/1, core/engine/run_config). Invariants:
// - the parser returns a RunConfig or throws InputError whose what() starts with the source name
//   and is valid UTF-8; any other exception type, a crash or a sanitizer report is a finding;
// - every error of a document that is valid JSON names a field, and that field exists: it is a key
//   path of the config schema (the paths writeRunConfigJson writes) or of the document itself (an
//   unknown key), array indices aside; only a root that is not an object has no field to name;
// - an accepted config passes validateRunConfig, and writeRunConfigJson writes it as a document
//   that parses back to an equal config: member by member, and by operator== (which compares
//   through the writer).

#include "fuzz_common.h"

#include "core/engine/run_config.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

using namespace tfreeze;

namespace {

using Json = nlohmann::json;

// "freezer.timely.ramp_steps", "bounds.max_freeze[2]" → { "freezer", "timely", "ramp_steps" },
// { "bounds", "max_freeze" }: keys only, indices dropped. Keys may hold '.' themselves (an
// unknown key "a.b"): resolve() below walks every split, so splitting on '.' loses nothing.
std::string withoutIndices(const std::string& field)
{
    std::string path;
    std::size_t i = 0;
    while (i < field.size()) {
        if (field[i] == '[') {
            const std::size_t close = field.find(']', i);
            if (close != std::string::npos && close > i + 1 && field.find_first_not_of("0123456789", i + 1) == close) {
                i = close + 1;
                continue;
            }
        }
        path += field[i++];
    }
    return path;
}

// Whether `path` (keys joined by '.') names a member of `node`, trying every way to split it at
// dots (JSON keys may contain dots). An empty key is spelt "" in a field.
bool resolves(const Json& node, const std::string& path)
{
    if (!node.is_object())
        return false;
    const auto member = [&](const std::string& key) {
        const auto it = node.find(key);
        return it == node.end() && key == "\"\"" ? node.find(std::string()) : it;
    };
    for (std::size_t end = path.find('.'); end != std::string::npos; end = path.find('.', end + 1)) {
        const auto it = member(path.substr(0, end));
        if (it != node.end() && resolves(*it, path.substr(end + 1)))
            return true;
    }
    return member(path) != node.end();
}

void checkErrorNamesField(const InputError& error, const std::string& text)
{
    if (!Json::accept(text))
        return; // a syntax error points at a byte, not at a field
    const Json document = Json::parse(text);
    if (!document.is_object()) {
        if (!error.field().empty())
            fuzz::finding("a root that is not an object reported a field", error.what());
        return;
    }
    if (error.field().empty())
        fuzz::finding("an error of a JSON object names no field", error.what());
    static const Json schema = Json::parse(writeRunConfigJson(RunConfig {}));
    const std::string path = withoutIndices(error.field());
    // An unknown key may itself hold "[2]" (`schedule.,v1mv[2]vrank`, found by this target): then
    // the field, indices kept, names the document's key verbatim. An unknown key is reported before
    // anything inside it, so a field never mixes such a key with a real index.
    if (!resolves(schema, path) && !resolves(document, path) && !resolves(document, error.field()))
        fuzz::finding("an error names a field that is neither in the schema nor in the document", error.what());
}

// Every member, exactly (== on doubles: the parser refuses NaN and infinities).
bool sameMembers(const RunConfig& a, const RunConfig& b)
{
    const ModelConfig& ma = a.model;
    const ModelConfig& mb = b.model;
    const DataConfig& da = a.data;
    const DataConfig& db = b.data;
    const OptimizerConfig& oa = a.optimizer;
    const OptimizerConfig& ob = b.optimizer;
    const FreezerConfig& fa = a.freezer;
    const FreezerConfig& fb = b.freezer;
    return ma.vocabulary == mb.vocabulary && ma.width == mb.width && ma.blocks == mb.blocks && ma.heads == mb.heads
        && ma.sequence == mb.sequence && ma.mlpHidden == mb.mlpHidden && ma.ropeBase == mb.ropeBase
        && ma.normEpsilon == mb.normEpsilon && da.kind == db.kind && da.path == db.path
        && da.validationFraction == db.validationFraction && da.batchSize == db.batchSize
        && da.sortLength == db.sortLength && da.addDigits == db.addDigits && da.heldOutExamples == db.heldOutExamples
        && a.schedule.kind == b.schedule.kind && a.schedule.ranks == b.schedule.ranks
        && a.schedule.microbatches == b.schedule.microbatches && a.schedule.stagesPerRank == b.schedule.stagesPerRank
        && a.partition == b.partition && oa.lr == ob.lr && oa.beta1 == ob.beta1 && oa.beta2 == ob.beta2
        && oa.epsilon == ob.epsilon && oa.weightDecay == ob.weightDecay && oa.warmupSteps == ob.warmupSteps
        && oa.decay == ob.decay && oa.minLrRatio == ob.minLrRatio && oa.gradClip == ob.gradClip && fa.kind == fb.kind
        && fa.stabilityCheckFreq == fb.stabilityCheckFreq && fa.firstStageDraw == fb.firstStageDraw
        && fa.timely.warmupSteps == fb.timely.warmupSteps && fa.timely.monitorMaxSteps == fb.timely.monitorMaxSteps
        && fa.timely.monitorMinSteps == fb.timely.monitorMinSteps && fa.timely.rampSteps == fb.timely.rampSteps
        && fa.apf.threshold == fb.apf.threshold && fa.apf.window == fb.apf.window && fa.apf.alpha == fb.apf.alpha
        && fa.autoFreeze.interval == fb.autoFreeze.interval && fa.autoFreeze.percentile == fb.autoFreeze.percentile
        && fa.replanDrift == fb.replanDrift && a.bounds.maxFreezePerStage == b.bounds.maxFreezePerStage
        && (!a.bounds.maxFreezePerStage.empty() || a.bounds.maxFreeze == b.bounds.maxFreeze) && a.steps == b.steps
        && a.evalInterval == b.evalInterval && a.evalBatches == b.evalBatches
        && a.checkpointInterval == b.checkpointInterval && a.seed == b.seed && a.threadsPerRank == b.threadsPerRank
        && a.processors == b.processors && a.device == b.device && a.stageDevices == b.stageDevices
        && a.output.dir == b.output.dir && a.output.db == b.output.db;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::optional<RunConfig> config;
    try {
        config.emplace(parseRunConfigJson(text, fuzz::kSource));
    } catch (const InputError& error) {
        fuzz::checkInputError(error, fuzz::kSource, "parseRunConfigJson");
        checkErrorNamesField(error, text);
        return 0;
    } catch (const std::exception& error) {
        fuzz::finding("parseRunConfigJson: unexpected exception (not InputError)", error.what());
    } catch (...) {
        fuzz::finding("parseRunConfigJson: unexpected non-std exception");
    }

    try {
        validateRunConfig(*config, fuzz::kSource);
    } catch (const std::exception& error) {
        fuzz::finding("an accepted config fails validateRunConfig", error.what());
    }

    const std::string written = writeRunConfigJson(*config);
    if (!fuzz::validUtf8(written))
        fuzz::finding("writeRunConfigJson wrote invalid UTF-8");
    std::optional<RunConfig> reread;
    try {
        reread.emplace(parseRunConfigJson(written, "round-trip.json"));
    } catch (const std::exception& error) {
        fuzz::finding("a written config does not parse back", std::string(error.what()) + "\n" + written);
    }
    // operator== compares through the writer; member by member does not trust it.
    if (!sameMembers(*config, *reread) || *reread != *config)
        fuzz::finding("a written config parses back to a different config", written);
    return 0;
}
