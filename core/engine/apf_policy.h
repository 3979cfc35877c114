#pragma once

// Torch-free: the freezing decisions of APF (METHOD.md §7); the statistics it decides on are
// computed from the weights by the engine.

#include <cstddef>
#include <vector>

namespace tfreeze {

struct ApfOptions {
    double alpha = 0.99; // smoothing of E and A
    double threshold = 0.05; // T_s: a tensor with instability P below it is stable
    int checkInterval = 10; // steps between checks
    double crowdedFraction = 0.8; // T_s halves when more than this fraction of tensors is frozen
};

// Per tensor: frozen or not, and for how long. A tensor found stable freezes for a period that
// grows by one check each time; found unstable, its period halves. When the period ends it thaws
// and trains for one check window, and the check after that tests it again.
class ApfPolicy {
public:
    ApfPolicy(std::size_t tensorCount, const ApfOptions& options);

    const ApfOptions& options() const { return m_options; }
    std::size_t tensorCount() const { return m_frozenUntil.size(); }

    // Whether `step` is a check step (steps checkInterval, 2·checkInterval, ...).
    bool isCheckStep(long long step) const;

    // One check. `instability` holds P = |E| / A per tensor; entries of tensors frozen at this
    // check are ignored. A tensor with no update yet (A == 0) should report P = +inf.
    void check(const std::vector<double>& instability);

    // Frozen from now until the next check that thaws it.
    bool isFrozen(std::size_t tensor) const { return m_frozenUntil[tensor] >= m_checks; }
    std::vector<bool> frozen() const;
    std::size_t frozenCount() const;
    double threshold() const { return m_threshold; }
    int period(std::size_t tensor) const { return m_period[tensor]; }

    // Checkpoints.
    struct State {
        double threshold = 0.0;
        long long checks = 0;
        std::vector<long long> frozenUntil;
        std::vector<int> period;
    };
    State state() const { return { m_threshold, m_checks, m_frozenUntil, m_period }; }
    // Throws std::invalid_argument when the state is for another tensor count.
    void restore(const State& state);

private:
    ApfOptions m_options;
    double m_threshold;
    long long m_checks = 0; // checks done
    std::vector<long long> m_frozenUntil; // the check that tests it again; frozen until then
    std::vector<int> m_period; // in checks
};

} // namespace tfreeze
