#include "core/plan/plan_error.h"
#include "core/plan/profile_io.h"
#include "core/plan/synthetic_profile.h"

#include "plan_test_support.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

using namespace tfreeze;
using namespace tfreeze::test;

namespace {

const std::string kDataDir = TFREEZE_TEST_DATA_DIR;

// Costs that do not survive a round trip through fewer than 17 significant digits.
std::vector<ActionCost> awkwardCosts(const PipelineSchedule& schedule)
{
    std::vector<ActionCost> costs;
    std::size_t i = 0;
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& action : order) {
            const double maxMs = 1.0 / 3.0 + 0.1 * static_cast<double>(i) + 1e-13 * static_cast<double>(i % 7);
            const double minMs = isFreezable(action.kind) ? maxMs * 0.3 : maxMs;
            costs.push_back({ maxMs, minMs });
            ++i;
        }
    }
    return costs;
}

// Rank 0 of a GPipe order runs its backwards in reverse: a legal order no generator makes.
PipelineSchedule customSchedule()
{
    const ScheduleShape gpipe = ScheduleShape { ScheduleKind::GPipe, 3, 4 };
    std::vector<std::vector<Action>> orders = PipelineSchedule::generate(gpipe).rankOrders();
    std::reverse(orders[0].begin() + 4, orders[0].end());
    ScheduleShape custom = gpipe;
    custom.kind = ScheduleKind::Custom;
    return PipelineSchedule::fromRankOrders(custom, std::move(orders), "test");
}

void compareProfiles(const Profile& actual, const Profile& expected)
{
    const ScheduleShape& a = actual.schedule().shape();
    const ScheduleShape& e = expected.schedule().shape();
    QCOMPARE(scheduleKindName(a.kind), scheduleKindName(e.kind));
    QCOMPARE(a.ranks, e.ranks);
    QCOMPARE(a.microbatches, e.microbatches);
    QCOMPARE(a.stagesPerRank, e.stagesPerRank);
    QCOMPARE(actual.schedule().splitBackward(), expected.schedule().splitBackward());
    QCOMPARE(actual.actions().size(), expected.actions().size());
    for (std::size_t i = 0; i < expected.actions().size(); ++i) {
        QVERIFY2(actual.actions()[i] == expected.actions()[i], actionName(expected.actions()[i]).c_str());
        // Exact: the writer must emit every double so that it reads back bit for bit.
        COMPARE_EXACTLY(actual.costs()[i].maxMs, expected.costs()[i].maxMs);
        COMPARE_EXACTLY(actual.costs()[i].minMs, expected.costs()[i].minMs);
    }
    QCOMPARE(actual.processors(), expected.processors());
    COMPARE_EXACTLY(actual.transferMs(), expected.transferMs());
    QCOMPARE(actual.allOrNothingStages(), expected.allOrNothingStages());
}

} // namespace

class TestProfileIo : public QObject {
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void writerLayout();
    void readsRanksInterleavedInTheFile();
    void readsCustomSplitOrder();
    void readsExampleResource();
    void badFile_data();
    void badFile();
    void badProfile_data();
    void badProfile();
    void nonFreezableMinIsMax();
    void durationLimit();
    void unknownKeyQuoted();
    void unreadableFile();
    void unwritableFile();
};

void TestProfileIo::roundTrip_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");

    QTest::newRow("GPipe P2 M3") << int(ScheduleKind::GPipe) << 2 << 3 << 1;
    QTest::newRow("1F1B P4 M8") << int(ScheduleKind::OneFOneB) << 4 << 8 << 1;
    QTest::newRow("Interleaved P2 M4 V2") << int(ScheduleKind::Interleaved1F1B) << 2 << 4 << 2;
    QTest::newRow("ZBH1 P4 M8 (split)") << int(ScheduleKind::ZBH1) << 4 << 8 << 1;
    QTest::newRow("ZBV P2 M4 (split)") << int(ScheduleKind::ZBV) << 2 << 4 << 2;
    QTest::newRow("custom order") << int(ScheduleKind::Custom) << 3 << 4 << 1;
}

