#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"
#include "core/store/run_store.h"
#include "core/store/run_text.h"
#include "core/store/store_error.h"

#include "store_test_support.h"

#include <QDir>
#include <QtTest>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

using namespace tfreeze;
using namespace tfreeze::test;

namespace {

QByteArray bytes(const std::string& text) { return QByteArray::fromStdString(text); }

// Runs one statement through SQLite directly, as another program (or an older tfreeze) would.
void rawExecute(const std::string& path, const std::string& sql)
{
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    const int code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    const std::string text = message != nullptr ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    QVERIFY2(code == SQLITE_OK, text.c_str());
}

std::int64_t rawCount(RunStore& store, const char* table)
{
    const std::string sql = std::string("SELECT COUNT(*) FROM ") + table;
    SqliteStatement statement = store.connection().prepare(sql.c_str());
    return statement.step() ? statement.int64(0) : -1;
}

// A database as the CLI tests' fixture makes it: two runs of 30 steps with every span, about 160 kB.
void writeTwoRuns(const std::string& path)
{
    RunStore store(path);
    for (const char* name : { "baseline", "frozen" }) {
        const std::int64_t run = store.beginRun(newRun(name));
        for (std::int64_t step = 0; step < 30; ++step) {
            const std::vector<ActionSpan> spans = makeSpans(step);
            store.recordSpans(run, spans.data(), spans.size());
            store.recordStep(run, makeStep(step));
        }
        store.setRunStatus(run, RunStatus::Finished);
    }
}

// What a DamagedDatabaseError that `work` throws says; nothing when it throws none. Any other
// exception escapes and fails the test.
std::optional<std::string> damageReported(const std::function<void()>& work)
{
    try {
        work();
    } catch (const DamagedDatabaseError& error) {
        if (error.code() != SQLITE_CORRUPT && error.code() != SQLITE_NOTADB)
            return "unexpected code " + std::to_string(error.code()) + ": " + error.what();
        return std::string(error.what());
    }
    return std::nullopt;
}

std::string planJson(const FreezePlan& plan)
{
    std::ostringstream out;
    writePlanJson(plan, out);
    return out.str();
}

} // namespace

class TestRunStore : public QObject {
    Q_OBJECT

private slots:
    void newFileGetsTheSchemaInANewFolder();
    void reopeningKeepsRunsAndVersion();
    void runIdsCountFromOne();
    void everyTableRoundTrips();
    void spansInChunksArriveExactlyOnce_data();
    void spansInChunksArriveExactlyOnce();
    void aLaterSpanWithTheSameKeyReplacesTheEarlier();
    void offlinePlanRoundTrips();
    void namesAreBoundNotSpliced_data();
    void namesAreBoundNotSpliced();
    void unknownStatusIsAnInputError();
    void notADatabaseIsLeftUnchanged_data();
    void notADatabaseIsLeftUnchanged();
    void otherProgramsDatabaseIsLeftUnchanged();
    void newerSchemaIsRefusedAndUnchanged();
    void readOnlyOpenReadsButCannotWrite();
    void readOnlyOpenOfMissingFileFails();
    void folderAndDamagedRowsAreInputErrors();
    void deleteRunCascades();
    void unknownIdsAreInputErrors();
    void runsOfGoneProcessesBecomeInterrupted();
    void compareSummarizesBothRuns();
    void version1FileMigratesKeepingEveryRow();
    void orphanRowsBeforeAMigrationDoNotBlockIt();
    void concurrentOpensMigrateOnce();
    void integrityProblemsCountOrphansAndFindDamage();
    void renameAndNotesRoundTrip_data();
    void renameAndNotesRoundTrip();
    void renameAndNotesOfUnknownRunReturnFalse();
    void readOnlyStoreRefusesRenameAndNotes();
    void damagedFileIsAnInputErrorAndUnchanged_data();
    void damagedFileIsAnInputErrorAndUnchanged();
    void notARegularFileIsRefusedBeforeOpening();
    void renameAndNotesRefuseBadText_data();
    void renameAndNotesRefuseBadText();
    void nameAndNotesChecksAcceptPrintableText();
};

void TestRunStore::newFileGetsTheSchemaInANewFolder()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("nested/runs/history.sqlite")).toStdString();
    RunStore store(path);
    QCOMPARE(store.schemaVersion(), RunStore::kSchemaVersion);
    QVERIFY(QFile::exists(QString::fromStdString(path)));
    for (const char* table : { "runs", "steps", "evals", "action_spans", "plans", "plan_actions", "events" })
        QCOMPARE(rawCount(store, table), std::int64_t { 0 });
    SqliteStatement mode = store.connection().prepare("PRAGMA journal_mode");
    QVERIFY(mode.step());
    QCOMPARE(mode.text(0), std::string("wal"));
    SqliteStatement keys = store.connection().prepare("PRAGMA foreign_keys");
    QVERIFY(keys.step());
    QCOMPARE(keys.int64(0), std::int64_t { 1 });
}

void TestRunStore::reopeningKeepsRunsAndVersion()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        store.beginRun(newRun("first", "{}", "0.1"));
    }
    RunStore again(path);
    QCOMPARE(again.schemaVersion(), RunStore::kSchemaVersion);
    const auto runs = again.listRuns();
    QCOMPARE(runs.size(), std::size_t { 1 });
    QCOMPARE(runs[0].name, std::string("first"));
    QCOMPARE(runs[0].status, RunStatus::Running); // this process is alive: not interrupted
}

void TestRunStore::runIdsCountFromOne()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    QCOMPARE(store.beginRun(newRun("a")), std::int64_t { 1 });
    QCOMPARE(store.beginRun(newRun("b")), std::int64_t { 2 });
    QVERIFY(store.deleteRun(2));
    // AUTOINCREMENT: a deleted id is never handed out again, so "run 2" always meant one run.
    QCOMPARE(store.beginRun(newRun("c")), std::int64_t { 3 });
}

