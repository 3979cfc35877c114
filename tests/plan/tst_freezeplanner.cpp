#include "core/plan/freeze_plan_io.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/timeline.h"

#include "plan_test_support.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>

using namespace tfreeze;
using namespace tfreeze::test;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(tfreeze::ScheduleKind)
Q_DECLARE_METATYPE(std::vector<double>)
Q_DECLARE_METATYPE(std::vector<int>)

namespace {

// "0F0=1 0B0=3/1 ...": every action's max_ms, and "/min_ms" for a freezable one.
Profile profileFromText(const PipelineSchedule& schedule, const QString& text)
{
    std::map<QString, ActionCost> named;
    for (const QString& item : text.split(u' ', Qt::SkipEmptyParts)) {
        const QStringList parts = item.split(u'=');
        const QStringList values = parts[1].split(u'/');
        named[parts[0]] = { values[0].toDouble(), values.value(1, values[0]).toDouble() };
    }
    std::vector<ActionCost> costs;
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& action : order) {
            const auto it = named.find(nameOf(action));
            if (it == named.end())
                qFatal("no cost for %s", actionName(action).c_str());
            costs.push_back(it->second);
        }
    }
    return Profile(schedule, costs, "test");
}

// "1B1=0.3 ...": a cap per named action, 1 for the rest.
std::vector<double> capsFromText(const Profile& profile, const QString& text)
{
    if (text.isEmpty())
        return {};
    const std::map<QString, double> named = parseNamed(text);
    std::vector<double> caps;
    for (const Action& action : profile.actions()) {
        const auto it = named.find(nameOf(action));
        caps.push_back(it == named.end() ? 1.0 : it->second);
    }
    return caps;
}

double capOf(const FreezeBounds& bounds, std::size_t v) { return bounds.actionCap.empty() ? 1.0 : bounds.actionCap[v]; }

// The schedule's DAG rebuilt from METHOD.md §2 by name lookup, independent of PipelineDag, with
// an earliest-start evaluator and the float of each action.
class Reference {
public:
    explicit Reference(const Profile& profile)
        : m_actions(profile.actions())
        , m_maxMs(profile.maxDurations())
        , m_minMs(profile.minDurations())
        , m_transferMs(profile.transferMs())
    {
        for (const Action& a : m_actions)
            m_rankOf.push_back(a.rank);
        const PipelineSchedule& schedule = profile.schedule();
        m_deps = ruleDependencies(schedule);
        m_succs.resize(m_actions.size());
        for (std::size_t v = 0; v < m_actions.size(); ++v) {
            for (std::size_t u : m_deps[v])
                m_succs[u].push_back(v);
        }
        // Depth-first post-order: every action after its dependencies.
        std::vector<char> state(m_actions.size(), 0);
        std::function<void(std::size_t)> visit = [&](std::size_t v) {
            if (state[v])
                return;
            state[v] = 1;
            for (std::size_t u : m_deps[v])
                visit(u);
            m_order.push_back(v);
        };
        for (std::size_t v = 0; v < m_actions.size(); ++v)
            visit(v);
        m_stageFreezable.assign(static_cast<std::size_t>(schedule.stageCount()), 0);
        for (const Action& a : m_actions) {
            if (isFreezable(a.kind))
                ++m_stageFreezable[static_cast<std::size_t>(a.stage)];
        }
    }

    std::size_t size() const { return m_actions.size(); }
    const Action& action(std::size_t v) const { return m_actions[v]; }
    const std::vector<std::size_t>& deps(std::size_t v) const { return m_deps[v]; }
    const std::vector<std::size_t>& succs(std::size_t v) const { return m_succs[v]; }
    double maxMs(std::size_t v) const { return m_maxMs[v]; }
    double minMs(std::size_t v) const { return m_minMs[v]; }
    double delta(std::size_t v) const { return m_maxMs[v] - m_minMs[v]; }
    int stageFreezable(int stage) const { return m_stageFreezable[static_cast<std::size_t>(stage)]; }

    std::vector<double> durations(const std::vector<double>& ratios) const
    {
        std::vector<double> d(size());
        for (std::size_t v = 0; v < size(); ++v)
            d[v] = m_maxMs[v] - ratios[v] * delta(v);
        return d;
    }

    // The hand-over time between `u` and its successor `v`: the profile's transfer time across ranks.
    double delay(std::size_t u, std::size_t v) const { return m_rankOf[u] != m_rankOf[v] ? m_transferMs : 0.0; }

    std::vector<double> ends(const std::vector<double>& durations) const
    {
        return longestPathEnds(m_deps, durations, m_rankOf, m_transferMs);
    }

    double batch(const std::vector<double>& durations) const
    {
        const std::vector<double> end = ends(durations);
        return *std::max_element(end.begin(), end.end());
    }

    // How much later each action could end without delaying the batch past `batchMs`.
    std::vector<double> floats(const std::vector<double>& durations, double batchMs) const
    {
        const std::vector<double> end = ends(durations);
        std::vector<double> latestEnd(size(), batchMs);
        for (auto it = m_order.rbegin(); it != m_order.rend(); ++it) {
            for (std::size_t s : m_succs[*it])
                latestEnd[*it] = std::min(latestEnd[*it], latestEnd[s] - durations[s] - delay(*it, s));
        }
        std::vector<double> result(size());
        for (std::size_t v = 0; v < size(); ++v)
            result[v] = latestEnd[v] - end[v];
        return result;
    }

    // Every maximal (source to sink) path, as its set of actions.
    std::vector<std::vector<std::size_t>> maximalPaths() const
    {
        std::vector<std::vector<std::size_t>> paths;
        std::vector<std::size_t> path;
        std::function<void(std::size_t)> walk = [&](std::size_t v) {
            path.push_back(v);
            if (m_succs[v].empty())
                paths.push_back(path);
            for (std::size_t s : m_succs[v])
                walk(s);
            path.pop_back();
        };
        for (std::size_t v = 0; v < size(); ++v) {
            if (m_deps[v].empty())
                walk(v);
        }
        return paths;
    }

private:
    std::vector<Action> m_actions;
    std::vector<double> m_maxMs;
    std::vector<double> m_minMs;
    double m_transferMs;
    std::vector<int> m_rankOf;
    std::vector<std::vector<std::size_t>> m_deps;
    std::vector<std::vector<std::size_t>> m_succs;
    std::vector<std::size_t> m_order;
    std::vector<int> m_stageFreezable;
};

std::vector<double> ratiosOf(const FreezePlan& plan)
{
    std::vector<double> ratios;
    for (const PlannedAction& action : plan.actions)
        ratios.push_back(action.ratio);
    return ratios;
}

double totalRatio(const FreezePlan& plan)
{
    double sum = 0.0;
    for (const PlannedAction& action : plan.actions)
        sum += action.ratio;
    return sum;
}

// Whether `ratios` meets the bounds: in [0, cap], zero where nothing can shrink, stage means ≤ ρ_k.
bool feasible(const Reference& ref, const FreezeBounds& bounds, const std::vector<double>& ratios, double slack)
{
    std::map<int, double> sums;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        if (ratios[v] < -slack || ratios[v] > capOf(bounds, v) + slack)
            return false;
        if (!isFreezable(ref.action(v).kind) && ratios[v] != 0.0)
            return false;
        sums[ref.action(v).stage] += ratios[v];
    }
    for (const auto& [stage, sum] : sums) {
        if (sum > bounds.stageBound(stage) * ref.stageFreezable(stage) + slack)
            return false;
    }
    return true;
}

// Everything a plan must satisfy whatever the instance, checked against the reference DAG.
void checkPlan(const Profile& profile, const FreezeBounds& bounds, const FreezePlan& plan)
{
    const Reference ref(profile);
    QCOMPARE(plan.actions.size(), ref.size());
    const std::vector<double> ratios = ratiosOf(plan);
    QVERIFY2(feasible(ref, bounds, ratios, 1e-9), "ratios break the bounds");

    std::map<int, double> stageSum;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        if (ref.delta(v) == 0.0)
            QCOMPARE(ratios[v], 0.0); // nothing to gain: no reason to freeze
        stageSum[ref.action(v).stage] += ratios[v];
    }
    QCOMPARE(plan.stageMeanRatio.size(), static_cast<std::size_t>(profile.schedule().stageCount()));
    for (const auto& [stage, sum] : stageSum) {
        const int n = ref.stageFreezable(stage);
        const double mean = n ? sum / n : 0.0;
        VERIFY_NEAR(u"stage mean"_s, plan.stageMeanRatio[static_cast<std::size_t>(stage)], mean);
        QVERIFY2(mean <= bounds.stageBound(stage) + 1e-9, qPrintable(u"stage "_s + QString::number(stage)));
    }

    // The predicted timeline: the earliest-start schedule of the planned durations.
    const std::vector<double> durations = ref.durations(ratios);
    const std::vector<double> ends = ref.ends(durations);
    double batch = 0.0;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        const PlannedAction& a = plan.actions[v];
        const QString name = nameOf(ref.action(v));
        VERIFY_NEAR(u"duration of "_s + name, a.endMs - a.startMs, ref.maxMs(v) - a.ratio * ref.delta(v));
        VERIFY_NEAR(u"end of "_s + name, a.endMs, ends[v]);
        for (std::size_t u : ref.deps(v))
            QVERIFY2(a.startMs >= plan.actions[u].endMs + ref.delay(u, v) - 1e-9,
                qPrintable(name + u" starts before "_s + nameOf(ref.action(u)) + u" ends"_s));
        batch = std::max(batch, ends[v]);
    }
    VERIFY_NEAR(u"planned batch"_s, plan.batchMsPlanned, batch);
    VERIFY_NEAR(u"no-freeze batch"_s, plan.batchMsNoFreeze, ref.batch(ref.durations(std::vector<double>(ref.size()))));
    VERIFY_NEAR(
        u"all-frozen batch"_s, plan.batchMsAllFrozen, ref.batch(ref.durations(std::vector<double>(ref.size(), 1.0))));
    QVERIFY(plan.batchMsPlanned <= plan.batchMsNoFreeze * (1 + 1e-9));
    QVERIFY(plan.batchMsPlanned >= plan.batchMsAllFrozen * (1 - 1e-9));

    // Second objective, a necessary condition: an action that could end later without delaying
    // the batch could freeze less, so every frozen action must have no float. (An action of an
    // all-or-nothing stage cannot freeze a part, so it may.)
    const std::vector<double> slack = ref.floats(durations, batch);
    for (std::size_t v = 0; v < ref.size(); ++v) {
        if (ratios[v] > 1e-6 && !profile.isAllOrNothing(ref.action(v).stage))
            QVERIFY2(slack[v] <= 1e-6 * std::max(1.0, batch),
                qPrintable(nameOf(ref.action(v)) + u" freezes "_s + QString::number(ratios[v]) + u" with float "_s
                    + QString::number(slack[v])));
    }
}

