// The freezers behind Freezer. One translation unit on purpose: each file that includes LibTorch
// costs ~25 s to compile on the 2-core build machine, and these classes are only reached through
// makeFreezer().
#include "core/engine/freezer.h"

#include "core/engine/apf_policy.h"
#include "core/engine/autofreeze_policy.h"
#include "core/engine/freeze_selection.h"
#include "core/engine/timely_freeze_controller.h"
#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/plan/profile_io.h"
#include "core/plan/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace tfreeze {

namespace {

using nlohmann::json;

constexpr const char* kStateFile = "freezer_state.json";
constexpr const char* kApfTensorsFile = "apf_tensors.pt";

std::string statePath(const std::string& dir, const char* file) { return (std::filesystem::path(dir) / file).string(); }

void writeJsonFile(const json& document, const std::string& path) { writeTextFile(path, document.dump() + '\n'); }

json readJsonFile(const std::string& path)
{
    const std::string text = readTextFile(path);
    try {
        return json::parse(text);
    } catch (const json::exception& error) {
        throw InputError(path, "", "not valid JSON: " + jsonErrorText(error));
    }
}

// A member of a checkpoint's state file, with the file and key named when it is missing or of
// the wrong type.
template <typename T> T stateValue(const json& document, const char* key, const std::string& path)
{
    try {
        return document.at(key).get<T>();
    } catch (const json::exception& error) {
        throw InputError(path, key, "missing or malformed: " + jsonErrorText(error));
    }
}

// Per stage, which tensors freeze first. Exact: an action with any ratio > 0 freezes exactly the
// stage's set (APF and AutoFreeze alone). Ranked: it freezes the first round(r·n) of the stage's
// order (the hybrids: the LP says how many, APF or AutoFreeze which). Updated between steps,
// read by the workers during a step.
class RankedFreezeSelector : public FreezeSelector {
public:
    enum class Mode { Exact, Ranked };

    RankedFreezeSelector(Mode mode, std::size_t stageCount)
        : m_mode(mode)
        , m_orders(stageCount)
        , m_exactCounts(stageCount, 0)
    {
    }

    // `order`: every tensor index of the stage, most freezable first; `exactCount`: the size of
    // the frozen set in Exact mode.
    void setStage(int stage, std::vector<int> order, int exactCount)
    {
        const std::lock_guard lock(m_mutex);
        m_orders[static_cast<std::size_t>(stage)] = std::move(order);
        m_exactCounts[static_cast<std::size_t>(stage)] = exactCount;
    }

    std::vector<int> frozenTensors(
        const Action& action, int tensorCount, double ratio, std::int64_t step) const override
    {
        (void)step;
        const std::lock_guard lock(m_mutex);
        const auto stage = static_cast<std::size_t>(action.stage);
        const std::vector<int>& order = m_orders[stage];
        const int count
            = m_mode == Mode::Exact ? m_exactCounts[stage] : FreezeSelection::frozenCount(tensorCount, ratio);
        const auto take = static_cast<std::size_t>(std::clamp(count, 0, static_cast<int>(order.size())));
        std::vector<int> frozen(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(take));
        std::sort(frozen.begin(), frozen.end());
        return frozen;
    }

private:
    Mode m_mode;
    mutable std::mutex m_mutex;
    std::vector<std::vector<int>> m_orders;
    std::vector<int> m_exactCounts;
};

// The freezable tensors of every stage, with their counts.
struct StageTensors {
    std::vector<std::vector<torch::Tensor>> tensors; // per stage

    explicit StageTensors(const std::vector<PipelineStagePtr>& stages)
    {
        for (const auto& stage : stages)
            tensors.push_back(stage->freezableParameters());
    }
    int count(int stage) const { return static_cast<int>(tensors[static_cast<std::size_t>(stage)].size()); }
};

// Per action, the ratio that freezes exactly `frozen[stage]` of the stage's tensors (for the
// runtime, which asks the selector only when the ratio is above 0, and for the telemetry).
std::vector<double> ratiosFromStageCounts(
    const PipelineSchedule& schedule, const StageTensors& tensors, const std::vector<int>& frozen)
{
    std::vector<double> ratios;
    ratios.reserve(schedule.actionCount());
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& action : order) {
            const int n = tensors.count(action.stage);
            ratios.push_back(isFreezable(action.kind) && n > 0
                    ? static_cast<double>(frozen[static_cast<std::size_t>(action.stage)]) / n
                    : 0.0);
        }
    }
    return ratios;
}

