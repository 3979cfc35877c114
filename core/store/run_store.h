#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/telemetry.h"
#include "core/store/run_records.h"
#include "core/store/sqlite_connection.h"

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tfreeze {

// The run history: one SQLite file (WAL, foreign keys on, a busy timeout), its schema versioned in
// PRAGMA user_version. One RunStore is one connection, for one thread; a reader on another thread
// opens its own RunStore on the same file and reads while a RunRecorder writes.
//
// Opening throws InputError(path) for a file that is not a run database (a folder, a device, a
// FIFO, another file) or comes from a newer schema (the file is left untouched), StoreError when
// SQLite fails (e.g. the folder cannot be created). Writes to a read-only store throw
// StoreError(SQLITE_READONLY). Any call throws DamagedDatabaseError (an InputError) when SQLite
// finds the file damaged.
class RunStore {
public:
    static constexpr int kSchemaVersion = 3; // 2: runs.notes; 3: the status "stopped"
    static constexpr const char* kDefaultPath = "runs/history.sqlite";

    enum class OpenMode : std::uint8_t {
        ReadWrite, // creates the file (and its folder) and the schema when missing
        ReadOnly, // the file must exist with the current schema
    };

    explicit RunStore(const std::string& path = kDefaultPath, OpenMode mode = OpenMode::ReadWrite);

    const std::string& path() const { return m_connection.path(); }
    bool isReadOnly() const { return m_readOnly; }
    int schemaVersion() const;
    // Runs that this open marked interrupted (their process was gone).
    const std::vector<std::int64_t>& recoveredRuns() const { return m_recoveredRuns; }

    // --- writes ---
    // A run in status running, owned by this process (host, pid, boot); returns its id (1, 2, ...).
    std::int64_t beginRun(const NewRun& run);
    void setRunStatus(std::int64_t run, RunStatus status, const std::optional<std::string>& failureReason = {});
    // A plan of a run (source engine or user), or an offline one when `run` is empty; returns its id.
    std::int64_t recordPlan(std::optional<std::int64_t> run, const PlanApplied& applied);
    void recordStep(std::int64_t run, const StepStats& step);
    void recordEval(std::int64_t run, const EvalStats& eval);
    void recordSpan(std::int64_t run, const ActionSpan& span);
    // The spans in order, kSpanRowsPerInsert rows a statement; a span with the key (step, rank,
    // stage, microbatch, kind) of one already stored, or earlier in `spans`, replaces it.
    void recordSpans(std::int64_t run, const ActionSpan* spans, std::size_t count);
    static constexpr std::size_t kSpanRowsPerInsert = 64;
    void recordEvent(std::int64_t run, const RunEvent& event, const std::string& time);
    // Deletes the run and all its rows; false when there is no such run.
    bool deleteRun(std::int64_t run);
    // The run's name and free-text notes, as the user edits them after the run; false when there
    // is no such run. Throws InputError for a name or notes that checkRunName / checkRunNotes
    // (run_text.h) refuse, before anything is written.
    bool renameRun(std::int64_t run, const std::string& name);
    bool setRunNotes(std::int64_t run, const std::string& notes);
    // Marks runs still running whose process is gone as interrupted; returns their ids. Called by
    // the constructor of a writable store.
    std::vector<std::int64_t> recoverInterruptedRuns();

    // Caps the file at about `bytes` (never below its current size) for this connection: writes
    // past it fail with SQLITE_FULL, as on a full disk.
    void limitSize(std::int64_t bytes);
    std::int64_t sizeBytes();

    SqliteConnection& connection() { return m_connection; }

    // --- reads ---
    std::vector<RunRecord> listRuns(const RunFilter& filter = {});
    std::optional<RunRecord> findRun(std::int64_t run);
    // Throws InputError("run <id>") when there is no such run.
    RunRecord run(std::int64_t run);
    // Steps in [firstStep, lastStep], in order.
    std::vector<StepStats> steps(
        std::int64_t run, std::int64_t firstStep = 0, std::int64_t lastStep = std::numeric_limits<std::int64_t>::max());
    std::vector<EvalStats> evals(std::int64_t run);
    // The retained spans of one step, ordered by rank and start.
    std::vector<ActionSpan> spans(std::int64_t run, std::int64_t step);
    // The steps whose spans were retained.
    std::vector<std::int64_t> spanSteps(std::int64_t run);
    std::int64_t spanCount(std::int64_t run);
    std::vector<EventRecord> events(std::int64_t run);
    // Plans of a run, or the offline plans when `run` is empty; in id order.
    std::vector<PlanRecord> plans(std::optional<std::int64_t> run);
    std::optional<PlanRecord> findPlanRecord(std::int64_t plan);
    // The whole plan, rebuilt from its stored JSON. Throws InputError("plan <id>") when missing.
    FreezePlan plan(std::int64_t plan);
    RunSummary summarize(std::int64_t run);
    // summarize() without the per-stage span means (left empty): two small queries on steps, cheap
    // enough to run for every row of a run list, where the span means would scan every span.
    RunSummary summarizeSteps(std::int64_t run);

    // What SQLite's integrity check finds wrong, one problem a line (damaged pages, broken
    // indexes; at most about maxProblems), or in a file without such damage, the rows whose run or plan
    // does not exist, one line a table. Empty: the file is sound. Reads the whole file.
    std::vector<std::string> integrityProblems(int maxProblems = 100) const;
    RunComparison compare(std::int64_t a, std::int64_t b);

private:
    void checkHeader(OpenMode mode) const;
    void migrate();
    // Rows whose foreign key names a row that does not exist (PRAGMA foreign_key_check), per
    // (table, parent table), and in all.
    std::map<std::pair<std::string, std::string>, std::int64_t> orphanRows() const;
    std::int64_t orphanRowCount() const;
    // The span insert of `rows` rows, prepared on first use.
    SqliteStatement& spanInsert(std::size_t rows);
    static constexpr std::size_t kSpanRowParameters = 9; // a span's columns besides the run

    SqliteConnection m_connection;
    bool m_readOnly = false;
    std::vector<std::int64_t> m_recoveredRuns;
    // Declared after the connection, so they are finalized before it closes.
    std::vector<std::unique_ptr<SqliteStatement>> m_spanInserts; // by row count
};

// The order of the action_spans primary key within a run: step, rank, stage, microbatch, then the
// kind's letter (B < F < I < W, as SQLite compares the text). Spans written in this order append to
// the table's last page instead of searching the B-tree from its root.
// Inline: the recorder sorts every batch with it.
inline bool spanKeyLess(const ActionSpan& a, const ActionSpan& b)
{
    if (a.step != b.step)
        return a.step < b.step;
    if (a.rank != b.rank)
        return a.rank < b.rank;
    if (a.stage != b.stage)
        return a.stage < b.stage;
    if (a.microbatch != b.microbatch)
        return a.microbatch < b.microbatch;
    // The letters F, B, I, W in SQLite's text order: B < F < I < W.
    constexpr std::array<int, kActionKindCount> kLetterOrder { 1, 0, 2, 3 };
    return kLetterOrder.at(static_cast<std::size_t>(a.kind)) < kLetterOrder.at(static_cast<std::size_t>(b.kind));
}

// The current time as ISO 8601 UTC with milliseconds.
std::string isoTimeNow();

} // namespace tfreeze
