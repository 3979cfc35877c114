#pragma once

// Torch-free: the freezing decisions of AutoFreeze (METHOD.md §7); the per-layer gradient norms
// it decides on are measured by the engine.

#include <cstddef>
#include <vector>

namespace tfreeze {

struct AutoFreezeOptions {
    int checkInterval = 50; // steps between decisions
    double percentile = 50.0; // of the active layers' gradient-norm change rates
};

// Freezes layers front to back and never thaws them: at each check, with the change rate
// |n_prev − n_now| / n_prev of every active layer's gradient norm, every layer in front of the
// first layer whose rate reaches the chosen percentile of the active layers' rates freezes.
class AutoFreezePolicy {
public:
    AutoFreezePolicy(std::size_t layerCount, AutoFreezeOptions options);

    const AutoFreezeOptions& options() const { return m_options; }
    bool isCheckStep(long long step) const;

    // One check with the gradient norm of every layer (entries of frozen layers are ignored).
    // The first check only records the norms.
    void check(const std::vector<double>& gradientNorms);

    // Layers [0, frozenLayerCount()) are frozen.
    std::size_t frozenLayerCount() const { return m_frozenLayers; }
    bool isFrozen(std::size_t layer) const { return layer < m_frozenLayers; }

    // The p-th percentile (0–100) of `values`, linearly interpolated between order statistics.
    static double percentileOf(std::vector<double> values, double percentile);

    // Checkpoints.
    struct State {
        std::size_t frozenLayers = 0;
        std::vector<double> previousNorms;
    };
    State state() const { return { m_frozenLayers, m_previousNorms }; }
    // Throws std::invalid_argument when the state is for another layer count.
    void restore(const State& state);

private:
    AutoFreezeOptions m_options;
    std::size_t m_layerCount;
    std::size_t m_frozenLayers = 0;
    std::vector<double> m_previousNorms; // empty before the first check
};

} // namespace tfreeze
