#pragma once

#include "core/plan/freeze_planner.h"

#include <iosfwd>
#include <string>

namespace tfreeze {

inline constexpr const char* kPlannerBasisFormat = "tfreeze-basis/1";

// tfreeze-basis/1 JSON, the optimal basis of a plan (`tfreeze plan --basis`):
//   {"format": "tfreeze-basis/1", "shape": "<16 hex digits>", "entries": [0, -5, 12, ...]}
// Errors as the profile reader's: InputError naming the file and the field.
PlannerBasis readPlannerBasisJson(std::istream& in, const std::string& source);
PlannerBasis readPlannerBasisFile(const std::string& path);
void writePlannerBasisJson(const PlannerBasis& basis, std::ostream& out);
void writePlannerBasisFile(const PlannerBasis& basis, const std::string& path);

} // namespace tfreeze
