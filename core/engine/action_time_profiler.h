#pragma once

// Torch-free: measures per-action durations for the planner (METHOD.md §6, phases 2 and 3).

#include "core/plan/profile.h"
#include "core/plan/span_profile_estimate.h"
#include "core/plan/telemetry.h"

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

namespace tfreeze {

// Windowed medians of every action's measured duration, kept separately for unfrozen steps
// (w_max) and fully frozen steps (w_min). Medians, not means: one preempted action on a shared
// machine must not move the plan.
//
// With ranks sharing processors the medians alone predict batches too short. A span's work is
// its share of the processors while it ran, and which of the spans running together the OS
// actually served is not what fair sharing assumes: the same forward's work spreads from 1.8 to
// 8.4 ms over the steps of one run, skewed to the right, so the medians of 64 actions summed to
// 249 ms where a step's work summed to 273 (median over the steps), and the planner's sharing
// model, given those medians, predicted 133 ms for steps that took 144. The total is what the
// shared processors must get through, so estimatedMs() scales the medians to it.
class ActionTimeProfiler {
public:
    enum class Bound { Max, Min };

    // `window`: how many of the latest samples per action the medians use. `processors`: the
    // processors the ranks share (Profile::processors(); 0 = one per rank).
    ActionTimeProfiler(PipelineSchedule schedule, std::size_t window, int processors = 0);

    // Adds one step's spans (all of them: with shared processors a span's sample is its work,
    // spanWorkMs(), which depends on what ran beside it) to the samples of `bound`. Spans of
    // actions not in the schedule throw std::logic_error (the engine ran something else than it
    // planned).
    void addStep(const std::vector<ActionSpan>& spans, Bound bound);

    // The hand-over time between ranks: the median over the latest `window` steps (either bound)
    // of stepTransferMs(), at least 0; nullopt before a step had an action wait for another rank.
    std::optional<double> transferMs() const;

    // Samples held for `bound` by the action that has the fewest.
    std::size_t sampleCount(Bound bound) const;

    // The median durations in ms per action (rank-major, aligned with Profile::actions()).
    std::vector<double> medianMs(Bound bound) const;

    // What the planner takes as each action's duration: medianMs(); with shared processors
    // (0 < processors < ranks) scaled, separately for the actions freezing cannot change (F, I)
    // and those it can (B, W), so that each group adds up to its median total over the steps
    // held. A group's total per step needs every step to have timed every action; when the
    // samples are not aligned so (a step with a span missing), the medians are returned as they are.
    std::vector<double> estimatedMs(Bound bound) const;

    // w_max and w_min (estimatedMs) as a Profile; min is clamped to max (a frozen backward measured slower
    // than an unfrozen one is noise) and, for actions that cannot freeze, equals max. Its transfer
    // time is transferMs() (0 without one).
    // Throws std::logic_error unless both bounds have at least one sample per action.
    Profile profile() const;

    void clear();

    // Every sample held for `bound`, per action (oldest first), and how many were ever added:
    // what a checkpoint stores to resume the measurement.
    std::vector<std::vector<double>> samples(Bound bound) const;
    void restoreSamples(Bound bound, const std::vector<std::vector<double>>& samples);
    // The same for the per-step transfer times, oldest first.
    std::vector<double> transferSamples() const;
    void restoreTransferSamples(const std::vector<double>& samples);

private:
    std::size_t actionIndex(const ActionSpan& span) const;

    PipelineSchedule m_schedule;
    PipelineDag m_dag; // for stepTransferMs()
    std::size_t m_window;
    int m_processors;
    // Per (stage, microbatch, kind): the rank-major action index.
    std::vector<std::size_t> m_indexOf;
    std::vector<bool> m_freezable; // per action
    // Per action: ring buffers of the latest samples, and how many were ever added.
    std::array<std::vector<std::vector<double>>, 2> m_samples;
    std::array<std::vector<std::size_t>, 2> m_added;
    // The latest `window` per-step transfer times, oldest first.
    std::vector<double> m_transferSamples;
};

} // namespace tfreeze
