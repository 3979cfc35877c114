// EventLoopStallMonitor: a loop blocked on purpose for a known time must read as a stall at least
// that long. Lower bounds only: the machine is shared, so nothing asserts that a stall is short.
#include "ui/event_loop_stall_monitor.h"

#include <QtTest>

#include <chrono>
#include <thread>

using namespace tfreeze;

namespace {

// Blocks the loop of the current thread for `ms`, from inside an event (as a slow slot would).
void blockLoopSoon(int ms, bool* done)
{
    QMetaObject::invokeMethod(
        QCoreApplication::instance(),
        [ms, done] {
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            *done = true;
        },
        Qt::QueuedConnection);
}

// Runs the loop until `done` and a few ticks after it, so that the tick ending the stall came.
void runUntilBlockedAndAfter(const EventLoopStallMonitor& monitor, const bool& done)
{
    QTRY_VERIFY_WITH_TIMEOUT(done, 60000);
    const int ticks = monitor.ticks();
    QTRY_VERIFY_WITH_TIMEOUT(monitor.ticks() >= ticks + 3, 60000);
}

} // namespace

class TestEventLoopStallMonitor : public QObject {
    Q_OBJECT

private slots:
    void blockedLoopReadsAtLeastTheBlock_data();
    void blockedLoopReadsAtLeastTheBlock();
    void stallsAreCountedByLength();
    void resetForgets();
};

void TestEventLoopStallMonitor::blockedLoopReadsAtLeastTheBlock_data()
{
    QTest::addColumn<int>("intervalMs");
    QTest::addColumn<int>("blockMs");
    QTest::newRow("5 ms timer, 30 ms block") << 5 << 30;
    QTest::newRow("5 ms timer, 120 ms block") << 5 << 120;
    QTest::newRow("20 ms timer, 60 ms block") << 20 << 60;
}

void TestEventLoopStallMonitor::blockedLoopReadsAtLeastTheBlock()
{
    QFETCH(int, intervalMs);
    QFETCH(int, blockMs);
    EventLoopStallMonitor monitor(intervalMs);
    QCOMPARE(monitor.intervalMs(), intervalMs);
    monitor.start();
    QVERIFY(monitor.isRunning());
    // Let the timer run before the block, so the stall falls between two firings.
    QTRY_VERIFY_WITH_TIMEOUT(monitor.ticks() >= 3, 60000);
    bool done = false;
    blockLoopSoon(blockMs, &done);
    runUntilBlockedAndAfter(monitor, done);
    QVERIFY2(monitor.longestStallMs() >= blockMs,
        qPrintable(
            QStringLiteral("longest stall %1 ms after a %2 ms block").arg(monitor.longestStallMs()).arg(blockMs)));
    QVERIFY(monitor.stallsOver(blockMs - 1) >= 1);
    monitor.stop();
    QVERIFY(!monitor.isRunning());
}

// Two blocks, 40 and 150 ms: at least two stalls over 39 ms, at least one over 149 ms, and the
// longest is at least the longer block.
void TestEventLoopStallMonitor::stallsAreCountedByLength()
{
    EventLoopStallMonitor monitor(5);
    monitor.start();
    QTRY_VERIFY_WITH_TIMEOUT(monitor.ticks() >= 3, 60000);
    bool first = false;
    blockLoopSoon(40, &first);
    runUntilBlockedAndAfter(monitor, first);
    bool second = false;
    blockLoopSoon(150, &second);
    runUntilBlockedAndAfter(monitor, second);
    QVERIFY(monitor.stallsOver(39) >= 2);
    QVERIFY(monitor.stallsOver(149) >= 1);
    QVERIFY(monitor.stallsOver(39) >= monitor.stallsOver(149));
    QVERIFY(monitor.longestStallMs() >= 150);
}

void TestEventLoopStallMonitor::resetForgets()
{
    EventLoopStallMonitor monitor(5);
    monitor.start();
    QTRY_VERIFY_WITH_TIMEOUT(monitor.ticks() >= 3, 60000);
    bool done = false;
    blockLoopSoon(50, &done);
    runUntilBlockedAndAfter(monitor, done);
    QVERIFY(monitor.longestStallMs() >= 50);
    monitor.reset();
    // No event ran since: nothing measured, and the monitor still runs.
    QCOMPARE(monitor.longestStallMs(), 0.0);
    QCOMPARE(monitor.stallsOver(0), 0);
    QCOMPARE(monitor.ticks(), 0);
    QVERIFY(monitor.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(monitor.ticks() >= 3, 60000);
}

QTEST_GUILESS_MAIN(TestEventLoopStallMonitor)
#include "tst_eventloopstallmonitor.moc"
