#include "core/engine/autofreeze_policy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tfreeze {

AutoFreezePolicy::AutoFreezePolicy(std::size_t layerCount, AutoFreezeOptions options)
    : m_options(options)
    , m_layerCount(layerCount)
{
    if (m_options.checkInterval < 1)
        throw std::invalid_argument("AutoFreezePolicy: checkInterval must be at least 1");
    if (!(m_options.percentile >= 0.0 && m_options.percentile <= 100.0))
        throw std::invalid_argument("AutoFreezePolicy: percentile must be in [0, 100]");
}

bool AutoFreezePolicy::isCheckStep(long long step) const { return step > 0 && step % m_options.checkInterval == 0; }

double AutoFreezePolicy::percentileOf(std::vector<double> values, double percentile)
{
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const double position = percentile / 100.0 * static_cast<double>(values.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(position));
    const std::size_t upper = std::min(lower + 1, values.size() - 1);
    const double fraction = position - static_cast<double>(lower);
    return values[lower] + fraction * (values[upper] - values[lower]);
}

void AutoFreezePolicy::restore(const State& state)
{
    if (state.frozenLayers > m_layerCount
        || (!state.previousNorms.empty() && state.previousNorms.size() != m_layerCount))
        throw std::invalid_argument("AutoFreezePolicy: the state is for another number of layers");
    m_frozenLayers = state.frozenLayers;
    m_previousNorms = state.previousNorms;
}

void AutoFreezePolicy::check(const std::vector<double>& gradientNorms)
{
    if (gradientNorms.size() != m_layerCount)
        throw std::invalid_argument("AutoFreezePolicy::check: one gradient norm per layer expected");
    if (m_previousNorms.empty()) {
        m_previousNorms = gradientNorms;
        return;
    }
    std::vector<double> rates(m_layerCount, 0.0);
    for (std::size_t l = m_frozenLayers; l < m_layerCount; ++l) {
        const double previous = m_previousNorms[l];
        // A layer whose gradient vanished has nothing left to learn: its rate counts as 0.
        rates[l] = previous > 0.0 ? std::abs(previous - gradientNorms[l]) / previous : 0.0;
    }
    const std::vector<double> active(rates.begin() + static_cast<std::ptrdiff_t>(m_frozenLayers), rates.end());
    const double threshold = percentileOf(active, m_options.percentile);
    std::size_t firstChanging = m_frozenLayers;
    while (firstChanging < m_layerCount && rates[firstChanging] < threshold)
        ++firstChanging;
    // Keep the last layer trainable: a model with nothing left to train is not training.
    m_frozenLayers = std::min(firstChanging, m_layerCount == 0 ? 0 : m_layerCount - 1);
    m_previousNorms = gradientNorms;
}

} // namespace tfreeze