// APF's statistics (METHOD.md §7): per tensor, with the update Δ over one check window,
// E ← αE + (1−α)Δ and A ← αA + (1−α)|Δ|; the instability P = Σ|E| / ΣA.
class ApfTracker {
public:
    ApfTracker(const StageTensors& tensors, const ApfConfig& config, FreezerPlacement placement)
        : m_tensors(tensors)
        , m_placement(std::move(placement))
    {
        ApfOptions options;
        options.alpha = config.alpha;
        options.threshold = config.threshold;
        options.checkInterval = config.window;
        std::size_t total = 0;
        for (const auto& stage : m_tensors.tensors) {
            m_offsets.push_back(total);
            total += stage.size();
            for (const torch::Tensor& tensor : stage) {
                const torch::NoGradGuard noGrad;
                m_snapshots.push_back(tensor.detach().clone());
                m_expected.push_back(torch::zeros_like(tensor));
                m_absolute.push_back(torch::zeros_like(tensor));
            }
        }
        m_policy = std::make_unique<ApfPolicy>(total, options);
        m_instability.assign(total, std::numeric_limits<double>::infinity());
    }

    // After the optimizer step of `step`: a check every `window` steps. True when one was made.
    bool endStep(std::int64_t step)
    {
        if (!m_policy->isCheckStep(step + 1))
            return false;
        const torch::NoGradGuard noGrad;
        const double alpha = m_policy->options().alpha;
        std::size_t flat = 0;
        for (std::size_t s = 0; s < m_tensors.tensors.size(); ++s) {
            if (!m_placement.owns(static_cast<int>(s))) {
                flat += m_tensors.tensors[s].size(); // another process measures them
                continue;
            }
            for (const torch::Tensor& tensor : m_tensors.tensors[s]) {
                if (!m_policy->isFrozen(flat)) {
                    const torch::Tensor delta = tensor.detach() - m_snapshots[flat];
                    m_expected[flat].mul_(alpha).add_(delta, 1.0 - alpha);
                    m_absolute[flat].mul_(alpha).add_(delta.abs(), 1.0 - alpha);
                    const double a = m_absolute[flat].sum().item<double>();
                    m_instability[flat] = a > 0.0 ? m_expected[flat].abs().sum().item<double>() / a
                                                  : std::numeric_limits<double>::infinity();
                }
                m_snapshots[flat].copy_(tensor.detach());
                ++flat;
            }
        }
        shareInstability();
        m_policy->check(m_instability);
        return true;
    }

    // Frozen tensors of `stage` first, then the rest from the most to the least stable.
    std::vector<int> order(int stage, int& frozenCount) const
    {
        const std::size_t offset = m_offsets[static_cast<std::size_t>(stage)];
        const int n = m_tensors.count(stage);
        std::vector<int> indices(static_cast<std::size_t>(n));
        std::iota(indices.begin(), indices.end(), 0);
        auto key = [&](int i) {
            const std::size_t flat = offset + static_cast<std::size_t>(i);
            return std::make_pair(m_policy->isFrozen(flat) ? 0 : 1, m_instability[flat]);
        };
        std::stable_sort(indices.begin(), indices.end(), [&](int a, int b) { return key(a) < key(b); });
        frozenCount = 0;
        for (int i = 0; i < n; ++i)
            frozenCount += m_policy->isFrozen(offset + static_cast<std::size_t>(i)) ? 1 : 0;
        return indices;
    }

