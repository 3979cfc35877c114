#include "core/plan/pipeline_dag.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/timeline.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <tuple>

using namespace tfreeze;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(tfreeze::ScheduleKind)

namespace {

// Written out independently of the generator so that a placement bug there cannot hide.
int expectedRank(const ScheduleShape& shape, int stage)
{
    if (shape.kind == ScheduleKind::ZBV)
        return stage < shape.ranks ? stage : 2 * shape.ranks - 1 - stage;
    return stage % shape.ranks;
}

struct Costs {
    double forward = 1.0;
    double backward = 2.0;
    double input = 1.0;
    double weight = 1.0;
};

Timeline simulate(const PipelineSchedule& schedule, const Costs& costs)
{
    const PipelineDag dag(schedule);
    std::vector<double> durations;
    durations.reserve(dag.nodeCount());
    for (const Action& action : dag.actions()) {
        switch (action.kind) {
        case ActionKind::Forward:
            durations.push_back(costs.forward);
            break;
        case ActionKind::Backward:
            durations.push_back(costs.backward);
            break;
        case ActionKind::BackwardInput:
            durations.push_back(costs.input);
            break;
        case ActionKind::BackwardWeight:
            durations.push_back(costs.weight);
            break;
        }
    }
    return simulateTimeline(dag, durations);
}

// Sums of a few hundred costs: 1e-9 is far above rounding and far below any real difference.
bool near(double got, double want) { return std::abs(got - want) < 1e-9; }

QByteArray gotWant(double got, double want)
{
    return "got " + QByteArray::number(got, 'g', 12) + ", want " + QByteArray::number(want, 'g', 12);
}

#define VERIFY_NEAR(got, want) QVERIFY2(near((got), (want)), gotWant((got), (want)).constData())

QString messageOf(const std::function<void()>& call, std::string* field = nullptr)
{
    try {
        call();
    } catch (const InputError& error) {
        if (field)
            *field = error.field();
        return QString::fromStdString(error.what());
    }
    return {};
}

// A valid 1F1B order at P=2, M=2 for the fromRankOrders tests to break.
std::vector<std::vector<Action>> smallOrders()
{
    return PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 2, 2 }).rankOrders();
}

} // namespace

class TestPipelineSchedule : public QObject {
    Q_OBJECT

private slots:
    void kindNames_data();
    void kindNames();
    void unknownKind();

    void everyActionOnce_data();
    void everyActionOnce();
    void dagIsAcyclic_data();
    void dagIsAcyclic();
    void acyclicOverRange();
    void activationsBounded_data();
    void activationsBounded();

    void oneFOneBWarmup_data();
    void oneFOneBWarmup();
    void interleavedOrder();

    void uniformTiming_data();
    void uniformTiming();
    void interleavedTiming_data();
    void interleavedTiming();
    void zbh1Timing_data();
    void zbh1Timing();
    void methodTable_data();
    void methodTable();

    void invalidShape_data();
    void invalidShape();

    void rejectsBadOrder_data();
    void rejectsBadOrder();
    void rejectsWrongRankCount();
    void acceptsCustomOrder();

private:
    void addShapeRows();
};

void TestPipelineSchedule::kindNames_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<QString>("name");
    QTest::newRow("GPipe") << u"GPipe"_s << ScheduleKind::GPipe << u"GPipe"_s;
    QTest::newRow("lower case gpipe") << u"gpipe"_s << ScheduleKind::GPipe << u"GPipe"_s;
    QTest::newRow("1f1b") << u"1f1b"_s << ScheduleKind::OneFOneB << u"1F1B"_s;
    QTest::newRow("upper case interleaved")
        << u"INTERLEAVED1F1B"_s << ScheduleKind::Interleaved1F1B << u"Interleaved1F1B"_s;
    QTest::newRow("ZBH1") << u"ZBH1"_s << ScheduleKind::ZBH1 << u"ZBH1"_s;
    QTest::newRow("zbv") << u"zbv"_s << ScheduleKind::ZBV << u"ZBV"_s;
    QTest::newRow("custom") << u"custom"_s << ScheduleKind::Custom << u"Custom"_s;
}