// A random point of the feasible set: ratios drawn under their caps, each stage scaled down to
// its bound.
std::vector<double> randomFeasible(const Reference& ref, const FreezeBounds& bounds, std::mt19937& engine)
{
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> ratios(ref.size(), 0.0);
    std::map<int, double> sums;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        if (isFreezable(ref.action(v).kind) && ref.delta(v) > 0.0) {
            // Half the draws at the cap: vertices of the box are where optima tend to be.
            ratios[v] = capOf(bounds, v) * (unit(engine) < 0.5 ? 1.0 : unit(engine));
            sums[ref.action(v).stage] += ratios[v];
        }
    }
    for (std::size_t v = 0; v < ref.size(); ++v) {
        const int stage = ref.action(v).stage;
        const double budget = bounds.stageBound(stage) * ref.stageFreezable(stage);
        if (sums[stage] > budget)
            ratios[v] *= budget / sums[stage] * (1.0 - 1e-12);
    }
    return ratios;
}

// Linear program min c·x over {A x ≤ b}, solved by trying every vertex (every choice of n tight
// constraints): exact, independent of any simplex code, and cheap for the 4-6 variables of the
// tiny instances.
struct VertexLp {
    std::vector<std::vector<double>> rows;
    std::vector<double> rhs;

    void add(std::vector<double> row, double bound)
    {
        rows.push_back(std::move(row));
        rhs.push_back(bound);
    }

    double minimise(const std::vector<double>& c, std::vector<double>* argmin = nullptr) const
    {
        const std::size_t n = c.size();
        const std::size_t m = rows.size();
        double best = std::numeric_limits<double>::infinity();
        std::vector<std::size_t> pick(n);
        std::iota(pick.begin(), pick.end(), 0);
        if (m < n)
            return best;
        for (;;) {
            std::vector<double> x;
            if (solveTight(pick, x) && satisfied(x)) {
                double value = 0.0;
                for (std::size_t i = 0; i < n; ++i)
                    value += c[i] * x[i];
                if (value < best) {
                    best = value;
                    if (argmin)
                        *argmin = x;
                }
            }
            // Next n-combination of m rows in lexicographic order.
            std::size_t i = n;
            while (i > 0 && pick[i - 1] == m - n + i - 1)
                --i;
            if (i == 0)
                break;
            ++pick[i - 1];
            for (std::size_t j = i; j < n; ++j)
                pick[j] = pick[j - 1] + 1;
        }
        return best;
    }

private:
    bool solveTight(const std::vector<std::size_t>& pick, std::vector<double>& x) const
    {
        const std::size_t n = pick.size();
        std::vector<std::vector<double>> a(n);
        for (std::size_t i = 0; i < n; ++i) {
            a[i] = rows[pick[i]];
            a[i].push_back(rhs[pick[i]]);
        }
        for (std::size_t col = 0; col < n; ++col) {
            std::size_t pivot = col;
            for (std::size_t r = col + 1; r < n; ++r) {
                if (std::abs(a[r][col]) > std::abs(a[pivot][col]))
                    pivot = r;
            }
            if (std::abs(a[pivot][col]) < 1e-10)
                return false;
            std::swap(a[col], a[pivot]);
            for (std::size_t r = 0; r < n; ++r) {
                if (r == col)
                    continue;
                const double f = a[r][col] / a[col][col];
                for (std::size_t k = col; k <= n; ++k)
                    a[r][k] -= f * a[col][k];
            }
        }
        x.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            x[i] = a[i][n] / a[i][i];
        return true;
    }

    bool satisfied(const std::vector<double>& x) const
    {
        for (std::size_t r = 0; r < rows.size(); ++r) {
            double lhs = 0.0;
            for (std::size_t i = 0; i < x.size(); ++i)
                lhs += rows[r][i] * x[i];
            if (lhs > rhs[r] + 1e-9 * (1.0 + std::abs(rhs[r])))
                return false;
        }
        return true;
    }
};

// The exact lexicographic optimum of a tiny instance: T* = min over ratios of the longest path,
// written as T ≥ Σ_{v∈p} (w_max − Δ_v r_v) for every maximal path p; then the least Σ r with
// every path ≤ T*.
struct ExactOptimum {
    double batchMs = 0.0;
    double totalRatio = 0.0;
};

ExactOptimum exactOptimum(const Reference& ref, const FreezeBounds& bounds)
{
    std::vector<std::size_t> vars; // actions with a ratio variable
    for (std::size_t v = 0; v < ref.size(); ++v) {
        if (isFreezable(ref.action(v).kind) && ref.delta(v) > 0.0)
            vars.push_back(v);
    }
    const std::size_t k = vars.size();
    // Paths with the same frozen-action set: only the longest matters.
    std::map<std::vector<std::size_t>, double> pathLength;
    for (const auto& path : ref.maximalPaths()) {
        std::vector<std::size_t> frozen;
        double length = 0.0;
        for (std::size_t i = 0; i < path.size(); ++i) {
            const std::size_t v = path[i];
            length += ref.maxMs(v) + (i > 0 ? ref.delay(path[i - 1], v) : 0.0);
            const auto it = std::find(vars.begin(), vars.end(), v);
            if (it != vars.end())
                frozen.push_back(static_cast<std::size_t>(it - vars.begin()));
        }
        auto& longest = pathLength[frozen];
        longest = std::max(longest, length);
    }
    const auto addCommon = [&](VertexLp& lp, std::size_t columns) {
        for (std::size_t i = 0; i < k; ++i) {
            std::vector<double> row(columns, 0.0);
            row[i] = -1.0;
            lp.add(row, 0.0);
            row[i] = 1.0;
            lp.add(row, capOf(bounds, vars[i]));
        }
        std::map<int, std::vector<double>> budget;
        for (std::size_t i = 0; i < k; ++i) {
            auto& row = budget[ref.action(vars[i]).stage];
            row.resize(columns, 0.0);
            row[i] = 1.0;
        }
        for (const auto& [stage, row] : budget)
            lp.add(row, bounds.stageBound(stage) * ref.stageFreezable(stage));
    };

    // Columns r_0..r_{k−1}, T.
    VertexLp first;
    for (const auto& [frozen, length] : pathLength) {
        std::vector<double> row(k + 1, 0.0);
        row[k] = -1.0;
        for (std::size_t i : frozen)
            row[i] = -ref.delta(vars[i]);
        first.add(row, -length);
    }
    addCommon(first, k + 1);
    std::vector<double> c(k + 1, 0.0);
    c[k] = 1.0;
    ExactOptimum result;
    result.batchMs = first.minimise(c);

    VertexLp second;
    const double batchBound = result.batchMs * (1.0 + 1e-12);
    for (const auto& [frozen, length] : pathLength) {
        std::vector<double> row(k, 0.0);
        for (std::size_t i : frozen)
            row[i] = -ref.delta(vars[i]);
        second.add(row, batchBound - length);
    }
    addCommon(second, k);
    result.totalRatio = k ? second.minimise(std::vector<double>(k, 1.0)) : 0.0;
    return result;
}

// The least batch time over every ratio vector on a grid of `step` that meets the bounds.
double gridMinimum(const Reference& ref, const FreezeBounds& bounds, double step)
{
    std::vector<std::size_t> vars;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        if (isFreezable(ref.action(v).kind) && ref.delta(v) > 0.0)
            vars.push_back(v);
    }
    const int levels = static_cast<int>(std::lround(1.0 / step));
    std::vector<int> index(vars.size(), 0);
    std::vector<double> ratios(ref.size(), 0.0);
    double best = std::numeric_limits<double>::infinity();
    for (;;) {
        for (std::size_t i = 0; i < vars.size(); ++i)
            ratios[vars[i]] = index[i] * step;
        if (feasible(ref, bounds, ratios, 1e-12))
            best = std::min(best, ref.batch(ref.durations(ratios)));
        std::size_t i = 0;
        while (i < index.size() && index[i] == levels)
            index[i++] = 0;
        if (i == index.size())
            break;
        ++index[i];
    }
    return best;
}

FreezeBounds globalBound(double maxFreeze)
{
    FreezeBounds bounds;
    bounds.maxFreeze = maxFreeze;
    return bounds;
}

Profile syntheticProfile(ScheduleKind kind, int ranks, int microbatches, int stagesPerRank, unsigned seed)
{
    SyntheticCosts costs;
    costs.forwardMs = { 1.0 };
    costs.backwardMs = { 2.2 };
    costs.backwardFrozenMs = { 1.3 };
    costs.jitter = 0.3;
    costs.seed = seed;
    return makeSyntheticProfile(
        PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, stagesPerRank }), costs);
}

using Start = FreezePlanner::BasisStart;

} // namespace

class TestFreezePlanner : public QObject {
    Q_OBJECT

private slots:
    void matchesExactOptimum_data();
    void matchesExactOptimum();
    void singleRankClosedForm_data();
    void singleRankClosedForm();
    void monotoneInBound_data();
    void monotoneInBound();
    void stageBoundsAndCaps_data();
    void stageBoundsAndCaps();
    void freezesOnlyWhereItHelps_data();
    void freezesOnlyWhereItHelps();
    void warmEqualsFresh_data();
    void warmEqualsFresh();
    void badBounds_data();
    void badBounds();
    void jsonRoundTrip();
    void sharedProcessors_data() { monotoneInBound_data(); }
    void sharedProcessors();
    void criticalPathStartEqualsSlackStart_data();
    void criticalPathStartEqualsSlackStart();
    void allOrNothingStages_data();
    void allOrNothingStages();
    void allOrNothingDiveMonotone_data();
    void allOrNothingDiveMonotone();
    void startsFromAnotherProfilesBasis_data();
    void startsFromAnotherProfilesBasis();
    void startFromRefusesOtherShapes();
    void progressHandlerChangesNothing();
    void progressHandlerStopsPlan();
    void writesModelForLpSolve();
    void longDurationsPlanAsShortOnes_data();
    void longDurationsPlanAsShortOnes();
};

