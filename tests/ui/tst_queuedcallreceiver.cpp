// QueuedCallReceiver: calls posted from other threads run on the receiver's thread, each poster's
// in its order, only from the event loop (never inside post); calls still queued when the receiver
// goes are dropped with their captures; other events still reach QObject; posts beside the
// receiving thread's own events all arrive. Under ThreadSanitizer (label `threaded`) the unlocked
// vector below checks that the hand-over orders what it carries, and the last test that Qt's event
// list, which TSan cannot see locked, is not reported as a race.
#include "ui/queued_call_receiver.h"

#include <QDeadlineTimer>
#include <QPointer>
#include <QtTest>

#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

using namespace tfreeze;

class TestQueuedCallReceiver : public QObject {
    Q_OBJECT

private slots:
    void callsFromOtherThreadsRunHereInOrder();
    void postFromItsOwnThreadIsQueued();
    void queuedCallsAreDroppedWithTheReceiver();
    void otherEventsStillReachQObject();
    void postsBesideQtsOwnOnTheReceivingThread();
};

void TestQueuedCallReceiver::callsFromOtherThreadsRunHereInOrder()
{
    constexpr int kPosters = 3;
    constexpr int kCallsEach = 200;
    QueuedCallReceiver receiver;
    // Each call carries a vector built on its poster's thread; the receiving thread reads it.
    std::vector<std::pair<int, int>> ran; // touched on this thread only
    std::vector<int> sums;
    bool offThread = false;
    const auto here = std::this_thread::get_id();
    std::vector<std::thread> posters;
    for (int p = 0; p < kPosters; ++p) {
        posters.emplace_back([&, p] {
            for (int i = 0; i < kCallsEach; ++i) {
                std::vector<int> payload(16, i);
                receiver.post([&, p, i, payload = std::move(payload)] {
                    offThread = offThread || std::this_thread::get_id() != here;
                    ran.emplace_back(p, i);
                    int sum = 0;
                    for (int value : payload)
                        sum += value;
                    sums.push_back(sum - 16 * i);
                });
            }
        });
    }
    for (std::thread& poster : posters)
        poster.join();
    QTRY_COMPARE(ran.size(), static_cast<std::size_t>(kPosters * kCallsEach));
    QVERIFY(!offThread);
    std::vector<int> next(kPosters, 0);
    for (const auto& [poster, index] : ran) {
        QCOMPARE(index, next[poster]);
        ++next[poster];
    }
    for (int zero : sums)
        QCOMPARE(zero, 0);
}

void TestQueuedCallReceiver::postFromItsOwnThreadIsQueued()
{
    QueuedCallReceiver receiver;
    std::vector<int> order;
    receiver.post([&order] { order.push_back(1); });
    order.push_back(0); // post returned before the call ran
    QCOMPARE(order, std::vector<int> { 0 });
    QCoreApplication::sendPostedEvents(&receiver);
    QCOMPARE(order, (std::vector<int> { 0, 1 }));
}

void TestQueuedCallReceiver::queuedCallsAreDroppedWithTheReceiver()
{
    auto capture = std::make_shared<int>(7);
    const std::weak_ptr<int> watch = capture;
    bool ran = false;
    {
        QueuedCallReceiver receiver;
        std::thread poster([&receiver, &ran, capture = std::move(capture)] {
            receiver.post([&ran, capture] { ran = *capture == 7; });
        });
        poster.join();
        QVERIFY(!watch.expired()); // held by the queued call
    }
    QCoreApplication::processEvents();
    QVERIFY(!ran);
    QVERIFY(watch.expired());
}

void TestQueuedCallReceiver::otherEventsStillReachQObject()
{
    auto* receiver = new QueuedCallReceiver;
    const QPointer<QueuedCallReceiver> guard(receiver);
    receiver->setProperty("dynamic", 1); // a DynamicPropertyChange event, sent (not posted)
    QCOMPARE(receiver->property("dynamic").toInt(), 1);
    receiver->deleteLater(); // QObject::event handles DeferredDelete
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QVERIFY(guard.isNull());
}

// The receiving thread posts events of its own all the time (a widget's update request, a
// deleteLater, a queued signal), straight into the event list that post() appends to from other
// threads. Qt guards that list with a lock TSan cannot see, so without post()'s care TSan reported
// the list's growth on both threads as a race (CI, 2026-12-08). Every call and event still arrives,
// each in its order.
void TestQueuedCallReceiver::postsBesideQtsOwnOnTheReceivingThread()
{
    // Enough calls that the list grows and is compacted on both threads many times (2,000 were not).
    constexpr int kCalls = 20000;
    constexpr int kBurst = 8;
    QueuedCallReceiver receiver;
    std::vector<int> ran; // touched on this thread only
    std::atomic<bool> posting { true };
    std::thread poster([&] {
        for (int i = 0; i < kCalls; ++i)
            receiver.post([&ran, i] { ran.push_back(i); });
        posting = false;
    });
    QObject local;
    std::vector<int> delivered;
    int sent = 0;
    const QDeadlineTimer deadline(60000); // a lost call fails the comparison below, not the ctest time-out
    while ((posting || ran.size() < static_cast<std::size_t>(kCalls)) && !deadline.hasExpired()) {
        for (int burst = 0; burst < kBurst; ++burst, ++sent)
            QMetaObject::invokeMethod(
                &local, [&delivered, sent] { delivered.push_back(sent); }, Qt::QueuedConnection);
        QCoreApplication::processEvents();
    }
    poster.join();
    QCoreApplication::sendPostedEvents();
    QCOMPARE(ran.size(), static_cast<std::size_t>(kCalls));
    for (int i = 0; i < kCalls; ++i)
        QCOMPARE(ran[static_cast<std::size_t>(i)], i);
    QCOMPARE(delivered.size(), static_cast<std::size_t>(sent));
    for (int i = 0; i < sent; ++i)
        QCOMPARE(delivered[static_cast<std::size_t>(i)], i);
}

QTEST_GUILESS_MAIN(TestQueuedCallReceiver)
#include "tst_queuedcallreceiver.moc"
