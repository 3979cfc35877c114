#include "core/store/run_store.h"

#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"
#include "core/store/run_text.h"
#include "core/store/store_error.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unistd.h>

namespace tfreeze {

namespace {

// "TFZ1": marks a file as ours, so an SQLite file of another program is refused, not altered.
constexpr std::int64_t kApplicationId = 0x54465A31;

// The forward migrations: kMigrations[v] takes a file from user_version v to v + 1. A new schema
// version appends a step; a step never changes once released.
constexpr std::array<const char*, RunStore::kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    failure_reason TEXT,
    config_json TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    boot_id TEXT NOT NULL
);
CREATE INDEX runs_by_status ON runs (status, id);

CREATE TABLE steps (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    loss REAL NOT NULL,
    tokens INTEGER NOT NULL,
    batch_ms REAL NOT NULL,
    tokens_per_s REAL NOT NULL,
    bubble REAL NOT NULL,
    rank_bubble TEXT NOT NULL,
    phase TEXT NOT NULL,
    lr REAL NOT NULL,
    stage_freeze TEXT NOT NULL,
    PRIMARY KEY (run, step)
) WITHOUT ROWID;

CREATE TABLE evals (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    val_loss REAL NOT NULL,
    perplexity REAL NOT NULL,
    token_accuracy REAL NOT NULL,
    exact_match REAL NOT NULL,
    PRIMARY KEY (run, step)
) WITHOUT ROWID;

-- The primary key is the index of "the spans of one step"; WITHOUT ROWID keeps one copy of it.
CREATE TABLE action_spans (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    microbatch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    frozen INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (run, step, rank, stage, microbatch, kind)
) WITHOUT ROWID;

CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    created_at_step INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('engine', 'user', 'offline')),
    bounds TEXT NOT NULL,
    batch_ms_no_freeze REAL NOT NULL,
    batch_ms_planned REAL NOT NULL,
    batch_ms_all_frozen REAL NOT NULL,
    applied_at_step INTEGER,
    plan_json TEXT NOT NULL
);
CREATE INDEX plans_by_run ON plans (run, id);

CREATE TABLE plan_actions (
    plan INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    microbatch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ratio REAL NOT NULL,
    start_ms REAL NOT NULL,
    end_ms REAL NOT NULL,
    PRIMARY KEY (plan, rank, stage, microbatch, kind)
) WITHOUT ROWID;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    time TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run, id);
)sql",
    // 1 -> 2: the user's notes on a run. A default keeps every existing row valid.
    R"sql(
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
)sql",
    // 2 -> 3: the status "stopped". SQLite cannot change a CHECK constraint in place, so the table
    // is rebuilt as SQLite's documentation describes (section "Making other kinds of table schema
    // changes" of ALTER TABLE), with foreign keys off (migrate()): dropping the old table must not
    // cascade to the runs' steps and spans. The AUTOINCREMENT counter is carried over, so the id
    // of a run deleted before the migration is never given again.
    R"sql(
CREATE TABLE runs_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted', 'stopped')),
    failure_reason TEXT,
    config_json TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    boot_id TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT ''
);
INSERT INTO runs_v3 (id, name, created, finished, status, failure_reason, config_json, tool_version, host, pid,
    boot_id, notes)
SELECT id, name, created, finished, status, failure_reason, config_json, tool_version, host, pid, boot_id, notes
FROM runs;
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'runs') WHERE name = 'runs_v3';
DROP TABLE runs;
ALTER TABLE runs_v3 RENAME TO runs;
CREATE INDEX runs_by_status ON runs (status, id);
)sql",
};

std::string hostName()
{
    std::array<char, 256> buffer {};
    if (gethostname(buffer.data(), buffer.size() - 1) != 0)
        return "unknown";
    return buffer.data();
}