void TestPipelineSchedule::kindNames()
{
    QFETCH(QString, text);
    QFETCH(ScheduleKind, kind);
    QFETCH(QString, name);
    QCOMPARE(parseScheduleKind(text.toStdString()), kind);
    QCOMPARE(QString::fromStdString(scheduleKindName(kind)), name);
    QCOMPARE(parseScheduleKind(scheduleKindName(kind)), kind);
}

void TestPipelineSchedule::unknownKind()
{
    std::string field;
    const QString message
        = messageOf([] { parseScheduleKind("PipeDream", "config.json", "pipeline.schedule"); }, &field);
    QVERIFY2(message.contains(u"unknown schedule \"PipeDream\""_s), qPrintable(message));
    QVERIFY2(message.contains(u"expected GPipe, 1F1B, Interleaved1F1B, ZBH1 or ZBV"_s), qPrintable(message));
    QVERIFY2(message.startsWith(u"config.json: pipeline.schedule: "_s), qPrintable(message));
    QCOMPARE(field, std::string("pipeline.schedule"));
    QVERIFY(!messageOf([] { parseScheduleKind(""); }).isEmpty());
}

void TestPipelineSchedule::addShapeRows()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    struct Row {
        const char* name;
        ScheduleKind kind;
        int ranks, microbatches, stagesPerRank;
    };
    const Row rows[] = {
        { "GPipe P=1 M=1", ScheduleKind::GPipe, 1, 1, 1 },
        { "GPipe P=4 M=8", ScheduleKind::GPipe, 4, 8, 1 },
        { "GPipe P=5 M=3", ScheduleKind::GPipe, 5, 3, 1 },
        { "1F1B P=1 M=4", ScheduleKind::OneFOneB, 1, 4, 1 },
        { "1F1B P=4 M=8", ScheduleKind::OneFOneB, 4, 8, 1 },
        { "1F1B fewer microbatches than ranks P=6 M=2", ScheduleKind::OneFOneB, 6, 2, 1 },
        { "1F1B P=8 M=33", ScheduleKind::OneFOneB, 8, 33, 1 },
        { "Interleaved P=4 M=8 V=2", ScheduleKind::Interleaved1F1B, 4, 8, 2 },
        { "Interleaved M=P P=4 M=4 V=2", ScheduleKind::Interleaved1F1B, 4, 4, 2 },
        { "Interleaved P=3 M=9 V=3", ScheduleKind::Interleaved1F1B, 3, 9, 3 },
        { "Interleaved P=2 M=6 V=4", ScheduleKind::Interleaved1F1B, 2, 6, 4 },
        { "Interleaved P=1 M=3 V=2", ScheduleKind::Interleaved1F1B, 1, 3, 2 },
        { "ZBH1 P=1 M=2", ScheduleKind::ZBH1, 1, 2, 1 },
        { "ZBH1 P=4 M=4", ScheduleKind::ZBH1, 4, 4, 1 },
        { "ZBH1 P=4 M=8", ScheduleKind::ZBH1, 4, 8, 1 },
        { "ZBH1 P=7 M=20", ScheduleKind::ZBH1, 7, 20, 1 },
        { "ZBV P=1 M=3", ScheduleKind::ZBV, 1, 3, 2 },
        { "ZBV P=4 M=4", ScheduleKind::ZBV, 4, 4, 2 },
        { "ZBV P=4 M=8", ScheduleKind::ZBV, 4, 8, 2 },
        { "ZBV P=5 M=6", ScheduleKind::ZBV, 5, 6, 2 },
        { "ZBV P=8 M=24", ScheduleKind::ZBV, 8, 24, 2 },
    };
    for (const Row& row : rows)
        QTest::newRow(row.name) << row.kind << row.ranks << row.microbatches << row.stagesPerRank;
}

void TestPipelineSchedule::everyActionOnce_data() { addShapeRows(); }

