#include "core/engine/freeze_selection.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace tfreeze {

namespace {

// splitmix64: a stateless, well-mixed hash, so a draw depends only on its coordinates and is the
// same on every platform (std::uniform_real_distribution is implementation-defined).
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

std::uint64_t combine(std::uint64_t h, std::uint64_t value) { return mix(h ^ mix(value)); }

// Uniform in (0, 1), never 0, so log() below is finite.
double unitInterval(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

} // namespace

FreezeSelection::FreezeSelection(std::uint64_t seed, int stabilityCheckFreq, FirstStageDraw firstStage)
    : m_seed(seed)
    , m_stabilityCheckFreq(stabilityCheckFreq)
    , m_firstStage(firstStage)
{
    if (stabilityCheckFreq < 1)
        throw InputError({}, "stability_check_freq", "must be ≥ 1 (got " + std::to_string(stabilityCheckFreq) + ")");
}

std::vector<int> FreezeSelection::frozenTensors(
    const Action& action, int tensorCount, double ratio, std::int64_t step) const
{
    return select(action.stage, action.microbatch, tensorCount, ratio, step);
}

int FreezeSelection::frozenCount(int tensorCount, double ratio)
{
    if (tensorCount <= 0 || !(ratio > 0.0))
        return 0;
    const double r = std::min(ratio, 1.0);
    return static_cast<int>(std::min<long>(std::lround(r * tensorCount), tensorCount));
}

double FreezeSelection::drawWeight(int stage, int index, int tensorCount)
{
    return stage == 0 ? static_cast<double>(tensorCount - index) : 1.0;
}

std::vector<int> FreezeSelection::priorityOrder(int stage, int microbatch, int tensorCount, std::int64_t step) const
{
    if (stage == 0 && m_firstStage == FirstStageDraw::Prefix) {
        std::vector<int> order(static_cast<std::size_t>(std::max(tensorCount, 0)));
        std::iota(order.begin(), order.end(), 0);
        return order;
    }
    const std::int64_t period = step < 0 ? 0 : step / m_stabilityCheckFreq;
    std::uint64_t h = combine(m_seed, static_cast<std::uint64_t>(stage));
    h = combine(h, static_cast<std::uint64_t>(microbatch));
    h = combine(h, static_cast<std::uint64_t>(period));

    // Efraimidis–Spirakis: sorting by u^(1/w) descending is a weighted draw without replacement;
    // log(u)/w keeps the same order without underflow.
    std::vector<std::pair<double, int>> keys(static_cast<std::size_t>(std::max(tensorCount, 0)));
    for (int i = 0; i < tensorCount; ++i) {
        const double u = unitInterval(combine(h, static_cast<std::uint64_t>(i)));
        keys[static_cast<std::size_t>(i)] = { std::log(u) / drawWeight(stage, i, tensorCount), i };
    }
    std::sort(keys.begin(), keys.end(),
        [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    std::vector<int> order;
    order.reserve(keys.size());
    for (const auto& key : keys)
        order.push_back(key.second);
    return order;
}

std::vector<int> FreezeSelection::select(
    int stage, int microbatch, int tensorCount, double ratio, std::int64_t step) const
{
    const int count = frozenCount(tensorCount, ratio);
    if (count == 0)
        return {};
    std::vector<int> order = priorityOrder(stage, microbatch, tensorCount, step);
    order.resize(static_cast<std::size_t>(count));
    std::sort(order.begin(), order.end());
    return order;
}

} // namespace tfreeze
