#include "core/export/chrome_trace_export.h"
#include "core/export/gzip_stream.h"
#include "core/export/trace_import.h"
#include "core/plan/pipeline_dag.h"

#include "trace_test_support.h"

#include <QtTest>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

using namespace tfreeze;
using namespace tfreeze::test;

namespace {

// The 1F1B, P = 2, M = 2 run of tests/data/export/make_traces.py: each action's durations in µs
// in the two steps recorded (the median of two is their mean).
const std::map<std::string, std::pair<double, double>> kTinyDurationsUs {
    { "0F0", { 1000, 1200 } },
    { "0F1", { 1100, 1100 } },
    { "0B0", { 2000, 2400 } },
    { "0B1", { 2100, 2300 } },
    { "1F0", { 900, 1100 } },
    { "1B0", { 1900, 1900 } },
    { "1F1", { 1000, 1000 } },
    { "1B1", { 2000, 2200 } },
};

QStringList actionNames(const Profile& profile)
{
    QStringList names;
    for (const Action& action : profile.actions())
        names << QString::fromStdString(std::to_string(action.rank) + ":" + actionName(action));
    return names;
}

const QStringList kTinyOrder { QStringLiteral("0:0F0"), QStringLiteral("0:0F1"), QStringLiteral("0:0B0"),
    QStringLiteral("0:0B1"), QStringLiteral("1:1F0"), QStringLiteral("1:1B0"), QStringLiteral("1:1F1"),
    QStringLiteral("1:1B1") };

std::string dataFile(const char* name) { return kDataDir + "/" + name; }

// A µs-rounded timeline (each span's ends rounded separately) is within 1 µs of the exact one.
bool withinRounding(double gotMs, double wantMs) { return std::abs(gotMs - wantMs) <= 0.001 + 1e-9; }

} // namespace

class TestTraceImport : public QObject {
    Q_OBJECT

private slots:
    void importsTinyTrace_data();
    void importsTinyTrace();
    void traceStartingMidBatch();
    void fitsFreezeRatiosFromArgs();
    void frozenFractionForPlainTraces();
    void roundTripThroughExport_data();
    void roundTripThroughExport();
    void badTrace_data();
    void badTrace();
    void badFrozenFraction();
    void gzipStreams();
    void damagedGzipHeaderIsNotTruncation();
};

void TestTraceImport::importsTinyTrace_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("rankKey");
    QTest::addColumn<QString>("rank0");
    QTest::newRow("object form, X, pid per rank")
        << QStringLiteral("object-1f1b.json") << static_cast<int>(TraceRankKey::Process) << QStringLiteral("pid 7");
    QTest::newRow("gzip, .gz") << QStringLiteral("object-1f1b.json.gz") << static_cast<int>(TraceRankKey::Process)
                               << QStringLiteral("pid 7");
    QTest::newRow("gzip named .json") << QStringLiteral("gzip-named-json.json")
                                      << static_cast<int>(TraceRankKey::Process) << QStringLiteral("pid 7");
    QTest::newRow("bare array, B/E, string pids")
        << QStringLiteral("array-begin-end.json") << static_cast<int>(TraceRankKey::Process)
        << QStringLiteral("pid \"worker-b\"");
    QTest::newRow("thread per rank, array without ']'")
        << QStringLiteral("threads-unterminated.json") << static_cast<int>(TraceRankKey::Thread)
        << QStringLiteral("pid 1, tid 11");
}