    json saveState(const std::string& dir) const
    {
        std::vector<torch::Tensor> tensors;
        for (std::size_t i = 0; i < m_snapshots.size(); ++i) {
            tensors.push_back(m_snapshots[i]);
            tensors.push_back(m_expected[i]);
            tensors.push_back(m_absolute[i]);
        }
        torch::save(tensors, statePath(dir, kApfTensorsFile));
        const ApfPolicy::State state = m_policy->state();
        std::vector<double> instability;
        for (double value : m_instability)
            instability.push_back(std::isfinite(value) ? value : -1.0); // JSON has no infinity
        return { { "threshold", state.threshold }, { "checks", state.checks }, { "frozen_until", state.frozenUntil },
            { "period", state.period }, { "instability", instability } };
    }

    void loadState(const json& document, const std::string& dir, const std::string& path)
    {
        ApfPolicy::State state;
        state.threshold = stateValue<double>(document, "threshold", path);
        state.checks = stateValue<long long>(document, "checks", path);
        state.frozenUntil = stateValue<std::vector<long long>>(document, "frozen_until", path);
        state.period = stateValue<std::vector<int>>(document, "period", path);
        const auto instability = stateValue<std::vector<double>>(document, "instability", path);
        const std::string tensorsPath = statePath(dir, kApfTensorsFile);
        std::vector<torch::Tensor> tensors;
        try {
            torch::load(tensors, tensorsPath);
        } catch (const c10::Error& error) {
            throw InputError(tensorsPath, "", std::string("cannot read: ") + error.what_without_backtrace());
        }
        if (tensors.size() != 3 * m_snapshots.size() || instability.size() != m_instability.size())
            throw InputError(tensorsPath, "", "holds the APF state of another model");
        try {
            m_policy->restore(state);
        } catch (const std::invalid_argument&) {
            throw InputError(path, "frozen_until", "holds the APF state of another model");
        }
        for (std::size_t i = 0; i < m_snapshots.size(); ++i) {
            m_snapshots[i] = tensors[3 * i];
            m_expected[i] = tensors[3 * i + 1];
            m_absolute[i] = tensors[3 * i + 2];
        }
        for (std::size_t i = 0; i < instability.size(); ++i)
            m_instability[i] = instability[i] < 0.0 ? std::numeric_limits<double>::infinity() : instability[i];
    }

private:
    // In a multi-process run: every tensor's instability from the process that owns its stage
    // (frozen tensors' unchanged values included), so that all processes decide alike.
    void shareInstability()
    {
        if (!m_placement.sumAcrossProcesses)
            return;
        std::vector<double> mine(m_instability.size(), 0.0);
        for (std::size_t s = 0; s < m_tensors.tensors.size(); ++s) {
            if (!m_placement.owns(static_cast<int>(s)))
                continue;
            for (std::size_t t = 0; t < m_tensors.tensors[s].size(); ++t)
                mine[m_offsets[s] + t] = m_instability[m_offsets[s] + t];
        }
        m_placement.sumAcrossProcesses(mine); // +inf (no update yet) + 0 stays +inf
        m_instability = std::move(mine);
    }

    const StageTensors& m_tensors;
    FreezerPlacement m_placement;
    std::vector<std::size_t> m_offsets;
    std::vector<torch::Tensor> m_snapshots;
    std::vector<torch::Tensor> m_expected;
    std::vector<torch::Tensor> m_absolute;
    std::vector<double> m_instability;
    std::unique_ptr<ApfPolicy> m_policy;
};

// A layer of the model for AutoFreeze: the parameters of one block ("blocks.3.…"), or of one
// top-level module (the embedding, the final norm, the head). Names come from the stages'
// named_parameters(); the first numeric component ends the layer's key.
std::string layerKey(const std::string& parameterName)
{
    std::string key;
    std::size_t begin = 0;
    while (begin <= parameterName.size()) {
        const std::size_t end = std::min(parameterName.find('.', begin), parameterName.size());
        const std::string component = parameterName.substr(begin, end - begin);
        key += (key.empty() ? "" : ".") + component;
        const bool numeric = !component.empty()
            && std::all_of(component.begin(), component.end(), [](unsigned char c) { return std::isdigit(c); });
        if (numeric || end == parameterName.size())
            break;
        begin = end + 1;
    }
    // A top-level module: its first component ("embedding.weight" → "embedding").
    if (key == parameterName) {
        const std::size_t dot = parameterName.find('.');
        key = dot == std::string::npos ? parameterName : parameterName.substr(0, dot);
    }
    return key;
}

