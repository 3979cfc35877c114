#include "core/plan/planner_basis_io.h"

#include "core/plan/plan_error.h"
#include "core/plan/profile_json.h"
#include "core/plan/text_file.h"

#include <array>
#include <cstdio>
#include <istream>
#include <ostream>
#include <sstream>

namespace tfreeze {

namespace {

using detail::Json;
using detail::OrderedJson;

// 64 bits as text: JSON readers that hold numbers as doubles would round them.
std::string shapeText(std::uint64_t shape)
{
    std::array<char, 17> text {};
    std::snprintf(text.data(), text.size(), "%016llx", static_cast<unsigned long long>(shape));
    return text.data();
}

std::uint64_t parseShape(const std::string& text, const std::string& source)
{
    const bool hex = text.size() == 16 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (!hex)
        throw InputError(source, "shape", "must be 16 hexadecimal digits (got \"" + text + "\")");
    return std::stoull(text, nullptr, 16);
}

std::string basisText(const PlannerBasis& basis)
{
    OrderedJson document;
    document["format"] = kPlannerBasisFormat;
    document["shape"] = shapeText(basis.shape);
    document["entries"] = basis.entries;
    return detail::documentText(document);
}

} // namespace

PlannerBasis readPlannerBasisJson(std::istream& in, const std::string& source)
{
    const Json document = detail::parseJsonDocument(in, source);
    detail::requireFormat(document, kPlannerBasisFormat, source);
    PlannerBasis basis;
    basis.shape = parseShape(
        detail::requireString(detail::requireMember(document, "shape", "", source), "shape", source), source);
    const Json& entries = detail::requireMember(document, "entries", "", source);
    if (!entries.is_array() || entries.empty())
        throw InputError(source, "entries", "must be a non-empty array of integers");
    basis.entries.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i)
        basis.entries.push_back(detail::requireInteger(entries[i], "entries[" + std::to_string(i) + "]", source));
    // Whether the entries make a basis of a given LP is for FreezePlanner::startFrom() to say.
    return basis;
}

PlannerBasis readPlannerBasisFile(const std::string& path)
{
    std::istringstream in(readTextFile(path));
    return readPlannerBasisJson(in, path);
}

void writePlannerBasisJson(const PlannerBasis& basis, std::ostream& out) { out << basisText(basis); }

void writePlannerBasisFile(const PlannerBasis& basis, const std::string& path)
{
    writeTextFile(path, basisText(basis));
}

} // namespace tfreeze