void TestFreezePlanner::matchesExactOptimum_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<QString>("costs");
    QTest::addColumn<double>("maxFreeze");
    QTest::addColumn<std::vector<double>>("stageMaxFreeze");
    QTest::addColumn<QString>("caps");
    QTest::addColumn<double>("transferMs");

    // P=2, M=2 throughout: four freezable actions with different w_max/w_min.
    const QString oneFOneB = u"0F0=1 0F1=1.2 0B0=3/1 0B1=2.5/1.5 1F0=2 1B0=4/1 1F1=1.5 1B1=3.5/2"_s;
    const QString gpipe = u"0F0=1.5 0F1=1 0B0=2/0.5 0B1=3/1 1F0=1 1F1=2 1B0=2.5/1 1B1=4/1.5"_s;
    const QString zbh1 = u"0F0=1 0F1=1 0I0=1 0W0=2/0.5 0I1=1 0W1=1.5/0.2 "
                         "1F0=1.5 1I0=1 1F1=1 1I1=1.2 1W0=2.5/0.5 1W1=1/0.9"_s;
    QTest::newRow("1F1B rho=0.5") << ScheduleKind::OneFOneB << oneFOneB << 0.5 << std::vector<double> {} << QString()
                                  << 0.0;
    QTest::newRow("1F1B rho=0.25") << ScheduleKind::OneFOneB << oneFOneB << 0.25 << std::vector<double> {} << QString()
                                   << 0.0;
    QTest::newRow("1F1B stages 0.2/0.9, 1B0 capped")
        << ScheduleKind::OneFOneB << oneFOneB << 0.9 << std::vector<double> { 0.2, 0.9 } << u"1B0=0.3"_s << 0.0;
    QTest::newRow("1F1B rho=1") << ScheduleKind::OneFOneB << oneFOneB << 1.0 << std::vector<double> {} << QString()
                                << 0.0;
    // 0B1 cannot shrink but still counts in stage 0's mean: 0B0 alone may use the stage's budget.
    QTest::newRow("1F1B a backward with nothing to freeze")
        << ScheduleKind::OneFOneB << u"0F0=1 0F1=1.2 0B0=3/1 0B1=2.5/2.5 1F0=2 1B0=4/1 1F1=1.5 1B1=3.5/2"_s << 0.5
        << std::vector<double> {} << QString() << 0.0;
    QTest::newRow("GPipe rho=0.5") << ScheduleKind::GPipe << gpipe << 0.5 << std::vector<double> {} << QString() << 0.0;
    QTest::newRow("GPipe rho=0.35, caps")
        << ScheduleKind::GPipe << gpipe << 0.35 << std::vector<double> {} << u"1B1=0.4 0B1=0.1"_s << 0.0;
    QTest::newRow("ZBH1 rho=0.5") << ScheduleKind::ZBH1 << zbh1 << 0.5 << std::vector<double> {} << QString() << 0.0;
    QTest::newRow("ZBH1 stages 0.6/0.1") << ScheduleKind::ZBH1 << zbh1 << 0.5 << std::vector<double> { 0.6, 0.1 }
                                         << QString() << 0.0;
    QTest::newRow("ZBH1 rho=0.7, 0W0 capped")
        << ScheduleKind::ZBH1 << zbh1 << 0.7 << std::vector<double> {} << u"0W0=0.45"_s << 0.0;
    // A hand-over time between ranks (processes): every cross-rank edge waits that long.
    QTest::newRow("1F1B rho=0.5, transfer 0.7")
        << ScheduleKind::OneFOneB << oneFOneB << 0.5 << std::vector<double> {} << QString() << 0.7;
    QTest::newRow("GPipe rho=0.35, caps, transfer 2")
        << ScheduleKind::GPipe << gpipe << 0.35 << std::vector<double> {} << u"1B1=0.4 0B1=0.1"_s << 2.0;
    QTest::newRow("ZBH1 stages 0.6/0.1, transfer 0.3")
        << ScheduleKind::ZBH1 << zbh1 << 0.5 << std::vector<double> { 0.6, 0.1 } << QString() << 0.3;
}

// The LP's result against an exact optimum by vertex enumeration and against a grid search.
// The grid check is one-sided by design: every grid point is feasible, so none may beat the LP;
// and rounding the optimum down to the grid costs at most step·ΣΔ.
void TestFreezePlanner::matchesExactOptimum()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(QString, costs);
    QFETCH(double, maxFreeze);
    QFETCH(std::vector<double>, stageMaxFreeze);
    QFETCH(QString, caps);
    QFETCH(double, transferMs);
    Profile profile = profileFromText(PipelineSchedule::generate(ScheduleShape { kind, 2, 2 }), costs);
    profile.setTransferMs(transferMs);
    FreezeBounds bounds = globalBound(maxFreeze);
    bounds.stageMaxFreeze = stageMaxFreeze;
    bounds.actionCap = capsFromText(profile, caps);

    FreezePlanner planner(profile);
    const FreezePlan plan = planner.plan(bounds);
    checkPlan(profile, bounds, plan);
    if (QTest::currentTestFailed())
        return;

    const Reference ref(profile);
    if (transferMs > 0.0) // the plan file carries its profile's transfer time
        QCOMPARE(planThroughJson(plan, "transfer.json").profile.transferMs(), transferMs);
    const ExactOptimum exact = exactOptimum(ref, bounds);
    VERIFY_NEAR(u"batch vs vertex enumeration"_s, plan.batchMsPlanned, exact.batchMs);
    VERIFY_NEAR_TOL(u"total ratio vs vertex enumeration"_s, totalRatio(plan), exact.totalRatio, 1e-6);

    const double step = 0.05;
    const double grid = gridMinimum(ref, bounds, step);
    double deltaSum = 0.0;
    for (std::size_t v = 0; v < ref.size(); ++v)
        deltaSum += ref.delta(v);
    // Relative: the planner holds T within 1e-10 of its optimum while it minimises total freezing.
    QVERIFY2(plan.batchMsPlanned <= grid * (1 + 1e-9), gotWant(u"LP vs grid"_s, plan.batchMsPlanned, grid).constData());
    QVERIFY2(plan.batchMsPlanned >= grid - step * deltaSum - 1e-9,
        gotWant(u"LP vs grid"_s, plan.batchMsPlanned, grid).constData());
    // The instances are built so that freezing pays: a plan equal to no freezing would be a
    // vacuous pass of everything above.
    QVERIFY(plan.batchMsPlanned < plan.batchMsNoFreeze - 1e-3);
}

void TestFreezePlanner::singleRankClosedForm_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<QString>("costs");
    QTest::addColumn<double>("maxFreeze");
    QTest::addColumn<QString>("caps");

    // Δ = 2, 0.5, 3.5, 0: the last counts in the mean (n = 4) but has nothing to give.
    const QString backward = u"0F0=1 0F1=1 0F2=1 0F3=1 0B0=3/1 0B1=2.5/2 0B2=4/0.5 0B3=2/2"_s;
    QTest::newRow("1F1B M=4 rho=0.25: budget 1 all on the largest gain")
        << ScheduleKind::OneFOneB << 4 << backward << 0.25 << QString();
    QTest::newRow("1F1B M=4 rho=0.6: budget 2.4 spills to the third")
        << ScheduleKind::OneFOneB << 4 << backward << 0.6 << QString();
    QTest::newRow("1F1B M=4 rho=1: more budget than gains")
        << ScheduleKind::OneFOneB << 4 << backward << 1.0 << QString();
    QTest::newRow("1F1B M=4 rho=0.6, largest capped at 0.5")
        << ScheduleKind::OneFOneB << 4 << backward << 0.6 << u"0B2=0.5"_s;
    QTest::newRow("GPipe M=4 rho=0.4") << ScheduleKind::GPipe << 4 << backward << 0.4 << QString();
    QTest::newRow("ZBH1 M=3 rho=0.5: W's freeze")
        << ScheduleKind::ZBH1 << 3 << u"0F0=1 0F1=1 0F2=1 0I0=1 0I1=1 0I2=1 0W0=2/0.5 0W1=1/0.8 0W2=3/0.4"_s << 0.5
        << QString();
}

// One rank: the batch is the sum of all durations, so the optimum spends the budget ρ·n on the
// largest Δ first (a fractional knapsack), and the least total ratio is exactly what it spends.
void TestFreezePlanner::singleRankClosedForm()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, microbatches);
    QFETCH(QString, costs);
    QFETCH(double, maxFreeze);
    QFETCH(QString, caps);
    const Profile profile = profileFromText(PipelineSchedule::generate(ScheduleShape { kind, 1, microbatches }), costs);
    FreezeBounds bounds = globalBound(maxFreeze);
    bounds.actionCap = capsFromText(profile, caps);
    FreezePlanner planner(profile);
    const FreezePlan plan = planner.plan(bounds);
    checkPlan(profile, bounds, plan);

    const Reference ref(profile);
    std::vector<std::size_t> byGain;
    double total = 0.0;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        total += ref.maxMs(v);
        if (isFreezable(ref.action(v).kind))
            byGain.push_back(v);
    }
    std::sort(byGain.begin(), byGain.end(), [&](auto a, auto b) { return ref.delta(a) > ref.delta(b); });
    double budget = maxFreeze * static_cast<double>(byGain.size());
    std::vector<double> want(ref.size(), 0.0);
    for (std::size_t v : byGain) {
        if (ref.delta(v) <= 0.0)
            break;
        want[v] = std::min(budget, capOf(bounds, v));
        budget -= want[v];
        total -= want[v] * ref.delta(v);
    }
    VERIFY_NEAR(u"batch"_s, plan.batchMsPlanned, total);
    for (std::size_t v = 0; v < ref.size(); ++v)
        VERIFY_NEAR_TOL(u"ratio of "_s + nameOf(ref.action(v)), plan.actions[v].ratio, want[v], 1e-7);
}

void TestFreezePlanner::monotoneInBound_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 1;
    QTest::newRow("GPipe P=3 M=6") << ScheduleKind::GPipe << 3 << 6 << 1;
    QTest::newRow("Interleaved P=4 M=8 V=2") << ScheduleKind::Interleaved1F1B << 4 << 8 << 2;
    QTest::newRow("ZBH1 P=4 M=8") << ScheduleKind::ZBH1 << 4 << 8 << 1;
    QTest::newRow("ZBV P=4 M=8") << ScheduleKind::ZBV << 4 << 8 << 2;
}