void TestTraceImport::importsTinyTrace()
{
    QFETCH(QString, file);
    QFETCH(int, rankKey);
    QFETCH(QString, rank0);
    const TraceImport imported = importTraceProfile(kDataDir + "/" + file.toStdString());
    const ScheduleShape& shape = imported.profile.schedule().shape();
    QCOMPARE(scheduleKindName(shape.kind), std::string("Custom"));
    QCOMPARE(shape.ranks, 2);
    QCOMPARE(shape.microbatches, 2);
    QCOMPARE(shape.stagesPerRank, 1);
    QCOMPARE(actionNames(imported.profile), kTinyOrder);
    QCOMPARE(static_cast<int>(imported.rankKey), rankKey);
    QCOMPARE(QString::fromStdString(imported.rankLabels.at(0)), rank0);
    QCOMPARE(imported.batches, 2);
    QCOMPARE(imported.actionEventCount, std::size_t { 16 });
    QVERIFY(!imported.freezeFromTrace);
    const std::vector<Action> actions = imported.profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const auto [first, second] = kTinyDurationsUs.at(actionName(actions[i]));
        const ActionCost& cost = imported.profile.costs()[i];
        QCOMPARE(cost.maxMs, (first + second) / 2.0 / 1000.0);
        QCOMPARE(cost.minMs, cost.maxMs); // no freezing information, default frozen fraction 1
    }
}

void TestTraceImport::traceStartingMidBatch()
{
    // Each rank's trace begins with the tail of an earlier batch: those events add samples but do
    // not set the order.
    const TraceImport imported = importTraceProfile(dataFile("starts-mid-batch.json"));
    QCOMPARE(actionNames(imported.profile), kTinyOrder);
    QCOMPARE(imported.batches, 3);
    const std::map<std::string, double> expectedMs {
        { "0B0", 2.2 }, // 2200, 2000, 2400 µs
        { "0B1", 2.2 }, // 2200, 2100, 2300
        { "1F1", 1.0 }, // 1000 three times
        { "1B1", 2.1 }, // 2100, 2000, 2200
        { "0F0", 1.1 }, // 1000, 1200: two samples
    };
    const std::vector<Action> actions = imported.profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const auto it = expectedMs.find(actionName(actions[i]));
        if (it != expectedMs.end())
            QCOMPARE(imported.profile.costs()[i].maxMs, it->second);
    }
}

void TestTraceImport::fitsFreezeRatiosFromArgs()
{
    // Step 0 at ratio 0 (args frozen 0 of 4), step 1 with every B at ratio 1 taking 40 % of it.
    const TraceImport imported = importTraceProfile(dataFile("freeze-args.json"));
    QVERIFY(imported.freezeFromTrace);
    const std::vector<Action> actions = imported.profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const ActionCost& cost = imported.profile.costs()[i];
        const double unfrozenMs = kTinyDurationsUs.at(actionName(actions[i])).first / 1000.0;
        const QByteArray name = QByteArray::fromStdString(actionName(actions[i]));
        QVERIFY2(std::abs(cost.maxMs - unfrozenMs) < 1e-12, name);
        const double expectedMin = isFreezable(actions[i].kind) ? 0.4 * unfrozenMs : unfrozenMs;
        QVERIFY2(std::abs(cost.minMs - expectedMin) < 1e-12, name);
    }
}

void TestTraceImport::frozenFractionForPlainTraces()
{
    TraceImportOptions options;
    options.frozenFraction = 0.25;
    const TraceImport imported = importTraceProfile(dataFile("object-1f1b.json"), options);
    const std::vector<Action> actions = imported.profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const ActionCost& cost = imported.profile.costs()[i];
        QCOMPARE(cost.minMs, isFreezable(actions[i].kind) ? 0.25 * cost.maxMs : cost.maxMs);
    }
}

void TestTraceImport::roundTripThroughExport_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::newRow("1F1B 4x8") << static_cast<int>(ScheduleKind::OneFOneB) << 4 << 8 << 1;
    QTest::newRow("GPipe 3x3") << static_cast<int>(ScheduleKind::GPipe) << 3 << 3 << 1;
    QTest::newRow("ZBH1 3x6 (I/W)") << static_cast<int>(ScheduleKind::ZBH1) << 3 << 6 << 1;
    QTest::newRow("Interleaved 2x4x2") << static_cast<int>(ScheduleKind::Interleaved1F1B) << 2 << 4 << 2;
    QTest::newRow("ZBV 2x4") << static_cast<int>(ScheduleKind::ZBV) << 2 << 4 << 2;
    QTest::newRow("one rank, two stages") << static_cast<int>(ScheduleKind::Interleaved1F1B) << 1 << 2 << 2;
}

