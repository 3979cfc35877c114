#include "ui/rank_processes.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTimer>

namespace tfreeze {

struct RankProcesses::Child {
    int rank = 0;
    QProcess process;
    QByteArray partialLine; // output after the last newline
    QStringList lastLines; // the last few, for failureSummary()
    bool ended = false;
    int exitCode = 0;
    bool crashed = false;
};

namespace {

constexpr int kKeptLines = 3;

bool isExecutable(const QString& path)
{
    const QFileInfo info(path);
    return info.isFile() && info.isExecutable();
}

} // namespace

RankProcesses::RankProcesses(QObject* parent)
    : QObject(parent)
{
}

RankProcesses::~RankProcesses() { discardChildren(); }

void RankProcesses::discardChildren()
{
    ++m_generation; // finish()'s timers of these children do nothing now
    for (const auto& child : m_children) {
        // Their ends are no news to anyone now.
        child->process.disconnect();
        if (child->process.state() != QProcess::NotRunning) {
            child->process.kill();
            child->process.waitForFinished(kTerminateMs);
        }
    }
    m_children.clear();
}

QString RankProcesses::findProgram() { return findProgram(QCoreApplication::applicationDirPath()); }

QString RankProcesses::findProgram(const QString& studioDir)
{
    const QString fromEnvironment = qEnvironmentVariable("TFREEZE_CLI");
    if (!fromEnvironment.isEmpty())
        return isExecutable(fromEnvironment) ? QFileInfo(fromEnvironment).absoluteFilePath() : QString();
    // tfreeze-engine first: `tfreeze` only execs it for `train` (app/tfreeze/engine_commands.h).
    const QDir here(studioDir);
    const QStringList names { QStringLiteral("tfreeze-engine"), QStringLiteral("tfreeze") };
    for (const QString& name : names) {
        for (const QString& candidate : { here.filePath(name), here.filePath(QStringLiteral("../tfreeze/") + name) })
            if (isExecutable(candidate))
                return QFileInfo(candidate).absoluteFilePath();
    }
    for (const QString& name : names) {
        QString onPath = QStandardPaths::findExecutable(name);
        if (!onPath.isEmpty())
            return onPath;
    }
    return {};
}

bool RankProcesses::start(const Options& options)
{
    m_error.clear();
    discardChildren();
    if (!isExecutable(options.program)) {
        m_error = tr("The tfreeze command line, which runs the other ranks, was not found (%1). Build it beside "
                     "the studio (the target tfreeze-engine) or set TFREEZE_CLI to its path.")
                      .arg(options.program.isEmpty() ? tr("none beside the studio or on PATH") : options.program);
        return false;
    }
    for (int rank = 1; rank < options.worldSize; ++rank) {
        auto child = std::make_unique<Child>();
        child->rank = rank;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("RANK"), QString::number(rank));
        environment.insert(QStringLiteral("LOCAL_RANK"), QString::number(rank));
        environment.insert(QStringLiteral("WORLD_SIZE"), QString::number(options.worldSize));
        environment.insert(QStringLiteral("LOCAL_WORLD_SIZE"), QString::number(options.worldSize));
        environment.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
        environment.insert(QStringLiteral("MASTER_PORT"), QString::number(options.masterPort));
        // The studio's offscreen or display settings mean nothing to the CLI.
        environment.remove(QStringLiteral("QT_QPA_PLATFORM"));
        child->process.setProcessEnvironment(environment);
        child->process.setProcessChannelMode(QProcess::MergedChannels);
        Child* raw = child.get();
        connect(&child->process, &QProcess::readyReadStandardOutput, this, [this, raw] { readOutput(*raw); });
        connect(&child->process, &QProcess::finished, this, [this, raw](int exitCode, QProcess::ExitStatus status) {
            readOutput(*raw);
            if (!raw->partialLine.isEmpty()) {
                const QString line = QString::fromUtf8(raw->partialLine);
                raw->partialLine.clear();
                raw->lastLines.append(line);
                emit outputLine(raw->rank, line);
            }
            raw->ended = true;
            raw->crashed = status == QProcess::CrashExit;
            raw->exitCode = exitCode;
            emit rankExited(raw->rank, exitCode, raw->crashed);
        });
        child->process.start(options.program,
            { QStringLiteral("train"), QStringLiteral("--config"), options.configPath, QStringLiteral("--db"),
                QString(), QStringLiteral("--comm-timeout"), QString::number(options.commTimeoutSeconds) });
        if (!child->process.waitForStarted()) {
            m_error = tr("Rank %1 could not be started (%2): %3")
                          .arg(rank)
                          .arg(options.program, child->process.errorString());
            m_children.push_back(std::move(child));
            discardChildren();
            return false;
        }
        m_children.push_back(std::move(child));
    }
    return true;
}

void RankProcesses::readOutput(Child& child)
{
    child.partialLine += child.process.readAllStandardOutput();
    qsizetype newline = 0;
    while ((newline = child.partialLine.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(child.partialLine.left(newline));
        child.partialLine.remove(0, newline + 1);
        child.lastLines.append(line);
        while (child.lastLines.size() > kKeptLines)
            child.lastLines.removeFirst();
        emit outputLine(child.rank, line);
    }
}

void RankProcesses::finish()
{
    if (runningCount() == 0)
        return;
    const int generation = m_generation;
    QTimer::singleShot(kGraceMs, this, [this, generation] {
        if (generation != m_generation)
            return;
        terminateRunning(false);
        QTimer::singleShot(kTerminateMs, this, [this, generation] {
            if (generation == m_generation)
                terminateRunning(true);
        });
    });
}

void RankProcesses::terminateRunning(bool kill)
{
    for (const auto& child : m_children) {
        if (child->process.state() == QProcess::NotRunning)
            continue;
        if (kill)
            child->process.kill();
        else
            child->process.terminate();
    }
}

int RankProcesses::runningCount() const
{
    int running = 0;
    for (const auto& child : m_children)
        running += child->process.state() != QProcess::NotRunning ? 1 : 0;
    return running;
}

QString RankProcesses::failureSummary() const
{
    QStringList lines;
    for (const auto& child : m_children) {
        if (!child->ended || (child->exitCode == 0 && !child->crashed))
            continue;
        QString line = child->crashed ? tr("rank %1 was killed").arg(child->rank)
                                      : tr("rank %1 exited with code %2").arg(child->rank).arg(child->exitCode);
        if (!child->lastLines.isEmpty())
            line += QStringLiteral(": ") + child->lastLines.join(QStringLiteral(" / "));
        lines.append(line);
    }
    return lines.join(QLatin1Char('\n'));
}

} // namespace tfreeze
