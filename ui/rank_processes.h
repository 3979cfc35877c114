#pragma once

// The other processes of a studio run with one process per pipeline rank: the studio is rank 0,
// and ranks 1 … N−1 are `tfreeze train` children on loopback, started with torchrun's variables the
// way `tfreeze launch` starts them. Their output comes back line by line; they are stopped when the
// run is over. GUI thread only; nothing here waits for a child, except the destructor.

#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

class QProcess;

namespace tfreeze {

class RankProcesses : public QObject {
    Q_OBJECT

public:
    struct Options {
        QString program; // the tfreeze CLI
        QString configPath; // the run config every child trains
        int worldSize = 2; // the studio is rank 0 of them
        int masterPort = 0; // rank 0's c10d store
        int commTimeoutSeconds = 20;
    };

    // How long finish() lets the children end on their own (they end when the run does), then
    // how long SIGTERM has before SIGKILL.
    static constexpr int kGraceMs = 10'000;
    static constexpr int kTerminateMs = 3'000;

    explicit RankProcesses(QObject* parent = nullptr);
    // Kills the children still running and waits for them: none outlives the studio.
    ~RankProcesses() override;
    RankProcesses(const RankProcesses&) = delete;
    RankProcesses& operator=(const RankProcesses&) = delete;

    // The tfreeze CLI the studio starts: $TFREEZE_CLI, else `tfreeze-engine` (the CLI with the
    // engine) or else `tfreeze` beside the studio's executable (installed) or in ../tfreeze/ (the
    // build tree), else one of them on PATH. Empty when there is none.
    static QString findProgram();
    // The same, for a studio executable in `studioDir`.
    static QString findProgram(const QString& studioDir);

    // Starts ranks 1 … worldSize−1. False, with the reason in errorString() and no child left
    // running, when one cannot be started.
    bool start(const Options& options);
    QString errorString() const { return m_error; }

    // The run is over: children still running get kGraceMs to end, then SIGTERM, then SIGKILL.
    void finish();
    int runningCount() const;
    // One line per child that has ended with an error, with its last lines of output: for the
    // message of a run that failed because of it.
    QString failureSummary() const;

signals:
    // A line a child printed (stdout and stderr merged).
    void outputLine(int rank, const QString& line);
    // A child ended; `crashed`: killed by a signal.
    void rankExited(int rank, int exitCode, bool crashed);

private:
    struct Child;
    void readOutput(Child& child);
    void terminateRunning(bool kill);
    // Kills the children still running, waits for them, and forgets them all.
    void discardChildren();

    std::vector<std::unique_ptr<Child>> m_children;
    int m_generation = 0; // the set of children finish() was called for
    QString m_error;
};

} // namespace tfreeze
