// SerialExecutor: jobs from several threads run one at a time on one thread of their own, each
// poster's jobs in its order; waitForIdle and the destructor see every job posted before them; a
// job that throws does not stop the ones after it. Under ThreadSanitizer (label `threaded`) the
// plain, unlocked counters below also check that each hand-over orders the memory it carries.
#include "ui/serial_executor.h"

#include <QtTest>

#include <array>
#include <chrono>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <pthread.h>

using namespace tfreeze;

class TestSerialExecutor : public QObject {
    Q_OBJECT

private slots:
    void jobsFromManyThreadsRunInOrderOnOneThread();
    void waitForIdleSeesEveryJobAndItsCaptures();
    void destructorRunsQueuedJobs();
    void throwingJobDoesNotStopTheRest();
    void threadCarriesItsName_data();
    void threadCarriesItsName();
};

void TestSerialExecutor::jobsFromManyThreadsRunInOrderOnOneThread()
{
    constexpr int kPosters = 4;
    constexpr int kJobsEach = 500;
    // Touched only by jobs: no lock, so two jobs running at once would be a race TSan reports
    // (and could lose entries, which the count below would catch).
    std::vector<std::pair<int, int>> ran;
    std::set<std::thread::id> jobThreads;
    {
        SerialExecutor executor("test");
        std::vector<std::thread> posters;
        for (int p = 0; p < kPosters; ++p) {
            posters.emplace_back([&executor, &ran, &jobThreads, p] {
                for (int i = 0; i < kJobsEach; ++i)
                    executor.post([&ran, &jobThreads, p, i] {
                        ran.emplace_back(p, i);
                        jobThreads.insert(std::this_thread::get_id());
                    });
            });
        }
        for (std::thread& poster : posters)
            poster.join();
        executor.waitForIdle();
    }
    QCOMPARE(ran.size(), static_cast<std::size_t>(kPosters * kJobsEach));
    std::vector<int> next(kPosters, 0);
    for (const auto& [poster, index] : ran) {
        QCOMPARE(index, next[poster]);
        ++next[poster];
    }
    QCOMPARE(jobThreads.size(), std::size_t { 1 });
    QVERIFY(*jobThreads.begin() != std::this_thread::get_id());
}

void TestSerialExecutor::waitForIdleSeesEveryJobAndItsCaptures()
{
    SerialExecutor executor("test");
    auto token = std::make_shared<int>(0);
    int sum = 0; // written by the jobs, read here after waitForIdle: no lock on purpose
    for (int i = 1; i <= 100; ++i) {
        executor.post([&sum, token, i] {
            if (i % 10 == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            sum += i;
        });
    }
    executor.waitForIdle();
    QCOMPARE(sum, 5050);
    // Every job's copy of the token was released before waitForIdle returned.
    QCOMPARE(token.use_count(), 1L);
    // Idle again after more work; an idle executor returns at once.
    executor.post([&sum] { sum = -1; });
    executor.waitForIdle();
    QCOMPARE(sum, -1);
    executor.waitForIdle();
}

void TestSerialExecutor::destructorRunsQueuedJobs()
{
    std::vector<int> ran;
    {
        SerialExecutor executor("test");
        // The first job holds the thread, so the others are still queued at destruction.
        executor.post([] { std::this_thread::sleep_for(std::chrono::milliseconds(50)); });
        for (int i = 0; i < 20; ++i)
            executor.post([&ran, i] { ran.push_back(i); });
    }
    QCOMPARE(ran.size(), std::size_t { 20 });
    for (int i = 0; i < 20; ++i)
        QCOMPARE(ran[static_cast<std::size_t>(i)], i);
}

void TestSerialExecutor::throwingJobDoesNotStopTheRest()
{
    SerialExecutor executor("test");
    bool after = false;
    executor.post([] { throw std::runtime_error("expected by the test"); });
    executor.post([] { throw 42; }); // not a std::exception
    executor.post([&after] { after = true; });
    executor.waitForIdle();
    QVERIFY(after);
}

void TestSerialExecutor::threadCarriesItsName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("short") << QStringLiteral("planner") << QStringLiteral("planner");
    // Linux keeps 15 characters and a terminator.
    QTest::newRow("long") << QStringLiteral("a thread name over fifteen") << QStringLiteral("a thread name o");
}

void TestSerialExecutor::threadCarriesItsName()
{
    QFETCH(QString, name);
    QFETCH(QString, expected);
    SerialExecutor executor(name.toStdString());
    std::string seen;
    executor.post([&seen] {
        std::array<char, 64> buffer {};
        if (pthread_getname_np(pthread_self(), buffer.data(), buffer.size()) == 0)
            seen = buffer.data();
    });
    executor.waitForIdle();
    QCOMPARE(QString::fromStdString(seen), expected);
}

QTEST_GUILESS_MAIN(TestSerialExecutor)
#include "tst_serialexecutor.moc"