// AutoFreeze's statistics (METHOD.md §7): per layer, front to back across the stages, the norm
// of its gradient at every check.
class AutoFreezeTracker {
public:
    AutoFreezeTracker(const std::vector<PipelineStagePtr>& stages, const StageTensors& tensors,
        const AutoFreezeConfig& config, FreezerPlacement placement)
        : m_tensors(tensors)
        , m_placement(std::move(placement))
    {
        AutoFreezeOptions options;
        options.checkInterval = config.interval;
        options.percentile = config.percentile;
        // Map each freezable tensor to its layer, in model order.
        for (std::size_t s = 0; s < stages.size(); ++s) {
            std::map<const void*, std::string> names;
            for (const auto& item : stages[s]->named_parameters())
                names[item.value().unsafeGetTensorImpl()] = item.key();
            std::vector<int> layers;
            std::string previousKey;
            for (const torch::Tensor& tensor : m_tensors.tensors[s]) {
                const auto found = names.find(tensor.unsafeGetTensorImpl());
                const std::string key = found == names.end() ? std::string("?") : layerKey(found->second);
                if (m_layerCount == 0 || key != previousKey || layers.empty())
                    ++m_layerCount;
                previousKey = key;
                layers.push_back(m_layerCount - 1);
            }
            // A new stage always starts a new layer.
            previousKey.clear();
            m_layerOf.push_back(std::move(layers));
        }
        m_policy = std::make_unique<AutoFreezePolicy>(static_cast<std::size_t>(m_layerCount), options);
    }

    // With the step's gradients present: a check every `interval` steps.
    bool afterBackward(std::int64_t step)
    {
        if (!m_policy->isCheckStep(step + 1))
            return false;
        std::vector<double> squares(static_cast<std::size_t>(m_layerCount), 0.0);
        for (std::size_t s = 0; s < m_tensors.tensors.size(); ++s) {
            if (!m_placement.owns(static_cast<int>(s)))
                continue; // its process measures it
            for (std::size_t t = 0; t < m_tensors.tensors[s].size(); ++t) {
                const torch::Tensor& grad = m_tensors.tensors[s][t].grad();
                if (grad.defined())
                    squares[static_cast<std::size_t>(m_layerOf[s][t])] += grad.pow(2).sum().item<double>();
            }
        }
        if (m_placement.sumAcrossProcesses)
            m_placement.sumAcrossProcesses(squares); // a layer lies within one stage, so one process
        for (double& value : squares)
            value = std::sqrt(value);
        m_policy->check(squares);
        return true;
    }

    // Tensors of frozen layers first, then the rest front to back.
    std::vector<int> order(int stage, int& frozenCount) const
    {
        const auto& layers = m_layerOf[static_cast<std::size_t>(stage)];
        std::vector<int> indices(layers.size());
        std::iota(indices.begin(), indices.end(), 0);
        frozenCount = 0;
        for (int layer : layers)
            frozenCount += m_policy->isFrozen(static_cast<std::size_t>(layer)) ? 1 : 0;
        return indices; // model order is front to back, and frozen layers are a prefix
    }

    int layerCount() const { return m_layerCount; }

    json saveState() const
    {
        const AutoFreezePolicy::State state = m_policy->state();
        return { { "frozen_layers", state.frozenLayers }, { "previous_norms", state.previousNorms } };
    }

    void loadState(const json& document, const std::string& path)
    {
        AutoFreezePolicy::State state;
        state.frozenLayers = stateValue<std::size_t>(document, "frozen_layers", path);
        state.previousNorms = stateValue<std::vector<double>>(document, "previous_norms", path);
        try {
            m_policy->restore(state);
        } catch (const std::invalid_argument&) {
            throw InputError(path, "frozen_layers", "holds the AutoFreeze state of another model");
        }
    }

private:
    const StageTensors& m_tensors;
    FreezerPlacement m_placement;
    std::vector<std::vector<int>> m_layerOf; // per stage, per tensor
    int m_layerCount = 0;
    std::unique_ptr<AutoFreezePolicy> m_policy;
};