void TestProfileIo::roundTrip()
{
    QFETCH(int, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);

    const auto scheduleKind = static_cast<ScheduleKind>(kind);
    const PipelineSchedule schedule = scheduleKind == ScheduleKind::Custom
        ? customSchedule()
        : PipelineSchedule::generate(ScheduleShape { scheduleKind, ranks, microbatches, stagesPerRank });
    Profile written(schedule, awkwardCosts(schedule));
    // The hand-over time between ranks rides along (an awkward double, like the costs).
    if (ranks > 2)
        written.setTransferMs(0.1 + 1.0 / 3.0);
    // And the stages planned all or nothing (given unsorted and repeated, kept sorted and once).
    if (schedule.stageCount() > 2)
        written.setAllOrNothingStages({ schedule.stageCount() - 1, 0, 0 });
    if (schedule.stageCount() > 2)
        QCOMPARE(written.allOrNothingStages(), (std::vector<int> { 0, schedule.stageCount() - 1 }));

    compareProfiles(profileThroughJson(written, "round trip"), written);

    // And once more through a file: the file functions share the stream functions' format.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("profile.json")).toStdString();
    writeProfileFile(written, path);
    compareProfiles(readProfileFile(path), written);
}

void TestProfileIo::writerLayout()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 2, 2 });
    const Profile profile(schedule, std::vector<ActionCost>(schedule.actionCount(), ActionCost { 2.0, 1.0 }));
    std::ostringstream out;
    writeProfileJson(profile, out);
    const std::string text = out.str();
    QVERIFY2(text.find("\"format\": \"tfreeze-profile/1\"") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"schedule\": {\"kind\": \"1F1B\", \"ranks\": 2, \"microbatches\": 2, \"stages_per_rank\": 1}")
            != std::string::npos,
        text.c_str());
    // One action a line, so that a diff of two profiles shows which actions changed.
    QVERIFY2(text.find("    {\"rank\": 0, \"stage\": 0, \"microbatch\": 0, \"kind\": \"F\", \"max_ms\": 2.0, "
                       "\"min_ms\": 2.0},\n")
            != std::string::npos,
        text.c_str());
    QCOMPARE(std::count(text.begin(), text.end(), '\n'), 4 + 8 + 2L);
}