void TestRunStore::spansInChunksArriveExactlyOnce_data()
{
    QTest::addColumn<int>("count");
    const int chunk = static_cast<int>(RunStore::kSpanRowsPerInsert);
    for (int count : { 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 17, 10 * kSpansPerStep + 5 })
        QTest::addRow("%d spans", count) << count;
}

// recordSpans writes kSpanRowsPerInsert rows a statement and a shorter statement for the rest:
// every span lands once, with its own values, whatever the count.
void TestRunStore::spansInChunksArriveExactlyOnce()
{
    QFETCH(int, count);
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t run = store.beginRun(newRun("chunks"));
    const std::int64_t other = store.beginRun(newRun("other"));
    std::vector<ActionSpan> spans;
    for (std::int64_t step = 0; static_cast<int>(spans.size()) < count; ++step) {
        const std::vector<ActionSpan> stepSpans = makeSpans(step);
        spans.insert(spans.end(), stepSpans.begin(), stepSpans.end());
    }
    spans.resize(static_cast<std::size_t>(count));
    store.recordSpans(run, spans.data(), spans.size());
    store.recordSpans(other, spans.data(), 3);

    QCOMPARE(store.spanCount(run), static_cast<std::int64_t>(count));
    QCOMPARE(store.spanCount(other), std::int64_t { 3 });
    std::map<std::int64_t, std::vector<ActionSpan>> byStep;
    for (const ActionSpan& span : spans)
        byStep[span.step].push_back(span);
    std::vector<std::int64_t> steps;
    for (const auto& [step, expected] : byStep) {
        steps.push_back(step);
        std::vector<ActionSpan> stored = store.spans(run, step);
        QCOMPARE(stored.size(), expected.size());
        const auto key = [](const ActionSpan& span) {
            return std::make_tuple(span.rank, span.stage, span.microbatch, static_cast<int>(span.kind));
        };
        std::vector<ActionSpan> sortedExpected = expected;
        const auto byKey = [&key](const ActionSpan& a, const ActionSpan& b) { return key(a) < key(b); };
        std::sort(stored.begin(), stored.end(), byKey);
        std::sort(sortedExpected.begin(), sortedExpected.end(), byKey);
        for (std::size_t i = 0; i < stored.size(); ++i) {
            QCOMPARE(key(stored[i]), key(sortedExpected[i]));
            QCOMPARE(stored[i].step, step);
            QCOMPARE(stored[i].startUs, sortedExpected[i].startUs);
            QCOMPARE(stored[i].endUs, sortedExpected[i].endUs);
            QCOMPARE(stored[i].frozenTensors, sortedExpected[i].frozenTensors);
            QCOMPARE(stored[i].totalTensors, sortedExpected[i].totalTensors);
        }
    }
    QCOMPARE(store.spanSteps(run), steps);
}

void TestRunStore::aLaterSpanWithTheSameKeyReplacesTheEarlier()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t run = store.beginRun(newRun("replace"));
    // The first span's key again in the middle of the first chunk, and four times more across the
    // chunk boundary: the last one published wins.
    std::vector<ActionSpan> spans = makeSpans(4);
    ActionSpan again = spans.front();
    again.startUs = 7;
    spans.insert(spans.begin() + 2, again);
    for (std::int64_t i = 0; i < 4; ++i) {
        again.startUs = 1000 + i;
        spans.push_back(again);
    }
    QVERIFY(spans.size() > RunStore::kSpanRowsPerInsert);
    store.recordSpans(run, spans.data(), spans.size());
    QCOMPARE(store.spanCount(run), std::int64_t { kSpansPerStep });
    const std::vector<ActionSpan> stored = store.spans(run, 4);
    const auto first = std::find_if(stored.begin(), stored.end(), [&](const ActionSpan& span) {
        return span.rank == spans[0].rank && span.microbatch == spans[0].microbatch && span.kind == spans[0].kind;
    });
    QVERIFY(first != stored.end());
    QCOMPARE(first->startUs, spans.back().startUs);
}

