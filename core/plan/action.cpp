#include "core/plan/action.h"

#include "core/plan/plan_error.h"

namespace tfreeze {

char actionKindLetter(ActionKind kind)
{
    switch (kind) {
    case ActionKind::Forward:
        return 'F';
    case ActionKind::Backward:
        return 'B';
    case ActionKind::BackwardInput:
        return 'I';
    case ActionKind::BackwardWeight:
        return 'W';
    }
    return '?';
}

ActionKind parseActionKind(const std::string& text, const std::string& source, const std::string& field)
{
    if (text.size() == 1) {
        switch (text[0]) {
        case 'F':
        case 'f':
            return ActionKind::Forward;
        case 'B':
        case 'b':
            return ActionKind::Backward;
        case 'I':
        case 'i':
            return ActionKind::BackwardInput;
        case 'W':
        case 'w':
            return ActionKind::BackwardWeight;
        default:
            break;
        }
    }
    throw InputError(source, field, "unknown action kind \"" + text + "\" (expected F, B, I or W)");
}

std::string actionName(const Action& action)
{
    return std::to_string(action.stage) + actionKindLetter(action.kind) + std::to_string(action.microbatch);
}

} // namespace tfreeze