void TestPipelineSchedule::everyActionOnce()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const ScheduleShape shape = ScheduleShape { kind, ranks, microbatches, stagesPerRank };
    const PipelineSchedule schedule = PipelineSchedule::generate(shape);
    const bool split = kind == ScheduleKind::ZBH1 || kind == ScheduleKind::ZBV;

    QCOMPARE(schedule.rankCount(), ranks);
    QCOMPARE(schedule.stageCount(), ranks * stagesPerRank);
    QCOMPARE(schedule.microbatchCount(), microbatches);
    QCOMPARE(schedule.splitBackward(), split);
    QCOMPARE(static_cast<int>(schedule.rankOrders().size()), ranks);
    QCOMPARE(schedule.actionCount(), static_cast<std::size_t>(ranks * stagesPerRank * microbatches * (split ? 3 : 2)));

    std::map<std::tuple<int, int, ActionKind>, int> seen;
    for (int r = 0; r < ranks; ++r) {
        for (const Action& action : schedule.rankOrder(r)) {
            QCOMPARE(action.rank, r);
            QVERIFY2(action.stage >= 0 && action.stage < schedule.stageCount(), actionName(action).c_str());
            QVERIFY2(action.microbatch >= 0 && action.microbatch < microbatches, actionName(action).c_str());
            QCOMPARE(expectedRank(shape, action.stage), r);
            ++seen[{ action.stage, action.microbatch, action.kind }];
        }
    }
    for (int s = 0; s < schedule.stageCount(); ++s) {
        QCOMPARE(schedule.stageRank(s), expectedRank(shape, s));
        for (int m = 0; m < microbatches; ++m) {
            const auto count = [&](ActionKind kind) { return seen[std::make_tuple(s, m, kind)]; };
            QCOMPARE(count(ActionKind::Forward), 1);
            QCOMPARE(count(ActionKind::Backward), split ? 0 : 1);
            QCOMPARE(count(ActionKind::BackwardInput), split ? 1 : 0);
            QCOMPARE(count(ActionKind::BackwardWeight), split ? 1 : 0);
        }
    }
}

void TestPipelineSchedule::dagIsAcyclic_data() { addShapeRows(); }

void TestPipelineSchedule::dagIsAcyclic()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const PipelineSchedule schedule
        = PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, stagesPerRank });
    try {
        const PipelineDag dag(schedule);
        QCOMPARE(dag.nodeCount(), schedule.actionCount());
        QCOMPARE(dag.topologicalOrder().size(), schedule.actionCount());
    } catch (const std::exception& error) {
        QFAIL(error.what());
    }
}

// The ZBV order comes from a greedy simulation; make sure it never stalls or cycles over a wide
// range, not just the rows above.
void TestPipelineSchedule::acyclicOverRange()
{
    for (int P = 1; P <= 8; ++P) {
        for (int M = P; M <= 3 * P + 1; ++M) {
            for (ScheduleKind kind : { ScheduleKind::OneFOneB, ScheduleKind::ZBH1, ScheduleKind::ZBV }) {
                const ScheduleShape shape = ScheduleShape { kind, P, M, kind == ScheduleKind::ZBV ? 2 : 1 };
                try {
                    const PipelineDag dag(PipelineSchedule::generate(shape));
                    QCOMPARE(dag.topologicalOrder().size(), dag.nodeCount());
                } catch (const std::exception& error) {
                    QFAIL(qPrintable(QString::fromStdString(scheduleKindName(kind)) + u" P="_s + QString::number(P)
                        + u" M="_s + QString::number(M) + u": "_s + QString::fromStdString(error.what())));
                }
            }
        }
    }
}

void TestPipelineSchedule::activationsBounded_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("bound");
    // 1F1B's peak (P microbatches on rank 0) is the memory budget ZB-H1 and ZB-V are defined by;
    // ZB-V counts in half-size chunks, hence 2P.
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 4;
    QTest::newRow("ZBH1 P=4 M=8") << ScheduleKind::ZBH1 << 4 << 8 << 4;
    QTest::newRow("ZBH1 P=6 M=20") << ScheduleKind::ZBH1 << 6 << 20 << 6;
    QTest::newRow("ZBV P=4 M=8") << ScheduleKind::ZBV << 4 << 8 << 8;
    QTest::newRow("ZBV P=6 M=20") << ScheduleKind::ZBV << 6 << 20 << 12;
}

