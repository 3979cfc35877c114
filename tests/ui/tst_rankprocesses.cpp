// RankProcesses::findProgram(): which tfreeze CLI the studio starts for ranks 1 … N−1 of a run in
// processes. Built layouts in a temporary folder: an installed one (the CLI beside the studio) and
// the build tree's (app/tfreeze-studio/ beside app/tfreeze/); TFREEZE_CLI overrides both, and PATH
// is the last resort.
#include "ui/rank_processes.h"

#include <QtTest>

using namespace tfreeze;

namespace {

// An executable (or, with `executable` false, a plain) file at `path`, with its folders.
void makeProgram(const QString& path, bool executable = true)
{
    QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("#!/bin/sh\nexit 0\n");
    file.close();
    const QFileDevice::Permissions readWrite = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    QVERIFY(file.setPermissions(executable ? readWrite | QFileDevice::ExeOwner : readWrite));
}

// Sets an environment variable for one test and puts back what it was.
class ScopedEnvironment {
public:
    ScopedEnvironment(const char* name, const QByteArray& value)
        : m_name(name)
        , m_had(qEnvironmentVariableIsSet(name))
        , m_old(qgetenv(name))
    {
        if (value.isNull())
            qunsetenv(name);
        else
            qputenv(name, value);
    }
    ~ScopedEnvironment()
    {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }
    ScopedEnvironment(const ScopedEnvironment&) = delete;
    ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

private:
    const char* m_name;
    bool m_had;
    QByteArray m_old;
};

} // namespace

class TestRankProcesses : public QObject {
    Q_OBJECT

private slots:
    // The build tree: app/tfreeze-studio/tfreeze-studio with app/tfreeze/{tfreeze,tfreeze-engine}.
    // tfreeze-engine runs `train` itself; tfreeze would only exec it.
    void buildTreePrefersTheEngineCli()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const ScopedEnvironment cli("TFREEZE_CLI", QByteArray());
        const ScopedEnvironment path("PATH", root.filePath(QStringLiteral("empty")).toLocal8Bit());
        const QString studioDir = root.filePath(QStringLiteral("app/tfreeze-studio"));
        QVERIFY(QDir().mkpath(studioDir));
        QCOMPARE(RankProcesses::findProgram(studioDir), QString());

        makeProgram(root.filePath(QStringLiteral("app/tfreeze/tfreeze")));
        QCOMPARE(RankProcesses::findProgram(studioDir), root.filePath(QStringLiteral("app/tfreeze/tfreeze")));
        makeProgram(root.filePath(QStringLiteral("app/tfreeze/tfreeze-engine")));
        QCOMPARE(RankProcesses::findProgram(studioDir), root.filePath(QStringLiteral("app/tfreeze/tfreeze-engine")));
    }

    // Installed: the CLI beside the studio wins over the build tree's and over PATH.
    void installedCliBesideTheStudio()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const ScopedEnvironment cli("TFREEZE_CLI", QByteArray());
        const QString bin = root.filePath(QStringLiteral("bin"));
        const QString onPath = root.filePath(QStringLiteral("path"));
        makeProgram(onPath + QStringLiteral("/tfreeze-engine"));
        const ScopedEnvironment path("PATH", onPath.toLocal8Bit());
        QVERIFY(QDir().mkpath(bin));
        QCOMPARE(RankProcesses::findProgram(bin), onPath + QStringLiteral("/tfreeze-engine"));

        makeProgram(bin + QStringLiteral("/tfreeze"));
        QCOMPARE(RankProcesses::findProgram(bin), bin + QStringLiteral("/tfreeze"));
        makeProgram(bin + QStringLiteral("/tfreeze-engine"));
        QCOMPARE(RankProcesses::findProgram(bin), bin + QStringLiteral("/tfreeze-engine"));
    }

    // PATH: tfreeze-engine before tfreeze, and a file that is not executable is no program.
    void pathIsTheLastResort()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const ScopedEnvironment cli("TFREEZE_CLI", QByteArray());
        const QString first = root.filePath(QStringLiteral("first"));
        const QString second = root.filePath(QStringLiteral("second"));
        const ScopedEnvironment path("PATH", (first + QLatin1Char(':') + second).toLocal8Bit());
        const QString studioDir = root.filePath(QStringLiteral("studio"));
        QVERIFY(QDir().mkpath(studioDir));

        makeProgram(first + QStringLiteral("/tfreeze-engine"), false);
        makeProgram(first + QStringLiteral("/tfreeze"));
        QCOMPARE(RankProcesses::findProgram(studioDir), first + QStringLiteral("/tfreeze"));
        makeProgram(second + QStringLiteral("/tfreeze-engine"));
        QCOMPARE(RankProcesses::findProgram(studioDir), second + QStringLiteral("/tfreeze-engine"));
    }

    // TFREEZE_CLI names the program, whatever is beside the studio; one that cannot run is none.
    void environmentOverridesTheSearch()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const QString bin = root.filePath(QStringLiteral("bin"));
        makeProgram(bin + QStringLiteral("/tfreeze-engine"));
        const QString chosen = root.filePath(QStringLiteral("elsewhere/my-tfreeze"));
        makeProgram(chosen);
        {
            const ScopedEnvironment cli("TFREEZE_CLI", chosen.toLocal8Bit());
            QCOMPARE(RankProcesses::findProgram(bin), chosen);
        }
        const QString notExecutable = root.filePath(QStringLiteral("elsewhere/notes.txt"));
        makeProgram(notExecutable, false);
        {
            const ScopedEnvironment cli("TFREEZE_CLI", notExecutable.toLocal8Bit());
            QCOMPARE(RankProcesses::findProgram(bin), QString());
        }
        {
            const ScopedEnvironment cli("TFREEZE_CLI", root.filePath(QStringLiteral("missing")).toLocal8Bit());
            QCOMPARE(RankProcesses::findProgram(bin), QString());
        }
    }
};

QTEST_GUILESS_MAIN(TestRankProcesses)
#include "tst_rankprocesses.moc"