// One planner swept over ρ = 0, 0.1, ..., 1 (warm re-solves): a larger bound only adds feasible
// plans, so the batch time never grows; the ends are no freezing and everything frozen; and no
// random feasible plan beats the LP.
void TestFreezePlanner::monotoneInBound()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const Profile profile = syntheticProfile(kind, ranks, microbatches, stagesPerRank, 7);
    const Reference ref(profile);
    FreezePlanner planner(profile);
    std::mt19937 engine(11);
    double previous = std::numeric_limits<double>::infinity();
    for (int step = 0; step <= 10; ++step) {
        const double rho = step / 10.0;
        const FreezeBounds bounds = globalBound(rho);
        const FreezePlan plan = planner.plan(bounds);
        checkPlan(profile, bounds, plan);
        if (QTest::currentTestFailed())
            return;
        QVERIFY2(plan.batchMsPlanned <= previous * (1 + 1e-9),
            gotWant(u"ρ="_s + QString::number(rho), plan.batchMsPlanned, previous).constData());
        previous = plan.batchMsPlanned;
        if (step == 0) {
            for (const PlannedAction& action : plan.actions)
                QCOMPARE(action.ratio, 0.0);
            VERIFY_NEAR(u"ρ=0"_s, plan.batchMsPlanned, plan.batchMsNoFreeze);
        }
        if (step == 10)
            VERIFY_NEAR(u"ρ=1"_s, plan.batchMsPlanned, plan.batchMsAllFrozen);
        if (step > 0 && step < 10)
            QVERIFY(plan.batchMsPlanned < plan.batchMsNoFreeze);
        for (int draw = 0; draw < 40; ++draw) {
            const std::vector<double> ratios = randomFeasible(ref, bounds, engine);
            const double batch = ref.batch(ref.durations(ratios));
            QVERIFY2(plan.batchMsPlanned <= batch * (1 + 1e-9),
                gotWant(u"random feasible plan at ρ="_s + QString::number(rho), batch, plan.batchMsPlanned)
                    .constData());
        }
    }
}

void TestFreezePlanner::stageBoundsAndCaps_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<unsigned>("seed");
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 1 << 1u;
    QTest::newRow("Interleaved P=2 M=4 V=3") << ScheduleKind::Interleaved1F1B << 2 << 4 << 3 << 2u;
    QTest::newRow("ZBH1 P=3 M=6") << ScheduleKind::ZBH1 << 3 << 6 << 1 << 3u;
    QTest::newRow("ZBV P=3 M=6") << ScheduleKind::ZBV << 3 << 6 << 2 << 4u;
}

// Random per-stage bounds (one stage at 0, one at 1) and per-action caps (some 0): every plan
// stays within both, a stage bounded by 0 freezes nothing, and random feasible plans are no
// faster.
void TestFreezePlanner::stageBoundsAndCaps()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(unsigned, seed);
    const Profile profile = syntheticProfile(kind, ranks, microbatches, stagesPerRank, seed);
    const Reference ref(profile);
    FreezePlanner planner(profile);
    std::mt19937 engine(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const int stages = ranks * stagesPerRank;
    for (int round = 0; round < 3; ++round) {
        FreezeBounds bounds = globalBound(0.5);
        for (int s = 0; s < stages; ++s)
            bounds.stageMaxFreeze.push_back(s == 0 ? 0.0 : s == 1 ? 1.0 : unit(engine));
        for (std::size_t v = 0; v < ref.size(); ++v) {
            const double draw = unit(engine);
            bounds.actionCap.push_back(draw < 0.15 ? 0.0 : draw < 0.4 ? 1.0 : unit(engine));
        }
        const FreezePlan plan = planner.plan(bounds);
        checkPlan(profile, bounds, plan);
        for (std::size_t v = 0; v < ref.size(); ++v) {
            QVERIFY(plan.actions[v].ratio <= bounds.actionCap[v] + 1e-9);
            if (ref.action(v).stage == 0)
                QCOMPARE(plan.actions[v].ratio, 0.0);
        }
        for (int s = 0; s < stages; ++s)
            QVERIFY(plan.stageMeanRatio[static_cast<std::size_t>(s)]
                <= bounds.stageMaxFreeze[static_cast<std::size_t>(s)] + 1e-9);
        for (int draw = 0; draw < 100; ++draw) {
            const double batch = ref.batch(ref.durations(randomFeasible(ref, bounds, engine)));
            QVERIFY2(plan.batchMsPlanned <= batch * (1 + 1e-9),
                gotWant(u"random feasible plan"_s, batch, plan.batchMsPlanned).constData());
        }
        if (QTest::currentTestFailed())
            return;
    }
}

void TestFreezePlanner::freezesOnlyWhereItHelps_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<QString>("costs");
    QTest::addColumn<QString>("ratios"); // expected, by hand; empty: only the general checks

    // Stage 1 is three times slower than its neighbours (F 3 vs 1, B 6→3 vs 2→1). Everything
    // frozen the batch ends at 22 along 0F0, 1F0..1F2, 2F2, 2B0, 1B0..1B2, 0B2; each of those
    // B's must be fully frozen for 22, and every other B has float to spare even unfrozen
    // (2B1 ends at 14 ≤ 15, 2B2 at 16 ≤ 18, 0B0 at 17 and 0B1 at 20 ≤ 21).
    QTest::newRow("GPipe P=3 M=3 slow middle stage")
        << ScheduleKind::GPipe << 3 << 3
        << u"0F0=1 0F1=1 0F2=1 0B0=2/1 0B1=2/1 0B2=2/1 1F0=3 1F1=3 1F2=3 1B0=6/3 1B1=6/3 1B2=6/3 "
           "2F0=1 2F1=1 2F2=1 2B0=2/1 2B1=2/1 2B2=2/1"_s
        << u"0B0=0 0B1=0 0B2=1 1B0=1 1B1=1 1B2=1 2B0=1 2B1=0 2B2=0"_s;
    QTest::newRow("1F1B P=3 M=4 slow middle stage")
        << ScheduleKind::OneFOneB << 3 << 4
        << u"0F0=1 0F1=1 0F2=1 0F3=1 0B0=2/1 0B1=2/1 0B2=2/1 0B3=2/1 1F0=3 1F1=3 1F2=3 1F3=3 "
           "1B0=6/3 1B1=6/3 1B2=6/3 1B3=6/3 2F0=1 2F1=1 2F2=1 2F3=1 2B0=2/1 2B1=2/1 2B2=2/1 2B3=2/1"_s
        << QString();
    QTest::newRow("1F1B P=3 M=4 slow last stage")
        << ScheduleKind::OneFOneB << 3 << 4
        << u"0F0=1 0F1=1 0F2=1 0F3=1 0B0=2/1 0B1=2/1 0B2=2/1 0B3=2/1 1F0=1 1F1=1 1F2=1 1F3=1 "
           "1B0=2/1 1B1=2/1 1B2=2/1 1B3=2/1 2F0=4 2F1=4 2F2=4 2F3=4 2B0=8/3 2B1=8/3 2B2=8/3 2B3=8/3"_s
        << QString();
}

// Lexicographic second objective at ρ = 1: the batch time is the all-frozen one, yet actions
// whose shortening cannot help stay unfrozen. checkPlan verifies that every frozen action has
// no float; rows with a hand-derived answer compare every ratio.
void TestFreezePlanner::freezesOnlyWhereItHelps()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(QString, costs);
    QFETCH(QString, ratios);
    const Profile profile
        = profileFromText(PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches }), costs);
    const FreezeBounds bounds = globalBound(1.0);
    FreezePlanner planner(profile);
    const FreezePlan plan = planner.plan(bounds);
    checkPlan(profile, bounds, plan);
    VERIFY_NEAR(u"batch"_s, plan.batchMsPlanned, plan.batchMsAllFrozen);
    QVERIFY(plan.batchMsAllFrozen < plan.batchMsNoFreeze);

    const Reference ref(profile);
    int frozen = 0;
    int freezable = 0;
    for (std::size_t v = 0; v < ref.size(); ++v) {
        freezable += isFreezable(ref.action(v).kind);
        frozen += plan.actions[v].ratio > 1e-9;
    }
    QVERIFY2(frozen < freezable, "everything frozen: the second objective did nothing");
    if (ratios.isEmpty())
        return;
    QCOMPARE(plan.batchMsAllFrozen, 22.0);
    const std::map<QString, double> want = parseNamed(ratios);
    for (std::size_t v = 0; v < ref.size(); ++v) {
        const auto it = want.find(nameOf(ref.action(v)));
        VERIFY_NEAR_TOL(
            u"ratio of "_s + nameOf(ref.action(v)), plan.actions[v].ratio, it == want.end() ? 0.0 : it->second, 1e-7);
    }
}

void TestFreezePlanner::warmEqualsFresh_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 1;
    QTest::newRow("ZBH1 P=3 M=6") << ScheduleKind::ZBH1 << 3 << 6 << 1;
    QTest::newRow("ZBV P=4 M=8") << ScheduleKind::ZBV << 4 << 8 << 2;
}

// A planner re-solved from its last basis gives the plan a fresh one gives, whatever came
// before: 0.3, 0.7, 0.3 again, then per-stage bounds, caps, and back.
void TestFreezePlanner::warmEqualsFresh()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const Profile profile = syntheticProfile(kind, ranks, microbatches, stagesPerRank, 3);
    const int stages = ranks * stagesPerRank;
    FreezeBounds perStage = globalBound(0.5);
    for (int s = 0; s < stages; ++s)
        perStage.stageMaxFreeze.push_back(0.1 + 0.8 * s / std::max(1, stages - 1));
    FreezeBounds capped = globalBound(0.7);
    for (std::size_t v = 0; v < profile.actions().size(); ++v)
        capped.actionCap.push_back(v % 3 == 0 ? 0.2 : 1.0);
    const std::vector<FreezeBounds> sequence { globalBound(0.3), globalBound(0.7), globalBound(0.3), perStage, capped,
        globalBound(0.7), globalBound(0.3) };

    FreezePlanner warm(profile);
    std::vector<double> batchAt03;
    for (const FreezeBounds& bounds : sequence) {
        const FreezePlan plan = warm.plan(bounds);
        FreezePlanner freshPlanner(profile);
        const FreezePlan fresh = freshPlanner.plan(bounds);
        checkPlan(profile, bounds, plan);
        VERIFY_NEAR(u"warm vs fresh batch"_s, plan.batchMsPlanned, fresh.batchMsPlanned);
        // The least total freezing at the optimal batch time is unique even when the ratios are not.
        VERIFY_NEAR_TOL(u"warm vs fresh total ratio"_s, totalRatio(plan), totalRatio(fresh), 1e-6);
        if (bounds.stageMaxFreeze.empty() && bounds.actionCap.empty() && bounds.maxFreeze == 0.3)
            batchAt03.push_back(plan.batchMsPlanned);
        if (QTest::currentTestFailed())
            return;
    }
    QCOMPARE(batchAt03.size(), std::size_t(3));
    VERIFY_NEAR(u"second 0.3"_s, batchAt03[1], batchAt03[0]);
    VERIFY_NEAR(u"third 0.3"_s, batchAt03[2], batchAt03[0]);
}

