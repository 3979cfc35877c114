#include "core/plan/pipeline_dag.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"

#include "plan_test_support.h"

#include <QtTest>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

using namespace tfreeze;
using namespace tfreeze::test;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(tfreeze::ScheduleKind)

namespace {

// "0F0 0B0 | 1F0 1B0": one rank per '|'-separated group, actions by PyTorch name.
std::vector<std::vector<Action>> parseOrders(const QString& text)
{
    std::vector<std::vector<Action>> orders;
    const QStringList ranks = text.split(u'|');
    for (int rank = 0; rank < ranks.size(); ++rank) {
        orders.emplace_back();
        for (const QString& name : ranks[rank].split(u' ', Qt::SkipEmptyParts)) {
            int letter = 0;
            while (letter < name.size() && name[letter].isDigit())
                ++letter;
            Action action;
            action.rank = rank;
            action.stage = name.left(letter).toInt();
            action.kind = parseActionKind(name.mid(letter, 1).toStdString());
            action.microbatch = name.mid(letter + 1).toInt();
            orders.back().push_back(action);
        }
    }
    return orders;
}

// METHOD.md §2's dependencies of every action, by name: the shared rule-derived dependencies
// (not PipelineDag's) so that the DAG can be checked against them.
std::map<QString, std::set<QString>> namedRuleDependencies(const PipelineSchedule& schedule)
{
    std::vector<QString> names;
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& a : order)
            names.push_back(nameOf(a));
    }
    const Dependencies deps = ruleDependencies(schedule);
    std::map<QString, std::set<QString>> named;
    for (std::size_t v = 0; v < names.size(); ++v) {
        auto& mine = named[names[v]];
        for (std::size_t u : deps[v])
            mine.insert(names[u]);
    }
    return named;
}

QString joined(const std::set<QString>& names) { return QStringList(names.begin(), names.end()).join(u' '); }

std::set<QString> dagPredecessors(const PipelineDag& dag, PipelineDag::Node node)
{
    std::set<QString> names;
    for (PipelineDag::Node pred : dag.predecessors(node))
        names.insert(nameOf(dag.action(pred)));
    return names;
}

// Checks the adjacency lists' own invariants: sorted, no duplicates, successors the exact mirror
// of predecessors, edgeCount their total.
void checkAdjacency(const PipelineDag& dag)
{
    std::size_t total = 0;
    std::set<std::pair<PipelineDag::Node, PipelineDag::Node>> fromPreds, fromSuccs;
    for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
        const auto& preds = dag.predecessors(v);
        QVERIFY(std::adjacent_find(preds.begin(), preds.end(), std::greater_equal<>()) == preds.end());
        total += preds.size();
        for (PipelineDag::Node u : preds) {
            QVERIFY(u != v);
            fromPreds.insert({ u, v });
        }
        for (PipelineDag::Node w : dag.successors(v))
            fromSuccs.insert({ v, w });
    }
    QCOMPARE(dag.edgeCount(), total);
    QCOMPARE(fromSuccs.size(), total);
    QVERIFY(fromPreds == fromSuccs);
}

} // namespace

class TestPipelineDag : public QObject {
    Q_OBJECT

private slots:
    void handCheckedEdges_data();
    void handCheckedEdges();
    void edgesFollowRules_data();
    void edgesFollowRules();
    void topologicalOrder_data();
    void topologicalOrder();
    void deadlockNamesCycle_data();
    void deadlockNamesCycle();

private:
    void addGeneratedRows();
};