void TestProfileIo::readsRanksInterleavedInTheFile()
{
    const Profile profile = readProfileFile(kDataDir + "/profiles/gpipe-p2m2-interleaved-ranks.json");
    const std::vector<Action> expected = {
        { 0, 0, 0, ActionKind::Forward },
        { 0, 0, 1, ActionKind::Forward },
        { 0, 0, 0, ActionKind::Backward },
        { 0, 0, 1, ActionKind::Backward },
        { 1, 1, 0, ActionKind::Forward },
        { 1, 1, 1, ActionKind::Forward },
        { 1, 1, 0, ActionKind::Backward },
        { 1, 1, 1, ActionKind::Backward },
    };
    QCOMPARE(profile.actions().size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        QVERIFY2(profile.actions()[i] == expected[i], actionName(profile.actions()[i]).c_str());
    // F has no min_ms in the file: it defaults to max_ms.
    QCOMPARE(profile.costs()[4].maxMs, 1.25);
    QCOMPARE(profile.costs()[4].minMs, 1.25);
    QCOMPARE(profile.costs()[2].maxMs, 2.0);
    QCOMPARE(profile.costs()[2].minMs, 0.75);
    QCOMPARE(profile.costs()[6].minMs, 1.5);
}

void TestProfileIo::readsCustomSplitOrder()
{
    const Profile profile = readProfileFile(kDataDir + "/profiles/custom-split-p2m2.json");
    QVERIFY(profile.schedule().shape().kind == ScheduleKind::Custom);
    QVERIFY(profile.schedule().splitBackward());
    QCOMPARE(profile.actions().size(), std::size_t(12));
    // Rank 1's order as written: F0 I0 F1 W0 I1 W1.
    const std::vector<Action>& rank1 = profile.schedule().rankOrder(1);
    QVERIFY(rank1[2] == (Action { 1, 1, 1, ActionKind::Forward }));
    QVERIFY(rank1[3] == (Action { 1, 1, 0, ActionKind::BackwardWeight }));
    QCOMPARE(profile.costs()[9].maxMs, 1.5);
    QCOMPARE(profile.costs()[9].minMs, 0.0);

    compareProfiles(profileThroughJson(profile, "again"), profile);
}

void TestProfileIo::readsExampleResource()
{
    const Profile profile = readProfileFile(kDataDir + "/../../resources/profiles/example-1f1b-p4m8.json");
    QVERIFY(profile.schedule().shape().kind == ScheduleKind::OneFOneB);
    QCOMPARE(profile.schedule().rankCount(), 4);
    QCOMPARE(profile.schedule().microbatchCount(), 8);
    QCOMPARE(profile.actions().size(), std::size_t(64));
    // The shipped order must be the generated 1F1B, or the example would plan something else.
    const PipelineSchedule generated = PipelineSchedule::generate(profile.schedule().shape());
    for (int rank = 0; rank < 4; ++rank)
        QVERIFY(profile.schedule().rankOrder(rank) == generated.rankOrder(rank));
    for (std::size_t i = 0; i < profile.actions().size(); ++i) {
        if (isFreezable(profile.actions()[i].kind))
            QVERIFY(profile.costs()[i].minMs < profile.costs()[i].maxMs);
    }
}

void TestProfileIo::badFile_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("message");

    QTest::newRow("malformed JSON") << QByteArray("malformed.json") << QByteArray()
                                    << QByteArray("not valid JSON: parse error at line 3, column 37: syntax error");
    QTest::newRow("empty file") << QByteArray("empty.json") << QByteArray() << QByteArray("not valid JSON: ");
    QTest::newRow("trailing garbage") << QByteArray("trailing-garbage.json") << QByteArray()
                                      << QByteArray("not valid JSON: ");
    QTest::newRow("not an object") << QByteArray("not-an-object.json") << QByteArray()
                                   << QByteArray("must be an object (got [\"tfreeze-profile/1\"])");
    QTest::newRow("missing format") << QByteArray("missing-format.json") << QByteArray("format")
                                    << QByteArray("expected \"tfreeze-profile/1\"");
    QTest::newRow("wrong format") << QByteArray("wrong-format.json") << QByteArray("format")
                                  << QByteArray("expected \"tfreeze-profile/1\" (got \"tfreeze-plan/1\")");
    QTest::newRow("missing ranks") << QByteArray("missing-ranks.json") << QByteArray("schedule.ranks")
                                   << QByteArray("is missing");
    QTest::newRow("ranks not a number") << QByteArray("ranks-not-a-number.json") << QByteArray("schedule.ranks")
                                        << QByteArray("must be an integer (got \"2\")");
    QTest::newRow("zero ranks") << QByteArray("zero-ranks.json") << QByteArray("schedule.ranks")
                                << QByteArray("must be an integer ≥ 1 (got 0)");
    QTest::newRow("zero processors") << QByteArray("zero-processors.json") << QByteArray("processors")
                                     << QByteArray("must be an integer ≥ 1 (got 0)");
    QTest::newRow("processors not a number")
        << QByteArray("processors-not-a-number.json") << QByteArray("processors") << QByteArray("must be an integer");
    QTest::newRow("negative transfer_ms") << QByteArray("negative-transfer.json") << QByteArray("transfer_ms")
                                          << QByteArray("must be a finite number ≥ 0 (got -0.25)");
    QTest::newRow("transfer_ms not a number")
        << QByteArray("transfer-not-a-number.json") << QByteArray("transfer_ms") << QByteArray("must be a number");
    QTest::newRow("all_or_nothing_stages out of range")
        << QByteArray("all-or-nothing-stage-out-of-range.json") << QByteArray("all_or_nothing_stages[1]")
        << QByteArray("must be a stage in [0, 3] (got 4)");
    QTest::newRow("all_or_nothing_stages not an array")
        << QByteArray("all-or-nothing-not-an-array.json") << QByteArray("all_or_nothing_stages")
        << QByteArray("must be an array of stage numbers (got 0)");
    QTest::newRow("unknown schedule") << QByteArray("unknown-schedule.json") << QByteArray("schedule.kind")
                                      << QByteArray("unknown schedule \"2F2B\"");
    QTest::newRow("missing actions") << QByteArray("missing-actions.json") << QByteArray("actions")
                                     << QByteArray("is missing");
    QTest::newRow("actions not an array")
        << QByteArray("actions-not-an-array.json") << QByteArray("actions") << QByteArray("must be an array");
    QTest::newRow("action not an object") << QByteArray("action-not-an-object.json") << QByteArray("actions[0]")
                                          << QByteArray("must be an object (got 7)");
    QTest::newRow("missing kind") << QByteArray("missing-kind.json") << QByteArray("actions[3].kind")
                                  << QByteArray("is missing");
    QTest::newRow("unknown kind") << QByteArray("unknown-kind.json") << QByteArray("actions[1].kind")
                                  << QByteArray("unknown action kind \"X\" (expected F, B, I or W)");
    QTest::newRow("B without min_ms") << QByteArray("backward-without-min.json") << QByteArray("actions[3].min_ms")
                                      << QByteArray("is missing");
    QTest::newRow("missing max_ms") << QByteArray("missing-max.json") << QByteArray("actions[2].max_ms")
                                    << QByteArray("is missing");
    QTest::newRow("NaN as a string") << QByteArray("nan-string.json") << QByteArray("actions[0].max_ms")
                                     << QByteArray("must be a number (got \"NaN\")");
    QTest::newRow("negative max_ms") << QByteArray("negative-max.json") << QByteArray("actions[2].max_ms")
                                     << QByteArray("must be a finite number ≥ 0 (got -1)");
    QTest::newRow("negative min_ms") << QByteArray("negative-min.json") << QByteArray("actions[3].min_ms")
                                     << QByteArray("must be a finite number ≥ 0 (got -0.5)");
    QTest::newRow("overflowing max_ms") << QByteArray("overflowing-max.json") << QByteArray()
                                        << QByteArray(
                                               "not valid JSON: number overflow parsing '1e400' at line 6, column 69");
    QTest::newRow("min greater than max") << QByteArray("min-greater-than-max.json") << QByteArray("actions[1].min_ms")
                                          << QByteArray("min_ms 3 is greater than max_ms 2");
    // Durations so long that the LP's solver took them for infinite ("infeasible", exit code 1).
    QTest::newRow("max_ms above the limit")
        << QByteArray("duration-above-limit.json") << QByteArray("actions[3].max_ms")
        << QByteArray("must be at most 1e+09 ms, the longest duration the planner takes (got 1e+31)");
    QTest::newRow("transfer_ms above the limit") << QByteArray("transfer-above-limit.json") << QByteArray("transfer_ms")
                                                 << QByteArray("must be at most 1e+09 ms");
    // F cannot be frozen: a frozen time that differs is refused, not silently replaced by max_ms.
    QTest::newRow("min_ms of F differs") << QByteArray("forward-min-differs.json") << QByteArray("actions[0].min_ms")
                                         << QByteArray("an F action cannot be frozen: min_ms must equal max_ms 1 or be "
                                                       "left out (got 0.5)");
    // A misspelt optional key would otherwise be ignored without a word, at every level.
    QTest::newRow("unknown key") << QByteArray("unknown-key.json") << QByteArray("procesors")
                                 << QByteArray("unknown key (accepted here: actions, all_or_nothing_stages, format, "
                                               "processors, schedule, transfer_ms)");
    QTest::newRow("unknown schedule key")
        << QByteArray("unknown-schedule-key.json") << QByteArray("schedule.stage_per_rank")
        << QByteArray("unknown key (accepted here: kind, microbatches, ranks, stages_per_rank)");
    QTest::newRow("unknown action key")
        << QByteArray("unknown-action-key.json") << QByteArray("actions[1].min_msec")
        << QByteArray("unknown key (accepted here: kind, max_ms, microbatch, min_ms, rank, stage)");
    QTest::newRow("rank out of range") << QByteArray("rank-out-of-range.json") << QByteArray("actions[2].rank")
                                       << QByteArray("must be in [0, 2) (got 2)");
    QTest::newRow("negative rank") << QByteArray("negative-rank.json") << QByteArray("actions[2].rank")
                                   << QByteArray("must be in [0, 2) (got -1)");
    QTest::newRow("stage out of range") << QByteArray("stage-out-of-range.json") << QByteArray("actions[1].stage")
                                        << QByteArray("must be in [0, 2) (got 5)");
    QTest::newRow("fractional microbatch")
        << QByteArray("fractional-microbatch.json") << QByteArray("actions[1].microbatch")
        << QByteArray("must be an integer (got 1.5)");
    QTest::newRow("duplicate action") << QByteArray("duplicate-action.json") << QByteArray("actions[4]")
                                      << QByteArray("duplicates actions[0] (0F0)");
    QTest::newRow("too few actions") << QByteArray("too-few-actions.json") << QByteArray("actions")
                                     << QByteArray("needs at least 4 actions (got 3)");
    QTest::newRow("huge rank count") << QByteArray("huge-ranks.json") << QByteArray("actions")
                                     << QByteArray("a schedule of 4000000 ranks × 1 stages per rank × 1 microbatches "
                                                   "needs at least 8000000 actions (got 4)");
    QTest::newRow("stage on the wrong rank")
        << QByteArray("stage-on-wrong-rank.json") << QByteArray("rank 0") << QByteArray("stage 1 belongs to rank 1");
    QTest::newRow("microbatch without backward") << QByteArray("missing-backward.json") << QByteArray("actions")
                                                 << QByteArray("stage 0 microbatch 1 has no backward");
    // Regressions found while fuzzing (tests/fuzz): a value nested 100 000 deep overflowed the
    // stack when quoted in the message, the 40-byte cut of a quoted value could split a UTF-8
    // character, and a parse error copied ill-formed UTF-8 from the file into the message.
    QTest::newRow("deeply nested value") << QByteArray("deeply-nested.json") << QByteArray("schedule")
                                         << QByteArray(
                                                "must be an object (got [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[...)");
    QTest::newRow("quoted value cut inside UTF-8")
        << QByteArray("truncated-utf8.json") << QByteArray("format")
        << QByteArray("expected \"tfreeze-profile/1\" (got \"aééééééééééééééééé...)");
    // A parse error quotes the bytes last read: ill-formed UTF-8 is escaped, not copied.
    QTest::newRow("ill-formed UTF-8") << QByteArray("ill-formed-utf8.json") << QByteArray()
                                      << QByteArray("ill-formed UTF-8 byte; last read: '\"\\xDE\"'");
}