void TestPipelineSchedule::activationsBounded()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, bound);
    const PipelineSchedule schedule
        = PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, kind == ScheduleKind::ZBV ? 2 : 1 });
    int peakAnywhere = 0;
    for (int r = 0; r < ranks; ++r) {
        int held = 0;
        for (const Action& action : schedule.rankOrder(r)) {
            if (action.kind == ActionKind::Forward)
                ++held;
            else if (isFreezable(action.kind)) // B or W releases the activations
                --held;
            QVERIFY2(held <= bound, qPrintable(u"rank "_s + QString::number(r) + u" holds "_s + QString::number(held)));
            peakAnywhere = std::max(peakAnywhere, held);
        }
        QCOMPARE(held, 0);
    }
    QCOMPARE(peakAnywhere, bound);
}

void TestPipelineSchedule::oneFOneBWarmup_data()
{
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::newRow("P=4 M=8") << 4 << 8;
    QTest::newRow("P=4 M=4") << 4 << 4;
    QTest::newRow("P=6 M=2 (warm-up capped by M)") << 6 << 2;
    QTest::newRow("P=1 M=3") << 1 << 3;
    QTest::newRow("P=8 M=33") << 8 << 33;
}

void TestPipelineSchedule::oneFOneBWarmup()
{
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    const PipelineSchedule schedule
        = PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, ranks, microbatches });
    for (int r = 0; r < ranks; ++r) {
        const auto& order = schedule.rankOrder(r);
        const int warmup = std::min(microbatches, ranks - r - 1);
        // The warm-up F's, then the steady state's first F, before the first B.
        int leading = 0;
        while (leading < static_cast<int>(order.size())
            && order[static_cast<std::size_t>(leading)].kind == ActionKind::Forward)
            ++leading;
        QCOMPARE(leading, std::min(microbatches, warmup + 1));
        // After the warm-up: strictly F, B, F, B ... while F's remain, then only B's; each kind
        // in microbatch order.
        int nextForward = 0;
        int nextBackward = 0;
        for (std::size_t i = 0; i < order.size(); ++i) {
            const Action& action = order[i];
            if (action.kind == ActionKind::Forward) {
                QCOMPARE(action.microbatch, nextForward++);
                if (static_cast<int>(i) >= warmup)
                    QCOMPARE(static_cast<int>(i), warmup + 2 * (action.microbatch - warmup));
            } else {
                QCOMPARE(action.kind, ActionKind::Backward);
                QCOMPARE(action.microbatch, nextBackward++);
            }
        }
    }
}

// Megatron-LM's interleaved order at P=2, M=4, V=2, written out by hand from its formulas:
// rank 0 warms up with (P−1)·2 + (V−1)·P = 4 forwards, rank 1 with 2.
void TestPipelineSchedule::interleavedOrder()
{
    const PipelineSchedule schedule
        = PipelineSchedule::generate(ScheduleShape { ScheduleKind::Interleaved1F1B, 2, 4, 2 });
    const auto names = [&](int rank) {
        QStringList list;
        for (const Action& action : schedule.rankOrder(rank))
            list << QString::fromStdString(actionName(action));
        return list.join(u' ');
    };
    QCOMPARE(names(0), u"0F0 0F1 2F0 2F1 0F2 2B0 0F3 2B1 2F2 0B0 2F3 0B1 2B2 2B3 0B2 0B3"_s);
    QCOMPARE(names(1), u"1F0 1F1 3F0 3B0 3F1 3B1 1F2 1B0 1F3 1B1 3F2 3B2 3F3 3B3 1B2 1B3"_s);
}