void TestPipelineDag::handCheckedEdges_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<QString>("orders"); // empty: generated
    QTest::addColumn<QString>("expected"); // "node: preds; ..." in rank-major node order
    QTest::addColumn<int>("edges");

    // rank 0 = 0F0 0F1 0B0 0B1, rank 1 = 1F0 1B0 1F1 1B1. 1F0→1B0 and 1F1→1B1 are both a device
    // edge and an F→B edge: merged, so 12 edges where the rules list 14.
    QTest::newRow("1F1B P=2 M=2") << ScheduleKind::OneFOneB << 2 << 2 << 1 << QString()
                                  << u"0F0: ; 0F1: 0F0; 0B0: 0F0 0F1 1B0; 0B1: 0B0 0F1 1B1; "
                                     "1F0: 0F0; 1B0: 1F0; 1F1: 0F1 1B0; 1B1: 1F1"_s
                                  << 12;
    QTest::newRow("GPipe P=2 M=2") << ScheduleKind::GPipe << 2 << 2 << 1 << QString()
                                   << u"0F0: ; 0F1: 0F0; 0B0: 0F0 0F1 1B0; 0B1: 0B0 0F1 1B1; "
                                      "1F0: 0F0; 1F1: 0F1 1F0; 1B0: 1F0 1F1; 1B1: 1B0 1F1"_s
                                   << 14;
    // rank 0 = 0F0 0F1 0I0 0W0 0I1 0W1, rank 1 = 1F0 1I0 1F1 1I1 1W0 1W1: rank 1 defers one W, so
    // 1I0→1W0 is an edge that device order does not imply; 1I(m)→0I(m) crosses ranks.
    QTest::newRow("ZBH1 P=2 M=2") << ScheduleKind::ZBH1 << 2 << 2 << 1 << QString()
                                  << u"0F0: ; 0F1: 0F0; 0I0: 0F0 0F1 1I0; 0W0: 0I0; 0I1: 0F1 0W0 1I1; 0W1: 0I1; "
                                     "1F0: 0F0; 1I0: 1F0; 1F1: 0F1 1I0; 1I1: 1F1; 1W0: 1I0 1I1; 1W1: 1I1 1W0"_s
                                  << 18;
    // rank 0 = 0F0 0F1 2F0 2F1 2B0 2B1 0B0 0B1, rank 1 = 1F0 1F1 3F0 3B0 3F1 3B1 1B0 1B1: F's
    // cross from rank 1 back to rank 0 (1F→2F) and B's the other way (2B→1B).
    QTest::newRow("Interleaved P=2 M=2 V=2")
        << ScheduleKind::Interleaved1F1B << 2 << 2 << 2 << QString()
        << u"0F0: ; 0F1: 0F0; 2F0: 0F1 1F0; 2F1: 1F1 2F0; 2B0: 2F0 2F1 3B0; 2B1: 2B0 2F1 3B1; "
           "0B0: 0F0 1B0 2B1; 0B1: 0B0 0F1 1B1; "
           "1F0: 0F0; 1F1: 0F1 1F0; 3F0: 1F1 2F0; 3B0: 3F0; 3F1: 2F1 3B0; 3B1: 3F1; "
           "1B0: 1F0 2B0 3B1; 1B1: 1B0 1F1 2B1"_s
        << 32;
    // A custom order may split the backward of one stage only: the next stage's I or B feeds the
    // backward of the stage before, whichever it is.
    QTest::newRow("custom: split stage 0 under full B stage 1")
        << ScheduleKind::Custom << 2 << 1 << 1 << u"0F0 0I0 0W0 | 1F0 1B0"_s
        << u"0F0: ; 0I0: 0F0 1B0; 0W0: 0I0; 1F0: 0F0; 1B0: 1F0"_s << 5;
    QTest::newRow("custom: full B stage 0 under split stage 1")
        << ScheduleKind::Custom << 2 << 1 << 1 << u"0F0 0B0 | 1F0 1I0 1W0"_s
        << u"0F0: ; 0B0: 0F0 1I0; 1F0: 0F0; 1I0: 1F0; 1W0: 1I0"_s << 5;
}

void TestPipelineDag::handCheckedEdges()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(QString, orders);
    QFETCH(QString, expected);
    QFETCH(int, edges);
    const ScheduleShape shape = ScheduleShape { kind, ranks, microbatches, stagesPerRank };
    const PipelineSchedule schedule = orders.isEmpty() ? PipelineSchedule::generate(shape)
                                                       : PipelineSchedule::fromRankOrders(shape, parseOrders(orders));
    const PipelineDag dag(schedule);

    QStringList got;
    for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v)
        got << nameOf(dag.action(v)) + u": "_s + joined(dagPredecessors(dag, v));
    QCOMPARE(got.join(u"; "_s), expected);
    QCOMPARE(dag.edgeCount(), static_cast<std::size_t>(edges));
    checkAdjacency(dag);
}

