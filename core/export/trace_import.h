#pragma once

#include "core/plan/profile.h"

#include <cstddef>
#include <string>
#include <vector>

namespace tfreeze {

struct TraceImportOptions {
    // For a trace that says nothing about freezing (every trace but our own export): a fully
    // frozen B or W is assumed to take this fraction of its measured time, min = f · max.
    // 1 (the default) assumes no gain, so the planner will not freeze until told otherwise.
    double frozenFraction = 1.0;
    // A gzip file is refused when its content is longer than this.
    std::size_t maxDecompressedBytes = std::size_t { 1 } << 30U;
};

// What identified a rank in the trace (see importTraceProfile).
enum class TraceRankKey {
    ProcessName, // one process per rank, named "rank N" (our own export)
    Process, // one process per rank
    Thread, // one thread (pid, tid) per rank
};

struct TraceImport {
    Profile profile; // a Custom schedule: the observed order of each rank
    TraceRankKey rankKey = TraceRankKey::Process;
    std::vector<std::string> rankLabels; // per rank: its pid (and tid), e.g. "pid 3" or "pid 1, tid 7"
    std::size_t eventCount = 0; // entries in the trace's event array
    std::size_t actionEventCount = 0; // compute events named like pipelining actions, and used
    int batches = 0; // the most occurrences of one action: the batches (steps) seen
    // True when some B or W had occurrences at different freeze ratios (args frozen/total or
    // freeze_ratio), so that its min_ms was fitted rather than assumed from frozenFraction.
    bool freezeFromTrace = false;
};

// Reads a Chrome Trace Event file (object form {"traceEvents": [...]} or a bare array, whose
// closing ']' may be missing as the format allows; gzip-compressed or not, told by the magic
// bytes) and builds a profile from its compute events:
// - events: X (ts, dur) and B/E pairs (matched per pid/tid, innermost first), ts and dur in µs
//   whatever displayTimeUnit says (that is a display setting); pid and tid numbers or strings;
// - compute events are those named exactly like PyTorch pipelining actions, "{stage}{F|B|I|W}
//   {microbatch}" (e.g. 2F0, 1W3); all other events are ignored, as are processes whose
//   process_name ends with "(planned)" (our export's predicted timeline);
// - a rank is a process when every process_name of the compute events is "rank N", or when the
//   events of each stage share one pid and there are several pids; otherwise a thread (pid, tid)
//   whose events hold each stage. Ranks are numbered by the lowest stage each one holds;
// - the batches of a rank begin at the forward of microbatch 0 on its lowest stage (true of every
//   PyTorch schedule); the rank's order is that of its first batch holding all of its actions,
//   and every other complete batch must run in the same order. Events before the first such
//   forward (a trace that starts mid-batch) count towards durations only;
// - max_ms is the median duration over all occurrences. A B or W whose occurrences ran at two or
//   more freeze ratios (args.frozen/args.total, else args.freeze_ratio, else 0) gets METHOD.md
//   §3's line d(r) = max − r·(max − min) fitted by least squares, clamped to 0 ≤ min ≤ max; at a
//   single ratio r, max = median / (1 − r·(1 − frozenFraction)) and min = frozenFraction · max.
// Throws InputError(path, field) naming the file and the event ("traceEvents[12].dur") for: an
// unreadable file, truncated or corrupt gzip, invalid JSON, wrong types, no compute events,
// unmatched B/E, negative dur, overlapping compute events on one rank, ranks that cannot be told
// apart, and orders that do not form a valid schedule (missing actions, a deadlock).
TraceImport importTraceProfile(const std::string& path, const TraceImportOptions& options = {});

// The same on the file's bytes; `source` names it in errors.
TraceImport importTraceProfileData(
    const std::string& bytes, const std::string& source, const TraceImportOptions& options = {});

// "process named "rank N"", "process" or "thread": for a summary line.
const char* traceRankKeyName(TraceRankKey key);

} // namespace tfreeze