void TestPipelineSchedule::uniformTiming_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<double>("forwardMs");
    QTest::addColumn<double>("backwardMs");
    QTest::newRow("GPipe P=4 M=8 tB=2tF") << ScheduleKind::GPipe << 4 << 8 << 1.0 << 2.0;
    QTest::newRow("GPipe P=3 M=2 uneven costs") << ScheduleKind::GPipe << 3 << 2 << 0.7 << 1.9;
    QTest::newRow("GPipe P=1 M=5 no bubble") << ScheduleKind::GPipe << 1 << 5 << 1.0 << 2.0;
    QTest::newRow("1F1B P=4 M=8 tB=2tF") << ScheduleKind::OneFOneB << 4 << 8 << 1.0 << 2.0;
    QTest::newRow("1F1B P=8 M=32") << ScheduleKind::OneFOneB << 8 << 32 << 1.5 << 3.0;
    QTest::newRow("1F1B P=6 M=2 fewer microbatches than ranks") << ScheduleKind::OneFOneB << 6 << 2 << 1.0 << 2.0;
    QTest::newRow("1F1B P=5 M=7 tB=tF") << ScheduleKind::OneFOneB << 5 << 7 << 2.0 << 2.0;
}

void TestPipelineSchedule::uniformTiming()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(double, forwardMs);
    QFETCH(double, backwardMs);
    Costs costs;
    costs.forward = forwardMs;
    costs.backward = backwardMs;
    const Timeline timeline = simulate(PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches }), costs);
    const double expectedBatch = (microbatches + ranks - 1) * (forwardMs + backwardMs);
    VERIFY_NEAR(timeline.batchMs, expectedBatch);
    VERIFY_NEAR(timeline.bubbleFraction, double(ranks - 1) / (microbatches + ranks - 1));
    for (int r = 0; r < ranks; ++r)
        VERIFY_NEAR(timeline.rankIdleMs[static_cast<std::size_t>(r)], (ranks - 1) * (forwardMs + backwardMs));
}

void TestPipelineSchedule::interleavedTiming_data()
{
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::newRow("P=4 M=8 V=2") << 4 << 8 << 2;
    QTest::newRow("P=4 M=4 V=2") << 4 << 4 << 2;
    QTest::newRow("P=3 M=9 V=3") << 3 << 9 << 3;
    QTest::newRow("P=8 M=16 V=4") << 8 << 16 << 4;
}

// With a rank's model split into V chunks, each chunk action costs 1/V of the rank's t_F / t_B
// and the bubble shrinks by V: idle per rank (P−1)(t_F + t_B)/V, the batch M(t_F + t_B) more.
void TestPipelineSchedule::interleavedTiming()
{
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const double forwardMs = 1.0;
    const double backwardMs = 2.0;
    Costs costs;
    costs.forward = forwardMs / stagesPerRank;
    costs.backward = backwardMs / stagesPerRank;
    const Timeline timeline = simulate(
        PipelineSchedule::generate(ScheduleShape { ScheduleKind::Interleaved1F1B, ranks, microbatches, stagesPerRank }),
        costs);
    const double idle = (ranks - 1) * (forwardMs + backwardMs) / stagesPerRank;
    VERIFY_NEAR(timeline.batchMs, (microbatches * (forwardMs + backwardMs) + idle));
    for (double rankIdle : timeline.rankIdleMs)
        VERIFY_NEAR(rankIdle, idle);
}

void TestPipelineSchedule::zbh1Timing_data()
{
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<double>("forwardMs");
    QTest::addColumn<double>("inputMs");
    QTest::addColumn<double>("weightMs");
    QTest::newRow("P=4 M=8 unit") << 4 << 8 << 1.0 << 1.0 << 1.0;
    QTest::newRow("P=4 M=4 unit") << 4 << 4 << 1.0 << 1.0 << 1.0;
    QTest::newRow("P=6 M=19 slow forward") << 6 << 19 << 3.0 << 2.0 << 1.0;
    QTest::newRow("P=3 M=6 cheap W") << 3 << 6 << 1.0 << 1.0 << 0.5;
}

// ZB-H1's bubble per rank (P−1)(t_F + t_I − t_W), METHOD §8, exactly (when t_W ≤ t_F, t_I).
void TestPipelineSchedule::zbh1Timing()
{
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(double, forwardMs);
    QFETCH(double, inputMs);
    QFETCH(double, weightMs);
    Costs costs;
    costs.forward = forwardMs;
    costs.input = inputMs;
    costs.weight = weightMs;
    const Timeline timeline
        = simulate(PipelineSchedule::generate(ScheduleShape { ScheduleKind::ZBH1, ranks, microbatches }), costs);
    const double idle = (ranks - 1) * (forwardMs + inputMs - weightMs);
    VERIFY_NEAR(timeline.batchMs, (microbatches * (forwardMs + inputMs + weightMs) + idle));
    for (double rankIdle : timeline.rankIdleMs)
        VERIFY_NEAR(rankIdle, idle);
}

