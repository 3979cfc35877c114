#include "core/export/trace_import.h"

#include "core/export/gzip_stream.h"
#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/statistics.h"
#include "core/plan/text_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>
#include <utility>

namespace tfreeze {

namespace {

using Json = nlohmann::json;

// ---- text helpers ------------------------------------------------------------------------------

// Quoted text from the file, cut to 40 bytes, in messages.
std::string quotedText(std::string_view text) { return "\"" + printableText(text, 40) + "\""; }

std::string numberText(double value)
{
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(15);
    out << value;
    return out.str();
}

// ---- reading -----------------------------------------------------------------------------------

Json parseTraceJson(const std::string& text, const std::string& source)
{
    try {
        return Json::parse(text);
    } catch (const Json::exception& error) {
        // The array form may lack its closing ']' (the format allows it, so that a process that
        // dies still leaves a readable trace): retry once with it.
        const std::size_t first = text.find_first_not_of(" \t\r\n");
        if (first != std::string::npos && text[first] == '[') {
            std::string closed = text.substr(0, text.find_last_not_of(" \t\r\n") + 1);
            if (!closed.empty() && closed.back() == ',')
                closed.pop_back();
            closed += ']';
            try {
                return Json::parse(closed);
            } catch (const Json::exception&) {
                // Report the original error, at the place in the file the user can look at.
            }
        }
        throw InputError(source, "", "not valid JSON: " + jsonErrorText(error));
    }
}

// A file named .gz, or one that begins with half of gzip's magic number, that is not JSON either:
// most likely gzip with a damaged header, which the JSON error alone would hide.
bool looksLikeDamagedGzip(const std::string& bytes, const std::string& source)
{
    const bool namedGz = source.size() >= 3 && source.compare(source.size() - 3, 3, ".gz") == 0;
    const bool halfMagic = (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x1FU)
        || (bytes.size() >= 2 && static_cast<unsigned char>(bytes[1]) == 0x8BU);
    return namedGz || halfMagic;
}

std::string firstBytesHex(const std::string& bytes)
{
    std::string text;
    for (std::size_t i = 0; i < std::min<std::size_t>(2, bytes.size()); ++i) {
        std::array<char, 4> hex {};
        std::snprintf(hex.data(), hex.size(), "%02x", static_cast<unsigned>(static_cast<unsigned char>(bytes[i])));
        text += (i == 0 ? "" : " ") + std::string(hex.data());
    }
    return text.empty() ? "none" : text;
}

// The trace's JSON document, gunzipped first when it begins with gzip's magic number.
Json parseTraceDocument(const std::string& bytes, const std::string& source, std::size_t maxDecompressedBytes)
{
    if (hasGzipMagic(bytes))
        return parseTraceJson(gunzip(bytes, source, maxDecompressedBytes), source);
    try {
        return parseTraceJson(bytes, source);
    } catch (const InputError& error) {
        if (!looksLikeDamagedGzip(bytes, source))
            throw;
        throw InputError(source, error.field(),
            "not gzip (it begins with the bytes " + firstBytesHex(bytes)
                + ", not gzip's 1f 8b: a damaged gzip header?), and " + error.reason());
    }
}

// ---- event fields ------------------------------------------------------------------------------

class EventReader {
public:
    EventReader(const std::string& source, std::string prefix)
        : m_source(source)
        , m_prefix(std::move(prefix))
    {
    }

    const std::string& source() const { return m_source; }
    const std::string& prefix() const { return m_prefix; }
    std::string path(std::size_t index) const { return m_prefix + "[" + std::to_string(index) + "]"; }
    std::string path(std::size_t index, const char* key) const { return path(index) + "." + key; }

    [[noreturn]] void fail(const std::string& field, const std::string& message) const
    {
        throw InputError(m_source, field, message);
    }

    [[noreturn]] void wrongType(const Json& value, const char* expected, const std::string& field) const
    {
        fail(field, std::string("must be ") + expected + " (got " + value.type_name() + ")");
    }