void TestRunStore::everyTableRoundTrips()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t run = store.beginRun(newRun("round trip", R"({"ranks":4})", "0.1.0"));
    const StepStats step = makeStep(12);
    store.recordStep(run, step);
    const EvalStats eval { 12, 2.25, 9.487735836358526, 0.4, -1.0 };
    store.recordEval(run, eval);
    const std::vector<ActionSpan> spans = makeSpans(12);
    for (const ActionSpan& span : spans)
        store.recordSpan(run, span);
    store.recordEvent(run, { EventLevel::Warning, "phase plan → ramp" }, "2025-01-01T00:00:00.000Z");
    PlanApplied applied { 10, 12, PlanSource::User, makePlan() };
    const std::int64_t planId = store.recordPlan(run, applied);
    store.setRunStatus(run, RunStatus::Failed, std::string("out of memory"));

    const RunRecord record = store.run(run);
    QCOMPARE(record.name, std::string("round trip"));
    QCOMPARE(record.configJson, std::string(R"({"ranks":4})"));
    QCOMPARE(record.toolVersion, std::string("0.1.0"));
    QCOMPARE(record.pid, static_cast<std::int64_t>(getpid()));
    QCOMPARE(record.status, RunStatus::Failed);
    QCOMPARE(record.failureReason.value_or(""), std::string("out of memory"));
    QVERIFY(record.finished.has_value());
    QCOMPARE(record.stepCount, std::int64_t { 1 });

    const auto steps = store.steps(run);
    QCOMPARE(steps.size(), std::size_t { 1 });
    QCOMPARE(steps[0].loss, step.loss); // exact: REAL keeps every bit
    QCOMPARE(steps[0].tokens, step.tokens);
    QCOMPARE(steps[0].batchMs, step.batchMs);
    QCOMPARE(steps[0].tokensPerSecond, step.tokensPerSecond);
    QCOMPARE(steps[0].bubbleFraction, step.bubbleFraction);
    QCOMPARE(steps[0].rankBubbleFraction, step.rankBubbleFraction);
    QCOMPARE(steps[0].phase, step.phase);
    QCOMPARE(steps[0].learningRate, step.learningRate);
    QCOMPARE(steps[0].stageMeanFreezeRatio, step.stageMeanFreezeRatio);

    const auto evals = store.evals(run);
    QCOMPARE(evals.size(), std::size_t { 1 });
    QCOMPARE(evals[0].validationLoss, eval.validationLoss);
    QCOMPARE(evals[0].perplexity, eval.perplexity);
    QCOMPARE(evals[0].tokenAccuracy, eval.tokenAccuracy);
    QCOMPARE(evals[0].exactMatch, eval.exactMatch);

    const auto readSpans = store.spans(run, 12);
    QCOMPARE(readSpans.size(), spans.size());
    // makeSpans orders by rank then start time, the reader's order.
    for (std::size_t i = 0; i < spans.size(); ++i) {
        QCOMPARE(readSpans[i].rank, spans[i].rank);
        QCOMPARE(readSpans[i].stage, spans[i].stage);
        QCOMPARE(readSpans[i].microbatch, spans[i].microbatch);
        QCOMPARE(readSpans[i].kind, spans[i].kind);
        QCOMPARE(readSpans[i].startUs, spans[i].startUs);
        QCOMPARE(readSpans[i].endUs, spans[i].endUs);
        QCOMPARE(readSpans[i].frozenTensors, spans[i].frozenTensors);
        QCOMPARE(readSpans[i].totalTensors, spans[i].totalTensors);
    }
    QVERIFY(store.spans(run, 11).empty());
    QCOMPARE(store.spanSteps(run), std::vector<std::int64_t> { 12 });

    const auto events = store.events(run);
    QCOMPARE(events.size(), std::size_t { 1 });
    QCOMPARE(events[0].level, EventLevel::Warning);
    QCOMPARE(events[0].message, std::string("phase plan → ramp"));

    const auto plans = store.plans(run);
    QCOMPARE(plans.size(), std::size_t { 1 });
    QCOMPARE(plans[0].id, planId);
    QCOMPARE(plans[0].run.value_or(-1), run);
    QCOMPARE(plans[0].createdAtStep, std::int64_t { 10 });
    QCOMPARE(plans[0].appliedAtStep.value_or(-1), std::int64_t { 12 });
    QCOMPARE(plans[0].source, PlanSource::User);
    QCOMPARE(plans[0].batchMsPlanned, applied.plan->batchMsPlanned);
    QCOMPARE(plans[0].actionCount, static_cast<std::int64_t>(applied.plan->actions.size()));
    QVERIFY(store.plans(std::nullopt).empty());
    QCOMPARE(bytes(planJson(store.plan(planId))), bytes(planJson(*applied.plan)));

    // plan_actions hold the same ratios as the plan.
    SqliteStatement ratios = store.connection().prepare(
        "SELECT ratio FROM plan_actions WHERE plan = ?1 ORDER BY rank, stage, microbatch, kind");
    ratios.bind(1, planId);
    int rows = 0;
    while (ratios.step())
        ++rows;
    QCOMPARE(rows, static_cast<int>(applied.plan->actions.size()));
}

void TestRunStore::offlinePlanRoundTrips()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const auto plan = makePlan(0.3);
    const std::int64_t id = store.recordPlan(std::nullopt, { 0, 0, PlanSource::Offline, plan });
    const auto offline = store.plans(std::nullopt);
    QCOMPARE(offline.size(), std::size_t { 1 });
    QVERIFY(!offline[0].run.has_value());
    QVERIFY(!offline[0].appliedAtStep.has_value());
    QCOMPARE(offline[0].source, PlanSource::Offline);
    QVERIFY(offline[0].boundsJson.find("\"max_freeze\":0.3") != std::string::npos);
    const FreezePlan read = store.plan(id);
    QCOMPARE(read.actions.size(), plan->actions.size());
    for (std::size_t i = 0; i < read.actions.size(); ++i)
        QCOMPARE(read.actions[i].ratio, plan->actions[i].ratio);
    QCOMPARE(read.batchMsPlanned, plan->batchMsPlanned);
}

void TestRunStore::namesAreBoundNotSpliced_data()
{
    QTest::addColumn<QString>("name");
    QTest::newRow("single quote") << QStringLiteral("it's");
    QTest::newRow("double quote") << QStringLiteral("say \"hi\"");
    QTest::newRow("injection") << QStringLiteral("'; DROP TABLE runs; --");
    QTest::newRow("injection in parentheses") << QStringLiteral("x'); DELETE FROM runs; --");
    QTest::newRow("unicode") << QStringLiteral("Läufe 実験 🚀");
    QTest::newRow("empty") << QString();
    QTest::newRow("NUL-free control chars") << QStringLiteral("a\tb\nc");
}

void TestRunStore::namesAreBoundNotSpliced()
{
    QFETCH(QString, name);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        store.beginRun(newRun("before"));
        const std::int64_t id = store.beginRun(newRun(name.toStdString(), "{\"name\":\"'; --\"}"));
        store.recordEvent(id, { EventLevel::Info, name.toStdString() }, "t");
        store.beginRun(newRun("after"));
    }
    RunStore store(path);
    const auto runs = store.listRuns();
    QCOMPARE(runs.size(), std::size_t { 3 }); // nothing dropped or deleted
    QCOMPARE(QString::fromStdString(runs[1].name), name);
    QCOMPARE(runs[1].configJson, std::string("{\"name\":\"'; --\"}"));
    QCOMPARE(QString::fromStdString(store.events(runs[1].id).at(0).message), name);
}