void TestPipelineSchedule::methodTable_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<double>("tableFraction");
    QTest::newRow("GPipe 27.3%") << ScheduleKind::GPipe << 1 << 0.273;
    QTest::newRow("1F1B 27.3%") << ScheduleKind::OneFOneB << 1 << 0.273;
    QTest::newRow("Interleaved V=2 15.8%") << ScheduleKind::Interleaved1F1B << 2 << 0.158;
    QTest::newRow("ZB-H1 11.1%") << ScheduleKind::ZBH1 << 1 << 0.111;
    QTest::newRow("ZB-V 5.9%") << ScheduleKind::ZBV << 2 << 0.059;
}

// METHOD §8's table at P=4, M=8, t_B = 2 t_F (t_I = t_W = t_F). The table rounds to 0.1%, so a
// difference of 0.0005 is rounding; our orders hit 9/33, 9/57, 3/27 and 3/51 exactly.
// Chunk actions all cost the same, so V does not change the fraction.
void TestPipelineSchedule::methodTable()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, stagesPerRank);
    QFETCH(double, tableFraction);
    const Timeline timeline
        = simulate(PipelineSchedule::generate(ScheduleShape { kind, 4, 8, stagesPerRank }), Costs {});
    QVERIFY2(qAbs(timeline.bubbleFraction - tableFraction) <= 0.0005 + 1e-12,
        qPrintable(u"idle fraction "_s + QString::number(timeline.bubbleFraction, 'f', 4)));
    const Timeline oneFOneB
        = simulate(PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 4, 8 }), Costs {});
    if (kind != ScheduleKind::GPipe && kind != ScheduleKind::OneFOneB)
        QVERIFY(timeline.bubbleFraction < oneFOneB.bubbleFraction);
}

void TestPipelineSchedule::invalidShape_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    QTest::newRow("no ranks") << ScheduleKind::OneFOneB << 0 << 4 << 1 << u"ranks"_s
                              << u"ranks must be at least 1 (got 0)"_s;
    QTest::newRow("negative microbatches")
        << ScheduleKind::GPipe << 2 << -1 << 1 << u"microbatches"_s << u"microbatches must be at least 1 (got -1)"_s;
    QTest::newRow("no stages per rank") << ScheduleKind::OneFOneB << 2 << 2 << 0 << u"stages_per_rank"_s
                                        << u"stages_per_rank must be at least 1 (got 0)"_s;
    QTest::newRow("GPipe with V=2") << ScheduleKind::GPipe << 2 << 2 << 2 << u"stages_per_rank"_s
                                    << u"GPipe needs stages_per_rank = 1 (got 2)"_s;
    QTest::newRow("1F1B with V=3") << ScheduleKind::OneFOneB << 2 << 2 << 3 << u"stages_per_rank"_s
                                   << u"1F1B needs stages_per_rank = 1 (got 3)"_s;
    QTest::newRow("ZBH1 with V=2") << ScheduleKind::ZBH1 << 2 << 2 << 2 << u"stages_per_rank"_s
                                   << u"ZBH1 needs stages_per_rank = 1 (got 2)"_s;
    QTest::newRow("interleaved with V=1") << ScheduleKind::Interleaved1F1B << 4 << 8 << 1 << u"stages_per_rank"_s
                                          << u"Interleaved1F1B needs stages_per_rank ≥ 2"_s;
    QTest::newRow("interleaved M not a multiple of P")
        << ScheduleKind::Interleaved1F1B << 4 << 6 << 2 << u"microbatches"_s
        << u"Interleaved1F1B needs microbatches to be a multiple of ranks (got 6 microbatches, 4 ranks)"_s;
    QTest::newRow("ZBV with V=3") << ScheduleKind::ZBV << 4 << 8 << 3 << u"stages_per_rank"_s
                                  << u"ZBV needs stages_per_rank = 2 (got 3)"_s;
    QTest::newRow("ZBV with V=1") << ScheduleKind::ZBV << 4 << 8 << 1 << u"stages_per_rank"_s
                                  << u"ZBV needs stages_per_rank = 2 (got 1)"_s;
    QTest::newRow("ZBH1 with M<P") << ScheduleKind::ZBH1 << 4 << 3 << 1 << u"microbatches"_s
                                   << u"ZBH1 needs microbatches ≥ ranks (got 3 microbatches, 4 ranks)"_s;
    QTest::newRow("ZBV with M<P") << ScheduleKind::ZBV << 4 << 2 << 2 << u"microbatches"_s
                                  << u"ZBV needs microbatches ≥ ranks"_s;
    QTest::newRow("Custom") << ScheduleKind::Custom << 2 << 2 << 1 << u"kind"_s << u"cannot be generated"_s;
}