void TestFreezePlanner::badBounds_data()
{
    QTest::addColumn<double>("maxFreeze");
    QTest::addColumn<std::vector<double>>("stageMaxFreeze");
    QTest::addColumn<int>("capCount"); // -1: no caps
    QTest::addColumn<int>("badCap"); // index set to 1.5, or -1
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    const std::vector<double> none;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // The profile below: 1F1B P=2 M=2, two stages, eight actions.
    QTest::newRow("max_freeze 1.5") << 1.5 << none << -1 << -1 << u"max_freeze"_s << u"[0, 1]"_s;
    QTest::newRow("max_freeze -0.1") << -0.1 << none << -1 << -1 << u"max_freeze"_s << u"-0.1"_s;
    QTest::newRow("max_freeze NaN") << nan << none << -1 << -1 << u"max_freeze"_s << u"nan"_s;
    QTest::newRow("max_freeze infinite") << std::numeric_limits<double>::infinity() << none << -1 << -1
                                         << u"max_freeze"_s << u"[0, 1]"_s;
    QTest::newRow("stage_max_freeze too short")
        << 0.5 << std::vector<double> { 0.5 } << -1 << -1 << u"stage_max_freeze"_s << u"one value per stage: 2"_s;
    QTest::newRow("stage_max_freeze too long")
        << 0.5 << std::vector<double> { 0.5, 0.5, 0.5 } << -1 << -1 << u"stage_max_freeze"_s << u"(got 3)"_s;
    QTest::newRow("stage_max_freeze value out of range")
        << 0.5 << std::vector<double> { 0.5, 2.0 } << -1 << -1 << u"stage_max_freeze[1]"_s << u"[0, 1]"_s;
    QTest::newRow("stage_max_freeze NaN")
        << 0.5 << std::vector<double> { nan, 0.5 } << -1 << -1 << u"stage_max_freeze[0]"_s << u"[0, 1]"_s;
    QTest::newRow("action_cap too short") << 0.5 << none << 7 << -1 << u"action_cap"_s << u"one value per action: 8"_s;
    QTest::newRow("action_cap too long") << 0.5 << none << 9 << -1 << u"action_cap"_s << u"(got 9)"_s;
    QTest::newRow("action_cap value out of range") << 0.5 << none << 8 << 3 << u"action_cap[3]"_s << u"[0, 1]"_s;
}

void TestFreezePlanner::badBounds()
{
    QFETCH(double, maxFreeze);
    QFETCH(std::vector<double>, stageMaxFreeze);
    QFETCH(int, capCount);
    QFETCH(int, badCap);
    QFETCH(QString, field);
    QFETCH(QString, message);
    const Profile profile = syntheticProfile(ScheduleKind::OneFOneB, 2, 2, 1, 5);
    FreezeBounds bounds = globalBound(maxFreeze);
    bounds.stageMaxFreeze = stageMaxFreeze;
    if (capCount >= 0)
        bounds.actionCap.assign(static_cast<std::size_t>(capCount), 0.5);
    if (badCap >= 0)
        bounds.actionCap[static_cast<std::size_t>(badCap)] = 1.5;

    FreezePlanner planner(profile);
    planner.plan(globalBound(0.4)); // a model to keep: a rejected bound must not damage it
    QString got;
    try {
        planner.plan(bounds);
        QFAIL("no InputError");
    } catch (const InputError& error) {
        got = QString::fromStdString(error.what());
        QCOMPARE(QString::fromStdString(error.field()), field);
        QCOMPARE(error.source(), std::string("bounds"));
    }
    QVERIFY2(got.startsWith(u"bounds: "_s + field + u": "_s), qPrintable(got));
    QVERIFY2(got.contains(message), qPrintable(got));

    const FreezePlan after = planner.plan(globalBound(0.6));
    FreezePlanner fresh(profile);
    VERIFY_NEAR(u"after a rejected bound"_s, after.batchMsPlanned, fresh.plan(globalBound(0.6)).batchMsPlanned);
}

// Through tfreeze-plan/1 JSON and back, a real plan keeps every number to the bit.
void TestFreezePlanner::jsonRoundTrip()
{
    const Profile profile = syntheticProfile(ScheduleKind::ZBH1, 3, 5, 1, 9);
    FreezeBounds bounds = globalBound(0.45);
    bounds.stageMaxFreeze = { 0.2, 0.5, 0.8 };
    FreezePlanner planner(profile);
    const FreezePlan plan = planner.plan(bounds);
    QVERIFY(totalRatio(plan) > 0.0);
    const FreezePlan read = planThroughJson(plan, "roundtrip.json");
    QCOMPARE(read.actions.size(), plan.actions.size());
    for (std::size_t v = 0; v < plan.actions.size(); ++v) {
        QVERIFY(read.actions[v].ratio == plan.actions[v].ratio);
        QVERIFY(read.actions[v].startMs == plan.actions[v].startMs);
        QVERIFY(read.actions[v].endMs == plan.actions[v].endMs);
        QVERIFY(read.profile.costs()[v].maxMs == plan.profile.costs()[v].maxMs);
        QVERIFY(read.profile.costs()[v].minMs == plan.profile.costs()[v].minMs);
    }
    QVERIFY(read.profile.actions() == plan.profile.actions());
    QVERIFY(read.batchMsPlanned == plan.batchMsPlanned);
    QVERIFY(read.batchMsNoFreeze == plan.batchMsNoFreeze);
    QVERIFY(read.batchMsAllFrozen == plan.batchMsAllFrozen);
    QVERIFY(read.stageMeanRatio == plan.stageMeanRatio);
    QVERIFY(read.bounds.maxFreeze == plan.bounds.maxFreeze);
    QVERIFY(read.bounds.stageMaxFreeze == plan.bounds.stageMaxFreeze);
}

// Ranks that share processors: on one processor the batch is the total work, so every unit of
// freezing shortens it and the plan spends each stage's whole budget; its predicted batch is the
// planned total work, and no-freeze / all-frozen are the totals of max_ms / min_ms. On more
// processors than one (but fewer than ranks) the prediction is the processor-sharing timeline of
// the planned durations, never shorter than with a processor per rank. The profile's processor
// count survives the plan file.
void TestFreezePlanner::sharedProcessors()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    Profile profile = syntheticProfile(kind, ranks, microbatches, stagesPerRank, 11);
    const FreezeBounds bounds = globalBound(0.5);
    const FreezePlan own = FreezePlanner(profile).plan(bounds);

    profile.setProcessors(1);
    const FreezePlan single = FreezePlanner(profile).plan(bounds);
    double noFreeze = 0.0;
    double allFrozen = 0.0;
    double planned = 0.0;
    for (std::size_t v = 0; v < profile.costs().size(); ++v) {
        const ActionCost& cost = profile.costs()[v];
        noFreeze += cost.maxMs;
        allFrozen += cost.minMs;
        planned += cost.maxMs - single.actions[v].ratio * (cost.maxMs - cost.minMs);
    }
    VERIFY_NEAR(u"no freeze"_s, single.batchMsNoFreeze, noFreeze);
    VERIFY_NEAR(u"all frozen"_s, single.batchMsAllFrozen, allFrozen);
    VERIFY_NEAR(u"planned"_s, single.batchMsPlanned, planned);
    for (int stage = 0; stage < profile.schedule().stageCount(); ++stage)
        VERIFY_NEAR_TOL(u"stage mean ratio"_s, single.stageMeanRatio[static_cast<std::size_t>(stage)], 0.5, 1e-6);

    for (int processors = 2; processors < ranks; ++processors) {
        profile.setProcessors(processors);
        const FreezePlan shared = FreezePlanner(profile).plan(bounds);
        std::vector<double> durations;
        for (std::size_t v = 0; v < profile.costs().size(); ++v) {
            const ActionCost& cost = profile.costs()[v];
            durations.push_back(cost.maxMs - shared.actions[v].ratio * (cost.maxMs - cost.minMs));
        }
        const Timeline timeline = simulateTimeline(PipelineDag(profile.schedule()), durations, processors);
        VERIFY_NEAR(u"planned"_s, shared.batchMsPlanned, timeline.batchMs);
        QVERIFY2(shared.batchMsPlanned >= own.batchMsPlanned * (1.0 - 1e-6),
            gotWant(u"shared ≥ own processors"_s, shared.batchMsPlanned, own.batchMsPlanned));
        for (std::size_t v = 0; v < durations.size(); ++v)
            VERIFY_NEAR(u"start"_s, shared.actions[v].startMs, timeline.startMs[v]);
    }

    const FreezePlan read = planThroughJson(single, "shared.json");
    QCOMPARE(read.profile.processors(), 1);
    QCOMPARE(profileThroughJson(profile, "shared-profile.json").processors(), profile.processors());
}

void TestFreezePlanner::criticalPathStartEqualsSlackStart_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<int>("processors");
    // Fewer pivots is asserted where the start pays most (measured in `tfreeze bench plan`);
    // pivot counts are deterministic for one lp_solve build, unlike times.
    QTest::addColumn<bool>("fewerPivots");
    QTest::addColumn<double>("transferMs");
    QTest::newRow("1F1B P=8 M=32") << ScheduleKind::OneFOneB << 8 << 32 << 1 << 0 << true << 0.0;
    QTest::newRow("ZBV P=8 M=16") << ScheduleKind::ZBV << 8 << 16 << 2 << 0 << true << 0.0;
    QTest::newRow("GPipe P=4 M=8") << ScheduleKind::GPipe << 4 << 8 << 1 << 0 << false << 0.0;
    QTest::newRow("Interleaved P=4 M=8 V=2") << ScheduleKind::Interleaved1F1B << 4 << 8 << 2 << 0 << false << 0.0;
    QTest::newRow("ZBH1 P=4 M=8") << ScheduleKind::ZBH1 << 4 << 8 << 1 << 0 << false << 0.0;
    QTest::newRow("1F1B P=4 M=8 on 2 processors") << ScheduleKind::OneFOneB << 4 << 8 << 1 << 2 << false << 0.0;
    QTest::newRow("1F1B P=8 M=32, transfer 0.4") << ScheduleKind::OneFOneB << 8 << 32 << 1 << 0 << false << 0.4;
    QTest::newRow("ZBV P=4 M=8 on 3 processors, transfer 1.5") << ScheduleKind::ZBV << 4 << 8 << 2 << 3 << false << 1.5;
}

