#include "core/plan/freeze_plan_io.h"
#include "core/plan/plan_error.h"

#include "plan_test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <optional>
#include <sstream>

using namespace tfreeze;
using namespace tfreeze::test;

namespace {

const std::string kDataDir = TFREEZE_TEST_DATA_DIR;

QByteArray bytes(const std::string& text) { return QByteArray::fromStdString(text); }

// Rank 1 of a ZBH1 order runs its last W before its last I's W: a legal order no generator makes.
PipelineSchedule customSplitSchedule()
{
    const ScheduleShape zbh1 = ScheduleShape { ScheduleKind::ZBH1, 2, 3 };
    std::vector<std::vector<Action>> orders = PipelineSchedule::generate(zbh1).rankOrders();
    std::vector<Action>& rank0 = orders[0];
    // Defer every W of rank 0 to the very end, keeping their relative order.
    std::stable_partition(
        rank0.begin(), rank0.end(), [](const Action& action) { return action.kind != ActionKind::BackwardWeight; });
    ScheduleShape custom = zbh1;
    custom.kind = ScheduleKind::Custom;
    return PipelineSchedule::fromRankOrders(custom, std::move(orders), "test");
}

// Values chosen so that anything short of 17 significant digits would not read back equal.
FreezePlan makePlan(const PipelineSchedule& schedule, bool perStageBounds, bool actionCaps)
{
    std::vector<ActionCost> costs;
    std::size_t i = 0;
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& action : order) {
            const double maxMs = 1.0 / 3.0 + 0.1 * static_cast<double>(i);
            costs.push_back({ maxMs, isFreezable(action.kind) ? maxMs / 7.0 : maxMs });
            ++i;
        }
    }
    FreezePlan plan { Profile(schedule, costs), FreezeBounds {}, 35.1, 27.123456789012345, 23.3, {}, {}, 0.0123 };
    const int stageCount = schedule.stageCount();
    plan.bounds.maxFreeze = 0.5;
    if (perStageBounds) {
        for (int stage = 0; stage < stageCount; ++stage)
            plan.bounds.stageMaxFreeze.push_back(static_cast<double>(stage + 1) / (stageCount + 1));
    }
    for (int stage = 0; stage < stageCount; ++stage)
        plan.stageMeanRatio.push_back(1.0 / 7.0 + 0.1 * stage);
    const std::vector<Action> actions = plan.profile.actions();
    for (std::size_t index = 0; index < actions.size(); ++index) {
        PlannedAction planned;
        planned.ratio = isFreezable(actions[index].kind) ? static_cast<double>(index % 5) * 0.23 : 0.0;
        planned.startMs = static_cast<double>(index) * 0.7 / 3.0;
        planned.endMs = planned.startMs + costs[index].maxMs;
        plan.actions.push_back(planned);
        if (actionCaps)
            plan.bounds.actionCap.push_back(static_cast<double>(index % 3) / 3.0);
    }
    return plan;
}

void comparePlans(const FreezePlan& actual, const FreezePlan& expected)
{
    const ScheduleShape& a = actual.profile.schedule().shape();
    const ScheduleShape& e = expected.profile.schedule().shape();
    QCOMPARE(bytes(scheduleKindName(a.kind)), bytes(scheduleKindName(e.kind)));
    QCOMPARE(a.ranks, e.ranks);
    QCOMPARE(a.microbatches, e.microbatches);
    QCOMPARE(a.stagesPerRank, e.stagesPerRank);
    QCOMPARE(actual.profile.actions().size(), expected.profile.actions().size());
    for (std::size_t i = 0; i < expected.profile.actions().size(); ++i) {
        QVERIFY2(actual.profile.actions()[i] == expected.profile.actions()[i],
            actionName(expected.profile.actions()[i]).c_str());
        COMPARE_EXACTLY(actual.profile.costs()[i].maxMs, expected.profile.costs()[i].maxMs);
        COMPARE_EXACTLY(actual.profile.costs()[i].minMs, expected.profile.costs()[i].minMs);
        COMPARE_EXACTLY(actual.actions[i].ratio, expected.actions[i].ratio);
        COMPARE_EXACTLY(actual.actions[i].startMs, expected.actions[i].startMs);
        COMPARE_EXACTLY(actual.actions[i].endMs, expected.actions[i].endMs);
    }
    COMPARE_EXACTLY(actual.bounds.maxFreeze, expected.bounds.maxFreeze);
    // std::vector's == is exact, unlike QCOMPARE on a double.
    QCOMPARE(actual.bounds.stageMaxFreeze, expected.bounds.stageMaxFreeze);
    QCOMPARE(actual.bounds.actionCap, expected.bounds.actionCap);
    COMPARE_EXACTLY(actual.batchMsNoFreeze, expected.batchMsNoFreeze);
    COMPARE_EXACTLY(actual.batchMsPlanned, expected.batchMsPlanned);
    COMPARE_EXACTLY(actual.batchMsAllFrozen, expected.batchMsAllFrozen);
    QCOMPARE(actual.stageMeanRatio, expected.stageMeanRatio);
    // The file holds milliseconds: seconds → ms → seconds may move the last bit.
    QVERIFY(qFuzzyCompare(actual.solveSeconds, expected.solveSeconds));
}

