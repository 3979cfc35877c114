#pragma once

// Torch-free: which of a stage's freezable parameter tensors an action leaves out of its backward.

#include "core/engine/freeze_selector.h"

#include <cstdint>
#include <vector>

namespace tfreeze {

// How the first stage (stage 0) chooses its frozen tensors.
//  - Weighted (METHOD.md §5): a random draw with linearly decreasing weights toward the front.
//  - Prefix (ours): the first round(r·n) tensors in model order, every microbatch and period.
//    Stage 0 computes no input gradient, so its backward only reaches back to its first unfrozen
//    tensor: a frozen prefix skips the activation gradients of those layers as well as their weight
//    gradients, and the backward's time falls about linearly with r, as the planner's model says.
//    A weighted draw almost always leaves some front tensor unfrozen, so the backward still runs
//    through nearly every layer: on the 2-rank config, 40% frozen saved 16% of stage 0's backward
//    where the line from w_max to w_min (everything frozen: no backward at all) promised 40%.
enum class FirstStageDraw { Weighted, Prefix };

// "weighted", "prefix": the names in configs (inline: run_config, which the studio links without the
// engine, writes them).
inline const char* firstStageDrawName(FirstStageDraw draw)
{
    return draw == FirstStageDraw::Prefix ? "prefix" : "weighted";
}

// METHOD.md §5: an action with freeze ratio r on a stage with n freezable tensors freezes
// round(r·n) of them, drawn at random and re-drawn every `stabilityCheckFreq` steps; stage 0
// draws with linearly decreasing weights toward its front (input-side) tensors.
//
// The draw is a pure function of (seed, stage, microbatch, period = step / stabilityCheckFreq):
// each action gets a weighted random priority order of the n tensors (Efraimidis–Spirakis keys
// u^(1/w)) and freezes its first round(r·n). Hence, within one period, an action freezes the same
// tensors, and a larger ratio freezes a superset of a smaller one (a ramp only adds tensors).
// Different microbatches draw independently, so over a batch every tensor still sees gradients.
// With FirstStageDraw::Prefix, stage 0's order is its model order instead (other stages unchanged).
class FreezeSelection : public FreezeSelector {
public:
    explicit FreezeSelection(
        std::uint64_t seed = 0, int stabilityCheckFreq = 10, FirstStageDraw firstStage = FirstStageDraw::Weighted);

    // select(action.stage, action.microbatch, ...): stateless, hence thread-safe.
    std::vector<int> frozenTensors(
        const Action& action, int tensorCount, double ratio, std::int64_t step) const override;

    // round(r·n), r clamped to [0, 1] (halves round away from zero).
    static int frozenCount(int tensorCount, double ratio);

    // Relative draw weight of tensor `index` of a stage with `tensorCount` tensors: n − index on
    // stage 0 (front-weighted), 1 elsewhere.
    static double drawWeight(int stage, int index, int tensorCount);

    // Indices (ascending) of the frozen tensors of the action (stage, microbatch) at `step`.
    std::vector<int> select(int stage, int microbatch, int tensorCount, double ratio, std::int64_t step) const;

    // The full priority order (most likely frozen first) that select() takes a prefix of.
    std::vector<int> priorityOrder(int stage, int microbatch, int tensorCount, std::int64_t step) const;

    int stabilityCheckFreq() const { return m_stabilityCheckFreq; }
    std::uint64_t seed() const { return m_seed; }
    FirstStageDraw firstStageDraw() const { return m_firstStage; }

private:
    std::uint64_t m_seed;
    int m_stabilityCheckFreq;
    FirstStageDraw m_firstStage;
};

} // namespace tfreeze
