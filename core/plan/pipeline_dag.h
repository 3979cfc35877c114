#pragma once

#include "core/plan/action.h"
#include "core/plan/pipeline_schedule.h"

#include <cstdint>
#include <vector>

namespace tfreeze {

// The DAG of one batch (METHOD.md §2). Nodes are the schedule's actions in rank-major order
// (rank 0's actions in its execution order, then rank 1's, ...): node index == flat action index.
// Edges: device order; F(s,m)→F(s+1,m); F(s,m)→B/I(s,m); B/I(s,m)→B/I(s−1,m); I(s,m)→W(s,m).
// Duplicate edges are merged. A deadlocking order (a cycle) throws InputError whose message lists
// the actions on the cycle.
class PipelineDag {
public:
    using Node = std::uint32_t;

    explicit PipelineDag(const PipelineSchedule& schedule, const std::string& source = {});

    std::size_t nodeCount() const { return m_actions.size(); }
    std::size_t edgeCount() const { return m_edgeCount; }
    int rankCount() const { return m_rankCount; }
    int stageCount() const { return m_stageCount; }
    const Action& action(Node node) const { return m_actions[node]; }
    const std::vector<Action>& actions() const { return m_actions; }
    const std::vector<Node>& predecessors(Node node) const { return m_predecessors[node]; }
    const std::vector<Node>& successors(Node node) const { return m_successors[node]; }
    // Every node after all of its predecessors.
    const std::vector<Node>& topologicalOrder() const { return m_topologicalOrder; }
    // The first node index of each rank; rank r owns [rankBegin(r), rankBegin(r+1)).
    Node rankBegin(int rank) const { return m_rankBegin[static_cast<std::size_t>(rank)]; }
    Node rankEnd(int rank) const { return m_rankBegin[static_cast<std::size_t>(rank) + 1]; }

private:
    void buildTopologicalOrder(const std::string& source);

    std::vector<Action> m_actions;
    std::vector<std::vector<Node>> m_predecessors;
    std::vector<std::vector<Node>> m_successors;
    std::vector<Node> m_topologicalOrder;
    std::vector<Node> m_rankBegin;
    std::size_t m_edgeCount = 0;
    int m_rankCount = 0;
    int m_stageCount = 0;
};

} // namespace tfreeze
