#pragma once

// Helpers shared by the planning test suites: action names, tolerant and exact comparisons,
// "name=value" lists, InputError capture, JSON round trips, and METHOD.md §2's dependencies with
// the earliest-finish times they give, rebuilt from a schedule independently of PipelineDag.

#include "core/plan/freeze_plan_io.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/profile_io.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

// QCOMPARE compares doubles fuzzily; a round trip must give back the very same bits.
#define COMPARE_EXACTLY(actual, expected)                                                                              \
    QVERIFY2((actual) == (expected),                                                                                   \
        qPrintable(QStringLiteral("%1 != %2").arg(actual, 0, 'g', 17).arg(expected, 0, 'g', 17)))

// Relative comparisons that name what they compare: 1e-9 unless a tolerance is given.
#define VERIFY_NEAR(what, got, want)                                                                                   \
    QVERIFY2(::tfreeze::test::near((got), (want)), ::tfreeze::test::gotWant((what), (got), (want)).constData())
#define VERIFY_NEAR_TOL(what, got, want, tol)                                                                          \
    QVERIFY2(::tfreeze::test::near((got), (want), (tol)), ::tfreeze::test::gotWant((what), (got), (want)).constData())

namespace tfreeze::test {

inline QString nameOf(const Action& action) { return QString::fromStdString(actionName(action)); }

// Batch times are sums of tens to hundreds of costs of order 1: relative 1e-9 is far above
// rounding and LP round-off, and far below any real difference.
inline bool near(double got, double want, double tolerance = 1e-9)
{
    return std::abs(got - want) <= tolerance * std::max(1.0, std::abs(want));
}

inline QByteArray gotWant(const QString& what, double got, double want)
{
    return what.toUtf8() + ": got " + QByteArray::number(got, 'g', 15) + ", want " + QByteArray::number(want, 'g', 15);
}

template <typename Function> std::optional<InputError> inputErrorOf(Function&& function)
{
    try {
        function();
    } catch (const InputError& error) {
        return error;
    }
    return std::nullopt;
}

// "0F0=1 1B0=2.5 ...": a value per named action.
inline std::map<QString, double> parseNamed(const QString& text)
{
    std::map<QString, double> values;
    for (const QString& item : text.split(u' ', Qt::SkipEmptyParts)) {
        const QStringList parts = item.split(u'=');
        values[parts[0]] = parts[1].toDouble();
    }
    return values;
}

// Through tfreeze-plan/1 (or profile) JSON in memory and back.
inline FreezePlan planThroughJson(const FreezePlan& plan, const std::string& source)
{
    std::stringstream json;
    writePlanJson(plan, json);
    return readPlanJson(json, source);
}

inline Profile profileThroughJson(const Profile& profile, const std::string& source)
{
    std::stringstream json;
    writeProfileJson(profile, json);
    return readProfileJson(json, source);
}

// Each action's dependencies, as indices in rank-major order (Profile::actions()'s order).
using Dependencies = std::vector<std::vector<std::size_t>>;

// METHOD.md §2's dependencies of each action, derived from the schedule by (stage, microbatch,
// kind) lookup rather than taken from PipelineDag: the action before it on its rank; for F the
// F of the stage before; for B or I its own F and the next stage's B (or I); for W its own I.
inline Dependencies ruleDependencies(const PipelineSchedule& schedule)
{
    std::map<std::tuple<int, int, ActionKind>, std::size_t> index;
    std::vector<Action> actions;
    std::vector<bool> firstOnRank;
    for (const auto& order : schedule.rankOrders()) {
        for (std::size_t i = 0; i < order.size(); ++i) {
            const Action& a = order[i];
            index[{ a.stage, a.microbatch, a.kind }] = actions.size();
            actions.push_back(a);
            firstOnRank.push_back(i == 0);
        }
    }
    const auto find = [&](int stage, int microbatch, ActionKind kind, std::vector<std::size_t>& into) {
        const auto it = index.find({ stage, microbatch, kind });
        if (it == index.end())
            return false;
        into.push_back(it->second);
        return true;
    };
    Dependencies deps(actions.size());
    for (std::size_t v = 0; v < actions.size(); ++v) {
        const Action& a = actions[v];
        if (!firstOnRank[v])
            deps[v].push_back(v - 1);
        switch (a.kind) {
        case ActionKind::Forward:
            if (a.stage > 0)
                find(a.stage - 1, a.microbatch, ActionKind::Forward, deps[v]);
            break;
        case ActionKind::Backward:
        case ActionKind::BackwardInput:
            find(a.stage, a.microbatch, ActionKind::Forward, deps[v]);
            if (a.stage + 1 < schedule.stageCount() && !find(a.stage + 1, a.microbatch, ActionKind::Backward, deps[v]))
                find(a.stage + 1, a.microbatch, ActionKind::BackwardInput, deps[v]);
            break;
        case ActionKind::BackwardWeight:
            find(a.stage, a.microbatch, ActionKind::BackwardInput, deps[v]);
            break;
        }
    }
    return deps;
}

// Longest path to the end of each action (its earliest finish) by memoised recursion over
// `deps`: no topological order and no DAG class, unlike Timeline's own computation.
// `rankOf` (per action; empty: one rank) and `transferMs`: every dependency between two ranks
// also waits that long.
inline std::vector<double> longestPathEnds(const Dependencies& deps, const std::vector<double>& durations,
    const std::vector<int>& rankOf = {}, double transferMs = 0.0)
{
    struct Walk {
        const Dependencies& deps;
        const std::vector<double>& durations;
        const std::vector<int>& rankOf;
        double transferMs;
        std::vector<double> ends;

        double end(std::size_t v)
        {
            if (ends[v] < 0.0) {
                double start = 0.0;
                for (std::size_t u : deps[v])
                    start = std::max(start, end(u) + (!rankOf.empty() && rankOf[u] != rankOf[v] ? transferMs : 0.0));
                ends[v] = start + durations[v];
            }
            return ends[v];
        }
    };
    Walk walk { deps, durations, rankOf, transferMs, std::vector<double>(durations.size(), -1.0) };
    for (std::size_t v = 0; v < durations.size(); ++v)
        walk.end(v);
    return walk.ends;
}

} // namespace tfreeze::test