void TestRunStore::unknownStatusIsAnInputError()
{
    QVERIFY_THROWS_EXCEPTION(InputError, parseRunStatus("'; DROP TABLE runs; --", "--status"));
    QCOMPARE(parseRunStatus("interrupted"), RunStatus::Interrupted);
    QCOMPARE(parseRunStatus("stopped"), RunStatus::Stopped);
    for (const RunStatus status :
        { RunStatus::Running, RunStatus::Finished, RunStatus::Failed, RunStatus::Interrupted, RunStatus::Stopped })
        QCOMPARE(parseRunStatus(runStatusName(status)), status);
    try {
        parseRunStatus("done", "--status");
        QFAIL("\"done\" is not a status");
    } catch (const InputError& error) {
        QCOMPARE(std::string(error.what()),
            std::string("--status: unknown run status \"done\" (expected one of running, finished, stopped, failed, "
                        "interrupted)"));
    }
}

void TestRunStore::notADatabaseIsLeftUnchanged_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::newRow("text") << QByteArray("step,loss\n1,2.5\n");
    QTest::newRow("one byte") << QByteArray("x");
    QTest::newRow("truncated header") << QByteArray("SQLite form");
    QByteArray binary;
    for (int i = 0; i < 4096; ++i)
        binary.append(static_cast<char>((i * 37) % 256));
    QTest::newRow("binary") << binary;
    QTest::newRow("header then garbage") << QByteArray("SQLite format 3\0", 16) + binary;
}

void TestRunStore::notADatabaseIsLeftUnchanged()
{
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("history.sqlite")).toStdString();
    writeBytes(path, content.toStdString());
    for (RunStore::OpenMode mode : { RunStore::OpenMode::ReadWrite, RunStore::OpenMode::ReadOnly }) {
        try {
            RunStore store(path, mode);
            QFAIL("opened a file that is not a database");
        } catch (const InputError& error) {
            QCOMPARE(error.source(), path);
            QVERIFY2(std::string(error.what()).find("not") != std::string::npos, error.what());
        }
    }
    QCOMPARE(bytes(readBytes(path)), content);
    QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
}

void TestRunStore::otherProgramsDatabaseIsLeftUnchanged()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("other.sqlite")).toStdString();
    rawExecute(path, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");
    const std::string before = readBytes(path);
    QVERIFY_THROWS_EXCEPTION(InputError, RunStore store(path));
    QCOMPARE(bytes(readBytes(path)), bytes(before));
}

void TestRunStore::newerSchemaIsRefusedAndUnchanged()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        store.beginRun(newRun("from the future"));
    }
    rawExecute(path, "PRAGMA user_version = " + std::to_string(RunStore::kSchemaVersion + 1));
    const std::string before = readBytes(path);
    for (RunStore::OpenMode mode : { RunStore::OpenMode::ReadWrite, RunStore::OpenMode::ReadOnly }) {
        try {
            RunStore store(path, mode);
            QFAIL("opened a newer schema");
        } catch (const InputError& error) {
            QCOMPARE(error.source(), path);
            const std::string expected = "schema version " + std::to_string(RunStore::kSchemaVersion + 1) + " is newer";
            QVERIFY2(std::string(error.what()).find(expected) != std::string::npos, error.what());
        }
    }
    QCOMPARE(bytes(readBytes(path)), bytes(before));
}

void TestRunStore::readOnlyOpenReadsButCannotWrite()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        store.recordStep(store.beginRun(newRun("kept")), makeStep(0));
    }
    const std::string before = readBytes(path);
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    QVERIFY(store.isReadOnly());
    QCOMPARE(store.listRuns().size(), std::size_t { 1 });
    QCOMPARE(store.steps(1).size(), std::size_t { 1 });
    try {
        store.beginRun(newRun("not written"));
        QFAIL("wrote through a read-only store");
    } catch (const StoreError& error) {
        QCOMPARE(error.code(), SQLITE_READONLY);
        QVERIFY2(std::string(error.what()).find("read-only") != std::string::npos, error.what());
        QVERIFY2(std::string(error.what()).find(path) != std::string::npos, error.what());
    }
    QCOMPARE(store.listRuns().size(), std::size_t { 1 });
    QCOMPARE(bytes(readBytes(path)), bytes(before));
}

void TestRunStore::readOnlyOpenOfMissingFileFails()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("missing.sqlite")).toStdString();
    QVERIFY_THROWS_EXCEPTION(InputError, RunStore(path, RunStore::OpenMode::ReadOnly));
    QVERIFY(!QFile::exists(QString::fromStdString(path)));
}

// A folder where the database should be, and a row whose JSON column another program damaged:
// each an InputError naming the file (and the column), never a crash or an empty answer.
void TestRunStore::folderAndDamagedRowsAreInputErrors()
{
    QTemporaryDir dir;
    const std::string folder = dir.filePath(QStringLiteral("history.sqlite")).toStdString();
    QVERIFY(QDir().mkpath(QString::fromStdString(folder)));
    for (RunStore::OpenMode mode : { RunStore::OpenMode::ReadWrite, RunStore::OpenMode::ReadOnly }) {
        try {
            RunStore store(folder, mode);
            QFAIL("opened a folder as a run database");
        } catch (const InputError& error) {
            QCOMPARE(std::string(error.what()), folder + ": is a folder, not a run database");
        }
    }

    const std::string path = dir.filePath(QStringLiteral("damaged.sqlite")).toStdString();
    std::int64_t run = 0;
    {
        RunStore store(path);
        run = store.beginRun(newRun("run"));
        store.recordStep(run, makeStep(0));
    }
    rawExecute(path, "UPDATE steps SET rank_bubble = '[0.25, \"x' WHERE step = 0");
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    try {
        store.steps(run);
        QFAIL("read a damaged step");
    } catch (const InputError& error) {
        QCOMPARE(error.source(), path + ": run " + std::to_string(run) + ", step 0");
        QCOMPARE(error.field(), std::string("steps.rank_bubble"));
        QVERIFY2(error.reason().rfind("not a JSON array of numbers: parse error", 0) == 0, error.what());
    }
}