// Changes at every boot: a pid recorded before a reboot says nothing about a process now.
std::string bootId()
{
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

bool processIsGone(std::int64_t pid)
{
    if (pid <= 0)
        return true;
    return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string jsonArray(const std::vector<double>& values) { return nlohmann::json(values).dump(); }

std::vector<double> parseJsonArray(const std::string& text, const std::string& source, const char* field)
{
    try {
        return nlohmann::json::parse(text).get<std::vector<double>>();
    } catch (const nlohmann::json::exception& error) {
        throw InputError(source, field, "not a JSON array of numbers: " + jsonErrorText(error));
    }
}

std::string boundsJson(const FreezeBounds& bounds)
{
    nlohmann::json json;
    json["max_freeze"] = bounds.maxFreeze;
    json["stage_max_freeze"] = bounds.stageMaxFreeze;
    json["action_cap"] = bounds.actionCap;
    return json.dump();
}

int scalarInt(SqliteConnection& connection, const char* sql)
{
    SqliteStatement statement = connection.prepare(sql);
    return statement.step() ? statement.integer(0) : 0;
}

// The kind's letter as a string literal, so the per-span insert binds it without a copy.
const char* kindText(ActionKind kind)
{
    static constexpr std::array<const char*, kActionKindCount> kTexts = { "F", "B", "I", "W" };
    return kTexts.at(static_cast<std::size_t>(kind));
}

static_assert(static_cast<int>(ActionKind::Forward) == 0 && static_cast<int>(ActionKind::Backward) == 1
        && static_cast<int>(ActionKind::BackwardInput) == 2 && static_cast<int>(ActionKind::BackwardWeight) == 3,
    "spanKeyLess orders the kinds by their letters F, B, I, W");

std::string runSource(std::int64_t run) { return "run " + std::to_string(run); }

// Opening must not touch a file that is not ours: check it before SQLite sees it, and make the
// folder of a new file.
std::string preparePath(const std::string& path, RunStore::OpenMode mode)
{
    namespace fs = std::filesystem;
    std::error_code error;
    const bool exists = fs::exists(path, error);
    if (!exists) {
        if (mode == RunStore::OpenMode::ReadOnly)
            throw InputError(path, "", "no such run database");
        const fs::path parent = fs::path(path).parent_path();
        if (!parent.empty() && !fs::create_directories(parent, error) && error)
            throw InputError(path, "", "cannot create the folder " + parent.string() + ": " + error.message());
        return path;
    }
    if (fs::is_directory(path, error))
        throw InputError(path, "", "is a folder, not a run database");
    // Before anything opens it: SQLite on a device fails with an I/O error and leaves a stray
    // "-journal" beside it, and opening a FIFO blocks until a writer comes.
    if (!fs::is_regular_file(path, error))
        throw InputError(path, "",
            "is " + fileKindText(fs::status(path, error).type())
                + ", not a run database (which is a regular file); it was left unchanged");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path, "", "cannot read the file");
    static constexpr std::string_view kHeader("SQLite format 3\0", 16);
    std::array<char, kHeader.size()> header {};
    in.read(header.data(), header.size());
    const auto read = static_cast<std::size_t>(in.gcount());
    // An empty file is what a new database looks like to SQLite, so it is taken as one.
    if (read != 0 && (read != header.size() || std::memcmp(header.data(), kHeader.data(), header.size()) != 0))
        throw InputError(path, "", "not an SQLite database (not a tfreeze run history); the file was left unchanged");
    return path;
}

} // namespace

const char* runStatusName(RunStatus status)
{
    static constexpr std::array<const char*, 5> kNames = { "running", "finished", "failed", "interrupted", "stopped" };
    return kNames.at(static_cast<std::size_t>(status));
}

RunStatus parseRunStatus(const std::string& name, const std::string& source, const std::string& field)
{
    constexpr std::array kStatuses
        = { RunStatus::Running, RunStatus::Finished, RunStatus::Stopped, RunStatus::Failed, RunStatus::Interrupted };
    std::string expected;
    for (RunStatus status : kStatuses) {
        if (name == runStatusName(status))
            return status;
        expected += std::string(expected.empty() ? "" : ", ") + runStatusName(status);
    }
    throw InputError(source, field, "unknown run status \"" + name + "\" (expected one of " + expected + ")");
}

std::string isoTimeNow()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc {};
    gmtime_r(&seconds, &utc);
    std::array<char, 32> buffer {};
    const std::size_t length = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &utc);
    std::array<char, 8> fraction {};
    std::snprintf(fraction.data(), fraction.size(), ".%03dZ", static_cast<int>(millis));
    return std::string(buffer.data(), length) + fraction.data();
}

