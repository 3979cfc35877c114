#pragma once

#include <cstdint>
#include <string>

namespace tfreeze {

// F forward, B full backward, I backward for the stage input only, W backward for the weights
// only (zero-bubble schedules split B into I then W).
enum class ActionKind : std::uint8_t { Forward, Backward, BackwardInput, BackwardWeight };

constexpr int kActionKindCount = 4;

char actionKindLetter(ActionKind kind);
// Accepts "F", "B", "I", "W" (case-insensitive); throws InputError(source, field) otherwise.
ActionKind parseActionKind(const std::string& text, const std::string& source = {}, const std::string& field = {});

// Only weight-gradient work can be skipped: a full backward or the W half of a split one.
constexpr bool isFreezable(ActionKind kind)
{
    return kind == ActionKind::Backward || kind == ActionKind::BackwardWeight;
}

// One compute action of a pipeline batch: a node of the DAG.
struct Action {
    int rank = 0;
    int stage = 0;
    int microbatch = 0;
    ActionKind kind = ActionKind::Forward;

    friend bool operator==(const Action& a, const Action& b)
    {
        return a.rank == b.rank && a.stage == b.stage && a.microbatch == b.microbatch && a.kind == b.kind;
    }
    friend bool operator!=(const Action& a, const Action& b) { return !(a == b); }
};

// PyTorch pipelining's action name: "{stage}{kind}{microbatch}", e.g. "2F0", "1W3".
std::string actionName(const Action& action);

} // namespace tfreeze
