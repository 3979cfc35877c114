// tfreeze-studio: the desktop studio. `tfreeze-studio [--db FILE] [FILE]` opens the studio (and a
// profile, plan or trace); --screenshot takes the README's screenshot of a live default run;
// --bench runs one of the studio's benchmarks and prints its figures.

#include "ui/error_banner.h"
#include "ui/main_window.h"
#include "ui/studio_benchmarks.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>

namespace {

// Starts the default run, waits for `afterSteps` steps, saves the window to `path` and quits.
int takeScreenshot(tfreeze::MainWindow& window, const QString& path, qint64 afterSteps)
{
    window.resize(1600, 1000);
    window.show();
    QObject::connect(
        &window, &tfreeze::MainWindow::liveViewsUpdated, &window, [&window, path, afterSteps](qint64 step) {
            if (step < afterSteps)
                return;
            QObject::disconnect(&window, &tfreeze::MainWindow::liveViewsUpdated, nullptr, nullptr);
            // One more round of events so the last update is painted.
            QTimer::singleShot(300, &window, [&window, path] {
                const bool saved = window.grab().save(path);
                std::fprintf(saved ? stdout : stderr, saved ? "screenshot saved to %s\n" : "cannot write %s\n",
                    qPrintable(path));
                QApplication::exit(saved ? 0 : 1);
            });
        });
    QTimer::singleShot(0, &window, [&window] {
        QAction* start = window.action(QStringLiteral("start"));
        if (start == nullptr || !start->isEnabled()) {
            std::fprintf(
                stderr, "tfreeze-studio --screenshot: this build cannot start a run (built without the engine)\n");
            QApplication::exit(1);
            return;
        }
        start->trigger();
    });
    // A run that fails never reaches the step: report why instead of waiting forever.
    auto* failureWatch = new QTimer(&window);
    QObject::connect(failureWatch, &QTimer::timeout, &window, [&window] {
        const tfreeze::ErrorBanner* banner = window.errorBanner();
        if (banner->isVisible() && banner->level() == tfreeze::ErrorBanner::Level::Error) {
            std::fprintf(stderr, "tfreeze-studio --screenshot: %s\n", qPrintable(banner->text()));
            QApplication::exit(1);
        }
    });
    failureWatch->start(500);
    return QApplication::exec();
}

// Whether the command line asks only for --help or --version: text that needs no display, where
// QApplication aborts without one (a headless machine, an ssh session).
bool asksOnlyForText(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        for (const char* flag : { "-h", "--help", "--help-all", "-v", "--version" }) {
            if (std::strcmp(argv[i], flag) == 0)
                return true;
        }
    }
    return false;
}

} // namespace

int main(int argc, char* argv[])
{
    const std::unique_ptr<QCoreApplication> app = asksOnlyForText(argc, argv)
        ? std::make_unique<QCoreApplication>(argc, argv)
        : std::make_unique<QApplication>(argc, argv);
    QApplication::setApplicationName(QStringLiteral("tfreeze-studio"));
    QApplication::setOrganizationName(QStringLiteral("TimelyFreeze"));
    QApplication::setApplicationVersion(QStringLiteral(TFREEZE_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "TimelyFreeze Studio: live pipeline timelines and bubbles, accuracy bounds, freeze plans, run history."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption db(QStringLiteral("db"),
        QStringLiteral("The run database (default: the last one used, or runs/history.sqlite)."),
        QStringLiteral("FILE"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral("Start the default run, save a screenshot of the window to OUT.png and quit."),
        QStringLiteral("OUT.png"));
    const QCommandLineOption afterSteps(QStringLiteral("after-steps"),
        QStringLiteral("With --screenshot: wait for this many steps first (default 120)."), QStringLiteral("N"),
        QStringLiteral("120"));
    const QCommandLineOption bench(QStringLiteral("bench"),
        QStringLiteral("Run a benchmark and print its figures: timeline, rho, live or memory."),
        QStringLiteral("NAME"));
    const QCommandLineOption start(QStringLiteral("start"),
        QStringLiteral("Start the default run right away (tiny model, shipped corpus, TimelyFreeze)."));
    parser.addOptions({ db, screenshot, afterSteps, bench, start });
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("A profile, plan or Chrome trace to open."));
    parser.process(*app); // prints --help or --version and exits

    if (parser.isSet(bench))
        return tfreeze::runStudioBenchmark(parser.value(bench));

    tfreeze::MainWindow window;
    if (parser.isSet(db))
        window.setDatabasePath(parser.value(db));

    if (parser.isSet(screenshot)) {
        bool ok = false;
        const qint64 steps = parser.value(afterSteps).toLongLong(&ok);
        if (!ok || steps < 1) {
            std::fprintf(stderr, "tfreeze-studio: --after-steps: '%s' is not a positive number\n",
                qPrintable(parser.value(afterSteps)));
            return 2;
        }
        return takeScreenshot(window, parser.value(screenshot), steps);
    }

    window.show();
    const QStringList files = parser.positionalArguments();
    if (files.size() > 1) {
        std::fprintf(stderr, "tfreeze-studio: one file at a time (got %lld)\n", static_cast<long long>(files.size()));
        return 2;
    }
    if (!files.isEmpty())
        window.openFile(QFileInfo(files.first()).absoluteFilePath());
    else if (parser.isSet(start))
        QTimer::singleShot(0, &window, [&window] { window.action(QStringLiteral("start"))->trigger(); });
    return QApplication::exec();
}
