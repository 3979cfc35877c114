// libFuzzer target for importTraceProfileData (Chrome Trace Event JSON, plain or gzip, to a
// profile). Invariants:
// - the import returns a profile or throws InputError whose what() starts with the source name
//   and is valid UTF-8; any other exception type, a crash or a sanitizer report is a finding;
// - an imported profile is a valid Profile: costs finite with 0 ≤ min ≤ max, its DAG builds (the
//   import already refuses deadlocks), and it survives writeProfileJson → readProfileJson exactly;
// - exporting a simulated run of the imported profile and importing that trace gives back the
//   same shape and rank orders (the export and the import agree on what a trace means);
// - plain input and its gzip import alike (the same profile, or the same error): plain inputs (one in
//   four) are also imported as two gzip members (cut at the middle), so that the mutations of plain
//   JSON reach the gzip path too (a mutated gzip stream mostly fails its CRC before any JSON is read).

#include "fuzz_common.h"

#include "core/export/chrome_trace_export.h"
#include "core/export/gzip_stream.h"
#include "core/export/trace_import.h"
#include "core/plan/pipeline_dag.h"
#include "core/plan/profile_io.h"
#include "core/plan/timeline.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>

using namespace tfreeze;

namespace {

void checkCosts(const Profile& profile)
{
    const std::vector<Action> actions = profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const ActionCost& cost = profile.costs()[i];
        if (!std::isfinite(cost.maxMs) || !std::isfinite(cost.minMs) || cost.minMs < 0.0 || cost.minMs > cost.maxMs)
            fuzz::finding("imported cost out of range", fuzz::actionText(actions[i]));
    }
}

void checkThroughProfileJson(const Profile& profile)
{
    std::ostringstream out;
    writeProfileJson(profile, out);
    std::optional<Profile> reread;
    try {
        std::istringstream in(out.str());
        reread.emplace(readProfileJson(in, "round-trip.json"));
    } catch (const std::exception& error) {
        fuzz::finding("an imported profile does not read back as tfreeze-profile/1", error.what());
    }
    fuzz::requireEqualProfiles(profile, *reread, "trace import");
}

// Spans of one simulated batch of `profile` at its max durations, exported and imported again.
void checkThroughExport(const Profile& profile)
{
    // Far beyond real actions; keeps µs times of the simulated batch inside int64.
    for (const ActionCost& cost : profile.costs()) {
        if (cost.maxMs > 1e6)
            return;
    }
    const PipelineDag dag(profile.schedule());
    const Timeline timeline = simulateTimeline(dag, profile.maxDurations());
    TraceExportInput input;
    for (std::size_t v = 0; v < dag.nodeCount(); ++v) {
        const Action& action = dag.action(static_cast<PipelineDag::Node>(v));
        ActionSpan span;
        span.rank = action.rank;
        span.stage = action.stage;
        span.microbatch = action.microbatch;
        span.kind = action.kind;
        span.startUs = std::llround(timeline.startMs[v] * 1000.0);
        span.endUs = std::llround(timeline.endMs[v] * 1000.0);
        input.spans.push_back(span);
    }
    std::ostringstream trace;
    writeChromeTrace(input, trace);
    std::optional<TraceImport> again;
    try {
        again.emplace(importTraceProfileData(trace.str(), "exported.json"));
    } catch (const std::exception& error) {
        fuzz::finding("the export of an imported profile does not import", error.what());
    }
    const ScheduleShape& a = profile.schedule().shape();
    const ScheduleShape& b = again->profile.schedule().shape();
    if (a.ranks != b.ranks || a.microbatches != b.microbatches || a.stagesPerRank != b.stagesPerRank)
        fuzz::finding("export → import changed the schedule's shape");
    if (profile.schedule().rankOrders() != again->profile.schedule().rankOrders())
        fuzz::finding("export → import changed the rank orders");
}

void checkGzipImportsAlike(const std::string& plain, const std::optional<TraceImport>& imported,
    const std::string& plainError, const TraceImportOptions& options)
{
    const std::size_t half = plain.size() / 2;
    const std::string compressed = gzip(plain.substr(0, half)) + gzip(plain.substr(half));
    std::optional<TraceImport> again;
    std::string error;
    fuzz::inputErrorOr("importTraceProfileData (gzip)", fuzz::kSource, [&] {
        try {
            again.emplace(importTraceProfileData(compressed, fuzz::kSource, options));
        } catch (const InputError& caught) {
            error = caught.what();
            throw;
        }
    });
    // Plain bytes that begin like gzip (0x1f, or 0x8b second) and are not JSON get a hint that their
    // gzip header may be damaged; the same bytes inside gzip do not need it. Past the hint, the
    // JSON error must be the same.
    const std::string hintStart = "not gzip (it begins with the bytes ";
    const std::string hintEnd = "a damaged gzip header?), and ";
    std::string plainReason = plainError;
    const std::size_t start = plainReason.find(hintStart);
    const std::size_t end = plainReason.find(hintEnd);
    if (start != std::string::npos && end != std::string::npos && start < end)
        plainReason.erase(start, end + hintEnd.size() - start);
    if (imported.has_value() != again.has_value() || error != plainReason)
        fuzz::finding("the gzip of a plain trace imports differently", plainError + " | " + error);
    if (!imported)
        return;
    fuzz::requireEqualProfiles(imported->profile, again->profile, "gzip trace import");
    if (imported->rankLabels != again->rankLabels || imported->rankKey != again->rankKey
        || imported->eventCount != again->eventCount || imported->actionEventCount != again->actionEventCount
        || imported->batches != again->batches || imported->freezeFromTrace != again->freezeFromTrace)
        fuzz::finding("the gzip of a plain trace imports with different details");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    TraceImportOptions options;
    options.frozenFraction = 0.5;
    // A small gzip file may expand a thousandfold; 64 MiB keeps runs inside -rss_limit_mb.
    options.maxDecompressedBytes = std::size_t { 64 } << 20U;
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    std::optional<TraceImport> imported;
    std::string error;
    const bool parsed = fuzz::inputErrorOr("importTraceProfileData", fuzz::kSource, [&] {
        try {
            imported.emplace(importTraceProfileData(bytes, fuzz::kSource, options));
        } catch (const InputError& caught) {
            error = caught.what();
            throw;
        }
    });
    // One plain input in four (chosen by its length, so a rerun of an input checks the same): the
    // second import and the compression made every execution about four times slower.
    if (!hasGzipMagic(bytes) && size % 4 == 0)
        checkGzipImportsAlike(bytes, imported, error, options);
    if (!parsed)
        return 0;
    const Profile& profile = imported->profile;
    if (imported->rankLabels.size() != static_cast<std::size_t>(profile.schedule().rankCount()))
        fuzz::finding("one rank label per rank expected");
    checkCosts(profile);
    fuzz::checkDag(profile, fuzz::kSource);
    checkThroughProfileJson(profile);
    checkThroughExport(profile);
    return 0;
}
