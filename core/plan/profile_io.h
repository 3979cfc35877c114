#pragma once

#include "core/plan/profile.h"

#include <iosfwd>
#include <string>

namespace tfreeze {

inline constexpr const char* kProfileFormat = "tfreeze-profile/1";

// tfreeze-profile/1 JSON. Readers throw InputError naming `source` and the field
// (e.g. "actions[12].min_ms") for malformed JSON, missing fields, unknown keys, a wrong format
// tag, unknown kinds, NaN/negative durations or ones above kMaxDurationMs, min > max, an F or I
// whose min_ms differs from its max_ms, or actions that do not form the declared schedule.
Profile readProfileJson(std::istream& in, const std::string& source);
Profile readProfileFile(const std::string& path);
void writeProfileJson(const Profile& profile, std::ostream& out);
void writeProfileFile(const Profile& profile, const std::string& path);

} // namespace tfreeze