RunStore::RunStore(const std::string& path, OpenMode mode)
    : m_connection(preparePath(path, mode), mode == OpenMode::ReadOnly)
{
    // Nothing below writes before the schema version and the owner of the file were checked.
    m_connection.execute("PRAGMA busy_timeout = 5000");
    m_readOnly = mode == OpenMode::ReadOnly || m_connection.isReadOnly();
    int version = 0;
    int applicationId = 0;
    try {
        version = scalarInt(m_connection, "PRAGMA user_version");
        applicationId = scalarInt(m_connection, "PRAGMA application_id");
    } catch (const DamagedDatabaseError& error) {
        // A header that passed preparePath's check but nothing SQLite can read past it.
        if (error.code() == SQLITE_NOTADB)
            throw InputError(
                this->path(), "", "not an SQLite database (not a tfreeze run history); the file was left unchanged");
        throw;
    }
    if (applicationId != 0 && applicationId != kApplicationId)
        throw InputError(
            this->path(), "", "an SQLite database of another program, not a tfreeze run history; left unchanged");
    if (version > kSchemaVersion)
        throw InputError(this->path(), "user_version",
            "schema version " + std::to_string(version) + " is newer than this tfreeze understands ("
                + std::to_string(kSchemaVersion) + "); use a newer tfreeze. The file was left unchanged");
    if (version == 0 && scalarInt(m_connection, "SELECT COUNT(*) FROM sqlite_master") != 0)
        throw InputError(this->path(), "", "an SQLite database with tables but no run history schema; left unchanged");

    if (m_readOnly) {
        if (version < kSchemaVersion)
            throw InputError(this->path(), "user_version",
                version == 0 ? std::string("holds no run history yet, and it is opened read-only")
                             : "schema version " + std::to_string(version)
                        + " needs an upgrade, which a read-only open cannot do");
        m_connection.execute("PRAGMA foreign_keys = ON");
        return;
    }
    // WAL: readers read while the recorder writes. synchronous NORMAL: a killed process loses
    // nothing committed (the WAL is in the OS's hands); only a power cut can lose the last commits.
    m_connection.execute("PRAGMA journal_mode = WAL");
    m_connection.execute("PRAGMA synchronous = NORMAL");
    // Migrations run with foreign keys off (a rebuilt table must not cascade); they are checked
    // before the migration commits, and on from then on. Off is SQLite's default, but a build may
    // change it (SQLITE_DEFAULT_FOREIGN_KEYS), so it is said.
    if (version < kSchemaVersion) {
        m_connection.execute("PRAGMA foreign_keys = OFF");
        migrate();
    }
    m_connection.execute("PRAGMA foreign_keys = ON");
    m_recoveredRuns = recoverInterruptedRuns();
}

int RunStore::schemaVersion() const
{
    SqliteStatement statement = m_connection.prepare("PRAGMA user_version");
    return statement.step() ? statement.integer(0) : 0;
}

void RunStore::migrate()
{
    SqliteTransaction transaction(m_connection);
    // Read again inside the write lock: another process may have migrated meanwhile.
    const int version = scalarInt(m_connection, "PRAGMA user_version");
    if (version >= kSchemaVersion)
        return; // migrated by another process meanwhile
    // Scans every table: once per file and schema version.
    const std::int64_t orphansBefore = orphanRowCount();
    for (int step = version; step < kSchemaVersion; ++step)
        m_connection.execute(kMigrations.at(static_cast<std::size_t>(step)));
    // Foreign keys are off during migrations: a row that lost its run would go unnoticed. Rolled
    // back instead (the transaction's destructor), leaving the file as it was. Rows that were
    // orphans before (a file edited by hand) are not the migration's doing.
    if (orphanRowCount() > orphansBefore)
        throw std::runtime_error(path() + ": migrating to schema version " + std::to_string(kSchemaVersion)
            + " would leave rows without their run; the file was left unchanged");
    // PRAGMA takes no bound parameters; both values are our own constants.
    const std::string setVersion = "PRAGMA user_version = " + std::to_string(kSchemaVersion)
        + "; PRAGMA application_id = " + std::to_string(kApplicationId);
    m_connection.execute(setVersion.c_str());
    transaction.commit();
}