void TestPipelineDag::addGeneratedRows()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::newRow("GPipe P=3 M=5") << ScheduleKind::GPipe << 3 << 5 << 1;
    QTest::newRow("1F1B P=1 M=3") << ScheduleKind::OneFOneB << 1 << 3 << 1;
    QTest::newRow("1F1B P=4 M=8") << ScheduleKind::OneFOneB << 4 << 8 << 1;
    QTest::newRow("1F1B P=6 M=2") << ScheduleKind::OneFOneB << 6 << 2 << 1;
    QTest::newRow("Interleaved P=4 M=8 V=2") << ScheduleKind::Interleaved1F1B << 4 << 8 << 2;
    QTest::newRow("Interleaved P=3 M=6 V=3") << ScheduleKind::Interleaved1F1B << 3 << 6 << 3;
    QTest::newRow("ZBH1 P=3 M=5") << ScheduleKind::ZBH1 << 3 << 5 << 1;
    QTest::newRow("ZBH1 P=4 M=8") << ScheduleKind::ZBH1 << 4 << 8 << 1;
    QTest::newRow("ZBV P=2 M=3") << ScheduleKind::ZBV << 2 << 3 << 2;
    QTest::newRow("ZBV P=4 M=8") << ScheduleKind::ZBV << 4 << 8 << 2;
}

void TestPipelineDag::edgesFollowRules_data() { addGeneratedRows(); }

// Every node's predecessors are exactly the dependencies the rules give, recomputed by name.
void TestPipelineDag::edgesFollowRules()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const PipelineSchedule schedule
        = PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, stagesPerRank });
    const PipelineDag dag(schedule);
    const auto rules = namedRuleDependencies(schedule);

    QCOMPARE(dag.nodeCount(), schedule.actionCount());
    QCOMPARE(dag.rankCount(), ranks);
    QCOMPARE(dag.stageCount(), ranks * stagesPerRank);
    std::size_t ruleEdges = 0;
    PipelineDag::Node node = 0;
    for (int r = 0; r < ranks; ++r) {
        QCOMPARE(dag.rankBegin(r), node);
        for (const Action& action : schedule.rankOrder(r)) {
            QVERIFY(dag.action(node) == action);
            const std::set<QString>& want = rules.at(nameOf(action));
            QCOMPARE(joined(dagPredecessors(dag, node)), joined(want));
            ruleEdges += want.size();
            ++node;
        }
        QCOMPARE(dag.rankEnd(r), node);
    }
    QCOMPARE(dag.edgeCount(), ruleEdges);
    checkAdjacency(dag);
}

void TestPipelineDag::topologicalOrder_data() { addGeneratedRows(); }

void TestPipelineDag::topologicalOrder()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    const PipelineDag dag(PipelineSchedule::generate(ScheduleShape { kind, ranks, microbatches, stagesPerRank }));
    const auto& order = dag.topologicalOrder();
    QCOMPARE(order.size(), dag.nodeCount());
    std::vector<std::size_t> position(dag.nodeCount(), dag.nodeCount());
    for (std::size_t i = 0; i < order.size(); ++i) {
        QVERIFY(order[i] < dag.nodeCount());
        QCOMPARE(position[order[i]], dag.nodeCount()); // each node once
        position[order[i]] = i;
    }
    for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
        for (PipelineDag::Node u : dag.predecessors(v))
            QVERIFY2(position[u] < position[v],
                qPrintable(nameOf(dag.action(u)) + u" is not before "_s + nameOf(dag.action(v))));
    }
}

