// ProcessGroup and ProcessGroupTransport over real c10d Gloo between two processes on loopback: the
// test starts a second copy of itself as the peer (rank 1), which runs its side of each case.
#include "core/engine/collective_check.h"
#include "core/engine/process_group.h"
#include "core/engine/process_group_transport.h"
#include "core/plan/plan_error.h"
#include "tests/engine/process_test_support.h"

#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

using namespace tfreeze;
using testing::waitExitCode;

namespace {

constexpr int kMicrobatches = 4;
using Case = std::function<void(int rank, const std::shared_ptr<ProcessGroup>& group, bool& ok)>;

Rendezvous rendezvous(int rank, int port)
{
    Rendezvous r;
    r.rank = rank;
    r.worldSize = 2;
    r.masterPort = port;
    r.timeout = std::chrono::milliseconds(30000);
    return r;
}

// Microbatch m's tensor of stage s: values both processes can compute.
torch::Tensor payload(int stage, int microbatch)
{
    return torch::arange(24, torch::kFloat32).reshape({ 2, 3, 4 }) * (stage + 1) + microbatch * 100.0;
}

// Stages 0 and 1 on ranks 0 and 1, one rank per process. Rank 0 sends every activation; rank 1
// takes them in reverse order (the tags keep them apart) and returns each doubled as the gradient.
// A second step carries int64 token ids of another shape.
void pipelineCase(int rank, const std::shared_ptr<ProcessGroup>& group, bool& ok)
{
    ProcessGroupTransport transport(group, { 0, 1 }, { 0, 1 }, kMicrobatches);
    if (rank == 0) {
        for (int m = 0; m < kMicrobatches; ++m)
            transport.send({ 1, m, TransportDirection::Activation }, payload(1, m));
        for (int m = 0; m < kMicrobatches; ++m)
            ok = ok && transport.receive({ 0, m, TransportDirection::Gradient }).equal(payload(1, m) * 2);
    } else {
        for (int m = kMicrobatches - 1; m >= 0; --m) {
            const torch::Tensor received = transport.receive({ 1, m, TransportDirection::Activation });
            ok = ok && received.scalar_type() == torch::kFloat32 && received.equal(payload(1, m));
            transport.send({ 0, m, TransportDirection::Gradient }, received * 2);
        }
    }
    transport.reset(); // the next step; also waits until this step's sends went out
    const torch::Tensor ids = torch::arange(35, torch::kInt64).reshape({ 5, 7 });
    if (rank == 0) {
        transport.send({ 1, 2, TransportDirection::Activation }, ids);
    } else {
        const torch::Tensor received = transport.receive({ 1, 2, TransportDirection::Activation });
        ok = ok && received.scalar_type() == torch::kInt64 && received.equal(ids);
    }
    transport.reset();
}

// ZBV with two ranks: stages 0 and 3 on rank 0, 1 and 2 on rank 1. Stage 1 → 2 stays inside rank 1's
// process (the in-process mailbox); 0 → 1 and 2 → 3 cross.
void localAndRemoteCase(int rank, const std::shared_ptr<ProcessGroup>& group, bool& ok)
{
    ProcessGroupTransport transport(group, { 0, 1, 1, 0 }, { 0, 1 }, kMicrobatches);
    for (int m = 0; m < kMicrobatches; ++m) {
        if (rank == 0) {
            transport.send({ 1, m, TransportDirection::Activation }, payload(0, m));
            ok = ok && transport.receive({ 3, m, TransportDirection::Activation }).equal(payload(0, m) + 2);
        } else {
            const torch::Tensor first = transport.receive({ 1, m, TransportDirection::Activation });
            transport.send({ 2, m, TransportDirection::Activation }, first + 1);
            const torch::Tensor second = transport.receive({ 2, m, TransportDirection::Activation });
            ok = ok && second.equal(payload(0, m) + 1);
            transport.send({ 3, m, TransportDirection::Activation }, second + 1);
        }
    }
    transport.reset();
}

// A receive that nothing will satisfy (the peer "failed") ends with TransportAborted once abort()
// is called from another thread, and the group still works afterwards.
void abortCase(int rank, const std::shared_ptr<ProcessGroup>& group, bool& ok)
{
    if (rank == 1)
        return;
    ProcessGroupTransport transport(group, { 0, 1 }, { 0, 1 }, kMicrobatches);
    std::thread aborter([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        transport.abort("rank 1 failed");
    });
    bool aborted = false;
    try {
        transport.receive({ 0, 3, TransportDirection::Gradient });
    } catch (const TransportAborted& error) {
        aborted = std::string(error.what()) == "rank 1 failed";
    }
    aborter.join();
    ok = ok && aborted && transport.aborted();
    // A send after the abort is dropped, as the in-process transport does.
    transport.send({ 1, 0, TransportDirection::Activation }, payload(1, 0));
    transport.reset();
    ok = ok && !transport.aborted();
}

const std::map<std::string, Case>& cases()
{
    static const std::map<std::string, Case> all { { "pipeline", pipelineCase }, { "local", localAndRemoteCase },
        { "abort", abortCase } };
    return all;
}

// The peer process: rank 1 of the case named by TFREEZE_TEST_PEER. Exit 0 when its side held.
int runPeer(const std::string& name, int port)
{
    try {
        if (name == "collectives")
            return checkCollectives("gloo", 3).ok ? 0 : 3;
        auto group = std::make_shared<ProcessGroup>(CommBackend::Gloo, rendezvous(1, port));
        bool ok = true;
        cases().at(name)(1, group, ok);
        group->barrier();
        return ok ? 0 : 3;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "peer %s: %s\n", name.c_str(), error.what());
        return 4;
    }
}