class NoFreezer : public Freezer {
public:
    explicit NoFreezer(const PipelineSchedule& schedule)
        : m_ratios(schedule.actionCount(), 0.0)
    {
    }
    FreezerKind kind() const override { return FreezerKind::None; }
    StepFreezing beginStep(std::int64_t /*step*/) override { return { m_ratios, TrainingPhase::Stable }; }

private:
    std::vector<double> m_ratios;
};

// APF or AutoFreeze alone: the tracker decides a frozen set per stage; every backward of the
// stage freezes exactly that set.
template <typename Tracker> class TrackerFreezer : public Freezer {
public:
    TrackerFreezer(FreezerKind kind, const PipelineSchedule& schedule, std::unique_ptr<StageTensors> tensors,
        std::function<std::unique_ptr<Tracker>(const StageTensors&)> makeTracker)
        : m_kind(kind)
        , m_schedule(schedule)
        , m_tensors(std::move(tensors))
        , m_tracker(makeTracker(*m_tensors))
        , m_selector(
              std::make_shared<RankedFreezeSelector>(RankedFreezeSelector::Mode::Exact, m_tensors->tensors.size()))
    {
        refresh();
    }

    FreezerKind kind() const override { return m_kind; }
    StepFreezing beginStep(std::int64_t /*step*/) override
    {
        return { ratiosFromStageCounts(m_schedule, *m_tensors, m_frozen), TrainingPhase::Stable };
    }
    void afterBackward(std::int64_t step) override
    {
        if constexpr (std::is_same_v<Tracker, AutoFreezeTracker>) {
            if (m_tracker->afterBackward(step))
                refresh();
        }
    }
    std::optional<PlanApplied> endStep(std::int64_t step, const std::vector<ActionSpan>&, double) override
    {
        if constexpr (std::is_same_v<Tracker, ApfTracker>) {
            if (m_tracker->endStep(step))
                refresh();
        }
        return std::nullopt;
    }
    std::shared_ptr<const FreezeSelector> selector() const override { return m_selector; }

    void saveState(const std::string& dir) const override
    {
        json tracker;
        if constexpr (std::is_same_v<Tracker, ApfTracker>)
            tracker = m_tracker->saveState(dir);
        else
            tracker = m_tracker->saveState();
        writeJsonFile({ { "tracker", tracker } }, statePath(dir, kStateFile));
    }

    void loadState(const std::string& dir) override
    {
        const std::string path = statePath(dir, kStateFile);
        const json document = readJsonFile(path);
        const json tracker = stateValue<json>(document, "tracker", path);
        if constexpr (std::is_same_v<Tracker, ApfTracker>)
            m_tracker->loadState(tracker, dir, path);
        else
            m_tracker->loadState(tracker, path);
        refresh();
    }

private:
    void refresh()
    {
        m_frozen.assign(m_tensors->tensors.size(), 0);
        for (std::size_t s = 0; s < m_tensors->tensors.size(); ++s) {
            int frozen = 0;
            std::vector<int> order = m_tracker->order(static_cast<int>(s), frozen);
            m_frozen[s] = frozen;
            m_selector->setStage(static_cast<int>(s), std::move(order), frozen);
        }
    }

    FreezerKind m_kind;
    PipelineSchedule m_schedule;
    std::unique_ptr<StageTensors> m_tensors;
    std::unique_ptr<Tracker> m_tracker;
    std::shared_ptr<RankedFreezeSelector> m_selector;
    std::vector<int> m_frozen; // per stage
};