void TestRunStore::deleteRunCascades()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    std::int64_t ids[2] = {};
    for (std::int64_t& run : ids) {
        run = store.beginRun(newRun("run"));
        store.recordStep(run, makeStep(0));
        store.recordEval(run, { 0, 2.0, 7.4, 0.3, -1.0 });
        for (const ActionSpan& span : makeSpans(0))
            store.recordSpan(run, span);
        store.recordEvent(run, { EventLevel::Info, "x" }, "t");
        store.recordPlan(run, { 0, 1, PlanSource::Engine, makePlan() });
    }
    const std::int64_t planActions = rawCount(store, "plan_actions");
    QVERIFY(store.deleteRun(ids[0]));
    QVERIFY(!store.deleteRun(ids[0]));
    QVERIFY(!store.deleteRun(99));
    QCOMPARE(rawCount(store, "runs"), std::int64_t { 1 });
    QCOMPARE(rawCount(store, "steps"), std::int64_t { 1 });
    QCOMPARE(rawCount(store, "evals"), std::int64_t { 1 });
    QCOMPARE(rawCount(store, "action_spans"), std::int64_t { kSpansPerStep });
    QCOMPARE(rawCount(store, "events"), std::int64_t { 1 });
    QCOMPARE(rawCount(store, "plans"), std::int64_t { 1 });
    QCOMPARE(rawCount(store, "plan_actions"), planActions / 2);
    QCOMPARE(store.steps(ids[1]).size(), std::size_t { 1 });
}

void TestRunStore::unknownIdsAreInputErrors()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    try {
        store.run(42);
        QFAIL("found run 42");
    } catch (const InputError& error) {
        QVERIFY2(std::string(error.what()).find("no run with id 42") != std::string::npos, error.what());
    }
    QVERIFY(!store.findRun(42));
    QVERIFY_THROWS_EXCEPTION(InputError, store.plan(7));
    QVERIFY_THROWS_EXCEPTION(InputError, store.compare(1, 2));
}

void TestRunStore::runsOfGoneProcessesBecomeInterrupted()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        for (const char* name : { "dead pid", "rebooted", "other host", "alive" })
            store.beginRun(newRun(name));
    }
    // Above any pid_max Linux allows (2^22), so no process has it.
    rawExecute(path, "UPDATE runs SET pid = 1073741823 WHERE id = 1");
    rawExecute(path, "UPDATE runs SET boot_id = 'another boot' WHERE id = 2");
    rawExecute(path, "UPDATE runs SET host = 'elsewhere', pid = 1073741823 WHERE id = 3");
    RunStore store(path);
    QCOMPARE(store.recoveredRuns(), (std::vector<std::int64_t> { 1, 2 }));
    QCOMPARE(store.run(1).status, RunStatus::Interrupted);
    QVERIFY(store.run(1).failureReason.value_or("").find("ended without finishing") != std::string::npos);
    QCOMPARE(store.run(2).status, RunStatus::Interrupted);
    QCOMPARE(store.run(3).status, RunStatus::Running); // cannot check another machine's processes
    QCOMPARE(store.run(4).status, RunStatus::Running); // this process
    QCOMPARE(store.listRuns({ RunStatus::Interrupted, std::nullopt }).size(), std::size_t { 2 });
    QCOMPARE(store.listRuns({ std::nullopt, 1 }).at(0).id, std::int64_t { 4 }); // newest first
}

void TestRunStore::compareSummarizesBothRuns()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t a = store.beginRun(newRun("a"));
    const std::int64_t b = store.beginRun(newRun("b"));
    for (std::int64_t step = 0; step < 3; ++step) {
        store.recordStep(a, makeStep(step));
        for (const ActionSpan& span : makeSpans(step))
            store.recordSpan(a, span);
    }
    StepStats fast = makeStep(0);
    fast.tokensPerSecond = 5000.0;
    fast.bubbleFraction = 0.1;
    fast.loss = 1.5;
    store.recordStep(b, fast);
    const RunComparison comparison = store.compare(a, b);
    QCOMPARE(comparison.a.steps, std::int64_t { 3 });
    QCOMPARE(comparison.a.finalLoss.value_or(0), makeStep(2).loss);
    QCOMPARE(comparison.a.meanTokensPerSecond, (3100.0 + 3100.1 + 3100.2) / 3.0);
    // makeSpans: F of rank r lasts 20 + r µs, B 40 + r µs; stage == rank.
    QCOMPARE(comparison.a.stageKindMeanMs.size(), std::size_t { kRanks });
    QCOMPARE(comparison.a.stageKindMeanMs[3][0], 0.023);
    QCOMPARE(comparison.a.stageKindMeanMs[3][1], 0.043);
    QCOMPARE(comparison.a.stageKindMeanMs[3][2], -1.0);
    QCOMPARE(comparison.b.meanBubbleFraction, 0.1);
    QCOMPARE(comparison.b.finalLoss.value_or(0), 1.5);
    QVERIFY(comparison.b.stageKindMeanMs.empty());
    // The list's cheap summary: the same step figures, no span means.
    const RunSummary steps = store.summarizeSteps(a);
    QCOMPARE(steps.steps, comparison.a.steps);
    QCOMPARE(steps.meanTokensPerSecond, comparison.a.meanTokensPerSecond);
    QCOMPARE(steps.finalLoss, comparison.a.finalLoss);
    QVERIFY(steps.stageKindMeanMs.empty());
}

