#include "core/plan/profile_io.h"

#include "core/plan/plan_error.h"
#include "core/plan/profile_json.h"
#include "core/plan/text_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <istream>
#include <iterator>
#include <limits>
#include <map>
#include <ostream>
#include <sstream>
#include <string_view>
#include <tuple>

namespace tfreeze {

namespace detail {

namespace {

// Appends the compact JSON of `value` (as dump() writes it) to `text`, stopping once `text` is
// longer than `limit`. Found while fuzzing the readers: dump() recurses once per nesting level,
// so quoting a value of a 200 KB file of '[' (100 000 levels) overflowed the stack. Every level
// here adds at least one character, so the recursion is at most `limit` deep.
void appendShortDump(const Json& value, std::string& text, std::size_t limit)
{
    if (!value.is_structured()) {
        text += value.dump();
        return;
    }
    const bool object = value.is_object();
    text += object ? '{' : '[';
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
        if (text.size() > limit)
            return;
        if (!first)
            text += ',';
        first = false;
        if (object)
            text += Json(it.key()).dump() + ':';
        appendShortDump(*it, text, limit);
    }
    text += object ? '}' : ']';
}

// A short rendering of an offending value for "must be a number (got ...)".
std::string shortDump(const Json& value)
{
    constexpr std::size_t kLimit = 40;
    std::string text;
    appendShortDump(value, text, kLimit);
    if (text.size() > kLimit) {
        // Cut on a UTF-8 character boundary, never inside a continuation byte (caught by the fuzz
        // targets' UTF-8 check: a cut inside a multi-byte character put invalid UTF-8 in the message).
        std::size_t cut = kLimit - 3;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        text.resize(cut);
        text += "...";
    }
    return text;
}

[[noreturn]] void throwWrongType(
    const Json& value, const char* expected, const std::string& field, const std::string& source)
{
    throw InputError(source, field, std::string("must be ") + expected + " (got " + shortDump(value) + ")");
}

// A member's key as a field path shows it: quoted (and cut) unless a plain identifier, so that an
// empty key or one with spaces, dots or control characters still reads as one key.
std::string keyText(const std::string& key)
{
    const auto plain = [](unsigned char c) { return std::isalnum(c) != 0 || c == '_'; };
    if (!key.empty() && std::all_of(key.begin(), key.end(), plain))
        return key;
    return shortDump(Json(key));
}

std::string actionPath(std::size_t index) { return "actions[" + std::to_string(index) + "]"; }

} // namespace

namespace {

// nlohmann's DOM parser, but keeping where a parse failed: a number too large for a double
// ("number overflow parsing '1e400'") is thrown as out_of_range, which carries no position, unlike
// the parse_error of every other malformed document. The parser hands the position to its SAX
// handler's parse_error (statically dispatched: sax_parse is a template on the handler's type).
class PositionedDomParser : public nlohmann::detail::json_sax_dom_parser<Json> {
public:
    using json_sax_dom_parser::json_sax_dom_parser;

    template <typename Exception>
    bool parse_error(std::size_t position, const std::string& lastToken, const Exception& error)
    {
        m_tokenEnd = position;
        m_tokenSize = lastToken.size();
        return json_sax_dom_parser::parse_error(position, lastToken, error);
    }

    // Where the offending token starts, as "line L, column C" (both from 1).
    std::string tokenPlace(const std::string& text) const
    {
        const std::size_t start = std::min(text.size(), m_tokenEnd - std::min(m_tokenEnd, m_tokenSize));
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(start), '\n');
        const std::size_t newline = start == 0 ? std::string::npos : text.rfind('\n', start - 1);
        const std::size_t column = start - (newline == std::string::npos ? 0 : newline + 1) + 1;
        return "line " + std::to_string(line) + ", column " + std::to_string(column);
    }

private:
    std::size_t m_tokenEnd = 0;
    std::size_t m_tokenSize = 0;
};

} // namespace

