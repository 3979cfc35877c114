#pragma once

#include "core/plan/pipeline_schedule.h"

#include <string>
#include <vector>

namespace tfreeze {

// The longest duration, in ms, that a profile may give an action (max_ms, min_ms) or a hand-over
// between ranks (transfer_ms): about 11.6 days, beyond any pipeline's action, and far enough below
// lp_solve's infinity (1e30) that the planner's LP stays well scaled. Durations of 1e31 ms made
// every LP "infeasible" (exit code 1) instead of being refused as bad input.
inline constexpr double kMaxDurationMs = 1e9;

// Whether `value` is a duration a profile may hold: finite, ≥ 0 and at most kMaxDurationMs.
inline bool isDurationMs(double value) { return value >= 0.0 && value <= kMaxDurationMs; }
// Throws InputError(source, field) for a duration that isDurationMs refuses, saying why.
void checkDurationMs(double value, const std::string& source, const std::string& field);

// Measured durations of one action: unfrozen (max) and with everything freezable frozen (min).
// Non-freezable actions (F, I) have minMs == maxMs.
struct ActionCost {
    double maxMs = 0.0;
    double minMs = 0.0;
};

// A schedule and the cost of each of its actions: the planner's input (tfreeze-profile/1).
class Profile {
public:
    // `costs` has one entry per action, in rank-major order (PipelineDag's node order).
    // Throws InputError(source, "actions[i].max_ms" ...) for NaN, negative, above kMaxDurationMs,
    // or min > max; for a non-freezable action minMs is set to maxMs.
    Profile(PipelineSchedule schedule, std::vector<ActionCost> costs, const std::string& source = {});

    const PipelineSchedule& schedule() const { return m_schedule; }
    const std::vector<ActionCost>& costs() const { return m_costs; }
    // Actions in rank-major order, aligned with costs().
    std::vector<Action> actions() const;

    std::vector<double> maxDurations() const;
    std::vector<double> minDurations() const;

    // How many ranks can compute at the same time: the processors (cores, devices) the ranks share
    // when there are fewer of them than ranks. 0: every rank has its own. With sharing, max_ms and
    // min_ms are each action's work on a processor of its own, and the planner predicts the batch
    // with processor sharing (simulateTimeline). Throws InputError for a negative count.
    int processors() const { return m_processors; }
    void setProcessors(int processors, const std::string& source = {});
    // processors() when it is below the number of ranks, else 0: what the planner models.
    int sharedProcessors() const { return m_processors < m_schedule.rankCount() ? m_processors : 0; }

    // The time an activation or gradient takes from one rank to another: added to every edge
    // between actions on different ranks (METHOD.md §2, "ours": send/recv as edge latencies).
    // 0 for ranks in one process, where a hand-over is a pointer; ranks in separate processes pay
    // for the copies and the messages. Throws InputError for a value checkDurationMs refuses.
    double transferMs() const { return m_transferMs; }
    void setTransferMs(double transferMs, const std::string& source = {});

    // Stages whose actions save little unless everything freezable is frozen. The engine's stage 0
    // computes no input gradient, so its backward with a few tensors frozen still runs back to the
    // first trainable one and costs far more than the line from max_ms to min_ms says (README,
    // "Stage 0's draw"). The planner gives such actions ratio 0 or their cap, never a part, where
    // the line is exact. Sorted, each stage once; throws InputError for a stage out of range.
    const std::vector<int>& allOrNothingStages() const { return m_allOrNothingStages; }
    void setAllOrNothingStages(std::vector<int> stages, const std::string& source = {});
    bool isAllOrNothing(int stage) const;

private:
    PipelineSchedule m_schedule;
    std::vector<ActionCost> m_costs;
    int m_processors = 0;
    double m_transferMs = 0.0;
    std::vector<int> m_allOrNothingStages;
};

} // namespace tfreeze