void TestProfileIo::badFile()
{
    QFETCH(QByteArray, file);
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, message);

    const std::string path = kDataDir + "/profiles/bad/" + file.toStdString();
    const auto error = inputErrorOf([&] { readProfileFile(path); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(error->source(), path);
    QCOMPARE(QByteArray::fromStdString(error->field()), field);
    QVERIFY2(error->reason().find(message.toStdString()) != std::string::npos, error->what());
}

void TestProfileIo::badProfile_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<double>("maxMs");
    QTest::addColumn<double>("minMs");
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("message");

    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    // GPipe P=1 M=2: index 0, 1 are F; 2, 3 are B.
    QTest::newRow("NaN max on F") << 0 << nan << 1.0 << QByteArray("actions[0].max_ms")
                                  << QByteArray("must be a finite number ≥ 0 (got nan)");
    QTest::newRow("NaN min on B") << 3 << 2.0 << nan << QByteArray("actions[3].min_ms")
                                  << QByteArray("must be a finite number ≥ 0 (got nan)");
    QTest::newRow("infinite max on B") << 2 << inf << 1.0 << QByteArray("actions[2].max_ms")
                                       << QByteArray("must be a finite number ≥ 0 (got inf)");
    QTest::newRow("negative max on F") << 1 << -2.0 << -2.0 << QByteArray("actions[1].max_ms")
                                       << QByteArray("must be a finite number ≥ 0 (got -2)");
    QTest::newRow("negative min on B") << 2 << 2.0 << -0.25 << QByteArray("actions[2].min_ms")
                                       << QByteArray("must be a finite number ≥ 0 (got -0.25)");
    QTest::newRow("min greater than max")
        << 3 << 2.0 << 3.0 << QByteArray("actions[3].min_ms") << QByteArray("min_ms 3 is greater than max_ms 2");
    QTest::newRow("max above the limit") << 2 << 1e31 << 1.0 << QByteArray("actions[2].max_ms")
                                         << QByteArray("must be at most 1e+09 ms");
    QTest::newRow("min barely greater than max") << 3 << 2.0 << 2.0000000000000004 << QByteArray("actions[3].min_ms")
                                                 << QByteArray("min_ms 2.0000000000000004 is greater than max_ms 2");
}