Json parseJsonDocument(std::istream& in, const std::string& source)
{
    const std::string text { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
    Json document;
    PositionedDomParser parser(document);
    try {
        Json::sax_parse(text, &parser);
        return document;
    } catch (const Json::parse_error& error) {
        std::string message = jsonErrorText(error);
        if (message.find("byte") == std::string::npos)
            message += " (byte " + std::to_string(error.byte) + ")";
        throw InputError(source, "", "not valid JSON: " + message);
    } catch (const Json::exception& error) {
        // Such as a number literal too large for a double ("number overflow parsing '1e400'").
        throw InputError(source, "", "not valid JSON: " + jsonErrorText(error) + " at " + parser.tokenPlace(text));
    }
}

void requireObject(const Json& value, const std::string& field, const std::string& source)
{
    if (!value.is_object())
        throwWrongType(value, "an object", field, source);
}

void requireFormat(const Json& document, const char* expected, const std::string& source)
{
    requireObject(document, "", source);
    const Json* format = findMember(document, "format");
    if (!format)
        throw InputError(source, "format", std::string("expected \"") + expected + "\" (it is missing)");
    if (!format->is_string() || format->get<std::string>() != expected)
        throw InputError(
            source, "format", std::string("expected \"") + expected + "\" (got " + shortDump(*format) + ")");
}

std::string memberPath(const std::string& field, const char* key)
{
    return field.empty() ? std::string(key) : field + "." + key;
}

const Json* findMember(const Json& object, const char* key)
{
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

const Json& requireMember(const Json& object, const char* key, const std::string& field, const std::string& source)
{
    const Json* member = findMember(object, key);
    if (!member)
        throw InputError(source, memberPath(field, key), "is missing");
    return *member;
}

double requireFiniteNumber(const Json& value, const std::string& field, const std::string& source)
{
    if (!value.is_number())
        throwWrongType(value, "a number", field, source);
    const double number = value.get<double>();
    if (!std::isfinite(number))
        throw InputError(source, field, "must be a finite number (got " + shortDump(value) + ")");
    return number;
}

double requireDuration(const Json& value, const std::string& field, const std::string& source)
{
    if (!value.is_number())
        throwWrongType(value, "a number", field, source);
    const double number = value.get<double>();
    if (!std::isfinite(number) || number < 0.0)
        throw InputError(source, field, "must be a finite number ≥ 0 (got " + numberText(number) + ")");
    return number;
}

double requireRatio(const Json& value, const std::string& field, const std::string& source)
{
    if (!value.is_number())
        throwWrongType(value, "a number", field, source);
    const double number = value.get<double>();
    if (!(number >= 0.0 && number <= 1.0))
        throw InputError(source, field, "must be a number in [0, 1] (got " + numberText(number) + ")");
    return number;
}

int requireInteger(const Json& value, const std::string& field, const std::string& source)
{
    if (value.is_number_integer()) {
        if (value.is_number_unsigned()) {
            const auto number = value.get<std::uint64_t>();
            if (number <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
                return static_cast<int>(number);
        } else {
            const auto number = value.get<std::int64_t>();
            if (number >= std::numeric_limits<int>::min() && number <= std::numeric_limits<int>::max())
                return static_cast<int>(number);
        }
        throw InputError(source, field, "is out of range (got " + shortDump(value) + ")");
    }
    // 4.0 is an integer that some writers (Python's json with floats) emit.
    if (value.is_number_float()) {
        const double number = value.get<double>();
        if (std::floor(number) == number && std::fabs(number) <= std::numeric_limits<int>::max())
            return static_cast<int>(number);
    }
    throwWrongType(value, "an integer", field, source);
}

std::string requireString(const Json& value, const std::string& field, const std::string& source)
{
    if (!value.is_string())
        throwWrongType(value, "a string", field, source);
    return value.get<std::string>();
}

double requireDurationMs(const Json& value, const std::string& field, const std::string& source)
{
    if (!value.is_number())
        throwWrongType(value, "a number", field, source);
    const double number = value.get<double>();
    checkDurationMs(number, source, field);
    return number;
}

void rejectUnknownMembers(
    const Json& object, const std::vector<const char*>& known, const std::string& field, const std::string& source)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        const auto isKnown = [&](const char* key) { return it.key() == key; };
        if (std::any_of(known.begin(), known.end(), isKnown))
            continue;
        std::vector<std::string> accepted(known.begin(), known.end());
        std::sort(accepted.begin(), accepted.end());
        std::string list;
        for (const std::string& key : accepted)
            list += (list.empty() ? "" : ", ") + key;
        throw InputError(
            source, memberPath(field, keyText(it.key()).c_str()), "unknown key (accepted here: " + list + ")");
    }
}

namespace {

const std::vector<const char*> kProfileDocumentKeys
    = { "format", "schedule", "processors", "transfer_ms", "all_or_nothing_stages", "actions" };
const std::vector<const char*> kScheduleKeys = { "kind", "ranks", "microbatches", "stages_per_rank" };
const std::vector<const char*> kProfileActionKeys = { "rank", "stage", "microbatch", "kind", "max_ms", "min_ms" };

std::vector<const char*> joined(std::vector<const char*> first, const std::vector<const char*>& second)
{
    first.insert(first.end(), second.begin(), second.end());
    return first;
}

// The optional members about the machine the profile was measured on: `processors` and
// `transfer_ms`.
void readMachineMembers(const Json& document, Profile& profile, const std::string& source)
{
    if (const Json* processors = findMember(document, "processors")) {
        const int count = requireInteger(*processors, "processors", source);
        if (count < 1)
            throw InputError(source, "processors", "must be an integer ≥ 1 (got " + std::to_string(count) + ")");
        profile.setProcessors(count, source);
    }
    if (const Json* transfer = findMember(document, "transfer_ms"))
        profile.setTransferMs(requireDurationMs(*transfer, "transfer_ms", source), source);
}

// The optional `all_or_nothing_stages`: an array of stage indices (Profile::allOrNothingStages).
void readAllOrNothingStages(const Json& document, Profile& profile, const std::string& source)
{
    const Json* member = findMember(document, "all_or_nothing_stages");
    if (!member)
        return;
    if (!member->is_array())
        throwWrongType(*member, "an array of stage numbers", "all_or_nothing_stages", source);
    std::vector<int> stages;
    for (std::size_t i = 0; i < member->size(); ++i)
        stages.push_back(requireInteger((*member)[i], "all_or_nothing_stages[" + std::to_string(i) + "]", source));
    profile.setAllOrNothingStages(std::move(stages), source);
}

ScheduleShape readScheduleShape(const Json& document, const std::string& source)
{
    const Json& schedule = requireMember(document, "schedule", "", source);
    requireObject(schedule, "schedule", source);
    rejectUnknownMembers(schedule, kScheduleKeys, "schedule", source);
    ScheduleShape shape;
    shape.kind
        = parseScheduleKind(requireString(requireMember(schedule, "kind", "schedule", source), "schedule.kind", source),
            source, "schedule.kind");
    const auto positive = [&](const char* key) {
        const std::string field = memberPath("schedule", key);
        const int value = requireInteger(requireMember(schedule, key, "schedule", source), field, source);
        if (value < 1)
            throw InputError(source, field, "must be an integer ≥ 1 (got " + std::to_string(value) + ")");
        return value;
    };
    shape.ranks = positive("ranks");
    shape.microbatches = positive("microbatches");
    shape.stagesPerRank = positive("stages_per_rank");
    return shape;
}

// An action's durations. F and I cannot be frozen: their min_ms may be left out (it is max_ms),
// and one that differs from max_ms is refused rather than silently replaced.
ActionCost readActionCost(const Json& entry, ActionKind kind, const std::string& path, const std::string& source)
{
    const std::string minField = memberPath(path, "min_ms");
    ActionCost cost;
    cost.maxMs = requireDurationMs(requireMember(entry, "max_ms", path, source), memberPath(path, "max_ms"), source);
    const Json* minMs = findMember(entry, "min_ms");
    if (isFreezable(kind) && !minMs)
        throw InputError(source, minField, "is missing");
    cost.minMs = minMs ? requireDurationMs(*minMs, minField, source) : cost.maxMs;
    // Checked here as well as in Profile so that the message names the entry's place in the file.
    if (isFreezable(kind) && cost.minMs > cost.maxMs)
        throw InputError(
            source, minField, "min_ms " + numberText(cost.minMs) + " is greater than max_ms " + numberText(cost.maxMs));
    if (!isFreezable(kind) && cost.minMs != cost.maxMs)
        throw InputError(source, minField,
            std::string("an ") + actionKindLetter(kind) + " action cannot be frozen: min_ms must equal max_ms "
                + numberText(cost.maxMs) + " or be left out (got " + numberText(cost.minMs) + ")");
    return cost;
}

} // namespace

ParsedProfile parseProfileMembers(const Json& document, const std::string& source, const ExtraMembers& extra)
{
    rejectUnknownMembers(document, joined(kProfileDocumentKeys, extra.document), "", source);
    const ScheduleShape shape = readScheduleShape(document, source);
    const std::vector<const char*> actionKeys = joined(kProfileActionKeys, extra.action);

    const Json& actions = requireMember(document, "actions", "", source);
    if (!actions.is_array())
        throwWrongType(actions, "an array", "actions", source);
    // Every (stage, microbatch) needs at least an F and a B: checked before anything is sized by
    // the declared shape, so that a typo like "ranks": 4000000 cannot exhaust memory (in double:
    // the product of three ints may not fit in 64 bits).
    const double needed = 2.0 * shape.ranks * shape.stagesPerRank * shape.microbatches;
    if (needed > static_cast<double>(actions.size()))
        throw InputError(source, "actions",
            "a schedule of " + std::to_string(shape.ranks) + " ranks × " + std::to_string(shape.stagesPerRank)
                + " stages per rank × " + std::to_string(shape.microbatches) + " microbatches needs at least "
                + (needed < 1e15 ? std::to_string(static_cast<long long>(needed)) : numberText(needed))
                + " actions (got " + std::to_string(actions.size()) + ")");

    std::vector<std::vector<Action>> orders(static_cast<std::size_t>(shape.ranks));
    std::vector<std::vector<ActionCost>> rankCosts(orders.size());
    std::vector<std::vector<std::size_t>> rankFileIndex(orders.size());
    std::map<std::tuple<int, int, ActionKind>, std::size_t> seen;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const Json& entry = actions[i];
        const std::string path = actionPath(i);
        requireObject(entry, path, source);
        rejectUnknownMembers(entry, actionKeys, path, source);
        const auto integerIn = [&](const char* key, int end) {
            const std::string field = memberPath(path, key);
            const int value = requireInteger(requireMember(entry, key, path, source), field, source);
            if (value < 0 || value >= end)
                throw InputError(
                    source, field, "must be in [0, " + std::to_string(end) + ") (got " + std::to_string(value) + ")");
            return value;
        };
        Action action;
        action.rank = integerIn("rank", shape.ranks);
        action.stage = integerIn("stage", shape.stageCount());
        action.microbatch = integerIn("microbatch", shape.microbatches);
        const std::string kindField = memberPath(path, "kind");
        action.kind = parseActionKind(
            requireString(requireMember(entry, "kind", path, source), kindField, source), source, kindField);

        const auto [it, inserted] = seen.emplace(std::make_tuple(action.stage, action.microbatch, action.kind), i);
        if (!inserted)
            throw InputError(source, path, "duplicates " + actionPath(it->second) + " (" + actionName(action) + ")");

        const auto rank = static_cast<std::size_t>(action.rank);
        orders[rank].push_back(action);
        rankCosts[rank].push_back(readActionCost(entry, action.kind, path, source));
        rankFileIndex[rank].push_back(i);
    }

    std::vector<ActionCost> costs;
    std::vector<std::size_t> fileIndex;
    costs.reserve(actions.size());
    fileIndex.reserve(actions.size());
    for (std::size_t rank = 0; rank < orders.size(); ++rank) {
        costs.insert(costs.end(), rankCosts[rank].begin(), rankCosts[rank].end());
        fileIndex.insert(fileIndex.end(), rankFileIndex[rank].begin(), rankFileIndex[rank].end());
    }
    PipelineSchedule pipelineSchedule = PipelineSchedule::fromRankOrders(shape, std::move(orders), source);
    Profile profile(std::move(pipelineSchedule), std::move(costs), source);
    readMachineMembers(document, profile, source);
    readAllOrNothingStages(document, profile, source);
    return ParsedProfile { std::move(profile), std::move(fileIndex) };
}