// A file written by the schema-1 tfreeze (tests/data/store/history-v1.sql) opens, migrates to the
// current version, and keeps every row of every table; its runs get empty notes. Schema 3 rebuilds
// the runs table: the runs' rows in the other tables stay theirs (deleting a run still deletes
// them), and ids of runs deleted before the migration are not given again.
void TestRunStore::version1FileMigratesKeepingEveryRow()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("v1.sqlite")).toStdString();
    const std::string dump = readBytes(TFREEZE_TEST_DATA_DIR "/store/history-v1.sql");
    QVERIFY(!dump.empty());
    rawExecute(path, dump);
    // Runs 3 to 7 were recorded and deleted before the migration.
    rawExecute(path, "UPDATE sqlite_sequence SET seq = 7 WHERE name = 'runs'");
    if (QTest::currentTestFailed())
        return;
    {
        // Read-only cannot migrate: refused, not half-read.
        QVERIFY_THROWS_EXCEPTION(InputError, RunStore(path, RunStore::OpenMode::ReadOnly));
    }
    RunStore store(path);
    QCOMPARE(store.schemaVersion(), RunStore::kSchemaVersion);
    // Counted by hand in history-v1.sql.
    const std::vector<std::pair<const char*, std::int64_t>> expectedRows = { { "runs", 2 }, { "steps", 6 },
        { "evals", 2 }, { "action_spans", 16 }, { "plans", 1 }, { "plan_actions", 12 }, { "events", 2 } };
    for (const auto& [table, rows] : expectedRows)
        QCOMPARE(rawCount(store, table), rows);
    const std::vector<RunRecord> runs = store.listRuns();
    QCOMPARE(runs.size(), std::size_t { 2 });
    QCOMPARE(runs[0].name, std::string("frozen"));
    QCOMPARE(runs[1].name, std::string("baseline"));
    for (const RunRecord& run : runs) {
        QCOMPARE(run.status, RunStatus::Finished);
        QCOMPARE(run.stepCount, std::int64_t { 3 });
        QCOMPARE(run.notes, std::string());
        QCOMPARE(run.configJson, std::string(R"({"ranks":4,"microbatches":8})"));
    }
    QCOMPARE(store.steps(1).at(2).loss, makeStep(2).loss);
    QCOMPARE(store.plans(2).size(), std::size_t { 1 });
    QVERIFY(store.setRunNotes(1, "after the migration"));
    QCOMPARE(store.run(1).notes, std::string("after the migration"));
    store.setRunStatus(2, RunStatus::Stopped, std::string("stopped by the user after step 3 of 10"));
    QCOMPARE(store.run(2).status, RunStatus::Stopped);
    QCOMPARE(store.beginRun(newRun("after")), std::int64_t { 8 });
    {
        SqliteStatement leftover = store.connection().prepare(
            "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('runs_v3', 'runs_by_status')");
        QVERIFY(leftover.step());
        QCOMPARE(leftover.int64(0), std::int64_t { 1 }); // the index again, no leftover table
    }
    QVERIFY(store.deleteRun(1));
    const std::vector<std::pair<const char*, std::int64_t>> afterDelete = { { "runs", 2 }, { "steps", 3 },
        { "evals", 1 }, { "action_spans", 8 }, { "plans", 1 }, { "plan_actions", 12 }, { "events", 1 } };
    for (const auto& [table, rows] : afterDelete)
        QCOMPARE(rawCount(store, table), rows);
    // A second open finds the current version and migrates nothing.
    RunStore again(path, RunStore::OpenMode::ReadOnly);
    QCOMPARE(again.schemaVersion(), RunStore::kSchemaVersion);
    QCOMPARE(again.run(2).status, RunStatus::Stopped);
    QCOMPARE(again.listRuns().size(), std::size_t { 2 });
}

// Several processes opening an old file at once (the studio and a tfreeze train started together):
// one migrates, the others find it done; every row is kept once.
void TestRunStore::concurrentOpensMigrateOnce()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("v1.sqlite")).toStdString();
    rawExecute(path, readBytes(TFREEZE_TEST_DATA_DIR "/store/history-v1.sql"));
    rawExecute(path, "PRAGMA journal_mode = WAL"); // as a tfreeze of schema 1 left it
    if (QTest::currentTestFailed())
        return;
    std::vector<std::thread> openers;
    std::atomic<int> failures { 0 };
    for (int i = 0; i < 4; ++i) {
        openers.emplace_back([&path, &failures] {
            try {
                RunStore store(path);
                if (store.schemaVersion() != RunStore::kSchemaVersion || store.listRuns().size() != 2)
                    ++failures;
            } catch (const std::exception& error) {
                qWarning("%s", error.what());
                ++failures;
            }
        });
    }
    for (std::thread& opener : openers)
        opener.join();
    QCOMPARE(failures.load(), 0);
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    QCOMPARE(rawCount(store, "runs"), std::int64_t { 2 });
    QCOMPARE(rawCount(store, "action_spans"), std::int64_t { 16 });
    QCOMPARE(rawCount(store, "plan_actions"), std::int64_t { 12 });
}

// Rows that lost their run before the migration (a file edited by hand, with foreign keys off) are
// not the migration's doing: it goes ahead and keeps them.
void TestRunStore::orphanRowsBeforeAMigrationDoNotBlockIt()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("v1.sqlite")).toStdString();
    rawExecute(path, readBytes(TFREEZE_TEST_DATA_DIR "/store/history-v1.sql"));
    rawExecute(path, "INSERT INTO events (run, level, time, message) VALUES (99, 'info', 't', 'of no run')");
    if (QTest::currentTestFailed())
        return;
    RunStore store(path);
    QCOMPARE(store.schemaVersion(), RunStore::kSchemaVersion);
    QCOMPARE(rawCount(store, "events"), std::int64_t { 3 });
    QCOMPARE(store.listRuns().size(), std::size_t { 2 });
    // The integrity check names them; with them gone the file is sound.
    QCOMPARE(store.integrityProblems(),
        (std::vector<std::string> { "events: 1 row names a row of runs that does not exist" }));
    store.connection().execute("DELETE FROM events WHERE run = 99");
    QCOMPARE(store.integrityProblems(), std::vector<std::string>());
}