void TestProfileIo::badProfile()
{
    QFETCH(int, index);
    QFETCH(double, maxMs);
    QFETCH(double, minMs);
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, message);

    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::GPipe, 1, 2 });
    std::vector<ActionCost> costs = { { 1.0, 1.0 }, { 1.0, 1.0 }, { 2.0, 1.0 }, { 2.0, 1.0 } };
    costs[static_cast<std::size_t>(index)] = { maxMs, minMs };
    const auto error = inputErrorOf([&] { Profile(schedule, costs, "measured.json"); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(error->source(), std::string("measured.json"));
    QCOMPARE(QByteArray::fromStdString(error->field()), field);
    QVERIFY2(error->reason().find(message.toStdString()) != std::string::npos, error->what());
}

void TestProfileIo::nonFreezableMinIsMax()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::GPipe, 1, 1 });
    // Whatever a tracer measured for a "frozen" forward, nothing of it can be skipped.
    const Profile profile(schedule, { { 1.0, 0.25 }, { 2.0, 0.5 } });
    QCOMPARE(profile.costs()[0].minMs, 1.0);
    QCOMPARE(profile.costs()[1].minMs, 0.5);
    QCOMPARE(profile.maxDurations(), (std::vector<double> { 1.0, 2.0 }));
    QCOMPARE(profile.minDurations(), (std::vector<double> { 1.0, 0.5 }));

    const auto error = inputErrorOf([&] { Profile(schedule, { { 1.0, 1.0 } }, "short.json"); });
    QVERIFY2(error, "no InputError for a cost list of the wrong length");
    QCOMPARE(error->field(), std::string("actions"));
    QVERIFY2(error->reason().find("expected 2 action costs") != std::string::npos, error->what());
}

