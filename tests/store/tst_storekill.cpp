#include "core/store/run_store.h"

#include "store_test_support.h"

#include <QtTest>

using namespace tfreeze;
using namespace tfreeze::test;

class TestStoreKill : public QObject {
    Q_OBJECT

private slots:
    void sigkillLosesNothingCommitted();
};

void TestStoreKill::sigkillLosesNothingCommitted()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("killed.sqlite")).toStdString();
    QProcess child;
    child.start(QStringLiteral(STORE_KILL_CHILD), { QString::fromStdString(path) });
    QVERIFY(child.waitForStarted());

    std::int64_t run = -1;
    std::int64_t lastCommitted = -1;
    QByteArray pending;
    // Enough commits that the kill lands mid-run, with uncommitted work queued.
    while (lastCommitted < 300) {
        if (!child.waitForReadyRead(30000))
            QFAIL(qPrintable(
                QStringLiteral("the child stopped reporting: ") + QString::fromUtf8(child.readAllStandardError())));
        pending += child.readAllStandardOutput();
        qsizetype newline = 0;
        while ((newline = pending.indexOf('\n')) >= 0) {
            const QByteArray line = pending.left(newline);
            pending.remove(0, newline + 1);
            if (line.startsWith("run "))
                run = line.mid(4).toLongLong();
            else if (line.startsWith("committed "))
                lastCommitted = line.mid(10).toLongLong();
        }
    }
    child.kill(); // SIGKILL
    QVERIFY(child.waitForFinished(10000));
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);
    QVERIFY(run > 0);

    RunStore store(path); // reopening recovers the run
    SqliteStatement check = store.connection().prepare("PRAGMA integrity_check");
    QVERIFY(check.step());
    QCOMPARE(check.text(0), std::string("ok"));
    QCOMPARE(store.recoveredRuns(), std::vector<std::int64_t> { run });
    const RunRecord record = store.run(run);
    QCOMPARE(record.status, RunStatus::Interrupted);
    QVERIFY(record.failureReason.has_value());

    const std::vector<StepStats> steps = store.steps(run);
    QVERIFY2(static_cast<std::int64_t>(steps.size()) > lastCommitted,
        qPrintable(QStringLiteral("%1 steps, %2 reported committed").arg(steps.size()).arg(lastCommitted)));
    for (std::size_t i = 0; i < steps.size(); ++i) {
        QCOMPARE(steps[i].step, static_cast<std::int64_t>(i));
        QCOMPARE(steps[i].loss, makeStep(steps[i].step).loss);
    }
    // Default retention: every step below 200 kept whole.
    QCOMPARE(store.spans(run, 150).size(), std::size_t { kSpansPerStep });
}

QTEST_GUILESS_MAIN(TestStoreKill)
#include "tst_storekill.moc"