// TimelyFreeze (METHOD.md §6), alone or with APF/AutoFreeze choosing which tensors.
class TimelyFreezer : public Freezer {
public:
    TimelyFreezer(const RunConfig& config, const PipelineSchedule& schedule,
        const std::vector<PipelineStagePtr>& stages, const FreezerPlacement& placement)
        : m_kind(config.freezer.kind)
        , m_schedule(schedule)
        , m_tensors(std::make_unique<StageTensors>(stages))
        , m_controller(schedule, controllerOptions(config))
    {
        if (m_kind == FreezerKind::TimelyApf)
            m_apf = std::make_unique<ApfTracker>(*m_tensors, config.freezer.apf, placement);
        if (m_kind == FreezerKind::TimelyAutoFreeze)
            m_autoFreeze
                = std::make_unique<AutoFreezeTracker>(stages, *m_tensors, config.freezer.autoFreeze, placement);
        if (m_apf || m_autoFreeze) {
            m_selector
                = std::make_shared<RankedFreezeSelector>(RankedFreezeSelector::Mode::Ranked, m_tensors->tensors.size());
            refreshOrder();
        }
        // METHOD.md §6: measuring w_min freezes everything freezable, except that the last stage
        // keeps at least one tensor trainable.
        const int last = schedule.stageCount() - 1;
        const int n = m_tensors->count(last);
        m_lastStageCap = n > 1 ? static_cast<double>(n - 1) / n : 0.0;
    }

    FreezerKind kind() const override { return m_kind; }

    StepFreezing beginStep(std::int64_t step) override
    {
        StepFreezing freezing { m_controller.ratiosFor(step), m_controller.phaseAt(step) };
        const int last = m_schedule.stageCount() - 1;
        std::size_t index = 0;
        for (const auto& order : m_schedule.rankOrders()) {
            for (const Action& action : order) {
                if (action.stage == last)
                    freezing.ratios[index] = std::min(freezing.ratios[index], m_lastStageCap);
                ++index;
            }
        }
        return freezing;
    }

    void afterBackward(std::int64_t step) override
    {
        if (m_autoFreeze && m_autoFreeze->afterBackward(step))
            refreshOrder();
    }

    std::optional<PlanApplied> endStep(std::int64_t step, const std::vector<ActionSpan>& spans, double batchMs) override
    {
        if (m_apf && m_apf->endStep(step))
            refreshOrder();
        return m_controller.endStep(step, spans, batchMs);
    }

    std::shared_ptr<const FreezeSelector> selector() const override { return m_selector; }
    void setBounds(const FreezeBounds& bounds) override { m_controller.setBounds(bounds); }
    std::shared_ptr<const FreezePlan> plan() const override { return m_controller.plan(); }
    std::optional<Profile> profile() const override { return m_controller.profile(); }

    void saveState(const std::string& dir) const override
    {
        const TimelyFreezeController::State state = m_controller.state();
        json document { { "max_samples", state.maxSamples }, { "min_samples", state.minSamples },
            { "transfer_samples", state.transferSamples },
            { "bounds",
                { { "max_freeze", m_controller.bounds().maxFreeze },
                    { "stage_max_freeze", m_controller.bounds().stageMaxFreeze } } } };
        if (state.plan) {
            std::ostringstream plan;
            writePlanJson(*state.plan, plan);
            document["plan"] = json::parse(plan.str());
        }
        if (state.profile) {
            std::ostringstream profile;
            writeProfileJson(*state.profile, profile);
            document["profile"] = json::parse(profile.str());
        }
        if (m_apf)
            document["tracker"] = m_apf->saveState(dir);
        if (m_autoFreeze)
            document["tracker"] = m_autoFreeze->saveState();
        writeJsonFile(document, statePath(dir, kStateFile));
    }