// Rows of a run deleted with foreign keys off (by hand, or by another program) are counted per
// table; SQLite's own check runs first and finds a damaged page that no query of ours reads.
void TestRunStore::integrityProblemsCountOrphansAndFindDamage()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    writeTwoRuns(path);
    QCOMPARE(RunStore(path).integrityProblems(), std::vector<std::string>());
    rawExecute(path, "DELETE FROM runs WHERE id = 1"); // a raw connection: foreign keys off
    {
        RunStore store(path, RunStore::OpenMode::ReadOnly);
        const std::int64_t spans = rawCount(store, "action_spans") / 2;
        QCOMPARE(store.integrityProblems(),
            (std::vector<std::string> {
                "action_spans: " + std::to_string(spans) + " rows name a row of runs that does not exist",
                "steps: 30 rows name a row of runs that does not exist" }));
    }
    // A page in the middle of the file overwritten: SQLite's check reports it (and nothing is
    // asked of the keys of a damaged file).
    std::string bytes = readBytes(path);
    QVERIFY(bytes.size() > 100000);
    for (std::size_t i = 90000; i < 92000; ++i)
        bytes[i] = static_cast<char>(i * 37 % 256);
    writeBytes(path, bytes);
    const std::vector<std::string> problems = RunStore(path, RunStore::OpenMode::ReadOnly).integrityProblems();
    QVERIFY(!problems.empty());
    for (const std::string& problem : problems)
        QVERIFY2(problem.find("runs that does not exist") == std::string::npos, problem.c_str());
}

void TestRunStore::renameAndNotesRoundTrip_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("notes");
    QTest::addRow("plain") << QStringLiteral("baseline 2") << QStringLiteral("lr 3e-3, 300 steps");
    QTest::addRow("quotes") << QStringLiteral("it's \"frozen\"") << QStringLiteral("'); DROP TABLE runs; --");
    QTest::addRow("non-ASCII") << QStringLiteral("ρ = 0.9 Läufe") << QStringLiteral("冻结 — 日本語, emoji \U0001F9CA");
    QTest::addRow("multi-line and empty notes") << QStringLiteral("x") << QString();
    QTest::addRow("multi-line notes") << QStringLiteral("y") << QStringLiteral("line 1\nline 2\n");
}

void TestRunStore::renameAndNotesRoundTrip()
{
    QFETCH(QString, name);
    QFETCH(QString, notes);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        const std::int64_t run = store.beginRun(newRun("before"));
        const std::int64_t other = store.beginRun(newRun("other"));
        QVERIFY(store.setRunNotes(other, "untouched"));
        QVERIFY(store.renameRun(run, name.toStdString()));
        QVERIFY(store.setRunNotes(run, notes.toStdString()));
    }
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    QCOMPARE(QString::fromStdString(store.run(1).name), name);
    QCOMPARE(QString::fromStdString(store.run(1).notes), notes);
    QCOMPARE(store.run(2).name, std::string("other"));
    QCOMPARE(store.run(2).notes, std::string("untouched"));
    QCOMPARE(QString::fromStdString(store.listRuns().at(1).notes), notes);
    QCOMPARE(store.listRuns().size(), std::size_t { 2 });
}

void TestRunStore::renameAndNotesOfUnknownRunReturnFalse()
{
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    store.beginRun(newRun("only"));
    QVERIFY(!store.renameRun(2, "nobody"));
    QVERIFY(!store.setRunNotes(2, "nothing"));
    QCOMPARE(store.listRuns().size(), std::size_t { 1 });
    QCOMPARE(store.run(1).name, std::string("only"));
}

void TestRunStore::readOnlyStoreRefusesRenameAndNotes()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("h.sqlite")).toStdString();
    {
        RunStore store(path);
        store.beginRun(newRun("kept"));
    }
    const std::string before = readBytes(path);
    RunStore store(path, RunStore::OpenMode::ReadOnly);
    for (int write = 0; write < 2; ++write) {
        try {
            if (write == 0)
                store.renameRun(1, "renamed");
            else
                store.setRunNotes(1, "noted");
            QFAIL("wrote through a read-only store");
        } catch (const StoreError& error) {
            QCOMPARE(error.code(), SQLITE_READONLY);
        }
    }
    QCOMPARE(store.run(1).name, std::string("kept"));
    QCOMPARE(store.run(1).notes, std::string());
    QCOMPARE(bytes(readBytes(path)), bytes(before));
}

// A file damaged on disk or cut short: every read and write is a DamagedDatabaseError (an
// InputError: the CLI's exit code 2) that names the file, says it is damaged and how to rescue it,
// and leaves the file as it was.
void TestRunStore::damagedFileIsAnInputErrorAndUnchanged_data()
{
    QTest::addColumn<int>("offset");
    QTest::addColumn<int>("count"); // bytes overwritten at offset; 0: the file is cut to offset bytes, -1: to its end
    // Whether every operation meets the damage: 2,000 bytes hit only the tables stored there.
    QTest::addColumn<bool>("everyOperationFails");
    QTest::newRow("2,000 bytes of page 2 overwritten") << 4096 << 2000 << false;
    QTest::newRow("every page after the first overwritten") << 4096 << -1 << true;
    QTest::newRow("cut to 20,000 bytes") << 20000 << 0 << true;
    QTest::newRow("cut inside the first page") << 100 << 0 << true;
}

