#pragma once

#include "core/plan/pipeline_dag.h"

#include <vector>

namespace tfreeze {

// Earliest-start simulation of one batch: every action starts as soon as all its predecessors
// (device order and cross-stage dependencies) have ended.
struct Timeline {
    std::vector<double> startMs; // per DAG node
    std::vector<double> endMs; // per DAG node
    double batchMs = 0.0; // makespan
    std::vector<double> rankBusyMs;
    std::vector<double> rankIdleMs; // batchMs − busy: bubbles, including the tail
    std::vector<double> rankBubbleFraction; // idle / batchMs
    double bubbleFraction = 0.0; // Σ idle / (ranks · batchMs)
    // The chain of nodes that sets the batch time, first to last: each starts exactly when its
    // predecessor in the chain ends (and, across ranks, its input has been handed over).
    std::vector<PipelineDag::Node> criticalPath;
};

// `durationsMs` has one entry per DAG node; each must be finite and ≥ 0.
Timeline simulateTimeline(const PipelineDag& dag, const std::vector<double>& durationsMs);

// The same batch when the ranks share `processors` processors (cores, or devices), as co-located
// ranks on a small machine do: an action is ready when its predecessors have ended, and while k
// actions are running each progresses at min(1, processors / k) of its own speed (processor
// sharing). `durationsMs` is then each action's work: its duration on a processor of its own.
// processors ≤ 0 or ≥ the number of ranks: simulateTimeline(dag, durationsMs). A rank's busy time
// is the wall time its actions took. `transferMs` (Profile::transferMs()) delays every action by
// that much after a predecessor on another rank ends: the hand-over of its input.
Timeline simulateTimeline(
    const PipelineDag& dag, const std::vector<double>& durationsMs, int processors, double transferMs = 0.0);

} // namespace tfreeze
