#include "core/plan/freeze_plan_io.h"

#include "core/plan/plan_error.h"
#include "core/plan/profile_json.h"
#include "core/plan/text_file.h"

#include <iomanip>
#include <locale>
#include <ostream>
#include <sstream>

namespace tfreeze {

namespace {

using detail::Json;
using detail::OrderedJson;

std::vector<double> readStageValues(
    const Json& value, const std::string& field, int stageCount, bool ratios, const std::string& source)
{
    if (!value.is_array())
        throw InputError(source, field, "must be an array of numbers");
    if (value.size() != static_cast<std::size_t>(stageCount))
        throw InputError(source, field,
            "expects " + std::to_string(stageCount) + " values, one per stage (got " + std::to_string(value.size())
                + ")");
    std::vector<double> values;
    values.reserve(value.size());
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string itemField = field + "[" + std::to_string(i) + "]";
        values.push_back(ratios ? detail::requireRatio(value[i], itemField, source)
                                : detail::requireFiniteNumber(value[i], itemField, source));
    }
    return values;
}

void checkPlanShape(const FreezePlan& plan)
{
    const std::size_t count = plan.profile.costs().size();
    // A plan that does not match its own profile is our bug, not the user's input.
    if (plan.actions.size() != count)
        throw PlannerError("FreezePlan has " + std::to_string(plan.actions.size()) + " planned actions for "
            + std::to_string(count) + " profile actions");
    if (!plan.bounds.actionCap.empty() && plan.bounds.actionCap.size() != count)
        throw PlannerError("FreezeBounds::actionCap has " + std::to_string(plan.bounds.actionCap.size())
            + " values for " + std::to_string(count) + " actions");
}

std::string planText(const FreezePlan& plan)
{
    checkPlanShape(plan);
    const Profile& profile = plan.profile;
    const int stageCount = profile.schedule().stageCount();

    OrderedJson document = detail::documentHead(kPlanFormat, profile);
    document["max_freeze"] = plan.bounds.maxFreeze;
    OrderedJson stageMax = OrderedJson::array();
    for (int stage = 0; stage < stageCount; ++stage)
        stageMax.push_back(plan.bounds.stageBound(stage));
    document["stage_max_freeze"] = std::move(stageMax);
    OrderedJson batch = OrderedJson::object();
    batch["no_freeze"] = plan.batchMsNoFreeze;
    batch["planned"] = plan.batchMsPlanned;
    batch["all_frozen"] = plan.batchMsAllFrozen;
    document["batch_ms"] = std::move(batch);
    document["stage_mean_ratio"] = plan.stageMeanRatio;
    document["solve_ms"] = plan.solveSeconds * 1000.0;

    OrderedJson actions = OrderedJson::array();
    const std::vector<Action> list = profile.actions();
    for (std::size_t i = 0; i < list.size(); ++i) {
        OrderedJson entry = detail::actionJson(list[i], profile.costs()[i]);
        entry["ratio"] = plan.actions[i].ratio;
        entry["start_ms"] = plan.actions[i].startMs;
        entry["end_ms"] = plan.actions[i].endMs;
        if (!plan.bounds.actionCap.empty())
            entry["cap"] = plan.bounds.actionCap[i];
        actions.push_back(std::move(entry));
    }
    document["actions"] = std::move(actions);
    return detail::documentText(document);
}

std::string planCsv(const FreezePlan& plan)
{
    checkPlanShape(plan);
    // Classic locale: a decimal comma would split the columns.
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << std::setprecision(10);
    out << "rank,stage,microbatch,kind,max_ms,min_ms,ratio,start_ms,end_ms\n";
    const std::vector<Action> list = plan.profile.actions();
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Action& action = list[i];
        const ActionCost& cost = plan.profile.costs()[i];
        const PlannedAction& planned = plan.actions[i];
        out << action.rank << ',' << action.stage << ',' << action.microbatch << ',' << actionKindLetter(action.kind)
            << ',' << cost.maxMs << ',' << cost.minMs << ',' << planned.ratio << ',' << planned.startMs << ','
            << planned.endMs << '\n';
    }
    return out.str();
}

} // namespace

