#pragma once

// Shared by the libFuzzer targets: a finding is reported on stderr and abort()ed, so that
// libFuzzer records the input as a crash.

#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/profile.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tfreeze::fuzz {

// The source name passed to the readers; every InputError's what() must start with it.
inline const std::string kSource = "fuzz-input.json";

[[noreturn]] inline void finding(const std::string& what, const std::string& detail = {})
{
    std::fprintf(stderr, "FUZZ FINDING: %s%s%s\n", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

// Messages reach a terminal and the Qt GUI (QString::fromUtf8): they must be valid UTF-8.
inline bool validUtf8(const std::string& text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        unsigned int code = 0;
        if (lead < 0x80)
            length = 1, code = lead;
        else if ((lead & 0xE0) == 0xC0)
            length = 2, code = lead & 0x1F;
        else if ((lead & 0xF0) == 0xE0)
            length = 3, code = lead & 0x0F;
        else if ((lead & 0xF8) == 0xF0)
            length = 4, code = lead & 0x07;
        else
            return false;
        if (i + length > text.size())
            return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80)
                return false;
            code = (code << 6) | (next & 0x3F);
        }
        static const unsigned int kMinimum[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

inline void checkInputError(const InputError& error, const std::string& source, const char* where)
{
    const std::string text = error.what();
    if (text.empty())
        finding(std::string(where) + ": InputError with an empty message");
    if (text.compare(0, source.size(), source) != 0)
        finding(std::string(where) + ": InputError does not start with the source \"" + source + "\"", text);
    if (!validUtf8(text))
        finding(std::string(where) + ": InputError message is not valid UTF-8", text);
    if (error.source() != source)
        finding(std::string(where) + ": InputError::source() is not \"" + source + "\"", error.source());
}

// Runs `body`; it may return or throw InputError (checked), anything else is a finding.
template <typename Body> bool inputErrorOr(const char* where, const std::string& source, Body&& body)
{
    try {
        body();
        return true;
    } catch (const InputError& error) {
        checkInputError(error, source, where);
        return false;
    } catch (const std::exception& error) {
        finding(std::string(where) + ": unexpected exception (not InputError)", error.what());
    } catch (...) {
        finding(std::string(where) + ": unexpected non-std exception");
    }
}

inline std::string actionText(const Action& action)
{
    return actionName(action) + " on rank " + std::to_string(action.rank);
}

// Same shape, same rank orders, same costs, bit for bit (== on doubles; NaN cannot get in).
inline void requireEqualProfiles(const Profile& a, const Profile& b, const char* where)
{
    const ScheduleShape& sa = a.schedule().shape();
    const ScheduleShape& sb = b.schedule().shape();
    if (sa.kind != sb.kind || sa.ranks != sb.ranks || sa.microbatches != sb.microbatches
        || sa.stagesPerRank != sb.stagesPerRank)
        finding(std::string(where) + ": schedule shape changed in the round trip");
    if (a.schedule().splitBackward() != b.schedule().splitBackward())
        finding(std::string(where) + ": splitBackward changed in the round trip");
    if (a.schedule().rankOrders() != b.schedule().rankOrders())
        finding(std::string(where) + ": rank orders changed in the round trip");
    const auto& ca = a.costs();
    const auto& cb = b.costs();
    if (ca.size() != cb.size())
        finding(std::string(where) + ": cost count changed in the round trip");
    const std::vector<Action> actions = a.actions();
    for (std::size_t i = 0; i < ca.size(); ++i) {
        if (!(ca[i].maxMs == cb[i].maxMs) || !(ca[i].minMs == cb[i].minMs))
            finding(std::string(where) + ": cost of action " + std::to_string(i) + " changed in the round trip",
                actionText(actions[i]));
    }
}

// The DAG of a parsed schedule builds, or the order deadlocks (InputError); nothing else.
inline void checkDag(const Profile& profile, const std::string& source)
{
    inputErrorOr("PipelineDag", source, [&] {
        const PipelineDag dag(profile.schedule(), source);
        if (dag.nodeCount() != profile.costs().size())
            finding("PipelineDag: node count differs from the profile's action count");
        if (dag.topologicalOrder().size() != dag.nodeCount())
            finding("PipelineDag: topological order does not cover every node");
    });
}

} // namespace tfreeze::fuzz
