#include "ui/timeline_bench.h"

#include <QtTest>

using namespace tfreeze;

// The bench's shape and that it measured something; its figures are reported, not asserted (the
// machine is shared: no timed assertions).
class TestTimelineBench : public QObject {
    Q_OBJECT

private slots:
    void runsOnTheFullShape();
};

void TestTimelineBench::runsOnTheFullShape()
{
    const TimelineBenchResult result = runTimelineBench(1);
    QCOMPARE(result.ranks, 64);
    QCOMPARE(result.microbatches, 512);
    QCOMPARE(result.bars, std::size_t { 64 * 512 * 2 });
    QCOMPARE(result.repeats, 1);
    QVERIFY(result.fullRepaintMs > 0.0);
    QVERIFY(result.zoomedRepaintMs > 0.0);
    QVERIFY(result.panStepMs > 0.0);
    QVERIFY(result.fullRepaintNoLevelOfDetailMs > 0.0);
    const QString report = timelineBenchReport(result);
    QVERIFY(report.contains(QStringLiteral("65536 bars")));
    qInfo().noquote() << report;
}

QTEST_MAIN(TestTimelineBench)
#include "tst_timelinebench.moc"
