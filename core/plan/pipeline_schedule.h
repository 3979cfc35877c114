#pragma once

#include "core/plan/action.h"

#include <string>
#include <vector>

namespace tfreeze {

// Custom: an order read from a profile file, not generated.
enum class ScheduleKind { GPipe, OneFOneB, Interleaved1F1B, ZBH1, ZBV, Custom };

// "GPipe", "1F1B", "Interleaved1F1B", "ZBH1", "ZBV", "Custom": the names in flags, configs and files.
std::string scheduleKindName(ScheduleKind kind);
// Case-insensitive; throws InputError(source, field) naming the accepted values.
ScheduleKind parseScheduleKind(const std::string& text, const std::string& source = {}, const std::string& field = {});

// P ranks, M microbatches, V stages per rank: P·V stages in all.
struct ScheduleShape {
    ScheduleKind kind = ScheduleKind::OneFOneB;
    int ranks = 1;
    int microbatches = 1;
    int stagesPerRank = 1;

    int stageCount() const { return ranks * stagesPerRank; }
};

// Every rank's ordered list of actions for one batch. Construction validates that each
// (stage, microbatch) has exactly one F and either one B or one I and one W, all on the rank
// that holds the stage; it does not check for deadlock (PipelineDag does).
class PipelineSchedule {
public:
    // Throws InputError(source "schedule", field = the rule's subject) when the shape breaks a
    // rule of its kind, e.g. "Interleaved1F1B needs microbatches to be a multiple of ranks".
    static PipelineSchedule generate(const ScheduleShape& shape);
    // An order given explicitly (a profile file). `source` names the file for errors.
    static PipelineSchedule fromRankOrders(
        const ScheduleShape& shape, std::vector<std::vector<Action>> rankOrders, const std::string& source = {});

    const ScheduleShape& shape() const { return m_shape; }
    int rankCount() const { return m_shape.ranks; }
    int stageCount() const { return m_shape.stageCount(); }
    int microbatchCount() const { return m_shape.microbatches; }
    // True when backward is split into I and W (ZBH1, ZBV, or a custom order that uses I/W).
    bool splitBackward() const { return m_splitBackward; }
    int stageRank(int stage) const { return m_stageRank.at(static_cast<std::size_t>(stage)); }
    const std::vector<Action>& rankOrder(int rank) const { return m_rankOrders.at(static_cast<std::size_t>(rank)); }
    const std::vector<std::vector<Action>>& rankOrders() const { return m_rankOrders; }
    std::size_t actionCount() const;

private:
    PipelineSchedule() = default;
    void validate(const std::string& source);

    ScheduleShape m_shape;
    std::vector<std::vector<Action>> m_rankOrders;
    std::vector<int> m_stageRank;
    bool m_splitBackward = false;
};

// Throws InputError with the rule that failed; used by generate().
void validateScheduleShape(const ScheduleShape& shape);

} // namespace tfreeze