    void loadState(const std::string& dir) override
    {
        const std::string path = statePath(dir, kStateFile);
        const json document = readJsonFile(path);
        TimelyFreezeController::State state;
        state.maxSamples = stateValue<std::vector<std::vector<double>>>(document, "max_samples", path);
        state.minSamples = stateValue<std::vector<std::vector<double>>>(document, "min_samples", path);
        // Absent from checkpoints written before transfer times were measured.
        if (document.contains("transfer_samples"))
            state.transferSamples = stateValue<std::vector<double>>(document, "transfer_samples", path);
        if (document.contains("profile")) {
            std::istringstream text(document["profile"].dump());
            state.profile = readProfileJson(text, path + ": profile");
        }
        if (document.contains("plan")) {
            std::istringstream text(document["plan"].dump());
            state.plan = std::make_shared<FreezePlan>(readPlanJson(text, path + ": plan"));
        }
        try {
            m_controller.restore(state);
        } catch (const std::invalid_argument&) {
            throw InputError(path, "max_samples", "holds the samples of another schedule");
        }
        FreezeBounds bounds;
        const json boundsJson = stateValue<json>(document, "bounds", path);
        bounds.maxFreeze = stateValue<double>(boundsJson, "max_freeze", path);
        bounds.stageMaxFreeze = stateValue<std::vector<double>>(boundsJson, "stage_max_freeze", path);
        if (bounds.maxFreeze != m_controller.bounds().maxFreeze
            || bounds.stageMaxFreeze != m_controller.bounds().stageMaxFreeze)
            m_controller.restoreBounds(bounds); // the user had moved ρ: keep their bound, no re-plan
        if (m_apf)
            m_apf->loadState(stateValue<json>(document, "tracker", path), dir, path);
        if (m_autoFreeze)
            m_autoFreeze->loadState(stateValue<json>(document, "tracker", path), path);
        if (m_selector)
            refreshOrder();
    }

private:
    static TimelyFreezeOptions controllerOptions(const RunConfig& config)
    {
        TimelyFreezeOptions options;
        options.warmupSteps = config.freezer.timely.warmupSteps;
        options.monitorMaxSteps = config.freezer.timely.monitorMaxSteps;
        options.monitorMinSteps = config.freezer.timely.monitorMinSteps;
        options.rampSteps = config.freezer.timely.rampSteps;
        options.profileWindow = static_cast<std::size_t>(std::max(1, config.freezer.timely.monitorMaxSteps));
        options.bounds = freezeBoundsOf(config.bounds);
        options.replanDrift = config.freezer.replanDrift;
        options.processors = sharedProcessors(config);
        options.allOrNothingStages = allOrNothingStages(config);
        return options;
    }

    void refreshOrder()
    {
        for (std::size_t s = 0; s < m_tensors->tensors.size(); ++s) {
            int frozen = 0;
            std::vector<int> order
                = m_apf ? m_apf->order(static_cast<int>(s), frozen) : m_autoFreeze->order(static_cast<int>(s), frozen);
            m_selector->setStage(static_cast<int>(s), std::move(order), frozen);
        }
    }

    FreezerKind m_kind;
    PipelineSchedule m_schedule;
    std::unique_ptr<StageTensors> m_tensors;
    TimelyFreezeController m_controller;
    std::unique_ptr<ApfTracker> m_apf;
    std::unique_ptr<AutoFreezeTracker> m_autoFreeze;
    std::shared_ptr<RankedFreezeSelector> m_selector;
    double m_lastStageCap = 1.0;
};

} // namespace

FreezeBounds freezeBoundsOf(const BoundsConfig& bounds)
{
    FreezeBounds result;
    result.maxFreeze = bounds.maxFreeze;
    result.stageMaxFreeze = bounds.maxFreezePerStage;
    return result;
}

std::unique_ptr<Freezer> makeFreezer(const RunConfig& config, const PipelineSchedule& schedule,
    const std::vector<PipelineStagePtr>& stages, const FreezerPlacement& placement)
{
    switch (config.freezer.kind) {
    case FreezerKind::None:
        return std::make_unique<NoFreezer>(schedule);
    case FreezerKind::Apf:
        return std::make_unique<TrackerFreezer<ApfTracker>>(FreezerKind::Apf, schedule,
            std::make_unique<StageTensors>(stages), [&config, &placement](const StageTensors& tensors) {
                return std::make_unique<ApfTracker>(tensors, config.freezer.apf, placement);
            });
    case FreezerKind::AutoFreeze:
        return std::make_unique<TrackerFreezer<AutoFreezeTracker>>(FreezerKind::AutoFreeze, schedule,
            std::make_unique<StageTensors>(stages), [&config, &stages, &placement](const StageTensors& tensors) {
                return std::make_unique<AutoFreezeTracker>(stages, tensors, config.freezer.autoFreeze, placement);
            });
    case FreezerKind::TimelyFreeze:
    case FreezerKind::TimelyApf:
    case FreezerKind::TimelyAutoFreeze:
        return std::make_unique<TimelyFreezer>(config, schedule, stages, placement);
    }
    return std::make_unique<NoFreezer>(schedule);
}

} // namespace tfreeze
