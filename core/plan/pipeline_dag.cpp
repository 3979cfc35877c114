#include "core/plan/pipeline_dag.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <limits>

namespace tfreeze {

namespace {

constexpr PipelineDag::Node kNoNode = std::numeric_limits<PipelineDag::Node>::max();

// Node lookup by (stage, microbatch, kind): a dense table, since every triple exists at most once.
class ActionIndex {
public:
    ActionIndex(int stages, int microbatches)
        : m_microbatches(microbatches)
        , m_nodes(static_cast<std::size_t>(stages) * static_cast<std::size_t>(microbatches) * kActionKindCount, kNoNode)
    {
    }

    PipelineDag::Node& at(int stage, int microbatch, ActionKind kind)
    {
        return m_nodes[(static_cast<std::size_t>(stage) * static_cast<std::size_t>(m_microbatches)
                           + static_cast<std::size_t>(microbatch))
                * kActionKindCount
            + static_cast<std::size_t>(kind)];
    }

    PipelineDag::Node find(int stage, int microbatch, ActionKind kind) { return at(stage, microbatch, kind); }

private:
    int m_microbatches;
    std::vector<PipelineDag::Node> m_nodes;
};

} // namespace

PipelineDag::PipelineDag(const PipelineSchedule& schedule, const std::string& source)
    : m_rankCount(schedule.rankCount())
    , m_stageCount(schedule.stageCount())
{
    m_rankBegin.push_back(0);
    for (const auto& order : schedule.rankOrders()) {
        m_actions.insert(m_actions.end(), order.begin(), order.end());
        m_rankBegin.push_back(static_cast<Node>(m_actions.size()));
    }
    const int microbatches = schedule.microbatchCount();
    ActionIndex index(m_stageCount, microbatches);
    for (Node node = 0; node < m_actions.size(); ++node) {
        const Action& a = m_actions[node];
        index.at(a.stage, a.microbatch, a.kind) = node;
    }

    m_predecessors.resize(m_actions.size());
    auto addEdge = [this](Node from, Node to) {
        if (from != kNoNode)
            m_predecessors[to].push_back(from);
    };
    for (int rank = 0; rank < m_rankCount; ++rank) {
        for (Node node = rankBegin(rank) + 1; node < rankEnd(rank); ++node)
            addEdge(node - 1, node);
    }
    for (Node node = 0; node < m_actions.size(); ++node) {
        const Action& a = m_actions[node];
        switch (a.kind) {
        case ActionKind::Forward:
            if (a.stage > 0)
                addEdge(index.find(a.stage - 1, a.microbatch, ActionKind::Forward), node);
            break;
        case ActionKind::Backward:
        case ActionKind::BackwardInput:
            addEdge(index.find(a.stage, a.microbatch, ActionKind::Forward), node);
            if (a.stage + 1 < m_stageCount) {
                const Node full = index.find(a.stage + 1, a.microbatch, ActionKind::Backward);
                addEdge(
                    full != kNoNode ? full : index.find(a.stage + 1, a.microbatch, ActionKind::BackwardInput), node);
            }
            break;
        case ActionKind::BackwardWeight:
            addEdge(index.find(a.stage, a.microbatch, ActionKind::BackwardInput), node);
            break;
        }
    }

    m_successors.resize(m_actions.size());
    for (Node node = 0; node < m_actions.size(); ++node) {
        auto& preds = m_predecessors[node];
        std::sort(preds.begin(), preds.end());
        preds.erase(std::unique(preds.begin(), preds.end()), preds.end());
        m_edgeCount += preds.size();
        for (Node pred : preds)
            m_successors[pred].push_back(node);
    }
    buildTopologicalOrder(source);
}

void PipelineDag::buildTopologicalOrder(const std::string& source)
{
    const std::size_t n = m_actions.size();
    std::vector<std::uint32_t> pending(n);
    std::vector<Node> ready;
    for (Node node = 0; node < n; ++node) {
        pending[node] = static_cast<std::uint32_t>(m_predecessors[node].size());
        if (pending[node] == 0)
            ready.push_back(node);
    }
    m_topologicalOrder.reserve(n);
    while (!ready.empty()) {
        const Node node = ready.back();
        ready.pop_back();
        m_topologicalOrder.push_back(node);
        for (Node next : m_successors[node]) {
            if (--pending[next] == 0)
                ready.push_back(next);
        }
    }
    if (m_topologicalOrder.size() == n)
        return;

    // Some nodes never became ready: they lie on or behind a cycle. Walk predecessors among them
    // until a node repeats; the walk from its first visit is a cycle.
    Node start = 0;
    while (pending[start] == 0)
        ++start;
    std::vector<std::size_t> visitedAt(n, std::numeric_limits<std::size_t>::max());
    std::vector<Node> walk;
    Node node = start;
    while (visitedAt[node] == std::numeric_limits<std::size_t>::max()) {
        visitedAt[node] = walk.size();
        walk.push_back(node);
        const auto& preds = m_predecessors[node];
        node = *std::find_if(preds.begin(), preds.end(), [&](Node p) { return pending[p] != 0; });
    }
    std::vector<Node> cycle(walk.begin() + static_cast<std::ptrdiff_t>(visitedAt[node]), walk.end());
    std::reverse(cycle.begin(), cycle.end()); // predecessor walk → execution direction
    std::string text;
    for (Node c : cycle)
        text += actionName(m_actions[c]) + " (rank " + std::to_string(m_actions[c].rank) + ") -> ";
    text += actionName(m_actions[cycle.front()]);
    throw InputError(source, "order", "the schedule deadlocks: its actions wait on each other in a cycle: " + text);
}

} // namespace tfreeze