OrderedJson scheduleJson(const ScheduleShape& shape)
{
    OrderedJson schedule = OrderedJson::object();
    schedule["kind"] = scheduleKindName(shape.kind);
    schedule["ranks"] = shape.ranks;
    schedule["microbatches"] = shape.microbatches;
    schedule["stages_per_rank"] = shape.stagesPerRank;
    return schedule;
}

OrderedJson documentHead(const char* format, const Profile& profile)
{
    OrderedJson document = OrderedJson::object();
    document["format"] = format;
    document["schedule"] = scheduleJson(profile.schedule().shape());
    if (profile.processors() > 0)
        document["processors"] = profile.processors();
    if (profile.transferMs() > 0.0)
        document["transfer_ms"] = profile.transferMs();
    if (!profile.allOrNothingStages().empty())
        document["all_or_nothing_stages"] = profile.allOrNothingStages();
    return document;
}

OrderedJson actionJson(const Action& action, const ActionCost& cost)
{
    OrderedJson entry = OrderedJson::object();
    entry["rank"] = action.rank;
    entry["stage"] = action.stage;
    entry["microbatch"] = action.microbatch;
    entry["kind"] = std::string(1, actionKindLetter(action.kind));
    entry["max_ms"] = cost.maxMs;
    entry["min_ms"] = cost.minMs;
    return entry;
}