void TestTraceImport::roundTripThroughExport()
{
    QFETCH(int, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const Profile profile
        = jitteredProfile(static_cast<ScheduleKind>(kind), ranks, microbatches, stagesPerRank, 17 + ranks);
    // Unfrozen and fully frozen steps alternate: the import fits max and min from the two.
    TraceExportInput input;
    for (int step = 0; step < 4; ++step) {
        const std::vector<ActionSpan> spans = simulatedStep(profile, step, step % 2 == 0 ? 0.0 : 1.0);
        input.spans.insert(input.spans.end(), spans.begin(), spans.end());
    }
    // A plan's timeline repeats every action name in processes the import must skip.
    const PipelineDag dag(profile.schedule());
    const Timeline timeline = simulateTimeline(dag, profile.minDurations());
    FreezePlan plan { profile, {}, 0.0, timeline.batchMs, 0.0, {}, {}, 0.0 };
    for (std::size_t v = 0; v < dag.nodeCount(); ++v)
        plan.actions.push_back({ 1.0, timeline.startMs[v], timeline.endMs[v] });
    input.plan = &plan;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("run.trace.json.gz")).toStdString();
    writeChromeTraceFile(input, path);

    const TraceImport imported = importTraceProfile(path);
    QCOMPARE(static_cast<int>(imported.rankKey), static_cast<int>(TraceRankKey::ProcessName));
    QCOMPARE(imported.batches, 4);
    QCOMPARE(imported.actionEventCount, 4 * profile.costs().size());
    QVERIFY(imported.freezeFromTrace);
    const ScheduleShape& shape = imported.profile.schedule().shape();
    QCOMPARE(shape.ranks, ranks);
    QCOMPARE(shape.microbatches, microbatches);
    QCOMPARE(shape.stagesPerRank, stagesPerRank);
    QVERIFY(imported.profile.schedule().rankOrders() == profile.schedule().rankOrders());
    const std::vector<Action> actions = profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const ActionCost& got = imported.profile.costs()[i];
        const ActionCost& want = profile.costs()[i];
        const QByteArray what = QByteArray::fromStdString(actionName(actions[i])) + ": max "
            + QByteArray::number(got.maxMs) + " vs " + QByteArray::number(want.maxMs) + ", min "
            + QByteArray::number(got.minMs) + " vs " + QByteArray::number(want.minMs);
        QVERIFY2(withinRounding(got.maxMs, want.maxMs) && withinRounding(got.minMs, want.minMs), what.constData());
    }
}