void TestPipelineSchedule::invalidShape()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(QString, field);
    QFETCH(QString, message);
    const ScheduleShape shape = ScheduleShape { kind, ranks, microbatches, stagesPerRank };
    std::string gotField;
    const QString fromValidate = messageOf([&] { validateScheduleShape(shape); }, &gotField);
    QVERIFY2(fromValidate.contains(message), qPrintable(fromValidate));
    QVERIFY2(fromValidate.startsWith(u"schedule: "_s), qPrintable(fromValidate));
    QCOMPARE(QString::fromStdString(gotField), field);
    const QString fromGenerate = messageOf([&] { PipelineSchedule::generate(shape); });
    QCOMPARE(fromGenerate, fromValidate);
}

void TestPipelineSchedule::rejectsBadOrder_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("breakage");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("message");
    // Breakages of the 1F1B order at P=2, M=2: rank 0 = 0F0 0F1 0B0 0B1, rank 1 = 1F0 1B0 1F1 1B1.
    QTest::newRow("duplicated F") << ScheduleKind::OneFOneB << 0 << u"rank 0"_s << u"0F0 appears twice"_s;
    QTest::newRow("missing backward") << ScheduleKind::OneFOneB << 1 << u"actions"_s
                                      << u"stage 1 microbatch 1 has no backward"_s;
    QTest::newRow("missing forward") << ScheduleKind::OneFOneB << 2 << u"actions"_s
                                     << u"stage 0 microbatch 0 has no forward"_s;
    QTest::newRow("stage on the wrong rank")
        << ScheduleKind::OneFOneB << 3 << u"rank 1"_s << u"0B1 is on rank 1 but stage 0 belongs to rank 0"_s;
    QTest::newRow("custom stage split over ranks")
        << ScheduleKind::Custom << 3 << u"rank 1"_s << u"0B1 is on rank 1 but stage 0 belongs to rank 0"_s;
    QTest::newRow("rank field disagrees")
        << ScheduleKind::OneFOneB << 4 << u"rank 1"_s << u"1F0 is listed on rank 1 but says rank 0"_s;
    QTest::newRow("stage out of range") << ScheduleKind::OneFOneB << 5 << u"rank 1"_s
                                        << u"2F0: stage 2 is out of range [0, 2)"_s;
    QTest::newRow("microbatch out of range")
        << ScheduleKind::OneFOneB << 6 << u"rank 0"_s << u"0F2: microbatch 2 is out of range [0, 2)"_s;
    QTest::newRow("B mixed with I/W") << ScheduleKind::OneFOneB << 7 << u"actions"_s
                                      << u"stage 1 microbatch 0 mixes B with I/W"_s;
    QTest::newRow("I without W") << ScheduleKind::OneFOneB << 8 << u"actions"_s
                                 << u"stage 1 microbatch 0 has I but no W"_s;
    QTest::newRow("W without I") << ScheduleKind::OneFOneB << 9 << u"actions"_s
                                 << u"stage 1 microbatch 0 has W but no I"_s;
}

