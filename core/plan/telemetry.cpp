#include "core/plan/telemetry.h"

#include "core/plan/plan_error.h"

#include <array>

namespace tfreeze {

namespace {

constexpr std::array<const char*, 6> kPhaseNames = { "warmup", "monitor_max", "monitor_min", "plan", "ramp", "stable" };
constexpr std::array<const char*, 3> kPlanSourceNames = { "engine", "user", "offline" };
constexpr std::array<const char*, 4> kEventLevelNames = { "debug", "info", "warning", "error" };

template <typename Enum, std::size_t N>
Enum parseName(const std::array<const char*, N>& names, const std::string& name, const char* what,
    const std::string& source, const std::string& field)
{
    for (std::size_t i = 0; i < N; ++i) {
        if (name == names[i])
            return static_cast<Enum>(i);
    }
    std::string expected;
    for (std::size_t i = 0; i < N; ++i)
        expected += (i == 0 ? "" : ", ") + std::string(names[i]);
    throw InputError(
        source, field, "unknown " + std::string(what) + " \"" + name + "\" (expected one of " + expected + ")");
}

} // namespace

const char* trainingPhaseName(TrainingPhase phase) { return kPhaseNames.at(static_cast<std::size_t>(phase)); }

TrainingPhase parseTrainingPhase(const std::string& name, const std::string& source, const std::string& field)
{
    return parseName<TrainingPhase>(kPhaseNames, name, "phase", source, field);
}

const char* planSourceName(PlanSource source) { return kPlanSourceNames.at(static_cast<std::size_t>(source)); }

PlanSource parsePlanSource(const std::string& name, const std::string& source, const std::string& field)
{
    return parseName<PlanSource>(kPlanSourceNames, name, "plan source", source, field);
}

const char* eventLevelName(EventLevel level) { return kEventLevelNames.at(static_cast<std::size_t>(level)); }

EventLevel parseEventLevel(const std::string& name, const std::string& source, const std::string& field)
{
    return parseName<EventLevel>(kEventLevelNames, name, "event level", source, field);
}

} // namespace tfreeze