pid_t spawnPeer(const std::string& name, int port)
{
    return testing::spawnSelf({ "TFREEZE_TEST_PEER=" + name, "MASTER_PORT=" + std::to_string(port), "RANK=1",
        "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1" });
}

} // namespace

class TestProcessGroupTransport : public QObject {
    Q_OBJECT

private slots:
    void twoProcesses_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto& [name, run] : cases())
            QTest::newRow(name.c_str()) << QString::fromStdString(name);
    }

    void twoProcesses()
    {
        QFETCH(QString, name);
        const std::string caseName = name.toStdString();
        const int port = testing::freeLoopbackPort();
        const pid_t peer = spawnPeer(caseName, port);
        QVERIFY(peer > 0);
        bool ok = true;
        {
            auto group = std::make_shared<ProcessGroup>(CommBackend::Gloo, rendezvous(0, port));
            QCOMPARE(group->rank(), 0);
            QCOMPARE(group->size(), 2);
            cases().at(caseName)(0, group, ok);
            group->barrier();
        }
        QCOMPARE(waitExitCode(peer), 0);
        QVERIFY(ok);
    }

    // checkCollectives (what `tfreeze doctor` runs) between two processes, from the environment.
    void collectivesBetweenTwoProcesses()
    {
        const int port = testing::freeLoopbackPort();
        const pid_t peer = spawnPeer("collectives", port);
        QVERIFY(peer > 0);
        ::setenv("RANK", "0", 1);
        ::setenv("WORLD_SIZE", "2", 1);
        ::setenv("MASTER_ADDR", "127.0.0.1", 1);
        ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
        const CollectiveCheckResult result = checkCollectives("gloo", 3);
        for (const char* name : { "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT" })
            ::unsetenv(name);
        QCOMPARE(waitExitCode(peer), 0);
        QVERIFY(result.ok);
        QVERIFY(result.lines.front().find("rank 0 of 2 over gloo") != std::string::npos);
        bool ring = false;
        for (const std::string& line : result.lines)
            ring = ring || line == "send/receive ring: ok";
        QVERIFY(ring);
    }

    // Nobody serves the store: the rendezvous gives up after its time-out and names the master.
    void unreachableMasterIsAClearError()
    {
        const int port = testing::freeLoopbackPort();
        Rendezvous r = rendezvous(1, port);
        r.timeout = std::chrono::milliseconds(2000);
        QString message;
        try {
            ProcessGroup group(CommBackend::Gloo, r);
        } catch (const std::exception& error) {
            message = QString::fromUtf8(error.what());
        }
        QVERIFY2(message.contains(QStringLiteral("rendezvous at 127.0.0.1:%1 (rank 1 of 2) failed").arg(port)),
            qPrintable(message));
    }

    // Rank 0 cannot serve the store on a port another program listens on.
    void portInUseIsAClearError()
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_ANY);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        QCOMPARE(::listen(fd, 1), 0);
        socklen_t length = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
        const int port = ntohs(address.sin_port);
        Rendezvous r = rendezvous(0, port);
        r.timeout = std::chrono::milliseconds(2000);
        QString message;
        try {
            ProcessGroup group(CommBackend::Gloo, r);
        } catch (const std::exception& error) {
            message = QString::fromUtf8(error.what());
        }
        ::close(fd);
        QVERIFY2(message.contains(QStringLiteral("rendezvous at 127.0.0.1:%1 (rank 0 of 2) failed").arg(port)),
            qPrintable(message));
    }

    void tagsAreUnique()
    {
        // Header and payload tags of every (stage, microbatch, direction) of an 8-stage, 16-microbatch
        // pipeline: all different, or two messages between the same pair could be confused.
        std::set<int> tags;
        int messages = 0;
        for (int s = 0; s < 8; ++s)
            for (int m = 0; m < 16; ++m)
                for (TransportDirection d : { TransportDirection::Activation, TransportDirection::Gradient }) {
                    const int tag = ProcessGroupTransport::tag({ s, m, d }, 16);
                    tags.insert(tag);
                    tags.insert(tag + 1);
                    messages += 2;
                }
        QCOMPARE(static_cast<int>(tags.size()), messages);
    }

    void rendezvousFromEnvironmentErrors_data()
    {
        QTest::addColumn<QByteArray>("worldSize");
        QTest::addColumn<QByteArray>("rank");
        QTest::addColumn<QString>("field");
        QTest::newRow("rank outside world") << QByteArray("2") << QByteArray("2") << QStringLiteral("RANK");
        QTest::newRow("world size not a number")
            << QByteArray("two") << QByteArray("0") << QStringLiteral("WORLD_SIZE");
        QTest::newRow("negative rank") << QByteArray("4") << QByteArray("-1") << QStringLiteral("RANK");
    }

    void rendezvousFromEnvironmentErrors()
    {
        QFETCH(QByteArray, worldSize);
        QFETCH(QByteArray, rank);
        QFETCH(QString, field);
        ::setenv("WORLD_SIZE", worldSize.constData(), 1);
        ::setenv("RANK", rank.constData(), 1);
        QString message;
        try {
            rendezvousFromEnvironment();
        } catch (const InputError& error) {
            message = QString::fromUtf8(error.what());
        }
        ::unsetenv("WORLD_SIZE");
        ::unsetenv("RANK");
        QVERIFY2(message.contains(field), qPrintable(message));
    }

    void rendezvousFromEnvironmentReadsEveryVariable()
    {
        ::setenv("WORLD_SIZE", "4", 1);
        ::setenv("RANK", "3", 1);
        ::setenv("LOCAL_RANK", "1", 1);
        ::setenv("MASTER_ADDR", "10.1.2.3", 1);
        ::setenv("MASTER_PORT", "29555", 1);
        const Rendezvous r = rendezvousFromEnvironment();
        for (const char* name : { "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT" })
            ::unsetenv(name);
        QCOMPARE(r.worldSize, 4);
        QCOMPARE(r.rank, 3);
        QCOMPARE(r.localRank, 1);
        QCOMPARE(r.masterAddr, std::string("10.1.2.3"));
        QCOMPARE(r.masterPort, 29555);
    }
};

int main(int argc, char** argv)
{
    if (const char* peer = std::getenv("TFREEZE_TEST_PEER"))
        return runPeer(peer, std::atoi(std::getenv("MASTER_PORT")));
    TestProcessGroupTransport test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_processgrouptransport.moc"
