#pragma once

#include "core/plan/freeze_plan.h"

#include <iosfwd>
#include <string>

namespace tfreeze {

inline constexpr const char* kPlanFormat = "tfreeze-plan/1";

// tfreeze-plan/1 JSON; same error rules as the profile reader.
FreezePlan readPlanJson(std::istream& in, const std::string& source);
FreezePlan readPlanFile(const std::string& path);
void writePlanJson(const FreezePlan& plan, std::ostream& out);
void writePlanFile(const FreezePlan& plan, const std::string& path);
// One row per action: rank,stage,microbatch,kind,max_ms,min_ms,ratio,start_ms,end_ms
void writePlanCsv(const FreezePlan& plan, std::ostream& out);
void writePlanCsvFile(const FreezePlan& plan, const std::string& path);

} // namespace tfreeze