std::vector<std::string> RunStore::integrityProblems(int maxProblems) const
{
    std::vector<std::string> problems;
    // PRAGMA takes no bound parameters; the limit is a number we format.
    const std::string sql = "PRAGMA integrity_check(" + std::to_string(std::max(1, maxProblems)) + ")";
    try {
        SqliteStatement check = m_connection.prepare(sql.c_str());
        while (check.step()) {
            // A row may hold several lines ("*** in database main ***\nPage 2: ..."); every line
            // but such a heading is a problem.
            std::istringstream lines(check.text(0));
            for (std::string line; std::getline(lines, line);) {
                if (line != "ok" && line.rfind("*** ", 0) != 0)
                    problems.push_back(line);
            }
        }
    } catch (const DamagedDatabaseError& error) {
        // Some damage stops the check itself (a page that no b-tree walk can get past).
        problems.push_back(std::string("the integrity check could not go on: ") + sqlite3_errstr(error.code()));
    }
    // Reading the tables of a damaged file fails; their keys are worth checking in a sound one.
    if (!problems.empty())
        return problems;
    // Per table and parent: a run deleted by hand with foreign keys off leaves thousands of spans.
    for (const auto& [tables, rows] : orphanRows()) {
        problems.push_back(tables.first + ": " + std::to_string(rows) + (rows == 1 ? " row names" : " rows name")
            + " a row of " + tables.second + " that does not exist");
    }
    return problems;
}

std::map<std::pair<std::string, std::string>, std::int64_t> RunStore::orphanRows() const
{
    std::map<std::pair<std::string, std::string>, std::int64_t> orphans;
    SqliteStatement check = m_connection.prepare("PRAGMA foreign_key_check");
    while (check.step())
        ++orphans[{ check.text(0), check.text(2) }];
    return orphans;
}

std::int64_t RunStore::orphanRowCount() const
{
    std::int64_t rows = 0;
    for (const auto& [tables, count] : orphanRows())
        rows += count;
    return rows;
}

std::vector<std::int64_t> RunStore::recoverInterruptedRuns()
{
    const std::string host = hostName();
    const std::string boot = bootId();
    std::vector<std::int64_t> gone;
    std::vector<std::string> reasons;
    {
        SqliteStatement running
            = m_connection.prepare("SELECT id, host, pid, boot_id FROM runs WHERE status = 'running' ORDER BY id");
        while (running.step()) {
            // A run of another machine (a shared folder) cannot be checked from here: left as it is.
            if (running.text(1) != host)
                continue;
            const std::int64_t pid = running.int64(2);
            const std::string runBoot = running.text(3);
            const bool rebooted = !boot.empty() && !runBoot.empty() && runBoot != boot;
            if (rebooted || (pid != getpid() && processIsGone(pid))) {
                gone.push_back(running.int64(0));
                reasons.push_back("process " + std::to_string(pid) + " on " + host
                    + (rebooted ? " did not finish the run before the machine restarted"
                                : " ended without finishing the run"));
            }
        }
    }
    if (gone.empty())
        return gone;
    SqliteTransaction transaction(m_connection);
    SqliteStatement update = m_connection.prepare("UPDATE runs SET status = 'interrupted', finished = ?1, "
                                                  "failure_reason = ?2 WHERE id = ?3 AND status = 'running'");
    for (std::size_t i = 0; i < gone.size(); ++i)
        update.bind(1, isoTimeNow()).bind(2, reasons[i]).bind(3, gone[i]).run();
    transaction.commit();
    return gone;
}

void RunStore::limitSize(std::int64_t bytes)
{
    const std::int64_t pageSize = scalarInt(m_connection, "PRAGMA page_size");
    const std::int64_t pages = std::max<std::int64_t>(scalarInt(m_connection, "PRAGMA page_count"), bytes / pageSize);
    // PRAGMA takes no bound parameters; the value is a number computed here.
    const std::string sql = "PRAGMA max_page_count = " + std::to_string(pages);
    m_connection.execute(sql.c_str());
}

std::int64_t RunStore::sizeBytes()
{
    return static_cast<std::int64_t>(scalarInt(m_connection, "PRAGMA page_count"))
        * scalarInt(m_connection, "PRAGMA page_size");
}

std::int64_t RunStore::beginRun(const NewRun& run)
{
    SqliteStatement insert = m_connection.prepare(
        "INSERT INTO runs (name, created, status, config_json, tool_version, host, pid, boot_id) "
        "VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6, ?7)");
    insert.bind(1, run.name)
        .bind(2, isoTimeNow())
        .bind(3, run.configJson)
        .bind(4, run.toolVersion)
        .bind(5, hostName())
        .bind(6, static_cast<std::int64_t>(getpid()))
        .bind(7, bootId())
        .run();
    return m_connection.lastInsertId();
}