    const Json& require(const Json& event, std::size_t index, const char* key) const
    {
        const auto it = event.find(key);
        if (it == event.end())
            fail(path(index, key), "is missing");
        return *it;
    }

    double finite(const Json& event, std::size_t index, const char* key) const
    {
        const Json& value = require(event, index, key);
        if (!value.is_number())
            wrongType(value, "a number", path(index, key));
        const double number = value.get<double>();
        if (!std::isfinite(number))
            fail(path(index, key), "must be a finite number");
        return number;
    }

    // pid and tid: numbers or strings. The key keeps 1 and "1" apart; the label is for messages.
    std::string id(const Json& event, std::size_t index, const char* key) const
    {
        const Json& value = require(event, index, key);
        if (value.is_string())
            return "s" + value.get<std::string>();
        if (value.is_number())
            return "n" + value.dump();
        wrongType(value, "a number or a string", path(index, key));
    }

private:
    const std::string& m_source;
    std::string m_prefix;
};

std::string idLabel(const std::string& key)
{
    return key.empty() ? std::string() : key[0] == 's' ? quotedText(key.substr(1)) : key.substr(1);
}

// ---- compute events ----------------------------------------------------------------------------

// A number of 1 to 9 digits without a leading zero (so the name is the canonical actionName).
bool parseIndex(std::string_view text, int& value)
{
    if (text.empty() || text.size() > 9 || (text.size() > 1 && text[0] == '0'))
        return false;
    value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

// "{stage}{F|B|I|W}{microbatch}", exactly: PyTorch's other actions (SEND_F, RECV_B, UNSHARD, ...)
// and everything a profiler records around them do not match.
std::optional<Action> parseActionName(std::string_view name)
{
    const std::size_t letter = name.find_first_of("FBIW");
    if (letter == std::string_view::npos)
        return std::nullopt;
    Action action;
    if (!parseIndex(name.substr(0, letter), action.stage) || !parseIndex(name.substr(letter + 1), action.microbatch))
        return std::nullopt;
    action.kind = parseActionKind(std::string(1, name[letter]));
    return action;
}

struct ComputeEvent {
    Action action; // rank filled in once ranks are known
    std::string pid;
    std::string tid;
    double tsUs = 0.0;
    double durUs = 0.0;
    double ratio = 0.0; // freeze ratio recorded in args (0 when none)
    std::size_t index = 0; // in the event array (the B of a B/E pair)
};

std::string eventLabel(const ComputeEvent& event, const EventReader& reader)
{
    return actionName(event.action) + " (" + reader.path(event.index) + ")";
}

// Freeze ratio from args: frozen/total (our export), else freeze_ratio, else 0.
double freezeRatioOf(const Json& event, std::size_t index, const EventReader& reader)
{
    const auto args = event.find("args");
    if (args == event.end())
        return 0.0;
    if (!args->is_object())
        reader.wrongType(*args, "an object", reader.path(index, "args"));
    const auto integer = [&](const char* key) -> std::optional<double> {
        const auto it = args->find(key);
        if (it == args->end())
            return std::nullopt;
        const std::string field = reader.path(index) + ".args." + key;
        if (!it->is_number())
            reader.wrongType(*it, "a number", field);
        const double value = it->get<double>();
        if (!(value >= 0.0 && value < 1e9) || std::floor(value) != value)
            reader.fail(field, "must be an integer ≥ 0 (got " + numberText(value) + ")");
        return value;
    };
    const std::optional<double> frozen = integer("frozen");
    const std::optional<double> total = integer("total");
    if (frozen && total) {
        if (*frozen > *total)
            reader.fail(reader.path(index) + ".args.frozen",
                "is greater than args.total (" + numberText(*frozen) + " > " + numberText(*total) + ")");
        return *total > 0.0 ? *frozen / *total : 0.0;
    }
    const auto ratio = args->find("freeze_ratio");
    if (ratio == args->end())
        return 0.0;
    const std::string field = reader.path(index) + ".args.freeze_ratio";
    if (!ratio->is_number())
        reader.wrongType(*ratio, "a number", field);
    const double value = ratio->get<double>();
    if (!(value >= 0.0 && value <= 1.0))
        reader.fail(field, "must be a number in [0, 1] (got " + numberText(value) + ")");
    return value;
}

// One key per (pid, tid); the separator cannot occur in a number and is unlikely in a name.
std::string threadKey(const std::string& pid, const std::string& tid)
{
    std::string key = pid;
    key += '\x1F';
    key += tid;
    return key;
}

struct OpenSlice {
    std::size_t index = 0;
    std::string name;
    double tsUs = 0.0;
    std::optional<Action> action;
};

struct ParsedTrace {
    std::vector<ComputeEvent> events;
    std::map<std::string, std::string> processNames; // pid key → process_name
    std::size_t eventCount = 0;
    std::vector<std::string> otherNames; // a few names that are not actions, for the error message
};

// NOLINTNEXTLINE(readability-function-cognitive-complexity): one pass over the event kinds, each with its checks
ParsedTrace readEvents(const Json& events, const EventReader& reader)
{
    ParsedTrace trace;
    trace.eventCount = events.size();
    std::map<std::string, std::vector<OpenSlice>> open; // per "pid tid"
    std::set<std::string> otherNames;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const Json& event = events[i];
        if (!event.is_object())
            reader.wrongType(event, "an object", reader.path(i));
        const Json& phaseValue = reader.require(event, i, "ph");
        if (!phaseValue.is_string())
            reader.wrongType(phaseValue, "a string", reader.path(i, "ph"));
        const auto& phase = phaseValue.get_ref<const std::string&>();

        std::string name;
        if (const auto it = event.find("name"); it != event.end()) {
            if (!it->is_string())
                reader.wrongType(*it, "a string", reader.path(i, "name"));
            name = it->get<std::string>();
        }

        if (phase == "M") {
            const auto args = event.find("args");
            if (name == "process_name" && args != event.end() && args->is_object()) {
                const auto processName = args->find("name");
                if (processName != args->end() && processName->is_string())
                    trace.processNames[reader.id(event, i, "pid")] = processName->get<std::string>();
            }
            continue;
        }
        if (phase != "X" && phase != "B" && phase != "E")
            continue;

        std::optional<Action> action = parseActionName(name);
        if (!action && phase != "E") {
            if (otherNames.size() < 3 && !name.empty())
                otherNames.insert(name);
            if (phase == "X")
                continue; // a complete event that is not an action: nothing to match or measure
        }
        const std::string pid = reader.id(event, i, "pid");
        const std::string tid = reader.id(event, i, "tid");
        const double ts = reader.finite(event, i, "ts");

        if (phase == "X") {
            const double dur = reader.finite(event, i, "dur");
            if (dur < 0.0)
                reader.fail(reader.path(i, "dur"), "must be ≥ 0 (got " + numberText(dur) + ")");
            trace.events.push_back({ *action, pid, tid, ts, dur, freezeRatioOf(event, i, reader), i });
        } else if (phase == "B") {
            // Every B is tracked, so that an E closes the right slice when actions nest in others.
            open[threadKey(pid, tid)].push_back({ i, name, ts, action });
            if (action)
                freezeRatioOf(event, i, reader); // checked here, read from the B below
        } else {
            std::vector<OpenSlice>& stack = open[threadKey(pid, tid)];
            if (stack.empty())
                reader.fail(
                    reader.path(i), "E event with no open B event on pid " + idLabel(pid) + ", tid " + idLabel(tid));
            const OpenSlice slice = stack.back();
            stack.pop_back();
            if (!name.empty() && name != slice.name)
                reader.fail(reader.path(i, "name"),
                    "E event " + quotedText(name) + " closes " + quotedText(slice.name) + " ("
                        + reader.path(slice.index) + "), the innermost open B event on its thread");
            if (ts < slice.tsUs)
                reader.fail(reader.path(i, "ts"),
                    "E event ends before its B event (" + reader.path(slice.index) + ") begins: " + numberText(ts)
                        + " < " + numberText(slice.tsUs));
            if (slice.action)
                trace.events.push_back({ *slice.action, pid, tid, slice.tsUs, ts - slice.tsUs,
                    freezeRatioOf(events[slice.index], slice.index, reader), slice.index });
        }
    }
    // An unfinished compute slice has no duration; other unfinished slices (a profiler stopped
    // inside a step) do not matter.
    for (const auto& [thread, stack] : open) {
        for (const OpenSlice& slice : stack) {
            if (slice.action)
                reader.fail(reader.path(slice.index), "B event " + quotedText(slice.name) + " has no matching E event");
        }
    }
    trace.otherNames.assign(otherNames.begin(), otherNames.end());
    return trace;
}

bool endsWith(const std::string& text, std::string_view suffix)
{
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "rank N": our export's process names (also what people name per-rank processes by hand).
bool isRankName(const std::string& name)
{
    int rank = 0;
    return name.size() > 5 && name.compare(0, 5, "rank ") == 0 && parseIndex(std::string_view(name).substr(5), rank);
}

// ---- ranks -------------------------------------------------------------------------------------

using GroupKey = std::string (*)(const ComputeEvent&);

std::string byProcess(const ComputeEvent& event) { return event.pid; }
std::string byThread(const ComputeEvent& event) { return threadKey(event.pid, event.tid); }

// The first two events of one stage that `key` puts in different groups.
std::optional<std::pair<const ComputeEvent*, const ComputeEvent*>> stageConflict(
    const std::vector<ComputeEvent>& events, GroupKey key)
{
    std::map<int, const ComputeEvent*> first;
    for (const ComputeEvent& event : events) {
        const auto [it, inserted] = first.emplace(event.action.stage, &event);
        if (!inserted && key(*it->second) != key(event))
            return std::make_pair(it->second, &event);
    }
    return std::nullopt;
}

std::string placeLabel(const ComputeEvent& event)
{
    return "pid " + idLabel(event.pid) + ", tid " + idLabel(event.tid);
}

TraceRankKey chooseRankKey(const ParsedTrace& trace, const EventReader& reader)
{
    std::set<std::string> pids;
    bool allRankNamed = true;
    for (const ComputeEvent& event : trace.events) {
        pids.insert(event.pid);
        const auto name = trace.processNames.find(event.pid);
        allRankNamed = allRankNamed && name != trace.processNames.end() && isRankName(name->second);
    }
    const bool stagePerProcess = !stageConflict(trace.events, byProcess);
    if (allRankNamed && stagePerProcess)
        return TraceRankKey::ProcessName;
    if (stagePerProcess && pids.size() > 1)
        return TraceRankKey::Process;
    const auto conflict = stageConflict(trace.events, byThread);
    if (!conflict)
        return TraceRankKey::Thread;
    const auto& [a, b] = *conflict;
    throw InputError(reader.source(), reader.path(b->index),
        "cannot tell the ranks apart: stage " + std::to_string(a->action.stage) + " runs on " + placeLabel(*a) + " ("
            + reader.path(a->index) + ") and on " + placeLabel(*b)
            + "; expected one process or one thread per rank, each stage on one rank");
}

// ---- durations ---------------------------------------------------------------------------------

struct Samples {
    std::vector<double> durUs;
    std::vector<double> ratio;
};

// max/min in ms from an action's occurrences (see importTraceProfile's comment).
ActionCost costOf(const Samples& samples, bool freezable, double frozenFraction, bool& fitted)
{
    const double medianMs = median(samples.durUs) / 1000.0;
    if (!freezable)
        return { medianMs, medianMs };
    const auto [low, high] = std::minmax_element(samples.ratio.begin(), samples.ratio.end());
    if (*high - *low > 1e-9) {
        const auto n = static_cast<double>(samples.ratio.size());
        double meanRatio = 0.0;
        double meanDur = 0.0;
        for (std::size_t i = 0; i < samples.ratio.size(); ++i) {
            meanRatio += samples.ratio[i] / n;
            meanDur += samples.durUs[i] / n;
        }
        double sxx = 0.0;
        double sxy = 0.0;
        for (std::size_t i = 0; i < samples.ratio.size(); ++i) {
            sxx += (samples.ratio[i] - meanRatio) * (samples.ratio[i] - meanRatio);
            sxy += (samples.ratio[i] - meanRatio) * (samples.durUs[i] - meanDur);
        }
        const double slope = sxy / sxx;
        const double maxMs = std::max(0.0, meanDur - slope * meanRatio) / 1000.0;
        const double minMs = std::clamp((meanDur + slope * (1.0 - meanRatio)) / 1000.0, 0.0, maxMs);
        if (std::isfinite(maxMs) && std::isfinite(minMs)) {
            fitted = true;
            return { maxMs, minMs };
        }
    }
    // One ratio r for every occurrence: d = max·(1 − r·(1 − f)). When that factor is near 0 (all
    // frozen, f = 0) the trace says nothing about max; take the measured time for both.
    const double factor = 1.0 - *low * (1.0 - frozenFraction);
    if (factor < 0.01)
        return { medianMs, medianMs };
    const double maxMs = medianMs / factor;
    return { maxMs, maxMs * frozenFraction };
}

// ---- one rank ----------------------------------------------------------------------------------

using ActionKey = std::tuple<int, int, ActionKind>; // stage, microbatch, kind

ActionKey keyOf(const Action& action) { return { action.stage, action.microbatch, action.kind }; }

void checkNoOverlap(
    const std::vector<const ComputeEvent*>& events, const std::string& rankText, const EventReader& reader)
{
    for (std::size_t i = 1; i < events.size(); ++i) {
        const ComputeEvent& before = *events[i - 1];
        const ComputeEvent& after = *events[i];
        if (after.tsUs < before.tsUs + before.durUs)
            reader.fail(reader.path(after.index),
                actionName(after.action) + " at ts " + numberText(after.tsUs) + " overlaps "
                    + eventLabel(before, reader) + " at ts " + numberText(before.tsUs) + " for "
                    + numberText(before.durUs) + " µs on " + rankText + ": a rank runs one action at a time");
    }
}

std::vector<Action> rankOrder(
    std::vector<const ComputeEvent*>& events, int rank, const std::string& label, const EventReader& reader)
{
    std::sort(events.begin(), events.end(), [](const ComputeEvent* a, const ComputeEvent* b) {
        return std::tie(a->tsUs, a->index) < std::tie(b->tsUs, b->index);
    });
    const std::string rankText = "rank " + std::to_string(rank) + " (" + label + ")";
    checkNoOverlap(events, rankText, reader);

    std::set<ActionKey> all;
    int firstStage = std::numeric_limits<int>::max();
    for (const ComputeEvent* event : events) {
        all.insert(keyOf(event->action));
        firstStage = std::min(firstStage, event->action.stage);
    }
    const Action anchor { rank, firstStage, 0, ActionKind::Forward };
    const ActionKey anchorKey = keyOf(anchor);

    std::vector<std::vector<const ComputeEvent*>> batches;
    for (const ComputeEvent* event : events) {
        if (keyOf(event->action) == anchorKey)
            batches.emplace_back();
        if (!batches.empty())
            batches.back().push_back(event);
    }
    if (batches.empty())
        reader.fail(reader.prefix(),
            rankText + " has no " + actionName(anchor)
                + ": each batch of a rank must begin with the forward of microbatch 0 on its first stage");

    const std::vector<const ComputeEvent*>* order = nullptr;
    std::size_t orderBatch = 0;
    for (std::size_t b = 0; b < batches.size(); ++b) {
        const auto& batch = batches[b];
        std::map<ActionKey, const ComputeEvent*> seen;
        for (const ComputeEvent* event : batch) {
            const auto [it, inserted] = seen.emplace(keyOf(event->action), event);
            if (!inserted)
                reader.fail(reader.path(event->index),
                    actionName(event->action) + " appears twice in batch " + std::to_string(b + 1) + " of " + rankText
                        + " (also " + reader.path(it->second->index) + "); batches begin at " + actionName(anchor));
        }
        if (batch.size() != all.size())
            continue; // the trace ends (or drops events) inside this batch
        if (!order) {
            order = &batch;
            orderBatch = b;
            continue;
        }
        for (std::size_t k = 0; k < batch.size(); ++k) {
            if (keyOf(batch[k]->action) != keyOf((*order)[k]->action))
                reader.fail(reader.path(batch[k]->index),
                    rankText + " runs " + actionName(batch[k]->action) + " at position " + std::to_string(k + 1)
                        + " of batch " + std::to_string(b + 1) + " but " + actionName((*order)[k]->action)
                        + " there in batch " + std::to_string(orderBatch + 1)
                        + ": every batch must run the same order");
        }
    }
    if (!order)
        reader.fail(reader.prefix(),
            rankText + " has no complete batch: none of its " + std::to_string(batches.size())
                + " batches (each beginning at " + actionName(anchor) + ") holds all of its "
                + std::to_string(all.size()) + " actions");
    std::vector<Action> actions;
    actions.reserve(order->size());
    for (const ComputeEvent* event : *order) {
        Action action = event->action;
        action.rank = rank;
        actions.push_back(action);
    }
    return actions;
}

} // namespace

const char* traceRankKeyName(TraceRankKey key)
{
    switch (key) {
    case TraceRankKey::ProcessName:
        return "process named \"rank N\"";
    case TraceRankKey::Process:
        return "process";
    case TraceRankKey::Thread:
        return "thread";
    }
    return "?";
}

TraceImport importTraceProfile(const std::string& path, const TraceImportOptions& options)
{
    return importTraceProfileData(readTextFile(path), path, options);
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): the import's steps in order, each short
TraceImport importTraceProfileData(
    const std::string& bytes, const std::string& source, const TraceImportOptions& options)
{
    if (!(options.frozenFraction >= 0.0 && options.frozenFraction <= 1.0))
        throw InputError(
            "--frozen-fraction", "", "must be a number in [0, 1] (got " + numberText(options.frozenFraction) + ")");
    const Json document = parseTraceDocument(bytes, source, options.maxDecompressedBytes);

    const Json* events = nullptr;
    std::string prefix;
    if (document.is_array()) {
        events = &document;
    } else if (document.is_object()) {
        const auto it = document.find("traceEvents");
        if (it == document.end())
            throw InputError(source, "traceEvents",
                "is missing: expected a Chrome trace, {\"traceEvents\": [...]} or a bare array of events");
        if (!it->is_array())
            throw InputError(source, "traceEvents", std::string("must be an array (got ") + it->type_name() + ")");
        events = &*it;
        prefix = "traceEvents";
    } else {
        throw InputError(source, "",
            std::string("expected a Chrome trace, {\"traceEvents\": [...]} or a bare array of events (got ")
                + document.type_name() + ")");
    }
    const EventReader reader(source, prefix);
    ParsedTrace trace = readEvents(*events, reader);

    // Our export's predicted timeline repeats every action name: it is not a measurement.
    trace.events.erase(std::remove_if(trace.events.begin(), trace.events.end(),
                           [&](const ComputeEvent& event) {
                               const auto name = trace.processNames.find(event.pid);
                               return name != trace.processNames.end() && endsWith(name->second, "(planned)");
                           }),
        trace.events.end());
    if (trace.events.empty()) {
        std::string found;
        for (const std::string& name : trace.otherNames)
            found += (found.empty() ? "" : ", ") + quotedText(name);
        throw InputError(source, prefix,
            "no compute events: expected X or B/E events named like PyTorch pipelining actions, "
            "{stage}{F|B|I|W}{microbatch}, e.g. 2F0 or 1W3 (found "
                + std::to_string(trace.eventCount) + " events" + (found.empty() ? "" : ", named " + found + ", ...")
                + ")");
    }

    const TraceRankKey rankKey = chooseRankKey(trace, reader);
    const GroupKey key = rankKey == TraceRankKey::Thread ? byThread : byProcess;
    std::vector<std::string> rankLabels;

    // Ranks numbered by the lowest stage each holds: stage 0's rank is rank 0.
    std::map<std::string, int> groupFirstStage;
    std::map<std::string, const ComputeEvent*> groupSample;
    int stageCount = 0;
    int microbatchCount = 0;
    std::set<int> stages;
    for (const ComputeEvent& event : trace.events) {
        const std::string group = key(event);
        const auto [it, inserted] = groupFirstStage.emplace(group, event.action.stage);
        if (!inserted)
            it->second = std::min(it->second, event.action.stage);
        groupSample.emplace(group, &event);
        stageCount = std::max(stageCount, event.action.stage + 1);
        microbatchCount = std::max(microbatchCount, event.action.microbatch + 1);
        stages.insert(event.action.stage);
    }
    std::vector<std::pair<int, std::string>> ranked;
    ranked.reserve(groupFirstStage.size());
    for (const auto& [group, firstStage] : groupFirstStage)
        ranked.emplace_back(firstStage, group);
    std::sort(ranked.begin(), ranked.end());
    const int rankCount = static_cast<int>(ranked.size());
    std::map<std::string, int> rankOf;
    for (int r = 0; r < rankCount; ++r) {
        rankOf[ranked[static_cast<std::size_t>(r)].second] = r;
        const ComputeEvent& sample = *groupSample.at(ranked[static_cast<std::size_t>(r)].second);
        rankLabels.push_back(rankKey == TraceRankKey::Thread ? placeLabel(sample) : "pid " + idLabel(sample.pid));
    }

    // Every stage has events, so the stage count is at most the event count: a name like
    // "99999999F0" cannot make the schedule allocate per stage beyond what the file holds.
    if (static_cast<int>(stages.size()) != stageCount) {
        int missing = 0;
        while (stages.count(missing) > 0)
            ++missing;
        throw InputError(source, prefix,
            "no compute events of stage " + std::to_string(missing) + ", though stages up to "
                + std::to_string(stageCount - 1) + " have some");
    }
    if (stageCount % rankCount != 0)
        throw InputError(source, prefix,
            std::to_string(stageCount) + " stages on " + std::to_string(rankCount)
                + " ranks: every rank must hold the same number of stages");
    std::vector<std::vector<const ComputeEvent*>> rankEvents(static_cast<std::size_t>(rankCount));
    std::map<ActionKey, Samples> samples;
    for (const ComputeEvent& event : trace.events) {
        rankEvents[static_cast<std::size_t>(rankOf.at(key(event)))].push_back(&event);
        Samples& s = samples[keyOf(event.action)];
        s.durUs.push_back(event.durUs);
        s.ratio.push_back(event.ratio);
    }

    std::vector<std::vector<Action>> orders;
    std::vector<ActionCost> costs;
    bool freezeFromTrace = false;
    int batches = 0;
    for (int r = 0; r < rankCount; ++r) {
        orders.push_back(
            rankOrder(rankEvents[static_cast<std::size_t>(r)], r, rankLabels[static_cast<std::size_t>(r)], reader));
        for (const Action& action : orders.back()) {
            const Samples& s = samples.at(keyOf(action));
            costs.push_back(costOf(s, isFreezable(action.kind), options.frozenFraction, freezeFromTrace));
            batches = std::max(batches, static_cast<int>(s.durUs.size()));
        }
    }

    ScheduleShape shape;
    shape.kind = ScheduleKind::Custom;
    shape.ranks = rankCount;
    shape.microbatches = microbatchCount;
    shape.stagesPerRank = stageCount / rankCount;
    PipelineSchedule schedule = PipelineSchedule::fromRankOrders(shape, std::move(orders), source);
    // A deadlocking order is the trace's problem (or a batch boundary it breaks): say so now, not
    // when the profile is planned.
    const PipelineDag dag(schedule, source);
    return TraceImport { Profile(std::move(schedule), std::move(costs), source), rankKey, std::move(rankLabels),
        trace.eventCount, trace.events.size(), batches, freezeFromTrace };
}

} // namespace tfreeze