// The critical-path start basis (and the two-stage cold solve) changes where lp_solve starts, never where it ends: the
// same batch time and the same least total freezing as from lp_solve's own all-slack start, for global and per-stage
// bounds and caps, cold and after warm re-solves.
void TestFreezePlanner::criticalPathStartEqualsSlackStart()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(int, processors);
    QFETCH(bool, fewerPivots);
    QFETCH(double, transferMs);
    Profile profile = syntheticProfile(kind, ranks, microbatches, stagesPerRank, 5);
    profile.setProcessors(processors);
    profile.setTransferMs(transferMs);
    PlannerOptions slackStart;
    slackStart.criticalPathStart = false;
    // Every solve in stages, coarser freezing prices first (only large pipelines get them by
    // default; cold and warm solves climb different ladders): the last stage must still reach the
    // one-stage plan.
    PlannerOptions staged;
    staged.coarsePriceAboveRatios = 0;
    FreezeBounds perStage = globalBound(0.5);
    const int stages = ranks * stagesPerRank;
    for (int s = 0; s < stages; ++s)
        perStage.stageMaxFreeze.push_back(s % 2 == 0 ? 0.2 : 0.8);
    FreezeBounds capped = globalBound(0.6);
    for (std::size_t v = 0; v < profile.actions().size(); ++v)
        capped.actionCap.push_back(v % 4 == 0 ? 0.1 : 1.0);

    FreezePlanner warmPath(profile);
    FreezePlanner stagedWarmPath(profile, staged);
    for (const FreezeBounds& bounds : { globalBound(0.5), perStage, capped, globalBound(1.0), globalBound(0.0) }) {
        FreezePlanner path(profile);
        FreezePlanner slack(profile, slackStart);
        const FreezePlan fromPath = path.plan(bounds);
        const FreezePlan fromSlack = slack.plan(bounds);
        const FreezePlan warm = warmPath.plan(bounds);
        const FreezePlan stagedCold = FreezePlanner(profile, staged).plan(bounds);
        const FreezePlan stagedWarm = stagedWarmPath.plan(bounds);
        if (processors == 0) // checkPlan() reads spans as durations, which sharing stretches
            checkPlan(profile, bounds, fromPath);
        VERIFY_NEAR(u"batch, staged cold vs slack start"_s, stagedCold.batchMsPlanned, fromSlack.batchMsPlanned);
        VERIFY_NEAR_TOL(
            u"total ratio, staged cold vs slack start"_s, totalRatio(stagedCold), totalRatio(fromSlack), 1e-6);
        VERIFY_NEAR(u"batch, staged warm vs slack start"_s, stagedWarm.batchMsPlanned, fromSlack.batchMsPlanned);
        VERIFY_NEAR_TOL(
            u"total ratio, staged warm vs slack start"_s, totalRatio(stagedWarm), totalRatio(fromSlack), 1e-6);
        VERIFY_NEAR(u"batch, critical-path vs slack start"_s, fromPath.batchMsPlanned, fromSlack.batchMsPlanned);
        VERIFY_NEAR_TOL(
            u"total ratio, critical-path vs slack start"_s, totalRatio(fromPath), totalRatio(fromSlack), 1e-6);
        VERIFY_NEAR(u"batch, warm vs slack start"_s, warm.batchMsPlanned, fromSlack.batchMsPlanned);
        if (QTest::currentTestFailed())
            return;
        if (fewerPivots && bounds.maxFreeze == 0.5 && bounds.stageMaxFreeze.empty())
            QVERIFY2(path.lpStatistics().pivots < slack.lpStatistics().pivots,
                qPrintable(u"pivots: critical-path start %1, slack start %2"_s.arg(path.lpStatistics().pivots)
                               .arg(slack.lpStatistics().pivots)));
    }
}

void TestFreezePlanner::startsFromAnotherProfilesBasis_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<int>("processors");
    QTest::addColumn<double>("transferMs");
    // Fewer pivots than the critical-path start is asserted where `tfreeze bench replan` measured
    // the start paying (1F1B); pivot counts are deterministic for one lp_solve build.
    QTest::addColumn<bool>("fewerPivots");
    // Solved cold in stages, as large pipelines are (a carried basis still solves in one).
    QTest::addColumn<bool>("staged");
    // Stages whose actions freeze all or nothing (the studio's "Whole"): settled by branch and
    // bound up to 16 such actions, by a dive of warm re-solves beyond.
    QTest::addColumn<std::vector<int>>("whole");
    const std::vector<int> none;
    const std::vector<int> stage0 { 0 };
    QTest::newRow("1F1B P=8 M=32") << ScheduleKind::OneFOneB << 8 << 32 << 1 << 0 << 0.0 << true << false << none;
    QTest::newRow("1F1B P=8 M=32, staged")
        << ScheduleKind::OneFOneB << 8 << 32 << 1 << 0 << 0.0 << false << true << none;
    QTest::newRow("ZBV P=4 M=8") << ScheduleKind::ZBV << 4 << 8 << 2 << 0 << 0.0 << false << false << none;
    QTest::newRow("ZBH1 P=3 M=6") << ScheduleKind::ZBH1 << 3 << 6 << 1 << 0 << 0.0 << false << false << none;
    QTest::newRow("GPipe P=4 M=8, transfer 0.4")
        << ScheduleKind::GPipe << 4 << 8 << 1 << 0 << 0.4 << false << false << none;
    QTest::newRow("Interleaved P=4 M=8 on 2 processors")
        << ScheduleKind::Interleaved1F1B << 4 << 8 << 2 << 2 << 0.0 << false << false << none;
    QTest::newRow("1F1B P=4 M=8, stage 0 whole (branch and bound)")
        << ScheduleKind::OneFOneB << 4 << 8 << 1 << 0 << 0.0 << false << false << stage0;
    QTest::newRow("1F1B P=4 M=32, stage 0 whole (dive)")
        << ScheduleKind::OneFOneB << 4 << 32 << 1 << 0 << 0.0 << false << false << stage0;
}

// A profile measured again (every cost drawn anew) planned from the optimal basis of the last
// profile's plan: the plan a cold planner gives, for global and per-stage bounds, caps and the
// limits, and from its own optimum's basis without a pivot.
void TestFreezePlanner::startsFromAnotherProfilesBasis()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(int, processors);
    QFETCH(double, transferMs);
    QFETCH(bool, fewerPivots);
    QFETCH(bool, staged);
    QFETCH(std::vector<int>, whole);
    PlannerOptions options;
    if (staged)
        options.coarsePriceAboveRatios = 0;
    auto measured = [&](unsigned seed) {
        Profile profile = syntheticProfile(kind, ranks, microbatches, stagesPerRank, seed);
        profile.setProcessors(processors);
        profile.setTransferMs(transferMs);
        profile.setAllOrNothingStages(whole);
        return profile;
    };
    const Profile before = measured(5);
    const Profile again = measured(6);
    FreezeBounds perStage = globalBound(0.5);
    const int stages = ranks * stagesPerRank;
    for (int s = 0; s < stages; ++s)
        perStage.stageMaxFreeze.push_back(s % 2 == 0 ? 0.2 : 0.8);
    FreezeBounds capped = globalBound(0.6);
    for (std::size_t v = 0; v < before.actions().size(); ++v)
        capped.actionCap.push_back(v % 4 == 0 ? 0.1 : 1.0);

    for (const FreezeBounds& bounds : { globalBound(0.5), perStage, capped, globalBound(1.0), globalBound(0.0) }) {
        FreezePlanner last(before, options);
        QVERIFY(last.optimalBasis().empty());
        last.plan(bounds);
        const PlannerBasis basis = last.optimalBasis();
        QVERIFY(!basis.empty());

        FreezePlanner cold(again, options);
        const FreezePlan fromCold = cold.plan(bounds);
        FreezePlanner carried(again, options);
        QCOMPARE(carried.startFrom(basis), Start::Taken);
        QVERIFY(carried.optimalBasis().empty()); // a start is not an optimum
        const FreezePlan fromBasis = carried.plan(bounds);
        if (processors == 0) // checkPlan() reads spans as durations, which sharing stretches
            checkPlan(again, bounds, fromBasis);
        VERIFY_NEAR(u"batch, from basis vs cold"_s, fromBasis.batchMsPlanned, fromCold.batchMsPlanned);
        VERIFY_NEAR_TOL(u"total ratio, from basis vs cold"_s, totalRatio(fromBasis), totalRatio(fromCold), 1e-6);
        if (QTest::currentTestFailed())
            return;
        if (fewerPivots && bounds.maxFreeze == 0.5 && bounds.stageMaxFreeze.empty())
            QVERIFY2(carried.lpStatistics().pivots < cold.lpStatistics().pivots,
                qPrintable(u"pivots: from basis %1, cold %2"_s.arg(carried.lpStatistics().pivots)
                               .arg(cold.lpStatistics().pivots)));

        // The same profile from its own optimum: already optimal (with whole stages the basis is
        // the last branch's or dive's, which the plan has to reach again).
        FreezePlanner same(before, options);
        QCOMPARE(same.startFrom(basis), Start::Taken);
        const FreezePlan again0 = same.plan(bounds);
        if (whole.empty())
            QCOMPARE(same.lpStatistics().pivots, 0LL);
        VERIFY_NEAR(u"batch, own basis"_s, again0.batchMsPlanned, last.plan(bounds).batchMsPlanned);
    }
}

