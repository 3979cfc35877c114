#include "core/plan/pipeline_schedule.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>

namespace tfreeze {

namespace {

const char* const kScheduleSource = "schedule";

std::string lowerCase(std::string text)
{
    std::transform(
        text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string countText(int value) { return "(got " + std::to_string(value) + ")"; }

// Rules every shape must meet, generated or not.
void validateBasicShape(const ScheduleShape& shape, const std::string& source)
{
    if (shape.ranks < 1)
        throw InputError(source, "ranks", "ranks must be at least 1 " + countText(shape.ranks));
    if (shape.microbatches < 1)
        throw InputError(source, "microbatches", "microbatches must be at least 1 " + countText(shape.microbatches));
    if (shape.stagesPerRank < 1)
        throw InputError(
            source, "stages_per_rank", "stages_per_rank must be at least 1 " + countText(shape.stagesPerRank));
    if (shape.kind == ScheduleKind::ZBV && shape.stagesPerRank != 2)
        throw InputError(source, "stages_per_rank", "ZBV needs stages_per_rank = 2 " + countText(shape.stagesPerRank));
}

// The rank that holds `stage`: ZBV folds the stages into a V (rank r holds r and 2P−1−r);
// everything else loops (stage c·P + r on rank r, which is stage s on rank s when V = 1).
int placedRank(const ScheduleShape& shape, int stage)
{
    const int P = shape.ranks;
    if (shape.kind == ScheduleKind::ZBV)
        return stage < P ? stage : 2 * P - 1 - stage;
    return stage % P;
}

Action makeAction(int rank, int stage, int microbatch, ActionKind kind)
{
    return Action { rank, stage, microbatch, kind };
}

std::vector<std::vector<Action>> generateGPipe(const ScheduleShape& shape)
{
    std::vector<std::vector<Action>> orders(static_cast<std::size_t>(shape.ranks));
    for (int r = 0; r < shape.ranks; ++r) {
        auto& order = orders[static_cast<std::size_t>(r)];
        for (int m = 0; m < shape.microbatches; ++m)
            order.push_back(makeAction(r, r, m, ActionKind::Forward));
        for (int m = 0; m < shape.microbatches; ++m)
            order.push_back(makeAction(r, r, m, ActionKind::Backward));
    }
    return orders;
}

std::vector<std::vector<Action>> generateOneFOneB(const ScheduleShape& shape)
{
    const int P = shape.ranks;
    const int M = shape.microbatches;
    std::vector<std::vector<Action>> orders(static_cast<std::size_t>(P));
    for (int r = 0; r < P; ++r) {
        auto& order = orders[static_cast<std::size_t>(r)];
        const int warmup = std::min(M, P - r - 1);
        for (int m = 0; m < warmup; ++m)
            order.push_back(makeAction(r, r, m, ActionKind::Forward));
        int nextBackward = 0;
        for (int m = warmup; m < M; ++m) {
            order.push_back(makeAction(r, r, m, ActionKind::Forward));
            order.push_back(makeAction(r, r, nextBackward++, ActionKind::Backward));
        }
        while (nextBackward < M)
            order.push_back(makeAction(r, r, nextBackward++, ActionKind::Backward));
    }
    return orders;
}

// Megatron-LM's interleaved 1F1B: microbatches go through the chunks in groups of P, so that a
// rank's chunk c of group g can start as soon as chunk c−1 of the same group has gone round.
std::vector<std::vector<Action>> generateInterleaved(const ScheduleShape& shape)
{
    const int P = shape.ranks;
    const int M = shape.microbatches;
    const int V = shape.stagesPerRank;
    const int total = M * V;
    const auto microbatchOf = [P, V](int k) { return (k / (P * V)) * P + k % P; };
    std::vector<std::vector<Action>> orders(static_cast<std::size_t>(P));
    for (int r = 0; r < P; ++r) {
        auto& order = orders[static_cast<std::size_t>(r)];
        const auto forward = [&](int k) {
            const int chunk = (k / P) % V;
            order.push_back(makeAction(r, chunk * P + r, microbatchOf(k), ActionKind::Forward));
        };
        const auto backward = [&](int k) {
            const int chunk = V - 1 - (k / P) % V;
            order.push_back(makeAction(r, chunk * P + r, microbatchOf(k), ActionKind::Backward));
        };
        const int warmup = std::min(total, (P - r - 1) * 2 + (V - 1) * P);
        for (int k = 0; k < warmup; ++k)
            forward(k);
        int nextBackward = 0;
        for (int k = warmup; k < total; ++k) {
            forward(k);
            backward(nextBackward++);
        }
        while (nextBackward < total)
            backward(nextBackward++);
    }
    return orders;
}

// ZB-H1: 1F1B with each B split into I then W. Rank r keeps r W's deferred while the pipe is
// full and runs them at the end, where it would otherwise wait for the I's of the ranks before
// it; r is what keeps every rank's peak activations (warm-up P−r−1 + 1 + r) at rank 0's 1F1B
// peak of P, the memory bound ZB-H1 is defined by. Deferring P−r−1 instead (the mirror image)
// leaves the last rank running F, I, W back to back and gives no gain over 1F1B.
std::vector<std::vector<Action>> generateZBH1(const ScheduleShape& shape)
{
    const int P = shape.ranks;
    const int M = shape.microbatches;
    std::vector<std::vector<Action>> orders(static_cast<std::size_t>(P));
    for (int r = 0; r < P; ++r) {
        auto& order = orders[static_cast<std::size_t>(r)];
        const auto weight = [&](int m) { order.push_back(makeAction(r, r, m, ActionKind::BackwardWeight)); };
        const int warmup = std::min(M, P - r - 1);
        const int deferCount = std::min(M, r);
        std::deque<int> deferred;
        for (int m = 0; m < warmup; ++m)
            order.push_back(makeAction(r, r, m, ActionKind::Forward));
        int nextBackward = 0;
        for (int m = warmup; m < M; ++m) {
            order.push_back(makeAction(r, r, m, ActionKind::Forward));
            order.push_back(makeAction(r, r, nextBackward, ActionKind::BackwardInput));
            deferred.push_back(nextBackward++);
            if (static_cast<int>(deferred.size()) > deferCount) {
                weight(deferred.front());
                deferred.pop_front();
            }
        }
        while (nextBackward < M) {
            order.push_back(makeAction(r, r, nextBackward, ActionKind::BackwardInput));
            deferred.push_back(nextBackward++);
            weight(deferred.front());
            deferred.pop_front();
        }
        for (int m : deferred)
            weight(m);
    }
    return orders;
}

// ZB-V has no closed form that fits every (P, M): build it by greedy list scheduling with unit
// costs, which yields an order that really runs (hence acyclic) and fills bubbles with W's.
// NOLINTNEXTLINE(readability-function-cognitive-complexity): one event loop with its priority rules side by side
std::vector<std::vector<Action>> generateZBV(const ScheduleShape& shape)
{
    const int P = shape.ranks;
    const int M = shape.microbatches;
    const int S = 2 * P;
    // Activations a rank holds (F started, W not yet), in chunk units: 2P is rank 0's 1F1B peak,
    // ZB-V's memory bound. Below 2P the greedy can stall; at 2P it never did (P ≤ 16, M ≤ 4P+3).
    const int inFlightCap = 2 * P;
    constexpr int kNotDone = std::numeric_limits<int>::max();
    const auto cell = [M](int stage, int microbatch) {
        return static_cast<std::size_t>(stage) * static_cast<std::size_t>(M) + static_cast<std::size_t>(microbatch);
    };
    const auto at = [](auto& values, int i) -> auto& { return values[static_cast<std::size_t>(i)]; };
    const std::size_t cells = static_cast<std::size_t>(S) * static_cast<std::size_t>(M);
    // End times (unit costs: start + 1); kNotDone until scheduled.
    std::vector<int> forwardEnd(cells, kNotDone);
    std::vector<int> inputEnd(cells, kNotDone);
    // Each stage runs its F's, and its I's, in microbatch order (both chains start in order at
    // stage 0 / stage S−1 and the lowest ready microbatch always wins), so the next candidate of
    // a stage is a single pointer.
    std::vector<int> nextForward(static_cast<std::size_t>(S), 0);
    std::vector<int> nextInput(static_cast<std::size_t>(S), 0);
    std::vector<std::deque<std::pair<int, int>>> weightQueue(static_cast<std::size_t>(P)); // (stage, microbatch)
    std::vector<int> inFlight(static_cast<std::size_t>(P), 0);
    std::vector<int> busyUntil(static_cast<std::size_t>(P), 0);
    std::vector<std::vector<Action>> orders(static_cast<std::size_t>(P));
    const std::size_t totalActions = cells * 3;
    std::size_t scheduled = 0;

    const auto forwardReady = [&](int stage, int t) {
        const int m = at(nextForward, stage);
        return m < M && (stage == 0 || forwardEnd[cell(stage - 1, m)] <= t);
    };
    const auto inputReady = [&](int stage, int t) {
        const int m = at(nextInput, stage);
        return m < M && forwardEnd[cell(stage, m)] <= t && (stage + 1 == S || inputEnd[cell(stage + 1, m)] <= t);
    };

    for (int t = 0; scheduled < totalActions; ++t) {
        bool anyBusy = false;
        bool progressed = false;
        for (int r = 0; r < P; ++r) {
            if (at(busyUntil, r) > t) {
                anyBusy = true;
                continue;
            }
            const int small = r;
            const int large = S - 1 - r;
            auto& queue = at(weightQueue, r);
            Action chosen;
            // I first: a ready I unblocks the next rank of the backward chain. Among I's, the
            // smaller stage, the one further along that chain, so that started microbatches
            // finish (and free memory) first; at P=4, M=8 this gives 5.9% idle where preferring
            // the larger stage gives 7.7%.
            if (inputReady(small, t) || inputReady(large, t)) {
                const int stage = inputReady(small, t) ? small : large;
                chosen = makeAction(r, stage, at(nextInput, stage)++, ActionKind::BackwardInput);
                inputEnd[cell(chosen.stage, chosen.microbatch)] = t + 1;
                queue.emplace_back(chosen.stage, chosen.microbatch);
            } else if (at(inFlight, r) < inFlightCap && (forwardReady(large, t) || forwardReady(small, t))) {
                // The larger stage first: it pushes microbatches to the loss, where backward work
                // is released.
                const int stage = forwardReady(large, t) ? large : small;
                chosen = makeAction(r, stage, at(nextForward, stage)++, ActionKind::Forward);
                forwardEnd[cell(chosen.stage, chosen.microbatch)] = t + 1;
                ++at(inFlight, r);
            } else if (!queue.empty() && inputEnd[cell(queue.front().first, queue.front().second)] <= t) {
                chosen = makeAction(r, queue.front().first, queue.front().second, ActionKind::BackwardWeight);
                queue.pop_front();
                --at(inFlight, r);
            } else {
                continue;
            }
            at(busyUntil, r) = t + 1;
            at(orders, r).push_back(chosen);
            ++scheduled;
            progressed = true;
        }
        // Not seen with the cap at 2P, but an endless loop would be worse than an error.
        if (!progressed && !anyBusy)
            throw PlannerError("ZBV list scheduling stalled at P=" + std::to_string(P) + ", M=" + std::to_string(M));
    }
    return orders;
}

} // namespace

std::string scheduleKindName(ScheduleKind kind)
{
    switch (kind) {
    case ScheduleKind::GPipe:
        return "GPipe";
    case ScheduleKind::OneFOneB:
        return "1F1B";
    case ScheduleKind::Interleaved1F1B:
        return "Interleaved1F1B";
    case ScheduleKind::ZBH1:
        return "ZBH1";
    case ScheduleKind::ZBV:
        return "ZBV";
    case ScheduleKind::Custom:
        return "Custom";
    }
    return "Custom";
}

ScheduleKind parseScheduleKind(const std::string& text, const std::string& source, const std::string& field)
{
    const std::string wanted = lowerCase(text);
    for (ScheduleKind kind : { ScheduleKind::GPipe, ScheduleKind::OneFOneB, ScheduleKind::Interleaved1F1B,
             ScheduleKind::ZBH1, ScheduleKind::ZBV, ScheduleKind::Custom }) {
        if (lowerCase(scheduleKindName(kind)) == wanted)
            return kind;
    }
    throw InputError(
        source, field, "unknown schedule \"" + text + "\" (expected GPipe, 1F1B, Interleaved1F1B, ZBH1 or ZBV)");
}

void validateScheduleShape(const ScheduleShape& shape)
{
    validateBasicShape(shape, kScheduleSource);
    const std::string name = scheduleKindName(shape.kind);
    switch (shape.kind) {
    case ScheduleKind::GPipe:
    case ScheduleKind::OneFOneB:
    case ScheduleKind::ZBH1:
        if (shape.stagesPerRank != 1)
            throw InputError(kScheduleSource, "stages_per_rank",
                name + " needs stages_per_rank = 1 " + countText(shape.stagesPerRank));
        break;
    case ScheduleKind::Interleaved1F1B:
        if (shape.stagesPerRank < 2)
            throw InputError(kScheduleSource, "stages_per_rank",
                "Interleaved1F1B needs stages_per_rank ≥ 2 " + countText(shape.stagesPerRank));
        if (shape.microbatches % shape.ranks != 0)
            throw InputError(kScheduleSource, "microbatches",
                "Interleaved1F1B needs microbatches to be a multiple of ranks (got "
                    + std::to_string(shape.microbatches) + " microbatches, " + std::to_string(shape.ranks) + " ranks)");
        break;
    case ScheduleKind::ZBV:
        break; // stages_per_rank = 2 is a basic rule: the placement depends on it
    case ScheduleKind::Custom:
        throw InputError(
            kScheduleSource, "kind", "a Custom schedule cannot be generated; it comes from a profile file");
    }
    // The zero-bubble orders defer W's into the cool-down; with fewer microbatches than ranks
    // there is no steady state to defer from.
    if ((shape.kind == ScheduleKind::ZBH1 || shape.kind == ScheduleKind::ZBV) && shape.microbatches < shape.ranks)
        throw InputError(kScheduleSource, "microbatches",
            name + " needs microbatches ≥ ranks (got " + std::to_string(shape.microbatches) + " microbatches, "
                + std::to_string(shape.ranks) + " ranks)");
}

PipelineSchedule PipelineSchedule::generate(const ScheduleShape& shape)
{
    validateScheduleShape(shape);
    std::vector<std::vector<Action>> orders;
    switch (shape.kind) {
    case ScheduleKind::GPipe:
        orders = generateGPipe(shape);
        break;
    case ScheduleKind::OneFOneB:
        orders = generateOneFOneB(shape);
        break;
    case ScheduleKind::Interleaved1F1B:
        orders = generateInterleaved(shape);
        break;
    case ScheduleKind::ZBH1:
        orders = generateZBH1(shape);
        break;
    case ScheduleKind::ZBV:
        orders = generateZBV(shape);
        break;
    case ScheduleKind::Custom:
        break; // rejected by validateScheduleShape
    }
    return fromRankOrders(shape, std::move(orders), kScheduleSource);
}

PipelineSchedule PipelineSchedule::fromRankOrders(
    const ScheduleShape& shape, std::vector<std::vector<Action>> rankOrders, const std::string& source)
{
    PipelineSchedule schedule;
    schedule.m_shape = shape;
    schedule.m_rankOrders = std::move(rankOrders);
    schedule.validate(source);
    return schedule;
}

std::size_t PipelineSchedule::actionCount() const
{
    std::size_t count = 0;
    for (const auto& order : m_rankOrders)
        count += order.size();
    return count;
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): every completeness rule in one pass, each with its message
void PipelineSchedule::validate(const std::string& source)
{
    validateBasicShape(m_shape, source);
    const int P = m_shape.ranks;
    const int S = m_shape.stageCount();
    const int M = m_shape.microbatches;
    if (static_cast<int>(m_rankOrders.size()) != P)
        throw InputError(source, "ranks",
            "expected " + std::to_string(P) + " rank orders, got " + std::to_string(m_rankOrders.size()));

    // A custom order says where stages live by where their actions are; generated kinds have a
    // fixed placement that every action must respect.
    const bool customPlacement = m_shape.kind == ScheduleKind::Custom;
    m_stageRank.assign(static_cast<std::size_t>(S), -1);
    if (!customPlacement) {
        for (int s = 0; s < S; ++s)
            m_stageRank[static_cast<std::size_t>(s)] = placedRank(m_shape, s);
    }

    const std::size_t cells = static_cast<std::size_t>(S) * static_cast<std::size_t>(M);
    // Every (stage, microbatch) needs at least two actions. Checked before allocating per-cell
    // counts, so that a file claiming millions of microbatches fails fast instead of exhausting memory.
    if (cells > actionCount())
        throw InputError(source, "actions",
            std::to_string(S) + " stages × " + std::to_string(M) + " microbatches need at least "
                + std::to_string(2 * cells) + " actions, got " + std::to_string(actionCount()));
    std::vector<int> counts(cells * kActionKindCount, 0);
    const auto countOf = [&](int stage, int microbatch, ActionKind kind) -> int& {
        return counts[(static_cast<std::size_t>(stage) * static_cast<std::size_t>(M)
                          + static_cast<std::size_t>(microbatch))
                * kActionKindCount
            + static_cast<std::size_t>(kind)];
    };

    m_splitBackward = false;
    for (int r = 0; r < P; ++r) {
        const std::string field = "rank " + std::to_string(r);
        for (const Action& action : m_rankOrders[static_cast<std::size_t>(r)]) {
            const std::string name = actionName(action);
            if (action.rank != r)
                throw InputError(source, field,
                    name + " is listed on rank " + std::to_string(r) + " but says rank " + std::to_string(action.rank));
            if (action.stage < 0 || action.stage >= S)
                throw InputError(source, field,
                    name + ": stage " + std::to_string(action.stage) + " is out of range [0, " + std::to_string(S)
                        + ")");
            if (action.microbatch < 0 || action.microbatch >= M)
                throw InputError(source, field,
                    name + ": microbatch " + std::to_string(action.microbatch) + " is out of range [0, "
                        + std::to_string(M) + ")");
            int& stageRank = m_stageRank[static_cast<std::size_t>(action.stage)];
            if (stageRank < 0)
                stageRank = r;
            if (stageRank != r)
                throw InputError(source, field,
                    name + " is on rank " + std::to_string(r) + " but stage " + std::to_string(action.stage)
                        + " belongs to rank " + std::to_string(stageRank));
            if (++countOf(action.stage, action.microbatch, action.kind) > 1)
                throw InputError(source, field, name + " appears twice");
            if (action.kind == ActionKind::BackwardInput || action.kind == ActionKind::BackwardWeight)
                m_splitBackward = true;
        }
    }

    for (int s = 0; s < S; ++s) {
        for (int m = 0; m < M; ++m) {
            const std::string where = "stage " + std::to_string(s) + " microbatch " + std::to_string(m);
            const bool full = countOf(s, m, ActionKind::Backward) > 0;
            const bool input = countOf(s, m, ActionKind::BackwardInput) > 0;
            const bool weight = countOf(s, m, ActionKind::BackwardWeight) > 0;
            if (countOf(s, m, ActionKind::Forward) == 0)
                throw InputError(source, "actions", where + " has no forward");
            if (full && (input || weight))
                throw InputError(source, "actions", where + " mixes B with I/W (use either B or I and W)");
            if (!full && !input && !weight)
                throw InputError(source, "actions", where + " has no backward");
            if (input && !weight)
                throw InputError(source, "actions", where + " has I but no W");
            if (weight && !input)
                throw InputError(source, "actions", where + " has W but no I");
        }
    }
}

} // namespace tfreeze