void TestTraceImport::badTrace_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("reason");
    const auto row = [](const char* file, const char* field, const char* reason) {
        QTest::newRow(file) << QString::fromUtf8(file) << QString::fromUtf8(field) << QString::fromUtf8(reason);
    };
    row("no-such-file.json", "", "cannot open file: No such file or directory");
    row(".", "", "cannot read file");
    row("bad-not-json.json", "", "not valid JSON: ");
    row("bad-nan.json", "", "not valid JSON: ");
    row("bad-wrong-root.json", "", "expected a Chrome trace");
    row("bad-truncated.json.gz", "", "truncated gzip data");
    // object-1f1b.json.gz with FEXTRA set in its flags: the "extra field" would run past the end.
    row("bad-gzip-header.json.gz", "",
        "damaged gzip header or a file cut off inside it: the header at offset 0 does not end within the file's 449 "
        "bytes (flags 0x0C: an extra field of 25199 bytes, a file name)");
    row("bad-events-not-array.json", "traceEvents", "must be an array (got object)");
    row("bad-ts-string.json", "traceEvents[2].ts", "must be a number (got string)");
    row("bad-pid-object.json", "traceEvents[3].pid", "must be a number or a string (got object)");
    row("bad-negative-dur.json", "traceEvents[1].dur", "must be ≥ 0 (got -5)");
    row("bad-overlap.json", "traceEvents[1]", "0F1 at ts 10 overlaps 0F0 (traceEvents[0])");
    row("bad-no-actions.json", "traceEvents",
        "expected X or B/E events named like PyTorch pipelining actions, {stage}{F|B|I|W}{microbatch}, e.g. 2F0");
    row("bad-unmatched-b.json", "traceEvents[8]", "B event \"0F0\" has no matching E event");
    row("bad-unmatched-e.json", "traceEvents[8]", "E event with no open B event on pid 0, tid 0");
    row("bad-mismatched-e.json", "traceEvents[1].name", "E event \"0B0\" closes \"0F0\"");
    row("bad-missing-backward.json", "actions", "stage 1 microbatch 1 has no backward");
    row("bad-deadlock.json", "order", "deadlocks: its actions wait on each other in a cycle: 1B1 (rank 1) -> 1F1");
    row("bad-ranks-ambiguous.json", "traceEvents[7]", "cannot tell the ranks apart: stage 1");
    row("bad-uneven-stages.json", "traceEvents", "3 stages on 2 ranks");
    row("bad-event-not-object.json", "traceEvents[0]", "must be an object (got number)");
    row("bad-name-number.json", "traceEvents[0].name", "must be a string (got number)");
    row("bad-ph-missing.json", "traceEvents[1].ph", "is missing");
    row("bad-args-array.json", "traceEvents[0].args", "must be an object (got array)");
    row("bad-frozen-over-total.json", "traceEvents[2].args.frozen", "is greater than args.total (5 > 3)");
    row("bad-frozen-fraction.json", "traceEvents[2].args.frozen", "must be an integer ≥ 0 (got 1.5)");
    row("bad-freeze-ratio.json", "traceEvents[2].args.freeze_ratio", "must be a number in [0, 1] (got 1.5)");
    row("bad-e-before-b.json", "traceEvents[1].ts", "E event ends before its B event (traceEvents[0]) begins: 5 < 10");
    row("bad-ts-infinite.json", "", "not valid JSON: number overflow");
    row("bad-twice-in-batch.json", "traceEvents[2]",
        "0F1 appears twice in batch 1 of rank 0 (pid 0) (also traceEvents[1]); batches begin at 0F0");
    row("bad-batch-order.json", "traceEvents[5]",
        "rank 0 (pid 0) runs 0B0 at position 2 of batch 2 but 0F1 there in batch 1: every batch must run the same "
        "order");
    row("bad-no-complete-batch.json", "traceEvents",
        "rank 0 (pid 0) has no complete batch: none of its 2 batches (each beginning at 0F0) holds all of its 4 "
        "actions");
}

void TestTraceImport::badTrace()
{
    QFETCH(QString, file);
    QFETCH(QString, field);
    QFETCH(QString, reason);
    const std::string path = kDataDir + "/" + file.toStdString();
    const auto error = inputErrorOf([&] { importTraceProfile(path); });
    QVERIFY2(error.has_value(), "expected an InputError");
    QCOMPARE(QString::fromStdString(error->source()), QString::fromStdString(path));
    QVERIFY2(QString::fromUtf8(error->what()).startsWith(QString::fromStdString(path)), error->what());
    QCOMPARE(QString::fromStdString(error->field()), field);
    QVERIFY2(QString::fromStdString(error->reason()).contains(reason), error->what());
}

void TestTraceImport::badFrozenFraction()
{
    TraceImportOptions options;
    options.frozenFraction = 1.5;
    const auto error = inputErrorOf([&] { importTraceProfile(dataFile("object-1f1b.json"), options); });
    QVERIFY(error.has_value());
    QCOMPARE(error->source(), std::string("--frozen-fraction"));
}