void TestProfileIo::durationLimit()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::GPipe, 1, 1 });
    Profile profile(schedule, { { kMaxDurationMs, kMaxDurationMs }, { kMaxDurationMs, 0.0 } });
    profile.setTransferMs(kMaxDurationMs);
    COMPARE_EXACTLY(profile.transferMs(), kMaxDurationMs);

    const double above = std::nextafter(kMaxDurationMs, std::numeric_limits<double>::infinity());
    auto error = inputErrorOf([&] { Profile(schedule, { { 1.0, 1.0 }, { above, 1.0 } }, "long.json"); });
    QVERIFY2(error, "no InputError just above the limit");
    QCOMPARE(error->field(), std::string("actions[1].max_ms"));
    error = inputErrorOf([&] { profile.setTransferMs(1e300, "--transfer-ms"); });
    QVERIFY2(error, "no InputError for a transfer time above the limit");
    QCOMPARE(error->source(), std::string("--transfer-ms"));
    QCOMPARE(error->field(), std::string("transfer_ms"));
    QVERIFY2(error->reason().find("must be at most 1e+09 ms") != std::string::npos, error->what());
    COMPARE_EXACTLY(profile.transferMs(), kMaxDurationMs);
}

void TestProfileIo::unknownKeyQuoted()
{
    // A key that is not a plain identifier is quoted, so that the path still reads as one key.
    std::istringstream in(R"({"format": "tfreeze-profile/1", "transfer ms": 1})");
    const auto error = inputErrorOf([&] { readProfileJson(in, "spaced.json"); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(error->field(), std::string("\"transfer ms\""));
    QVERIFY2(error->reason().find("unknown key") != std::string::npos, error->what());
}

void TestProfileIo::unreadableFile()
{
    const std::string missing = kDataDir + "/profiles/no-such-file.json";
    auto error = inputErrorOf([&] { readProfileFile(missing); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(error->source(), missing);
    QCOMPARE(error->reason(), std::string("cannot open file: No such file or directory"));

    const std::string directory = kDataDir + "/profiles";
    error = inputErrorOf([&] { readProfileFile(directory); });
    QVERIFY2(error, "no InputError for a directory");
    QCOMPARE(error->source(), directory);
    QCOMPARE(error->reason(), std::string("cannot read file: Is a directory"));
}

void TestProfileIo::unwritableFile()
{
    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::GPipe, 1, 1 });
    const Profile profile(schedule, { { 1.0, 1.0 }, { 2.0, 1.0 } });
    const std::string path = kDataDir + "/no-such-directory/profile.json";
    const auto error = inputErrorOf([&] { writeProfileFile(profile, path); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(error->source(), path);
    QCOMPARE(error->reason(), std::string("cannot write file: No such file or directory"));
}

QTEST_APPLESS_MAIN(TestProfileIo)
#include "tst_profileio.moc"