std::string planJson(const FreezePlan& plan)
{
    std::ostringstream out;
    writePlanJson(plan, out);
    return out.str();
}

FreezePlan smallPlan()
{
    return makePlan(PipelineSchedule::generate(ScheduleShape { ScheduleKind::GPipe, 2, 2 }), false, false);
}

} // namespace

class TestFreezePlanIo : public QObject {
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void stageBoundsAlwaysWritten();
    void capsOnlyWhenSet();
    void readsActionsInAnyFileOrder();
    void partialCapsDefaultToNoCap();
    void readsPlanFile();
    void csv();
    void badPlan_data();
    void badPlan();
    void unwritableFiles();
};

void TestFreezePlanIo::roundTrip_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<bool>("perStageBounds");
    QTest::addColumn<bool>("actionCaps");

    QTest::newRow("1F1B, one bound") << int(ScheduleKind::OneFOneB) << 4 << 8 << 1 << false << false;
    QTest::newRow("1F1B, per-stage bounds") << int(ScheduleKind::OneFOneB) << 4 << 8 << 1 << true << false;
    QTest::newRow("Interleaved, caps") << int(ScheduleKind::Interleaved1F1B) << 2 << 4 << 2 << false << true;
    QTest::newRow("ZBH1 (split), per-stage bounds and caps") << int(ScheduleKind::ZBH1) << 4 << 8 << 1 << true << true;
    QTest::newRow("ZBV (split)") << int(ScheduleKind::ZBV) << 2 << 4 << 2 << true << false;
    QTest::newRow("custom split order") << int(ScheduleKind::Custom) << 2 << 3 << 1 << true << true;
}

void TestFreezePlanIo::roundTrip()
{
    QFETCH(int, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(bool, perStageBounds);
    QFETCH(bool, actionCaps);

    const auto scheduleKind = static_cast<ScheduleKind>(kind);
    const PipelineSchedule schedule = scheduleKind == ScheduleKind::Custom
        ? customSplitSchedule()
        : PipelineSchedule::generate(ScheduleShape { scheduleKind, ranks, microbatches, stagesPerRank });
    const FreezePlan written = makePlan(schedule, perStageBounds, actionCaps);

    comparePlans(planThroughJson(written, "round trip"), written);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("plan.json")).toStdString();
    writePlanFile(written, path);
    comparePlans(readPlanFile(path), written);
}

void TestFreezePlanIo::stageBoundsAlwaysWritten()
{
    const FreezePlan plan = smallPlan();
    QVERIFY(plan.bounds.stageMaxFreeze.empty());
    const nlohmann::json document = nlohmann::json::parse(planJson(plan));
    QCOMPARE(bytes(document.at("format").get<std::string>()), QByteArray("tfreeze-plan/1"));
    QCOMPARE(document.at("stage_max_freeze"), nlohmann::json::parse("[0.5, 0.5]"));
    QCOMPARE(document.at("max_freeze").get<double>(), 0.5);
    QCOMPARE(document.at("solve_ms").get<double>(), 12.3);
    QCOMPARE(document.at("batch_ms").at("planned").get<double>(), 27.123456789012345);
    QCOMPARE(document.at("actions").size(), std::size_t(8));
    QCOMPARE(document.at("actions")[2].at("kind").get<std::string>(), std::string("B"));

    // A per-stage list that only repeats max_freeze reads back as "no per-stage bounds".
    FreezePlan uniform = plan;
    uniform.bounds.stageMaxFreeze = { 0.5, 0.5 };
    const FreezePlan read = planThroughJson(uniform, "uniform");
    QVERIFY(read.bounds.stageMaxFreeze.empty());
    QCOMPARE(read.bounds.stageBound(1), 0.5);
}