void TestRunStore::damagedFileIsAnInputErrorAndUnchanged()
{
    QFETCH(int, offset);
    QFETCH(int, count);
    QFETCH(bool, everyOperationFails);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("damaged.sqlite")).toStdString();
    writeTwoRuns(path);
    std::string content = readBytes(path);
    QVERIFY(content.size() > 100'000);
    if (count == 0)
        content.resize(static_cast<std::size_t>(offset));
    if (count < 0)
        count = static_cast<int>(content.size()) - offset;
    for (int i = 0; i < count; ++i)
        content[static_cast<std::size_t>(offset + i)] = static_cast<char>((i * 37 + 11) % 256);
    writeBytes(path, content);

    using Mode = RunStore::OpenMode;
    const std::vector<std::pair<const char*, std::function<void()>>> operations = {
        { "listRuns", [&] { RunStore(path, Mode::ReadOnly).listRuns(); } },
        { "steps", [&] { RunStore(path, Mode::ReadOnly).steps(2); } },
        { "spans", [&] { RunStore(path, Mode::ReadOnly).spans(2, 5); } },
        { "compare", [&] { RunStore(path, Mode::ReadOnly).compare(1, 2); } },
        { "renameRun", [&] { RunStore(path).renameRun(1, "renamed"); } },
        { "setRunNotes", [&] { RunStore(path).setRunNotes(1, "noted"); } },
        { "deleteRun", [&] { RunStore(path).deleteRun(1); } },
    };
    int failed = 0;
    for (const auto& [name, work] : operations) {
        const std::string before = readBytes(path);
        const std::optional<std::string> message = damageReported(work);
        QVERIFY2(message.has_value() || !everyOperationFails, name);
        if (!message)
            continue; // it met no damaged page (and may have written)
        ++failed;
        QVERIFY2(message->rfind(path + ": cannot ", 0) == 0, message->c_str());
        QVERIFY2(message->find("database disk image is malformed (the run database is damaged; tfreeze left it as "
                               "it is. `sqlite3 "
                     + path + " .recover")
                != std::string::npos,
            message->c_str());
        QCOMPARE(bytes(readBytes(path)), bytes(before));
    }
    QVERIFY(failed > 0);
}

// A device or a FIFO where the database should be: refused before SQLite opens it (on a device
// SQLite fails with an I/O error and leaves a "-journal" beside it; a FIFO would block the open).
void TestRunStore::notARegularFileIsRefusedBeforeOpening()
{
    QTemporaryDir dir;
    const std::string fifo = dir.filePath(QStringLiteral("fifo.sqlite")).toStdString();
    QCOMPARE(mkfifo(fifo.c_str(), 0600), 0);
    const std::vector<std::pair<std::string, std::string>> paths = {
        { fifo, "a FIFO (named pipe)" },
        { "/dev/null", "a character device" },
    };
    for (const auto& [path, kind] : paths) {
        for (RunStore::OpenMode mode : { RunStore::OpenMode::ReadWrite, RunStore::OpenMode::ReadOnly }) {
            try {
                RunStore store(path, mode);
                QFAIL("opened a path that is not a regular file");
            } catch (const InputError& error) {
                QCOMPARE(std::string(error.what()),
                    path + ": is " + kind + ", not a run database (which is a regular file); it was left unchanged");
            }
        }
    }
    QVERIFY(!QFile::exists(QString::fromStdString(fifo + "-journal")));
    QVERIFY(!QFile::exists(QString::fromStdString(fifo + "-wal")));
}

void TestRunStore::renameAndNotesRefuseBadText_data()
{
    QTest::addColumn<bool>("isName");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("reason");
    const auto name = [](const char* row, const QByteArray& text, const char* reason) {
        QTest::newRow(row) << true << text << QString::fromUtf8(reason);
    };
    name("empty", "", "is empty: a run keeps a name to find it by");
    name("spaces", "   ", "is only white space");
    name("ideographic space", "\xE3\x80\x80 ", "is only white space");
    name("line break", "a\nb", "control character U+000A (a line break) at offset 1: a name is one line");
    name("tab", "a\tb", "control character U+0009 (a tab) at offset 1");
    name("escape sequence", "\x1B[2Jx", "control character U+001B (escape) at offset 0");
    name("C1 control", "x\xC2\x9B", "control character U+009B at offset 1");
    name("line separator", "a\xE2\x80\xA8", "control character U+2028");
    name("invalid byte", "bad\xFF", "not valid UTF-8: byte 0xFF at offset 3");
    name("overlong slash", "\xC0\xAF", "not valid UTF-8: byte 0xC0 at offset 0");
    name("surrogate", "x\xED\xA0\x80", "not valid UTF-8: byte 0xED at offset 1");
    name("above U+10FFFF", "\xF4\x90\x80\x80", "not valid UTF-8: byte 0xF4 at offset 0");
    name("cut short", "ab\xE2\x82", "not valid UTF-8: byte 0xE2 at offset 2");
    const auto notes = [](const char* row, const QByteArray& text, const char* reason) {
        QTest::newRow(row) << false << text << QString::fromUtf8(reason);
    };
    notes("notes: carriage return", "a\r\nb",
        "control character U+000D (a carriage return) at offset 1: notes may hold line breaks and tabs");
    notes("notes: bell", "ding\x07", "control character U+0007 at offset 4");
    notes("notes: invalid byte", "\xFE", "not valid UTF-8: byte 0xFE at offset 0");
}

void TestRunStore::renameAndNotesRefuseBadText()
{
    QFETCH(bool, isName);
    QFETCH(QByteArray, text);
    QFETCH(QString, reason);
    QTemporaryDir dir;
    RunStore store(dir.filePath(QStringLiteral("h.sqlite")).toStdString());
    const std::int64_t run = store.beginRun(newRun("kept"));
    QVERIFY(store.setRunNotes(run, "kept notes"));
    try {
        if (isName)
            store.renameRun(run, text.toStdString());
        else
            store.setRunNotes(run, text.toStdString());
        QFAIL("stored text that should be refused");
    } catch (const InputError& error) {
        QCOMPARE(error.source(), std::string(isName ? "run name" : "run notes"));
        QVERIFY2(QString::fromStdString(error.reason()).contains(reason), error.what());
    }
    QCOMPARE(store.run(run).name, std::string("kept"));
    QCOMPARE(store.run(run).notes, std::string("kept notes"));
}

void TestRunStore::nameAndNotesChecksAcceptPrintableText()
{
    for (const char* name : { "x", " padded ", "ρ = 0.9 Läufe", "冻结 \xF0\x9F\xA7\x8A", "it's \"frozen\"" })
        checkRunName(name);
    for (const char* notes : { "", "line 1\nline 2\n", "a\tb", "冻结 — 日本語", "  " })
        checkRunNotes(notes);
}

QTEST_GUILESS_MAIN(TestRunStore)
#include "tst_runstore.moc"