void TestPipelineSchedule::rejectsBadOrder()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, breakage);
    QFETCH(QString, field);
    QFETCH(QString, message);
    auto orders = smallOrders();
    auto& rank0 = orders[0];
    auto& rank1 = orders[1];
    switch (breakage) {
    case 0:
        rank0.insert(rank0.begin() + 1, rank0[0]);
        break;
    case 1:
        rank1.pop_back(); // 1B1
        break;
    case 2:
        rank0.erase(rank0.begin()); // 0F0
        break;
    case 3:
        rank1.push_back(rank0.back());
        rank1.back().rank = 1;
        rank0.pop_back(); // 0B1 moves to rank 1
        break;
    case 4:
        rank1[0].rank = 0;
        break;
    case 5:
        rank1.insert(rank1.begin(), Action { 1, 2, 0, ActionKind::Forward });
        break;
    case 6:
        rank0.insert(rank0.begin(), Action { 0, 0, 2, ActionKind::Forward });
        break;
    case 7:
        rank1.push_back(Action { 1, 1, 0, ActionKind::BackwardInput });
        break;
    case 8:
    case 9:
        rank1[1].kind = breakage == 8 ? ActionKind::BackwardInput : ActionKind::BackwardWeight; // was 1B0
        break;
    default:
        QFAIL("unknown breakage");
    }
    std::string gotField;
    const QString got = messageOf(
        [&] {
            PipelineSchedule::fromRankOrders(ScheduleShape { kind, 2, 2 }, orders, "profile.json");
        },
        &gotField);
    QVERIFY2(got.contains(message), qPrintable(got));
    QVERIFY2(got.startsWith(u"profile.json: "_s), qPrintable(got));
    QCOMPARE(QString::fromStdString(gotField), field);
}

void TestPipelineSchedule::rejectsWrongRankCount()
{
    auto orders = smallOrders();
    orders.pop_back();
    std::string field;
    const QString got = messageOf(
        [&] {
            PipelineSchedule::fromRankOrders(ScheduleShape { ScheduleKind::OneFOneB, 2, 2 }, orders);
        },
        &field);
    QVERIFY2(got.contains(u"expected 2 rank orders, got 1"_s), qPrintable(got));
    QCOMPARE(field, std::string("ranks"));

    const QString tooFew = messageOf(
        [&] {
            PipelineSchedule::fromRankOrders(ScheduleShape { ScheduleKind::OneFOneB, 2, 1000000 }, smallOrders());
        },
        &field);
    QVERIFY2(
        tooFew.contains(u"2 stages × 1000000 microbatches need at least 4000000 actions, got 8"_s), qPrintable(tooFew));
    QCOMPARE(field, std::string("actions"));
}

// A custom order places stages where its actions are, may split only some backwards, and is
// not required to follow any generator's rules (here stage 0 on rank 1, stage 1 on rank 0).
void TestPipelineSchedule::acceptsCustomOrder()
{
    const std::vector<std::vector<Action>> orders {
        { { 0, 1, 0, ActionKind::Forward }, { 0, 1, 0, ActionKind::BackwardInput },
            { 0, 1, 0, ActionKind::BackwardWeight } },
        { { 1, 0, 0, ActionKind::Forward }, { 1, 0, 0, ActionKind::Backward } },
    };
    const PipelineSchedule schedule
        = PipelineSchedule::fromRankOrders(ScheduleShape { ScheduleKind::Custom, 2, 1 }, orders, "custom.json");
    QCOMPARE(schedule.stageRank(0), 1);
    QCOMPARE(schedule.stageRank(1), 0);
    QVERIFY(schedule.splitBackward());
    QCOMPARE(schedule.actionCount(), std::size_t(5));
    QCOMPARE(schedule.rankOrder(0).size(), std::size_t(3));

    const PipelineSchedule plain
        = PipelineSchedule::fromRankOrders(ScheduleShape { ScheduleKind::OneFOneB, 2, 2 }, smallOrders());
    QVERIFY(!plain.splitBackward());
    QCOMPARE(plain.stageRank(1), 1);
}

QTEST_APPLESS_MAIN(TestPipelineSchedule)

#include "tst_pipelineschedule.moc"