FreezePlan readPlanJson(std::istream& in, const std::string& source)
{
    const Json document = detail::parseJsonDocument(in, source);
    detail::requireFormat(document, kPlanFormat, source);
    const detail::ExtraMembers planMembers { { "max_freeze", "stage_max_freeze", "batch_ms", "stage_mean_ratio",
                                                 "solve_ms" },
        { "ratio", "start_ms", "end_ms", "cap" } };
    detail::ParsedProfile parsed = detail::parseProfileMembers(document, source, planMembers);
    const int stageCount = parsed.profile.schedule().stageCount();

    FreezePlan plan { std::move(parsed.profile), FreezeBounds {}, 0.0, 0.0, 0.0, {}, {}, 0.0 };
    plan.bounds.maxFreeze
        = detail::requireRatio(detail::requireMember(document, "max_freeze", "", source), "max_freeze", source);
    if (const Json* stageMax = detail::findMember(document, "stage_max_freeze")) {
        std::vector<double> values = readStageValues(*stageMax, "stage_max_freeze", stageCount, true, source);
        // Writers always list every stage; a list that only repeats max_freeze means "no per-stage
        // bounds", and keeping it empty makes write → read give back the plan that was written.
        bool uniform = true;
        for (double value : values)
            uniform = uniform && value == plan.bounds.maxFreeze;
        if (!uniform)
            plan.bounds.stageMaxFreeze = std::move(values);
    }

    const Json& batch = detail::requireMember(document, "batch_ms", "", source);
    detail::requireObject(batch, "batch_ms", source);
    detail::rejectUnknownMembers(batch, { "no_freeze", "planned", "all_frozen" }, "batch_ms", source);
    const auto batchMs = [&](const char* key) {
        return detail::requireDuration(
            detail::requireMember(batch, key, "batch_ms", source), detail::memberPath("batch_ms", key), source);
    };
    plan.batchMsNoFreeze = batchMs("no_freeze");
    plan.batchMsPlanned = batchMs("planned");
    plan.batchMsAllFrozen = batchMs("all_frozen");

    if (const Json* meanRatio = detail::findMember(document, "stage_mean_ratio")) {
        // An empty list is what a writer with no per-stage summary produces.
        if (!(meanRatio->is_array() && meanRatio->empty()))
            plan.stageMeanRatio = readStageValues(*meanRatio, "stage_mean_ratio", stageCount, true, source);
    }
    if (const Json* solveMs = detail::findMember(document, "solve_ms"))
        plan.solveSeconds = detail::requireDuration(*solveMs, "solve_ms", source) / 1000.0;

    const Json& actions = document.at("actions");
    const std::size_t count = parsed.fileIndex.size();
    plan.actions.resize(count);
    bool anyCap = false;
    for (std::size_t i = 0; i < count; ++i)
        anyCap = anyCap || detail::findMember(actions[parsed.fileIndex[i]], "cap") != nullptr;
    if (anyCap)
        plan.bounds.actionCap.assign(count, 1.0);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t index = parsed.fileIndex[i];
        const Json& entry = actions[index];
        const std::string path = "actions[" + std::to_string(index) + "]";
        const auto member
            = [&](const char* key) -> const Json& { return detail::requireMember(entry, key, path, source); };
        PlannedAction& planned = plan.actions[i];
        planned.ratio = detail::requireRatio(member("ratio"), detail::memberPath(path, "ratio"), source);
        planned.startMs = detail::requireFiniteNumber(member("start_ms"), detail::memberPath(path, "start_ms"), source);
        planned.endMs = detail::requireFiniteNumber(member("end_ms"), detail::memberPath(path, "end_ms"), source);
        if (planned.endMs < planned.startMs)
            throw InputError(source, detail::memberPath(path, "end_ms"),
                "end_ms " + detail::numberText(planned.endMs) + " is before start_ms "
                    + detail::numberText(planned.startMs));
        if (const Json* cap = detail::findMember(entry, "cap"))
            plan.bounds.actionCap[i] = detail::requireRatio(*cap, detail::memberPath(path, "cap"), source);
    }
    return plan;
}

FreezePlan readPlanFile(const std::string& path)
{
    std::istringstream in(readTextFile(path));
    return readPlanJson(in, path);
}

void writePlanJson(const FreezePlan& plan, std::ostream& out) { out << planText(plan); }

void writePlanFile(const FreezePlan& plan, const std::string& path) { writeTextFile(path, planText(plan)); }

void writePlanCsv(const FreezePlan& plan, std::ostream& out) { out << planCsv(plan); }

void writePlanCsvFile(const FreezePlan& plan, const std::string& path) { writeTextFile(path, planCsv(plan)); }

} // namespace tfreeze