void TestTraceImport::gzipStreams()
{
    std::ifstream in(dataFile("object-1f1b.json"), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    QVERIFY(text.size() > 1000);
    // Two members, as `cat a.gz b.gz` makes, then zero padding: one stream of the whole text.
    const std::string twoMembers = gzip(text.substr(0, 700)) + gzip(text.substr(700)) + std::string(8, '\0');
    QCOMPARE(actionNames(importTraceProfileData(twoMembers, "two.gz").profile), kTinyOrder);

    const auto reasonOf = [](const std::string& bytes, std::size_t limit) {
        TraceImportOptions options;
        options.maxDecompressedBytes = limit;
        const auto error = inputErrorOf([&] { importTraceProfileData(bytes, "t.gz", options); });
        return error ? QString::fromStdString(error->reason()) : QString();
    };
    QVERIFY(reasonOf(gzip(text) + "junk", 1 << 20).startsWith(QStringLiteral("unexpected bytes after the end")));
    QVERIFY(reasonOf(gzip(text), 1000).startsWith(QStringLiteral("gzip content is larger than")));
    std::string corrupt = gzip(text);
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5A);
    const QString corruptReason = reasonOf(corrupt, 1 << 20);
    // A flipped bit shows as bad deflate data or, if the stream still decodes, a CRC mismatch.
    QVERIFY2(corruptReason.startsWith(QStringLiteral("corrupt gzip data: ")), qPrintable(corruptReason));
}

// A damaged header, a cut-off file and damaged data each say which they are.
void TestTraceImport::damagedGzipHeaderIsNotTruncation()
{
    std::ifstream in(dataFile("object-1f1b.json"), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string good = gzip(text); // a 10-byte header: magic, method 8, flags 0
    const auto reasonOf = [](const std::string& bytes, const std::string& source = "t.json.gz") {
        const auto error = inputErrorOf([&] { importTraceProfileData(bytes, source); });
        return error ? QString::fromStdString(error->reason()) : QString();
    };
    const auto with = [&good](std::size_t at, char byte) {
        std::string bytes = good;
        bytes[at] = byte;
        return bytes;
    };
    QCOMPARE(reasonOf(with(2, 7)), QStringLiteral("damaged gzip header: unknown compression method"));
    QCOMPARE(reasonOf(with(3, '\xE0')), QStringLiteral("damaged gzip header: unknown header flags set"));
    // FEXTRA with a length of 65,535 bytes: the header would end past the end of the file.
    const std::string longExtra = good.substr(0, 3) + '\x04' + good.substr(4, 6) + "\xFF\xFF" + good.substr(10);
    QCOMPARE(reasonOf(longExtra),
        QString::fromStdString("damaged gzip header or a file cut off inside it: the header at offset 0 does not end "
                               "within the file's "
            + std::to_string(longExtra.size()) + " bytes (flags 0x04: an extra field of 65535 bytes)"));
    QVERIFY(reasonOf(good.substr(0, 6)).startsWith(QStringLiteral("damaged gzip header or a file cut off inside it")));
    // After the header: cut short, or the CRC-32 of the content does not match the trailer's.
    QVERIFY(reasonOf(good.substr(0, good.size() / 2)).startsWith(QStringLiteral("truncated gzip data: ")));
    QCOMPARE(reasonOf(with(good.size() - 8, static_cast<char>(good[good.size() - 8] ^ 0x01))),
        QStringLiteral("corrupt gzip data: incorrect data check (the content's CRC-32 differs from the one the file "
                       "stores: the data is damaged)"));
    // Damaged magic bytes: the file reads as text, and the error says it may be gzip with a bad header.
    QVERIFY2(reasonOf(with(0, 0))
                 .startsWith(QStringLiteral(
                     "not gzip (it begins with the bytes 00 8b, not gzip's 1f 8b: a damaged gzip header?), "
                     "and not valid JSON: ")),
        qPrintable(reasonOf(with(0, 0))));
    QVERIFY(reasonOf("{", "t.json.gz").startsWith(QStringLiteral("not gzip (it begins with the bytes 7b, ")));
    // Text that is not named .gz and does not begin like gzip is only bad JSON.
    QVERIFY(reasonOf("{", "t.json").startsWith(QStringLiteral("not valid JSON: ")));
}

QTEST_GUILESS_MAIN(TestTraceImport)
#include "tst_traceimport.moc"