void TestFreezePlanIo::capsOnlyWhenSet()
{
    FreezePlan plan = smallPlan();
    QVERIFY(planJson(plan).find("\"cap\"") == std::string::npos);
    plan.bounds.actionCap.assign(plan.actions.size(), 0.25);
    const nlohmann::json document = nlohmann::json::parse(planJson(plan));
    for (const auto& entry : document.at("actions"))
        QCOMPARE(entry.at("cap").get<double>(), 0.25);
}

void TestFreezePlanIo::readsActionsInAnyFileOrder()
{
    const FreezePlan plan
        = makePlan(PipelineSchedule::generate(ScheduleShape { ScheduleKind::ZBH1, 2, 2 }), true, true);
    nlohmann::json document = nlohmann::json::parse(planJson(plan));
    auto& actions = document.at("actions");
    // Interleave the ranks, rank 1 first, as a tool that logs actions by time would.
    nlohmann::json reordered = nlohmann::json::array();
    const std::size_t half = actions.size() / 2;
    for (std::size_t i = 0; i < half; ++i) {
        reordered.push_back(actions[half + i]);
        reordered.push_back(actions[i]);
    }
    actions = reordered;
    std::istringstream in(document.dump());
    comparePlans(readPlanJson(in, "interleaved"), plan);
}

void TestFreezePlanIo::partialCapsDefaultToNoCap()
{
    nlohmann::json document = nlohmann::json::parse(planJson(smallPlan()));
    document["actions"][2]["cap"] = 0.125;
    std::istringstream in(document.dump());
    const FreezePlan plan = readPlanJson(in, "partial caps");
    QCOMPARE(plan.bounds.actionCap.size(), std::size_t(8));
    QCOMPARE(plan.bounds.actionCap[2], 0.125);
    QCOMPARE(plan.bounds.actionCap[3], 1.0);
}

void TestFreezePlanIo::readsPlanFile()
{
    const FreezePlan plan = readPlanFile(kDataDir + "/plans/gpipe-p2m1-plan.json");
    QCOMPARE(plan.profile.actions().size(), std::size_t(4));
    QCOMPARE(plan.bounds.maxFreeze, 0.5);
    QCOMPARE(plan.bounds.stageMaxFreeze, (std::vector<double> { 0.5, 0.25 }));
    QCOMPARE(plan.batchMsNoFreeze, 6.0);
    QCOMPARE(plan.batchMsPlanned, 5.5);
    QCOMPARE(plan.batchMsAllFrozen, 4.0);
    QCOMPARE(plan.solveSeconds, 0.002);
    QCOMPARE(plan.actions[1].ratio, 0.5);
    QCOMPARE(plan.actions[1].startMs, 4.0);
    QCOMPARE(plan.actions[1].endMs, 5.5);
    QCOMPARE(plan.profile.costs()[1].minMs, 1.0);
}

void TestFreezePlanIo::csv()
{
    const FreezePlan plan
        = makePlan(PipelineSchedule::generate(ScheduleShape { ScheduleKind::ZBH1, 2, 2 }), false, false);
    std::ostringstream out;
    writePlanCsv(plan, out);
    const QList<QByteArray> lines = QByteArray::fromStdString(out.str()).split('\n');
    QCOMPARE(lines.size(), static_cast<qsizetype>(plan.actions.size() + 2)); // header, rows, final newline
    QCOMPARE(lines.front(), QByteArray("rank,stage,microbatch,kind,max_ms,min_ms,ratio,start_ms,end_ms"));
    QVERIFY(lines.back().isEmpty());

    const std::vector<Action> actions = plan.profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i) {
        const QList<QByteArray> cells = lines[static_cast<qsizetype>(i + 1)].split(',');
        QCOMPARE(cells.size(), 9);
        QCOMPARE(cells[0].toInt(), actions[i].rank);
        QCOMPARE(cells[1].toInt(), actions[i].stage);
        QCOMPARE(cells[2].toInt(), actions[i].microbatch);
        QCOMPARE(cells[3], QByteArray(1, actionKindLetter(actions[i].kind)));
        // Ten significant digits.
        QVERIFY(qAbs(cells[4].toDouble() - plan.profile.costs()[i].maxMs) < 1e-9);
        QVERIFY(qAbs(cells[5].toDouble() - plan.profile.costs()[i].minMs) < 1e-9);
        QVERIFY(qAbs(cells[6].toDouble() - plan.actions[i].ratio) < 1e-9);
        QVERIFY(qAbs(cells[7].toDouble() - plan.actions[i].startMs) < 1e-9);
        QVERIFY(qAbs(cells[8].toDouble() - plan.actions[i].endMs) < 1e-9);
    }
    QCOMPARE(lines[1], QByteArray("0,0,0,F,0.3333333333,0.3333333333,0,0,0.3333333333"));

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("plan.csv"));
    writePlanCsvFile(plan, path.toStdString());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray::fromStdString(out.str()));
}