void RunStore::setRunStatus(std::int64_t run, RunStatus status, const std::optional<std::string>& failureReason)
{
    SqliteStatement& update
        = m_connection.cached("UPDATE runs SET status = ?1, finished = ?2, failure_reason = ?3 WHERE id = ?4");
    std::optional<std::string> finished;
    if (status != RunStatus::Running)
        finished = isoTimeNow();
    update.bind(1, runStatusName(status)).bind(2, finished).bind(3, failureReason).bind(4, run).run();
}

std::int64_t RunStore::recordPlan(std::optional<std::int64_t> run, const PlanApplied& applied)
{
    if (!applied.plan)
        throw std::invalid_argument("RunStore::recordPlan: PlanApplied without a plan");
    const FreezePlan& plan = *applied.plan;
    std::ostringstream json;
    writePlanJson(plan, json);
    std::optional<std::int64_t> appliedAt;
    if (applied.source != PlanSource::Offline)
        appliedAt = applied.appliedAtStep;

    SqliteStatement& insert = m_connection.cached(
        "INSERT INTO plans (run, created_at_step, source, bounds, batch_ms_no_freeze, batch_ms_planned, "
        "batch_ms_all_frozen, applied_at_step, plan_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    insert.bind(1, run)
        .bind(2, applied.createdAtStep)
        .bind(3, planSourceName(applied.source))
        .bind(4, boundsJson(plan.bounds))
        .bind(5, plan.batchMsNoFreeze)
        .bind(6, plan.batchMsPlanned)
        .bind(7, plan.batchMsAllFrozen)
        .bind(8, appliedAt)
        .bind(9, json.str())
        .run();
    const std::int64_t id = m_connection.lastInsertId();

    SqliteStatement& action
        = m_connection.cached("INSERT INTO plan_actions (plan, rank, stage, microbatch, kind, ratio, start_ms, end_ms) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    const std::vector<Action> actions = plan.profile.actions();
    for (std::size_t i = 0; i < actions.size() && i < plan.actions.size(); ++i) {
        action.bind(1, id)
            .bind(2, actions[i].rank)
            .bind(3, actions[i].stage)
            .bind(4, actions[i].microbatch)
            .bindStatic(5, kindText(actions[i].kind))
            .bind(6, plan.actions[i].ratio)
            .bind(7, plan.actions[i].startMs)
            .bind(8, plan.actions[i].endMs)
            .run();
    }
    return id;
}

void RunStore::recordStep(std::int64_t run, const StepStats& step)
{
    // REPLACE: a step reported twice (a resumed run) keeps its latest figures instead of failing the run.
    SqliteStatement& insert = m_connection.cached(
        "INSERT OR REPLACE INTO steps (run, step, loss, tokens, batch_ms, tokens_per_s, bubble, rank_bubble, phase, "
        "lr, stage_freeze) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    insert.bind(1, run)
        .bind(2, step.step)
        .bind(3, step.loss)
        .bind(4, step.tokens)
        .bind(5, step.batchMs)
        .bind(6, step.tokensPerSecond)
        .bind(7, step.bubbleFraction)
        .bind(8, jsonArray(step.rankBubbleFraction))
        .bind(9, trainingPhaseName(step.phase))
        .bind(10, step.learningRate)
        .bind(11, jsonArray(step.stageMeanFreezeRatio))
        .run();
}

void RunStore::recordEval(std::int64_t run, const EvalStats& eval)
{
    SqliteStatement& insert
        = m_connection.cached("INSERT OR REPLACE INTO evals (run, step, val_loss, perplexity, token_accuracy, "
                              "exact_match) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    insert.bind(1, run)
        .bind(2, eval.step)
        .bind(3, eval.validationLoss)
        .bind(4, eval.perplexity)
        .bind(5, eval.tokenAccuracy)
        .bind(6, eval.exactMatch)
        .run();
}

void RunStore::recordSpan(std::int64_t run, const ActionSpan& span) { recordSpans(run, &span, 1); }

SqliteStatement& RunStore::spanInsert(std::size_t rows)
{
    if (m_spanInserts.size() <= rows)
        m_spanInserts.resize(rows + 1);
    std::unique_ptr<SqliteStatement>& statement = m_spanInserts[rows];
    if (!statement) {
        // Built from constants and row numbers only: every value is a bound parameter. ?1 is the
        // run, shared by every row; row i binds ?(2 + 9i) to ?(10 + 9i).
        std::string sql = "INSERT OR REPLACE INTO action_spans (run, step, rank, stage, microbatch, kind, start_us, "
                          "end_us, frozen, total) VALUES ";
        for (std::size_t row = 0; row < rows; ++row) {
            sql += row == 0 ? "(?1" : ",(?1";
            for (std::size_t column = 0; column < kSpanRowParameters; ++column)
                sql += ",?" + std::to_string(2 + row * kSpanRowParameters + column);
            sql += ')';
        }
        statement = std::make_unique<SqliteStatement>(m_connection.prepare(sql.c_str()));
    }
    return *statement;
}

void RunStore::recordSpans(std::int64_t run, const ActionSpan* spans, std::size_t count)
{
    // Many rows a statement: the cost of a statement (bind, step, reset, its savepoint) is paid once
    // a chunk instead of once a span. Rows go in publish order, so a span published twice keeps
    // its latest figures, as with one statement a row.
    while (count != 0) {
        const std::size_t rows = std::min(count, kSpanRowsPerInsert);
        SqliteStatement& insert = spanInsert(rows);
        insert.bind(1, run);
        int parameter = 2;
        for (std::size_t row = 0; row < rows; ++row) {
            const ActionSpan& span = spans[row];
            insert.bind(parameter, span.step)
                .bind(parameter + 1, span.rank)
                .bind(parameter + 2, span.stage)
                .bind(parameter + 3, span.microbatch)
                .bindStatic(parameter + 4, kindText(span.kind))
                .bind(parameter + 5, span.startUs)
                .bind(parameter + 6, span.endUs)
                .bind(parameter + 7, span.frozenTensors)
                .bind(parameter + 8, span.totalTensors);
            parameter += static_cast<int>(kSpanRowParameters);
        }
        insert.run();
        spans += rows;
        count -= rows;
    }
}

void RunStore::recordEvent(std::int64_t run, const RunEvent& event, const std::string& time)
{
    SqliteStatement& insert
        = m_connection.cached("INSERT INTO events (run, level, time, message) VALUES (?1, ?2, ?3, ?4)");
    insert.bind(1, run).bind(2, eventLevelName(event.level)).bind(3, time).bind(4, event.message).run();
}

bool RunStore::renameRun(std::int64_t run, const std::string& name)
{
    checkRunName(name); // here, so the studio's rename is checked as the CLI's is
    SqliteStatement update = m_connection.prepare("UPDATE runs SET name = ?1 WHERE id = ?2");
    update.bind(1, name).bind(2, run).run();
    return m_connection.changes() > 0;
}

bool RunStore::setRunNotes(std::int64_t run, const std::string& notes)
{
    checkRunNotes(notes);
    SqliteStatement update = m_connection.prepare("UPDATE runs SET notes = ?1 WHERE id = ?2");
    update.bind(1, notes).bind(2, run).run();
    return m_connection.changes() > 0;
}

bool RunStore::deleteRun(std::int64_t run)
{
    SqliteTransaction transaction(m_connection);
    SqliteStatement remove = m_connection.prepare("DELETE FROM runs WHERE id = ?1");
    remove.bind(1, run).run();
    const bool deleted = m_connection.changes() > 0;
    transaction.commit();
    return deleted;
}

namespace {

constexpr const char* kRunColumns
    = "SELECT id, name, created, finished, status, failure_reason, config_json, tool_version, host, pid, "
      "(SELECT COUNT(*) FROM steps WHERE steps.run = runs.id), notes FROM runs ";

RunRecord readRun(const SqliteStatement& row, const std::string& path)
{
    RunRecord run;
    run.id = row.int64(0);
    run.name = row.text(1);
    run.created = row.text(2);
    run.finished = row.optionalText(3);
    run.status = parseRunStatus(row.text(4), path, "runs.status");
    run.failureReason = row.optionalText(5);
    run.configJson = row.text(6);
    run.toolVersion = row.text(7);
    run.host = row.text(8);
    run.pid = row.int64(9);
    run.stepCount = row.int64(10);
    run.notes = row.text(11);
    return run;
}

PlanRecord readPlanRecord(const SqliteStatement& row, const std::string& path)
{
    PlanRecord plan;
    plan.id = row.int64(0);
    plan.run = row.optionalInt64(1);
    plan.createdAtStep = row.int64(2);
    plan.source = parsePlanSource(row.text(3), path, "plans.source");
    plan.boundsJson = row.text(4);
    plan.batchMsNoFreeze = row.real(5);
    plan.batchMsPlanned = row.real(6);
    plan.batchMsAllFrozen = row.real(7);
    plan.appliedAtStep = row.optionalInt64(8);
    plan.actionCount = row.int64(9);
    return plan;
}

constexpr const char* kPlanColumns
    = "SELECT id, run, created_at_step, source, bounds, batch_ms_no_freeze, batch_ms_planned, batch_ms_all_frozen, "
      "applied_at_step, (SELECT COUNT(*) FROM plan_actions WHERE plan_actions.plan = plans.id) FROM plans ";

} // namespace

std::vector<RunRecord> RunStore::listRuns(const RunFilter& filter)
{
    const std::string sql = std::string(kRunColumns) + "WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2";
    SqliteStatement select = m_connection.prepare(sql.c_str());
    std::optional<std::string> status;
    if (filter.status)
        status = runStatusName(*filter.status);
    select.bind(1, status).bind(2, filter.limit.value_or(-1)); // LIMIT -1: no limit
    std::vector<RunRecord> runs;
    while (select.step())
        runs.push_back(readRun(select, path()));
    return runs;
}

std::optional<RunRecord> RunStore::findRun(std::int64_t run)
{
    const std::string sql = std::string(kRunColumns) + "WHERE id = ?1";
    SqliteStatement select = m_connection.prepare(sql.c_str());
    select.bind(1, run);
    if (!select.step())
        return std::nullopt;
    return readRun(select, path());
}

RunRecord RunStore::run(std::int64_t run)
{
    std::optional<RunRecord> found = findRun(run);
    if (!found)
        throw InputError(path(), "", "no run with id " + std::to_string(run));
    return *found;
}

std::vector<StepStats> RunStore::steps(std::int64_t run, std::int64_t firstStep, std::int64_t lastStep)
{
    SqliteStatement select
        = m_connection.prepare("SELECT step, loss, tokens, batch_ms, tokens_per_s, bubble, rank_bubble, phase, lr, "
                               "stage_freeze FROM steps WHERE run = ?1 AND step BETWEEN ?2 AND ?3 ORDER BY step");
    select.bind(1, run).bind(2, firstStep).bind(3, lastStep);
    std::vector<StepStats> steps;
    const std::string runText = path() + ": " + runSource(run);
    while (select.step()) {
        StepStats step;
        step.step = select.int64(0);
        const std::string source = runText + ", step " + std::to_string(step.step); // which row is damaged
        step.loss = select.real(1);
        step.tokens = select.int64(2);
        step.batchMs = select.real(3);
        step.tokensPerSecond = select.real(4);
        step.bubbleFraction = select.real(5);
        step.rankBubbleFraction = parseJsonArray(select.text(6), source, "steps.rank_bubble");
        step.phase = parseTrainingPhase(select.text(7), source, "steps.phase");
        step.learningRate = select.real(8);
        step.stageMeanFreezeRatio = parseJsonArray(select.text(9), source, "steps.stage_freeze");
        steps.push_back(std::move(step));
    }
    return steps;
}

std::vector<EvalStats> RunStore::evals(std::int64_t run)
{
    SqliteStatement select = m_connection.prepare(
        "SELECT step, val_loss, perplexity, token_accuracy, exact_match FROM evals WHERE run = ?1 ORDER BY step");
    select.bind(1, run);
    std::vector<EvalStats> evals;
    while (select.step()) {
        EvalStats eval;
        eval.step = select.int64(0);
        eval.validationLoss = select.real(1);
        eval.perplexity = select.real(2);
        eval.tokenAccuracy = select.real(3);
        eval.exactMatch = select.real(4);
        evals.push_back(eval);
    }
    return evals;
}

std::vector<ActionSpan> RunStore::spans(std::int64_t run, std::int64_t step)
{
    SqliteStatement& select
        = m_connection.cached("SELECT rank, stage, microbatch, kind, start_us, end_us, frozen, total FROM action_spans "
                              "WHERE run = ?1 AND step = ?2 ORDER BY rank, start_us");
    select.bind(1, run).bind(2, step);
    std::vector<ActionSpan> spans;
    const std::string source = path() + ": " + runSource(run);
    while (select.step()) {
        ActionSpan span;
        span.step = step;
        span.rank = select.integer(0);
        span.stage = select.integer(1);
        span.microbatch = select.integer(2);
        span.kind = parseActionKind(select.text(3), source, "action_spans.kind");
        span.startUs = select.int64(4);
        span.endUs = select.int64(5);
        span.frozenTensors = select.integer(6);
        span.totalTensors = select.integer(7);
        spans.push_back(span);
    }
    select.reset();
    return spans;
}

std::vector<std::int64_t> RunStore::spanSteps(std::int64_t run)
{
    SqliteStatement select
        = m_connection.prepare("SELECT DISTINCT step FROM action_spans WHERE run = ?1 ORDER BY step");
    select.bind(1, run);
    std::vector<std::int64_t> steps;
    while (select.step())
        steps.push_back(select.int64(0));
    return steps;
}

std::int64_t RunStore::spanCount(std::int64_t run)
{
    SqliteStatement select = m_connection.prepare("SELECT COUNT(*) FROM action_spans WHERE run = ?1");
    select.bind(1, run);
    return select.step() ? select.int64(0) : 0;
}

std::vector<EventRecord> RunStore::events(std::int64_t run)
{
    SqliteStatement select = m_connection.prepare("SELECT level, time, message FROM events WHERE run = ?1 ORDER BY id");
    select.bind(1, run);
    std::vector<EventRecord> events;
    while (select.step())
        events.push_back({ parseEventLevel(select.text(0), path(), "events.level"), select.text(1), select.text(2) });
    return events;
}

std::vector<PlanRecord> RunStore::plans(std::optional<std::int64_t> run)
{
    const std::string sql
        = std::string(kPlanColumns) + (run ? "WHERE run = ?1 ORDER BY id" : "WHERE run IS NULL ORDER BY id");
    SqliteStatement select = m_connection.prepare(sql.c_str());
    if (run)
        select.bind(1, *run);
    std::vector<PlanRecord> plans;
    while (select.step())
        plans.push_back(readPlanRecord(select, path()));
    return plans;
}

std::optional<PlanRecord> RunStore::findPlanRecord(std::int64_t plan)
{
    const std::string sql = std::string(kPlanColumns) + "WHERE id = ?1";
    SqliteStatement select = m_connection.prepare(sql.c_str());
    select.bind(1, plan);
    if (!select.step())
        return std::nullopt;
    return readPlanRecord(select, path());
}

FreezePlan RunStore::plan(std::int64_t plan)
{
    SqliteStatement select = m_connection.prepare("SELECT plan_json FROM plans WHERE id = ?1");
    select.bind(1, plan);
    if (!select.step())
        throw InputError(path(), "", "no plan with id " + std::to_string(plan));
    std::istringstream json(select.text(0));
    return readPlanJson(json, path() + ": plan " + std::to_string(plan));
}

RunSummary RunStore::summarize(std::int64_t run)
{
    RunSummary summary = summarizeSteps(run);
    SqliteStatement select = m_connection.prepare(
        "SELECT stage, kind, AVG(end_us - start_us) FROM action_spans WHERE run = ?1 GROUP BY stage, kind");
    select.bind(1, run);
    while (select.step()) {
        const auto stage = static_cast<std::size_t>(select.integer(0));
        const ActionKind kind = parseActionKind(select.text(1), path(), "action_spans.kind");
        if (summary.stageKindMeanMs.size() <= stage)
            summary.stageKindMeanMs.resize(stage + 1, std::vector<double>(kActionKindCount, -1.0));
        summary.stageKindMeanMs[stage][static_cast<std::size_t>(kind)] = select.real(2) / 1000.0;
    }
    return summary;
}

RunSummary RunStore::summarizeSteps(std::int64_t run)
{
    this->run(run); // throws for an unknown id
    RunSummary summary;
    summary.run = run;
    {
        SqliteStatement select = m_connection.prepare(
            "SELECT COUNT(*), COALESCE(AVG(bubble), 0), COALESCE(AVG(tokens_per_s), 0) FROM steps WHERE run = ?1");
        select.bind(1, run);
        if (select.step()) {
            summary.steps = select.int64(0);
            summary.meanBubbleFraction = select.real(1);
            summary.meanTokensPerSecond = select.real(2);
        }
    }
    {
        SqliteStatement select
            = m_connection.prepare("SELECT loss FROM steps WHERE run = ?1 ORDER BY step DESC LIMIT 1");
        select.bind(1, run);
        if (select.step())
            summary.finalLoss = select.real(0);
    }
    return summary;
}

RunComparison RunStore::compare(std::int64_t a, std::int64_t b) { return { summarize(a), summarize(b) }; }

} // namespace tfreeze