// A basis is only taken by an LP of its shape, and only before the planner has a model of its
// own; a refused one changes nothing.
void TestFreezePlanner::startFromRefusesOtherShapes()
{
    const Profile profile = syntheticProfile(ScheduleKind::OneFOneB, 4, 8, 1, 1);
    FreezePlanner source(profile);
    const FreezePlan plan = source.plan(globalBound(0.5));
    const PlannerBasis basis = source.optimalBasis();
    QVERIFY(!basis.empty());

    QCOMPARE(FreezePlanner(profile).startFrom(PlannerBasis {}), Start::Invalid);
    QCOMPARE(FreezePlanner(syntheticProfile(ScheduleKind::OneFOneB, 4, 9, 1, 1)).startFrom(basis), Start::OtherShape);
    QCOMPARE(FreezePlanner(syntheticProfile(ScheduleKind::GPipe, 4, 8, 1, 1)).startFrom(basis), Start::OtherShape);
    // One backward pass that freezing cannot shorten has no ratio column: another LP.
    std::vector<ActionCost> costs = profile.costs();
    for (std::size_t v = 0; v < costs.size(); ++v) {
        if (isFreezable(profile.actions()[v].kind)) {
            costs[v].minMs = costs[v].maxMs;
            break;
        }
    }
    QCOMPARE(
        FreezePlanner(Profile(profile.schedule(), costs, "one fixed backward")).startFrom(basis), Start::OtherShape);
    // On the largest pipelines a carried basis cost more time than it saved.
    PlannerOptions small;
    small.carriedBasisMaxRatios = 31; // the profile has 32 ratio columns
    QCOMPARE(FreezePlanner(profile, small).startFrom(basis), Start::TooLarge);
    small.carriedBasisMaxRatios = 32;
    QCOMPARE(FreezePlanner(profile, small).startFrom(basis), Start::Taken);
    // A planner with an optimum of its own keeps it.
    FreezePlanner planned(profile);
    planned.plan(globalBound(0.3));
    QCOMPARE(planned.startFrom(basis), Start::AlreadySolved);
    VERIFY_NEAR(u"after a refused start"_s, planned.plan(globalBound(0.5)).batchMsPlanned, plan.batchMsPlanned);

    // Entries that are not a basis of the LP (lp_solve would not notice): refused, and the
    // planner plans as before.
    PlannerBasis repeated = basis;
    repeated.entries[2] = repeated.entries[1];
    PlannerBasis outOfRange = basis;
    outOfRange.entries.back() = static_cast<int>(outOfRange.entries.size());
    PlannerBasis shorter = basis;
    shorter.entries.pop_back();
    for (const PlannerBasis& damaged : { repeated, outOfRange, shorter }) {
        FreezePlanner fromDamaged(profile);
        QCOMPARE(fromDamaged.startFrom(damaged), Start::Invalid);
        VERIFY_NEAR(u"after a damaged basis"_s, fromDamaged.plan(globalBound(0.5)).batchMsPlanned, plan.batchMsPlanned);
    }
}

void TestFreezePlanner::allOrNothingStages_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<std::vector<int>>("allOrNothing");
    QTest::addColumn<double>("maxFreeze");
    QTest::addColumn<double>("cap"); // of every action of stage 0
    for (const double rho : { 0.3, 0.5, 0.6, 0.9 })
        QTest::addRow("1F1B P=2 M=8 rho=%g", rho)
            << ScheduleKind::OneFOneB << 2 << 8 << std::vector<int> { 0 } << rho << 1.0;
    QTest::newRow("1F1B P=4 M=6 rho=0.5") << ScheduleKind::OneFOneB << 4 << 6 << std::vector<int> { 0 } << 0.5 << 1.0;
    QTest::newRow("1F1B P=4 M=6 rho=0.7, stage 0 capped at 0.6")
        << ScheduleKind::OneFOneB << 4 << 6 << std::vector<int> { 0 } << 0.7 << 0.6;
    QTest::newRow("1F1B P=3 M=4 rho=0.5, stages 0 and 2")
        << ScheduleKind::OneFOneB << 3 << 4 << std::vector<int> { 0, 2 } << 0.5 << 1.0;
    QTest::newRow("GPipe P=2 M=6 rho=0.4") << ScheduleKind::GPipe << 2 << 6 << std::vector<int> { 0 } << 0.4 << 1.0;
    QTest::newRow("ZBH1 P=2 M=6 rho=0.5: W freezes whole")
        << ScheduleKind::ZBH1 << 2 << 6 << std::vector<int> { 0 } << 0.5 << 1.0;
}

// Stages frozen all or nothing: every action of them at ratio 0 or its cap. Branch and bound
// reaches the batch time of an independent enumeration (every choice of actions to freeze whole
// within the stage budgets, the rest of the pipeline planned by the plain LP with those
// durations fixed); the dive used beyond PlannerOptions::allOrNothingBranchLimit is never below
// it and never above freezing none of those stages.
void TestFreezePlanner::allOrNothingStages()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(std::vector<int>, allOrNothing);
    QFETCH(double, maxFreeze);
    QFETCH(double, cap);
    SyntheticCosts costs;
    costs.backwardFrozenMs = { 0.2 }; // stage 0's backward with everything frozen: almost nothing
    costs.jitter = 0.2;
    costs.seed = 7;
    Profile profile
        = makeSyntheticProfile(PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches }), costs);
    profile.setAllOrNothingStages(allOrNothing);
    FreezeBounds bounds = globalBound(maxFreeze);
    const std::vector<Action> actions = profile.actions();
    if (cap < 1.0) {
        for (const Action& action : actions)
            bounds.actionCap.push_back(action.stage == 0 ? cap : 1.0);
    }

    // The enumeration: each subset of the all-or-nothing actions that fits the budgets.
    std::vector<std::size_t> whole;
    for (std::size_t v = 0; v < actions.size(); ++v) {
        if (isFreezable(actions[v].kind) && profile.isAllOrNothing(actions[v].stage))
            whole.push_back(v);
    }
    QVERIFY(whole.size() <= 16);
    double best = std::numeric_limits<double>::infinity();
    double noneWhole = 0.0;
    for (unsigned mask = 0; mask < (1U << whole.size()); ++mask) {
        std::map<int, double> used;
        std::vector<ActionCost> fixed = profile.costs();
        for (std::size_t i = 0; i < whole.size(); ++i) {
            const std::size_t v = whole[i];
            const double ratio = (mask >> i) & 1U ? capOf(bounds, v) : 0.0;
            used[actions[v].stage] += ratio;
            const double ms = fixed[v].maxMs - ratio * (fixed[v].maxMs - fixed[v].minMs);
            fixed[v] = { ms, ms };
        }
        bool fits = true;
        for (const auto& [stage, sum] : used) {
            const int n = Reference(profile).stageFreezable(stage);
            fits = fits && sum <= bounds.stageBound(stage) * n + 1e-9;
        }
        if (!fits)
            continue;
        const Profile rest(profile.schedule(), fixed, "enumeration");
        const double batch = FreezePlanner(rest).plan(bounds).batchMsPlanned;
        best = std::min(best, batch);
        if (mask == 0)
            noneWhole = batch;
    }

    const auto checkWhole = [&](const FreezePlan& plan) {
        for (std::size_t v : whole) {
            const double ratio = plan.actions[v].ratio;
            QVERIFY2(std::abs(ratio) < 1e-9 || std::abs(ratio - capOf(bounds, v)) < 1e-9,
                qPrintable(nameOf(actions[v]) + u" freezes a part: "_s + QString::number(ratio)));
        }
    };
    FreezePlanner exact(profile);
    const FreezePlan exactPlan = exact.plan(bounds);
    checkPlan(profile, bounds, exactPlan);
    checkWhole(exactPlan);
    VERIFY_NEAR_TOL(u"branch and bound vs enumeration"_s, exactPlan.batchMsPlanned, best, 1e-6 * best);
    // A warm re-solve with one of them capped at 0 leaves it unfrozen and the rest whole.
    FreezeBounds capped = bounds;
    if (capped.actionCap.empty())
        capped.actionCap.assign(actions.size(), 1.0);
    capped.actionCap[whole.front()] = 0.0;
    const FreezePlan again = exact.plan(capped);
    checkPlan(profile, capped, again);
    QCOMPARE(again.actions[whole.front()].ratio, 0.0);
    for (std::size_t v : whole)
        QVERIFY(again.actions[v].ratio == 0.0 || again.actions[v].ratio == capped.actionCap[v]);
    QVERIFY(again.batchMsPlanned >= exactPlan.batchMsPlanned * (1 - 1e-6));
    // The plan file keeps the stages, so `tfreeze plan` on it plans the same way.
    QCOMPARE(planThroughJson(exactPlan, "whole.json").profile.allOrNothingStages(), profile.allOrNothingStages());

    PlannerOptions diveOptions;
    diveOptions.allOrNothingBranchLimit = 0;
    FreezePlanner dive(profile, diveOptions);
    const FreezePlan divePlan = dive.plan(bounds);
    checkPlan(profile, bounds, divePlan);
    checkWhole(divePlan);
    QVERIFY2(
        divePlan.batchMsPlanned >= best * (1 - 1e-6), gotWant(u"dive"_s, divePlan.batchMsPlanned, best).constData());
    QVERIFY2(divePlan.batchMsPlanned <= noneWhole * (1 + 1e-6),
        gotWant(u"dive vs freezing none whole"_s, divePlan.batchMsPlanned, noneWhole).constData());
    // Freezing whole costs batch time against the LP's parts, which is what the stages are for.
    const double relaxed = FreezePlanner(Profile(profile.schedule(), profile.costs())).plan(bounds).batchMsPlanned;
    QVERIFY(exactPlan.batchMsPlanned >= relaxed * (1 - 1e-9));
}

void TestFreezePlanner::allOrNothingDiveMonotone_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<unsigned>("seed");
    for (const unsigned seed : { 1U, 2U, 3U, 4U, 5U, 6U, 7U, 8U }) {
        QTest::addRow("1F1B P=2 M=12 seed %u", seed) << ScheduleKind::OneFOneB << 2 << 12 << seed;
        QTest::addRow("1F1B P=4 M=12 seed %u", seed) << ScheduleKind::OneFOneB << 4 << 12 << seed;
    }
}