void TestFreezePlanIo::badPlan_data()
{
    // A valid plan (GPipe P=2 M=2: actions 0, 1 F and 2, 3 B on rank 0) with one JSON pointer
    // replaced by `value`, or removed when `value` is empty.
    QTest::addColumn<QByteArray>("pointer");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("message");

    QTest::newRow("profile format tag") << QByteArray("/format") << QByteArray("\"tfreeze-profile/1\"")
                                        << QByteArray("format")
                                        << QByteArray("expected \"tfreeze-plan/1\" (got \"tfreeze-profile/1\")");
    QTest::newRow("missing max_freeze") << QByteArray("/max_freeze") << QByteArray() << QByteArray("max_freeze")
                                        << QByteArray("is missing");
    QTest::newRow("max_freeze above 1") << QByteArray("/max_freeze") << QByteArray("1.5") << QByteArray("max_freeze")
                                        << QByteArray("must be a number in [0, 1] (got 1.5)");
    QTest::newRow("stage bounds too short")
        << QByteArray("/stage_max_freeze") << QByteArray("[0.5]") << QByteArray("stage_max_freeze")
        << QByteArray("expects 2 values, one per stage (got 1)");
    QTest::newRow("negative stage bound")
        << QByteArray("/stage_max_freeze/1") << QByteArray("-0.1") << QByteArray("stage_max_freeze[1]")
        << QByteArray("must be a number in [0, 1] (got -0.1)");
    QTest::newRow("batch_ms not an object") << QByteArray("/batch_ms") << QByteArray("3") << QByteArray("batch_ms")
                                            << QByteArray("must be an object (got 3)");
    QTest::newRow("missing planned batch") << QByteArray("/batch_ms/planned") << QByteArray()
                                           << QByteArray("batch_ms.planned") << QByteArray("is missing");
    QTest::newRow("negative batch") << QByteArray("/batch_ms/no_freeze") << QByteArray("-1")
                                    << QByteArray("batch_ms.no_freeze")
                                    << QByteArray("must be a finite number ≥ 0 (got -1)");
    QTest::newRow("negative solve time") << QByteArray("/solve_ms") << QByteArray("-3") << QByteArray("solve_ms")
                                         << QByteArray("must be a finite number ≥ 0 (got -3)");
    QTest::newRow("ratio above 1") << QByteArray("/actions/2/ratio") << QByteArray("1.5")
                                   << QByteArray("actions[2].ratio")
                                   << QByteArray("must be a number in [0, 1] (got 1.5)");
    QTest::newRow("ratio NaN as a string")
        << QByteArray("/actions/2/ratio") << QByteArray("\"NaN\"") << QByteArray("actions[2].ratio")
        << QByteArray("must be a number (got \"NaN\")");
    QTest::newRow("missing ratio") << QByteArray("/actions/1/ratio") << QByteArray() << QByteArray("actions[1].ratio")
                                   << QByteArray("is missing");
    QTest::newRow("end before start") << QByteArray("/actions/3/end_ms") << QByteArray("0.5")
                                      << QByteArray("actions[3].end_ms")
                                      << QByteArray("end_ms 0.5 is before start_ms 0.");
    QTest::newRow("start not a number") << QByteArray("/actions/3/start_ms") << QByteArray("\"soon\"")
                                        << QByteArray("actions[3].start_ms")
                                        << QByteArray("must be a number (got \"soon\")");
    QTest::newRow("cap above 1") << QByteArray("/actions/0/cap") << QByteArray("1.25") << QByteArray("actions[0].cap")
                                 << QByteArray("must be a number in [0, 1] (got 1.25)");
    QTest::newRow("min above max") << QByteArray("/actions/2/min_ms") << QByteArray("5")
                                   << QByteArray("actions[2].min_ms") << QByteArray("min_ms 5 is greater than max_ms");
    QTest::newRow("unknown kind") << QByteArray("/actions/0/kind") << QByteArray("\"Q\"")
                                  << QByteArray("actions[0].kind") << QByteArray("unknown action kind \"Q\"");
    QTest::newRow("missing schedule") << QByteArray("/schedule") << QByteArray() << QByteArray("schedule")
                                      << QByteArray("is missing");
    // A plan carries its profile: the same limit, the same F rule, and no unknown key anywhere.
    QTest::newRow("max_ms above the limit")
        << QByteArray("/actions/3/max_ms") << QByteArray("1e31") << QByteArray("actions[3].max_ms")
        << QByteArray("must be at most 1e+09 ms");
    QTest::newRow("frozen forward") << QByteArray("/actions/0/min_ms") << QByteArray("0.125")
                                    << QByteArray("actions[0].min_ms") << QByteArray("an F action cannot be frozen");
    QTest::newRow("unknown key") << QByteArray("/stage_max_freze") << QByteArray("[0.5, 0.5]")
                                 << QByteArray("stage_max_freze")
                                 << QByteArray("unknown key (accepted here: actions, all_or_nothing_stages, batch_ms, "
                                               "format, max_freeze, processors, schedule, solve_ms, stage_max_freeze, "
                                               "stage_mean_ratio, transfer_ms)");
    QTest::newRow("unknown batch_ms key")
        << QByteArray("/batch_ms/planed") << QByteArray("3") << QByteArray("batch_ms.planed")
        << QByteArray("unknown key (accepted here: all_frozen, no_freeze, planned)");
    QTest::newRow("unknown action key")
        << QByteArray("/actions/1/ratios") << QByteArray("0.5") << QByteArray("actions[1].ratios")
        << QByteArray("unknown key (accepted here: cap, end_ms, kind, max_ms, microbatch, min_ms, rank, ratio, stage, "
                      "start_ms)");
}