void TestPipelineDag::deadlockNamesCycle_data()
{
    QTest::addColumn<ScheduleKind>("kind");
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("microbatches");
    QTest::addColumn<int>("stagesPerRank");
    QTest::addColumn<QString>("orders");
    QTest::addColumn<QString>("cycle"); // the actions on the cycle, sorted
    QTest::addColumn<QString>("absent"); // waiting on the cycle, but not part of it

    // Rank 0 runs 0B0 before 0F1, rank 1 runs 1F1 before 1B0: 0B0 waits for 1B0, which waits
    // (device order) for 1F1, which waits for 0F1, which waits (device order) for 0B0.
    QTest::newRow("1F1B backward before the next forward")
        << ScheduleKind::OneFOneB << 2 << 2 << 1 << u"0F0 0B0 0F1 0B1 | 1F0 1F1 1B0 1B1"_s << u"0B0 0F1 1B0 1F1"_s
        << u"0B1 1B1"_s;
    // W before its own I on one rank: device order and I→W point at each other.
    QTest::newRow("ZBH1 weight before input")
        << ScheduleKind::ZBH1 << 2 << 2 << 1 << u"0F0 0F1 0W0 0I0 0I1 0W1 | 1F0 1I0 1F1 1I1 1W0 1W1"_s << u"0I0 0W0"_s
        << u"0I1 0W1"_s;
    // Chunk 1 (stage 2) of microbatch 0 first on rank 0: it needs 1F0, which needs 0F0 behind it.
    QTest::newRow("Interleaved later chunk first")
        << ScheduleKind::Interleaved1F1B << 2 << 2 << 2
        << u"2F0 0F0 0F1 2F1 2B0 2B1 0B0 0B1 | 1F0 1F1 3F0 3B0 3F1 3B1 1B0 1B1"_s << u"0F0 1F0 2F0"_s << u"2F1 3F0"_s;
}

void TestPipelineDag::deadlockNamesCycle()
{
    QFETCH(ScheduleKind, kind);
    QFETCH(int, ranks);
    QFETCH(int, microbatches);
    QFETCH(int, stagesPerRank);
    QFETCH(QString, orders);
    QFETCH(QString, cycle);
    QFETCH(QString, absent);
    // A valid schedule by construction rules: only the DAG can tell that it deadlocks.
    const PipelineSchedule schedule = PipelineSchedule::fromRankOrders(
        ScheduleShape { kind, ranks, microbatches, stagesPerRank }, parseOrders(orders), "custom.json");
    const auto rules = namedRuleDependencies(schedule);

    QString message;
    std::string field;
    try {
        const PipelineDag dag(schedule, "custom.json");
        QFAIL("no InputError for a deadlocking order");
    } catch (const InputError& error) {
        message = QString::fromStdString(error.what());
        field = error.field();
    }
    QVERIFY2(message.contains(u"deadlock"_s), qPrintable(message));
    QVERIFY2(message.startsWith(u"custom.json: "_s), qPrintable(message));
    QCOMPARE(field, std::string("order"));
    for (const QString& name : cycle.split(u' '))
        QVERIFY2(message.contains(name), qPrintable(name + u" missing from: "_s + message));
    for (const QString& name : absent.split(u' '))
        QVERIFY2(!message.contains(name), qPrintable(name + u" is not on the cycle: "_s + message));

    // The listed chain must really be a cycle: closed, and each step a dependency by the rules.
    const int listAt = message.indexOf(u": "_s, message.lastIndexOf(u"cycle"_s));
    QVERIFY2(listAt >= 0, qPrintable(message));
    QStringList chain;
    for (QString step : message.mid(listAt + 2).split(u" -> "_s)) {
        const int paren = step.indexOf(u" ("_s);
        chain << (paren >= 0 ? step.left(paren) : step).trimmed();
    }
    QVERIFY2(chain.size() >= 3 && chain.first() == chain.last(), qPrintable(message));
    for (int i = 0; i + 1 < chain.size(); ++i)
        QVERIFY2(rules.at(chain[i + 1]).count(chain[i]),
            qPrintable(chain[i + 1] + u" does not wait for "_s + chain[i] + u" in: "_s + message));
    QStringList members = chain.mid(0, chain.size() - 1);
    members.sort();
    QCOMPARE(members.join(u' '), cycle);
}

QTEST_APPLESS_MAIN(TestPipelineDag)

#include "tst_pipelinedag.moc"
