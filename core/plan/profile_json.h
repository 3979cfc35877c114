#pragma once

// Internal to profile_io.cpp and freeze_plan_io.cpp (not part of the core/plan API): the JSON
// helpers that both file formats share, so that both name fields and report errors alike.

#include "core/plan/profile.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace tfreeze::detail {

using Json = nlohmann::json;
// Keeps keys in insertion order, so written files read in the order of the format's description.
using OrderedJson = nlohmann::ordered_json;

// Throws InputError(source, "", "not valid JSON: ...") with the parser's position.
Json parseJsonDocument(std::istream& in, const std::string& source);

void requireObject(const Json& value, const std::string& field, const std::string& source);
// Throws InputError(source, field + "." + key, "unknown key (accepted here: ...)") for the first
// member of `object` whose key is not in `known`: a misspelt optional key ("procesors") would
// otherwise be ignored without a word.
void rejectUnknownMembers(
    const Json& object, const std::vector<const char*>& known, const std::string& field, const std::string& source);
// The document must be an object whose "format" is `expected`.
void requireFormat(const Json& document, const char* expected, const std::string& source);
// `field` is the path of `object`; the member's path is field + "." + key (or key at the root).
const Json& requireMember(const Json& object, const char* key, const std::string& field, const std::string& source);
const Json* findMember(const Json& object, const char* key);
std::string memberPath(const std::string& field, const char* key);

double requireFiniteNumber(const Json& value, const std::string& field, const std::string& source);
double requireDuration(const Json& value, const std::string& field, const std::string& source);
// A duration in a profile (max_ms, min_ms, transfer_ms): as checkDurationMs, at most kMaxDurationMs.
double requireDurationMs(const Json& value, const std::string& field, const std::string& source);
double requireRatio(const Json& value, const std::string& field, const std::string& source);
int requireInteger(const Json& value, const std::string& field, const std::string& source);
std::string requireString(const Json& value, const std::string& field, const std::string& source);

// The shortest text that reads back as `value` exactly ("3", "0.1", "nan"); defined in profile.cpp.
std::string numberText(double value);

// A profile read from the "schedule" and "actions" members of a document. The file may interleave
// ranks; fileIndex[i] is the position in "actions" of the i-th action in rank-major order.
struct ParsedProfile {
    Profile profile;
    std::vector<std::size_t> fileIndex;
};
// The members a document holds beyond a profile's own (a plan's results): at the top level and in
// each action. Any other key is refused.
struct ExtraMembers {
    std::vector<const char*> document;
    std::vector<const char*> action;
};
ParsedProfile parseProfileMembers(const Json& document, const std::string& source, const ExtraMembers& extra = {});

OrderedJson scheduleJson(const ScheduleShape& shape);
// A document's opening members, as profiles and plans both begin: "format", "schedule", then
// "processors", "transfer_ms" and "all_or_nothing_stages" where the profile has them.
OrderedJson documentHead(const char* format, const Profile& profile);
// One action's identity and costs, the common prefix of profile and plan action entries.
OrderedJson actionJson(const Action& action, const ActionCost& cost);
// One line of JSON with a space after each ':' and ',' (nlohmann's compact dump has none).
std::string inlineJson(const OrderedJson& value);
// `members` written one per line at the top level; an "actions" array one entry per line.
std::string documentText(const OrderedJson& document);

} // namespace tfreeze::detail