std::string inlineJson(const OrderedJson& value)
{
    std::string text;
    if (value.is_object()) {
        text += '{';
        bool first = true;
        for (const auto& item : value.items()) {
            if (!first)
                text += ", ";
            first = false;
            text += OrderedJson(item.key()).dump() + ": " + inlineJson(item.value());
        }
        return text + '}';
    }
    if (value.is_array()) {
        text += '[';
        for (std::size_t i = 0; i < value.size(); ++i)
            text += (i > 0 ? ", " : "") + inlineJson(value[i]);
        return text + ']';
    }
    return value.dump();
}

std::string documentText(const OrderedJson& document)
{
    std::string text = "{\n";
    bool first = true;
    for (const auto& item : document.items()) {
        if (!first)
            text += ",\n";
        first = false;
        text += "  " + OrderedJson(item.key()).dump() + ": ";
        const OrderedJson& value = item.value();
        if (item.key() == "actions" && value.is_array() && !value.empty()) {
            text += "[\n";
            for (std::size_t i = 0; i < value.size(); ++i)
                text += "    " + inlineJson(value[i]) + (i + 1 < value.size() ? ",\n" : "\n");
            text += "  ]";
        } else {
            text += inlineJson(value);
        }
    }
    return text + "\n}\n";
}

} // namespace detail

Profile readProfileJson(std::istream& in, const std::string& source)
{
    const detail::Json document = detail::parseJsonDocument(in, source);
    detail::requireFormat(document, kProfileFormat, source);
    return detail::parseProfileMembers(document, source).profile;
}

Profile readProfileFile(const std::string& path)
{
    std::istringstream in(readTextFile(path));
    return readProfileJson(in, path);
}

namespace {

std::string profileText(const Profile& profile)
{
    detail::OrderedJson document = detail::documentHead(kProfileFormat, profile);
    detail::OrderedJson actions = detail::OrderedJson::array();
    const std::vector<Action> list = profile.actions();
    for (std::size_t i = 0; i < list.size(); ++i)
        actions.push_back(detail::actionJson(list[i], profile.costs()[i]));
    document["actions"] = std::move(actions);
    return detail::documentText(document);
}

} // namespace

void writeProfileJson(const Profile& profile, std::ostream& out) { out << profileText(profile); }

void writeProfileFile(const Profile& profile, const std::string& path) { writeTextFile(path, profileText(profile)); }

} // namespace tfreeze