// The dive (beyond PlannerOptions::allOrNothingBranchLimit) is a heuristic, but a larger bound
// still fits the actions it froze whole before: one planner swept up over ρ, as a dragged slider
// does, never plans a longer batch, and every such ratio stays 0 or 1.
void TestFreezePlanner::allOrNothingDiveMonotone()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(unsigned, seed);
    SyntheticCosts costs;
    costs.backwardFrozenMs = { 0.2 };
    costs.jitter = 0.3;
    costs.seed = seed;
    Profile profile
        = makeSyntheticProfile(PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches }), costs);
    profile.setAllOrNothingStages({ 0 });
    PlannerOptions options;
    options.allOrNothingBranchLimit = 0;
    FreezePlanner planner(profile, options);
    double previous = std::numeric_limits<double>::infinity();
    for (int step = 0; step <= 20; ++step) {
        const double rho = step / 20.0;
        const FreezeBounds bounds = globalBound(rho);
        const FreezePlan plan = planner.plan(bounds);
        checkPlan(profile, bounds, plan);
        if (QTest::currentTestFailed())
            return;
        for (std::size_t v = 0; v < plan.actions.size(); ++v) {
            if (profile.actions()[v].stage == 0)
                QVERIFY(plan.actions[v].ratio == 0.0 || plan.actions[v].ratio == 1.0);
        }
        QVERIFY2(plan.batchMsPlanned <= previous * (1 + 1e-9),
            gotWant(u"ρ="_s + QString::number(rho), plan.batchMsPlanned, previous).constData());
        previous = plan.batchMsPlanned;
    }
}

// Listening to a solve does not change it: the same ratios as a planner without a handler. The
// handler hears of a cold solve at every check with interval 0, and never of a plan shorter than
// its interval.
void TestFreezePlanner::progressHandlerChangesNothing()
{
    const Profile profile = syntheticProfile(ScheduleKind::OneFOneB, 6, 24, 1, 13);
    const FreezeBounds bounds = globalBound(0.5);
    FreezePlanner plain(profile);
    const FreezePlan expected = plain.plan(bounds);

    FreezePlanner listened(profile);
    std::vector<PlanProgress> reports;
    listened.setProgressHandler(
        [&reports](const PlanProgress& progress) {
            reports.push_back(progress);
            return true;
        },
        0.0);
    const FreezePlan plan = listened.plan(bounds);
    QCOMPARE(plan.actions.size(), expected.actions.size());
    for (std::size_t v = 0; v < plan.actions.size(); ++v)
        QCOMPARE(plan.actions[v].ratio, expected.actions[v].ratio);
    QCOMPARE(plan.batchMsPlanned, expected.batchMsPlanned);
    QVERIFY(!reports.empty());
    for (std::size_t i = 1; i < reports.size(); ++i) {
        QVERIFY(reports[i].pivots >= reports[i - 1].pivots);
        QVERIFY(reports[i].elapsedSeconds >= reports[i - 1].elapsedSeconds);
    }
    QVERIFY(reports.back().pivots <= listened.lpStatistics().pivots);
    QVERIFY(reports.back().elapsedSeconds <= plan.solveSeconds);

    int calls = 0;
    listened.setProgressHandler(
        [&calls](const PlanProgress&) {
            ++calls;
            return true;
        },
        3600.0);
    listened.plan(globalBound(0.7));
    QCOMPARE(calls, 0);
}

// A handler that answers false stops the plan with PlanCancelled, cold or warm; the planner then
// plans from scratch, and its plan is a fresh planner's.
void TestFreezePlanner::progressHandlerStopsPlan()
{
    const Profile profile = syntheticProfile(ScheduleKind::OneFOneB, 6, 24, 1, 17);
    FreezePlanner planner(profile);
    long long pivotsAtStop = 0;
    planner.setProgressHandler(
        [&pivotsAtStop](const PlanProgress& progress) {
            pivotsAtStop = progress.pivots;
            return progress.pivots < 50;
        },
        0.0);
    try {
        planner.plan(globalBound(0.5));
        QFAIL("the plan was not stopped");
    } catch (const PlanCancelled& error) {
        QVERIFY2(QString::fromUtf8(error.what()).startsWith(u"planning cancelled after "_s), error.what());
        QVERIFY2(QString::fromUtf8(error.what()).contains(u"288 actions"_s), error.what());
    }
    QVERIFY(pivotsAtStop >= 50);

    planner.setProgressHandler({});
    const FreezePlan afterCold = planner.plan(globalBound(0.5));
    checkPlan(profile, globalBound(0.5), afterCold);
    FreezePlanner fresh(profile);
    VERIFY_NEAR(u"after a stopped cold solve"_s, afterCold.batchMsPlanned, fresh.plan(globalBound(0.5)).batchMsPlanned);

    // Warm: the model the stop leaves behind is not re-solved.
    planner.setProgressHandler([](const PlanProgress&) { return false; }, 0.0);
    QVERIFY_THROWS_EXCEPTION(PlanCancelled, planner.plan(globalBound(0.9)));
    planner.setProgressHandler({});
    const FreezePlan afterWarm = planner.plan(globalBound(0.9));
    checkPlan(profile, globalBound(0.9), afterWarm);
    VERIFY_NEAR(u"after a stopped warm solve"_s, afterWarm.batchMsPlanned, fresh.plan(globalBound(0.9)).batchMsPlanned);
}

// TFREEZE_LP_WRITE (README, "Diagnostics"): the model in lp_solve's LP format, or in free MPS for a
// name ending in .mps, whose columns must come in the planner's order for a saved basis to fit.
void TestFreezePlanner::writesModelForLpSolve()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Profile profile = syntheticProfile(ScheduleKind::OneFOneB, 2, 4, 1, 1);
    const auto planWriting = [&](const QString& name) {
        const QString path = dir.filePath(name);
        qputenv("TFREEZE_LP_WRITE", path.toLocal8Bit());
        FreezePlanner planner(profile);
        planner.plan(globalBound(0.5));
        qunsetenv("TFREEZE_LP_WRITE");
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return std::make_pair(QString(), planner.lpStatistics());
        return std::make_pair(QString::fromLatin1(file.readAll()), planner.lpStatistics());
    };

    const auto [lpText, lpStatistics] = planWriting(u"model.lp"_s);
    QVERIFY2(lpText.contains(u"/* Objective function */"_s), qPrintable(lpText.left(200)));
    QVERIFY(!lpText.contains(u"COLUMNS"_s));

    const auto [mpsText, statistics] = planWriting(u"model.mps"_s);
    const QStringList lines = mpsText.split(u'\n');
    const auto section = [&](const QString& name) { return lines.indexOf(name); };
    QVERIFY2(section(u"ROWS"_s) >= 0 && section(u"COLUMNS"_s) > section(u"ROWS"_s)
            && section(u"RHS"_s) > section(u"COLUMNS"_s),
        qPrintable(mpsText.left(400)));
    // One N row (the objective) plus the LP's rows.
    const qsizetype rows = section(u"COLUMNS"_s) - section(u"ROWS"_s) - 2;
    QCOMPARE(rows, qsizetype(statistics.rows));
    // The columns in the order the planner numbers them: C1, C2, ... (lp_solve's default names).
    QStringList order;
    for (qsizetype i = section(u"COLUMNS"_s) + 1; i < section(u"RHS"_s); ++i) {
        const QString column = lines[i].simplified().section(u' ', 0, 0);
        if (column != u"MARKER"_s && (order.isEmpty() || order.back() != column))
            order.push_back(column);
    }
    QCOMPARE(order.size(), qsizetype(statistics.columns));
    for (qsizetype i = 0; i < order.size(); ++i)
        QCOMPARE(order[i], u"C"_s + QString::number(i + 1));

    // A file that cannot be written is a diagnostic's problem (a line on stderr), not the plan's.
    const double batchMs = FreezePlanner(profile).plan(globalBound(0.5)).batchMsPlanned;
    qputenv("TFREEZE_LP_WRITE", dir.filePath(u"no/such/folder/model.mps"_s).toLocal8Bit());
    const double unwritten = FreezePlanner(profile).plan(globalBound(0.5)).batchMsPlanned;
    qunsetenv("TFREEZE_LP_WRITE");
    COMPARE_EXACTLY(unwritten, batchMs);
}

void TestFreezePlanner::longDurationsPlanAsShortOnes_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<double>("transferMs");

    QTest::newRow("1F1B 8x32, transfers as long as backwards") << ScheduleKind::OneFOneB << 8 << 32 << 900.0;
    QTest::newRow("ZBV 4x16") << ScheduleKind::ZBV << 4 << 16 << 0.0;
    QTest::newRow("GPipe 4x16, transfers") << ScheduleKind::GPipe << 4 << 16 << 300.0;
}

// The same pipeline in ms and 2^20 times longer (backwards near the 1e9 ms limit) plans a 2^20
// times longer batch. lp_solve's tolerances are partly absolute: before the planner counted long
// batches in larger units, such a 1F1B "failed numerically" (exit code 1).
void TestFreezePlanner::longDurationsPlanAsShortOnes()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(double, transferMs);
    SyntheticCosts costs;
    costs.forwardMs = { 1.0 };
    costs.backwardMs = { 900.0 };
    costs.backwardFrozenMs = { 1.0 };
    costs.jitter = 0.05;
    costs.seed = 3;
    const int stagesPerRank = kind == ScheduleKind::ZBV ? 2 : 1;
    Profile shortOne = makeSyntheticProfile(
        PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, stagesPerRank }), costs);
    shortOne.setTransferMs(transferMs);
    constexpr double kFactor = 1048576.0; // 2^20: exact, so both profiles hold the same numbers
    std::vector<ActionCost> longCosts = shortOne.costs();
    for (ActionCost& cost : longCosts)
        cost = { cost.maxMs * kFactor, cost.minMs * kFactor };
    Profile longOne(shortOne.schedule(), longCosts);
    longOne.setTransferMs(transferMs * kFactor);

    for (const double maxFreeze : { 0.2, 0.5, 1.0 }) {
        const FreezePlan expected = FreezePlanner(shortOne).plan(globalBound(maxFreeze));
        const FreezePlan plan = FreezePlanner(longOne).plan(globalBound(maxFreeze));
        QVERIFY2(std::abs(plan.batchMsPlanned / kFactor - expected.batchMsPlanned) <= 1e-6 * expected.batchMsPlanned,
            qPrintable(QStringLiteral("rho %1: %2 ms against %3 ms")
                           .arg(maxFreeze)
                           .arg(plan.batchMsPlanned / kFactor, 0, 'g', 17)
                           .arg(expected.batchMsPlanned, 0, 'g', 17)));
    }
}

QTEST_APPLESS_MAIN(TestFreezePlanner)

#include "tst_freezeplanner.moc"