void TestFreezePlanIo::badPlan()
{
    QFETCH(QByteArray, pointer);
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, message);

    nlohmann::json document = nlohmann::json::parse(planJson(smallPlan()));
    const nlohmann::json::json_pointer at(pointer.toStdString());
    if (value.isEmpty())
        document.at(at.parent_pointer()).erase(at.back());
    else
        document[at] = nlohmann::json::parse(value.toStdString());

    std::istringstream in(document.dump(1));
    const auto error = inputErrorOf([&] { readPlanJson(in, "edited.json"); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(bytes(error->source()), QByteArray("edited.json"));
    QCOMPARE(bytes(error->field()), field);
    QVERIFY2(error->reason().find(message.toStdString()) != std::string::npos, error->what());
}

void TestFreezePlanIo::unwritableFiles()
{
    const FreezePlan plan = smallPlan();
    const std::string json = kDataDir + "/no-such-directory/plan.json";
    auto error = inputErrorOf([&] { writePlanFile(plan, json); });
    QVERIFY2(error, "no InputError for JSON");
    QCOMPARE(bytes(error->source()), bytes(json));
    QCOMPARE(bytes(error->reason()), QByteArray("cannot write file: No such file or directory"));

    const std::string csv = kDataDir + "/no-such-directory/plan.csv";
    error = inputErrorOf([&] { writePlanCsvFile(plan, csv); });
    QVERIFY2(error, "no InputError for CSV");
    QCOMPARE(bytes(error->source()), bytes(csv));

    error = inputErrorOf([&] { readPlanFile(kDataDir + "/plans/no-such-plan.json"); });
    QVERIFY2(error, "no InputError for a missing file");
    QCOMPARE(bytes(error->reason()), QByteArray("cannot open file: No such file or directory"));
}

QTEST_APPLESS_MAIN(TestFreezePlanIo)
#include "tst_freezeplanio.moc"
